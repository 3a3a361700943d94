package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Every call of a collection goes to its path and the object's id, with the precondition
// as If-Match / If-None-Match; lists follow the cursors.
func TestCollectionRequests(t *testing.T) {
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, strings.TrimSpace(r.Method+" "+r.URL.RequestURI()+" "+r.Header.Get("If-Match")+r.Header.Get("If-None-Match")))
		w.Header().Set("Content-Type", "application/json")
		switch {
		case r.Method == http.MethodDelete:
			w.WriteHeader(http.StatusNoContent)
		case r.URL.Path == "/api/v1/maintenance" && r.URL.Query().Get("cursor") == "":
			_ = json.NewEncoder(w).Encode(map[string]any{"items": []map[string]any{{"id": "a"}}, "next_cursor": "c1"})
		case r.URL.Path == "/api/v1/maintenance":
			_ = json.NewEncoder(w).Encode(map[string]any{"items": []map[string]any{{"id": "b"}}})
		default:
			_ = json.NewEncoder(w).Encode(map[string]any{"id": "x.y", "version": 3})
		}
	}))
	defer srv.Close()
	c, err := New(Config{Endpoint: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if m, err := Monitors.Get(ctx, c, "x.y"); err != nil || m.ID != "x.y" || m.Version != 3 {
		t.Errorf("Get = %+v, %v", m, err)
	}
	if w, err := Webhooks.Put(ctx, c, "x.y", WebhookWrite{}, IfAbsent()); err != nil || w.Version != 3 {
		t.Errorf("Put = %+v, %v", w, err)
	}
	if _, err := Monitors.Put(ctx, c, "m", MonitorWrite{}, IfMatch(3)); err != nil {
		t.Error(err)
	}
	if err := MaintenanceWindows.Delete(ctx, c, "w", IfMatch(4)); err != nil {
		t.Error(err)
	}
	all, err := MaintenanceWindows.List(ctx, c, "team=a")
	if err != nil || len(all) != 2 || all[0].ID != "a" || all[1].ID != "b" {
		t.Errorf("List = %+v, %v", all, err)
	}
	want := []string{
		"GET /api/v1/monitors/x.y",
		"PUT /api/v1/webhooks/x.y *",
		`PUT /api/v1/monitors/m "3"`,
		`DELETE /api/v1/maintenance/w "4"`,
		"GET /api/v1/maintenance?limit=1000&selector=team%3Da",
		"GET /api/v1/maintenance?cursor=c1&limit=1000&selector=team%3Da",
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}
