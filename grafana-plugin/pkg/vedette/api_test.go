package vedette

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// TestRangeKeepsFractions: a range's ends reach Vedette with their fraction of a second.
// Vedette sums whole minutes up to the minute holding `to`; a `to` of 12:00:00.4 cut to
// 12:00:00 would drop the checks of 12:00:00.0–0.4, every one in a query made just then.
func TestRangeKeepsFractions(t *testing.T) {
	asked := make(chan map[string]string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		asked <- map[string]string{"from": q.Get("from"), "to": q.Get("to")}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"monitors":[],"series":[]}`))
	}))
	defer srv.Close()
	c, err := New(srv.URL, "t", srv.Client())
	if err != nil {
		t.Fatal(err)
	}
	to := time.Date(2026, 11, 28, 12, 0, 0, 400_000_000, time.UTC)
	from := to.Add(-time.Hour)
	_, _ = c.SLO(context.Background(), SLOQuery{IDs: []string{"a"}, Target: 99, Window: "1d", To: to, Step: time.Hour})
	if got := (<-asked)["to"]; got != "2026-11-28T12:00:00.4Z" {
		t.Errorf("SLO to=%s", got)
	}
	_, _ = c.Series(context.Background(), SeriesQuery{IDs: []string{"a"}, From: from, To: to, Step: time.Hour, Metric: "availability"})
	if got := <-asked; got["from"] != "2026-11-28T11:00:00.4Z" || got["to"] != "2026-11-28T12:00:00.4Z" {
		t.Errorf("series range %v", got)
	}
}
