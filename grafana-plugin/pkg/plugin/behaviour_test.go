package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/internal/testenv"
)

// recentRange is the last hour, as Grafana sends it for a dashboard or an alert rule.
func recentRange() backend.TimeRange {
	now := time.Now().UTC()
	return backend.TimeRange{From: now.Add(-time.Hour), To: now}
}

// lastValue is the newest non-null value of a frame's field.
func lastValue(t *testing.T, f *data.Frame, name string) float64 {
	t.Helper()
	field, _ := f.FieldByName(name)
	if field == nil {
		t.Fatalf("frame %s has no field %s", f.Name, name)
	}
	for i := field.Len() - 1; i >= 0; i-- {
		if v, ok := field.ConcreteAt(i); ok {
			return v.(float64)
		}
	}
	t.Fatalf("field %s of %s holds no value", name, f.Name)
	return 0
}

// TestAlertQueries runs a query as Grafana's alerting does (FromAlert header, no frontend):
// one frame per monitor, each value labelled so a rule fires per monitor. A one-day step
// puts every seeded check in the newest bucket.
func TestAlertQueries(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	resp := query(t, ds, map[string]any{"queryType": "series", "metric": "availability", "selector": "team=payments"},
		recentRange(), map[string]string{"FromAlert": "true"}, 24*time.Hour)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	if len(resp.Frames) != 2 {
		t.Fatalf("want a frame per payments monitor, got %d", len(resp.Frames))
	}
	want := map[string]float64{"pay-api": 1, "pay-web": 0.6}
	for _, f := range resp.Frames {
		if f.Meta == nil || f.Meta.Type != data.FrameTypeTimeSeriesMulti {
			t.Errorf("frame %s is not timeseries-multi: %+v", f.Name, f.Meta)
		}
		value, _ := f.FieldByName("value")
		id := value.Labels["id"]
		if value.Labels["team"] != "payments" || value.Labels["name"] == "" || value.Labels["env"] == "" {
			t.Errorf("labels of %s: %v", f.Name, value.Labels)
		}
		if got := lastValue(t, f, "value"); got != want[id] {
			t.Errorf("%s availability %v, want %v", id, got, want[id])
		}
	}
}

// TestSeriesLatency checks the latency metrics give positive figures in milliseconds.
func TestSeriesLatency(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	for _, m := range []string{"latency_p50", "latency_p90", "latency_p95", "latency_p99", "latency_avg"} {
		resp := query(t, ds, map[string]any{"queryType": "series", "metric": m, "monitorIds": []string{"pay-api"}}, recentRange(), nil, time.Hour)
		if resp.Error != nil {
			t.Fatalf("%s: %v", m, resp.Error)
		}
		value, _ := resp.Frames[0].FieldByName("value")
		if value.Config == nil || value.Config.Unit != "ms" {
			t.Errorf("%s: unit %+v", m, value.Config)
		}
		if v := lastValue(t, resp.Frames[0], "value"); v <= 0 {
			t.Errorf("%s: %v", m, v)
		}
	}
}

// TestSLOBurnRate checks the burn rate over the last hour: pay-web failed 2 of 5 checks,
// at a 50 % target 0.4 / 0.5.
func TestSLOBurnRate(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	resp := query(t, ds, map[string]any{"queryType": "slo", "sloTarget": 50, "sloWindow": "1d", "monitorIds": []string{"pay-web"}}, recentRange(), nil, time.Hour)
	if resp.Error != nil {
		t.Fatal(resp.Error)
	}
	if got := lastValue(t, resp.Frames[0], "burn_rate"); got < 0.8-1e-9 || got > 0.8+1e-9 {
		t.Errorf("burn_rate %v, want 0.8", got)
	}
	if got := lastValue(t, resp.Frames[0], "budget_remaining"); got < 0.2-1e-9 || got > 0.2+1e-9 {
		t.Errorf("budget_remaining %v, want 0.2", got)
	}
}

// TestSLOBurnWindow: the burn rate is measured over sloBurnWindow, ending at the range's end.
// Two hours ahead, the default hour holds no check; three hours hold them all.
func TestSLOBurnWindow(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	ahead := time.Now().UTC().Add(2 * time.Hour)
	tr := backend.TimeRange{From: ahead.Add(-time.Hour), To: ahead}
	for _, c := range []struct {
		burnWindow string
		want       *float64
	}{{"", nil}, {"3h", ptr(0.8)}} {
		model := map[string]any{"queryType": "slo", "sloTarget": 50, "sloWindow": "1d", "sloBurnWindow": c.burnWindow, "monitorIds": []string{"pay-web"}}
		resp := query(t, ds, model, tr, nil, time.Hour)
		if resp.Error != nil {
			t.Fatal(resp.Error)
		}
		field, _ := resp.Frames[0].FieldByName("burn_rate")
		got, _ := field.At(field.Len() - 1).(*float64)
		switch {
		case c.want == nil && got != nil:
			t.Errorf("burn window %q: burn_rate %v, want null", c.burnWindow, *got)
		case c.want != nil && (got == nil || *got < *c.want-1e-9 || *got > *c.want+1e-9):
			t.Errorf("burn window %q: burn_rate %v, want %v", c.burnWindow, got, *c.want)
		}
	}
}

func ptr(f float64) *float64 { return &f }

// TestEmptyResults: a selector that picks nothing answers no frames (series, SLO) or empty
// tables, not an error.
func TestEmptyResults(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	for _, qt := range []string{"series", "slo"} {
		resp := query(t, ds, map[string]any{"queryType": qt, "selector": "team=nobody"}, recentRange(), nil, time.Hour)
		if resp.Error != nil || len(resp.Frames) != 0 {
			t.Errorf("%s: %v, %d frames", qt, resp.Error, len(resp.Frames))
		}
	}
	for _, qt := range []string{"state", "incidents", "results"} {
		resp := query(t, ds, map[string]any{"queryType": qt, "selector": "team=nobody"}, recentRange(), nil, time.Hour)
		if resp.Error != nil || len(resp.Frames) != 1 {
			t.Fatalf("%s: %v, %d frames", qt, resp.Error, len(resp.Frames))
		}
		if rows, _ := resp.Frames[0].RowLen(); rows != 0 {
			t.Errorf("%s: %d rows", qt, rows)
		}
	}
}

// TestQueryErrors: bad input is an error on that query, naming what is wrong, and the other
// queries of the request still answer.
func TestQueryErrors(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	cases := []struct {
		model  map[string]any
		status backend.Status
		want   string
	}{
		{map[string]any{"queryType": "series", "selector": "team=payments,"}, backend.StatusBadRequest, `selector "team=payments,"`},
		{map[string]any{"queryType": "state", "selector": "tier in a,b"}, backend.StatusBadRequest, "'('"},
		{map[string]any{"queryType": "variable", "variableKind": "labelKeys", "selector": "=x"}, backend.StatusBadRequest, "selector"},
		{map[string]any{"queryType": "series", "metric": "nines"}, backend.StatusBadRequest, `unknown metric "nines"`},
		{map[string]any{"queryType": "sideways"}, backend.StatusBadRequest, `unknown queryType "sideways"`},
		{map[string]any{"queryType": "slo", "sloTarget": 100}, backend.StatusBadRequest, "sloTarget"},
		{map[string]any{"queryType": "slo", "sloWindow": "forever"}, backend.StatusBadRequest, "sloWindow"},
		{map[string]any{"queryType": "slo", "sloBurnWindow": "soon"}, backend.StatusBadRequest, "sloBurnWindow"},
		{map[string]any{"queryType": "slo", "sloWindow": "1h", "sloBurnWindow": "6h"}, backend.StatusBadRequest, "sloBurnWindow 6h is longer than sloWindow 1h"},
		{map[string]any{"queryType": "results", "limit": -1}, backend.StatusBadRequest, "limit"},
		{map[string]any{"queryType": "variable", "variableKind": "labelValues"}, backend.StatusBadRequest, "variableLabel"},
		{map[string]any{"queryType": "annotations", "annotationSource": "rumours"}, backend.StatusBadRequest, "annotationSource"},
	}
	for _, c := range cases {
		resp := query(t, ds, c.model, recentRange(), nil, time.Hour)
		if resp.Error == nil || resp.Status != c.status || !strings.Contains(resp.Error.Error(), c.want) {
			t.Errorf("%v: status %d, error %v; want %d containing %q", c.model, resp.Status, resp.Error, c.status, c.want)
		}
	}

	good, _ := json.Marshal(map[string]any{"queryType": "state"})
	bad, _ := json.Marshal(map[string]any{"queryType": "state", "selector": "=="})
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{Queries: []backend.DataQuery{
		{RefID: "good", JSON: good, TimeRange: recentRange()},
		{RefID: "bad", JSON: bad, TimeRange: recentRange()},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if resp.Responses["good"].Error != nil || resp.Responses["bad"].Error == nil {
		t.Errorf("good: %v, bad: %v", resp.Responses["good"].Error, resp.Responses["bad"].Error)
	}
}

// TestBadToken: a rejected token is a clear message on queries and in the health check,
// which never shows the token.
func TestBadToken(t *testing.T) {
	token := "vdt_not_a_real_token_but_long_enough_000000"
	ds := newDatasource(t, env.URL, token)
	resp := query(t, ds, map[string]any{"queryType": "state"}, recentRange(), nil, time.Hour)
	if resp.Error == nil || resp.Status != backend.StatusUnauthorized || !strings.Contains(resp.Error.Error(), "rejected the API token") {
		t.Errorf("query: %d %v", resp.Status, resp.Error)
	}
	health, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if health.Status != backend.HealthStatusError || !strings.Contains(health.Message, "rejected the API token") {
		t.Errorf("health: %v %q", health.Status, health.Message)
	}
	if strings.Contains(health.Message, token) || strings.Contains(resp.Error.Error(), token) {
		t.Error("a message shows the token")
	}
}

// TestHealth: a good token reports the server version and the read scope; missing settings
// and a server that is down each say what is wrong.
func TestHealth(t *testing.T) {
	ok, err := newDatasource(t, env.URL, env.ReadToken).CheckHealth(context.Background(), &backend.CheckHealthRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if ok.Status != backend.HealthStatusOk || !strings.Contains(ok.Message, "token valid with read scope, 3 monitors") || !strings.HasPrefix(ok.Message, "Vedette 0.") {
		t.Errorf("%v %q", ok.Status, ok.Message)
	}

	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + listener.Addr().String()
	listener.Close()
	cases := []struct{ url, token, want string }{
		{"", env.ReadToken, "the Vedette URL is not set"},
		{"ftp://vedette", env.ReadToken, "absolute http or https URL"},
		{"http://user:secret@vedette", env.ReadToken, "must not hold credentials"},
		{env.URL, "", "the API token is not set"},
		{closed, env.ReadToken, "cannot reach Vedette at " + closed},
		{env.Target.URL, env.ReadToken, "is not Vedette's API document"},
	}
	for _, c := range cases {
		ds := newDatasource(t, c.url, c.token)
		got, err := ds.CheckHealth(context.Background(), &backend.CheckHealthRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Status != backend.HealthStatusError || !strings.Contains(got.Message, c.want) {
			t.Errorf("%s: %v %q, want %q", c.url, got.Status, got.Message, c.want)
		}
		if strings.Contains(got.Message, "secret") {
			t.Errorf("%s: message shows a credential: %q", c.url, got.Message)
		}
	}
	down := newDatasource(t, closed, env.ReadToken)
	resp := query(t, down, map[string]any{"queryType": "series"}, recentRange(), nil, time.Hour)
	if resp.Error == nil || resp.Status != backend.StatusBadGateway || !strings.Contains(resp.Error.Error(), "cannot reach Vedette") {
		t.Errorf("query on a server that is down: %d %v", resp.Status, resp.Error)
	}
}

// resource calls CallResource and decodes the JSON answer.
func resource(t *testing.T, h backend.CallResourceHandler, path, rawURL string, out any) int {
	t.Helper()
	var got *backend.CallResourceResponse
	err := h.CallResource(context.Background(), &backend.CallResourceRequest{Method: "GET", Path: path, URL: rawURL},
		backend.CallResourceResponseSenderFunc(func(r *backend.CallResourceResponse) error { got = r; return nil }))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got.Body, out); err != nil {
		t.Fatalf("%s: %v: %s", path, err, got.Body)
	}
	return got.Status
}

// TestResources checks the editors' resource calls.
func TestResources(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	checkResources(t, ds)
}

func checkResources(t *testing.T, h backend.CallResourceHandler) {
	t.Helper()
	var monitors []struct {
		ID     string            `json:"id"`
		Name   string            `json:"name"`
		Labels map[string]string `json:"labels"`
	}
	if s := resource(t, h, "monitors", "monitors?selector=team%3Dpayments", &monitors); s != 200 || len(monitors) != 2 ||
		monitors[0].ID != "pay-api" || monitors[0].Name != "Payments API" || monitors[0].Labels["env"] != "prod" {
		t.Errorf("monitors: %d %+v", s, monitors)
	}
	var keys, values, metrics []string
	if s := resource(t, h, "labels", "labels", &keys); s != 200 || strings.Join(keys, ",") != "env,team" {
		t.Errorf("labels: %d %v", s, keys)
	}
	if s := resource(t, h, "labels/env/values", "labels/env/values?selector=team%3Dpayments", &values); s != 200 || strings.Join(values, ",") != "prod,stage" {
		t.Errorf("values: %d %v", s, values)
	}
	if s := resource(t, h, "metrics", "metrics", &metrics); s != 200 || len(metrics) != 9 || metrics[0] != "uptime" {
		t.Errorf("metrics: %d %v", s, metrics)
	}
	var msg struct{ Message string }
	if s := resource(t, h, "monitors", "monitors?selector=%3D%3D", &msg); s != 400 || !strings.Contains(msg.Message, "selector") {
		t.Errorf("bad selector: %d %q", s, msg.Message)
	}
	if s := resource(t, h, "nothing", "nothing", &msg); s != 404 {
		t.Errorf("unknown resource: %d %q", s, msg.Message)
	}
}

// TestIncidentsOverlappingRange: an incident opened before the range and resolved inside it
// is in the incidents table and the annotations (it overlaps the range); a range after it
// resolved has none.
func TestIncidentsOverlappingRange(t *testing.T) {
	var listed struct {
		Items []struct {
			OpenedAt   time.Time  `json:"opened_at"`
			ResolvedAt *time.Time `json:"resolved_at"`
		} `json:"items"`
	}
	if err := env.Call("GET", "/api/v1/incidents?monitor=pay-web", env.ReadToken, nil, 200, &listed); err != nil {
		t.Fatal(err)
	}
	if len(listed.Items) != 1 || listed.Items[0].ResolvedAt == nil {
		t.Fatalf("want one resolved pay-web incident, got %+v", listed.Items)
	}
	opened, resolved := listed.Items[0].OpenedAt, *listed.Items[0].ResolvedAt
	if resolved.Sub(opened) < 2*time.Millisecond {
		t.Fatalf("incident too short to start a range inside it: %v to %v", opened, resolved)
	}
	now := time.Now().UTC()
	inside := backend.TimeRange{From: opened.Add(resolved.Sub(opened) / 2), To: now}
	after := backend.TimeRange{From: resolved.Add(time.Millisecond), To: now}
	ds := newDatasource(t, env.URL, env.ReadToken)
	pick := map[string]any{"monitorIds": []string{"pay-web"}}
	for _, c := range []struct {
		name  string
		model map[string]any
		tr    backend.TimeRange
		rows  int
	}{
		{"table, opened before the range", map[string]any{"queryType": "incidents"}, inside, 1},
		{"annotations, opened before the range", map[string]any{"queryType": "annotations", "annotationSource": "incidents"}, inside, 1},
		{"table, resolved before the range", map[string]any{"queryType": "incidents"}, after, 0},
		{"annotations, resolved before the range", map[string]any{"queryType": "annotations", "annotationSource": "incidents"}, after, 0},
	} {
		for k, v := range pick {
			c.model[k] = v
		}
		resp := query(t, ds, c.model, c.tr, nil, time.Minute)
		if resp.Error != nil || len(resp.Frames) != 1 {
			t.Fatalf("%s: %v, %d frames", c.name, resp.Error, len(resp.Frames))
		}
		if rows, _ := resp.Frames[0].RowLen(); rows != c.rows {
			t.Errorf("%s: %d rows, want %d", c.name, rows, c.rows)
		}
	}
}

// TestRecurringMaintenanceAnnotations: a cron window gives one annotation per occurrence in
// the range (the one in force at its start included), expanded by the server; windows of
// other monitors are left out.
func TestRecurringMaintenanceAnnotations(t *testing.T) {
	window := map[string]any{"spec": map[string]any{
		"name": "Nightly backup", "cron": "0 3 * * *", "duration": "1h", "monitors": []string{"search"},
	}}
	if err := env.Call("PUT", "/api/v1/maintenance/nightly-backup", testenv.AdminToken, window, 201, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := env.Call("DELETE", "/api/v1/maintenance/nightly-backup", testenv.AdminToken, nil, 204, nil); err != nil {
			t.Error(err)
		}
	})
	ds := newDatasource(t, env.URL, env.ReadToken)
	tr := backend.TimeRange{From: time.Date(2025, 3, 1, 3, 30, 0, 0, time.UTC), To: time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)}
	model := map[string]any{"queryType": "annotations", "annotationSource": "maintenance", "monitorIds": []string{"search"}}
	resp := query(t, ds, model, tr, nil, time.Minute)
	if resp.Error != nil || len(resp.Frames) != 1 {
		t.Fatalf("%v, %d frames", resp.Error, len(resp.Frames))
	}
	frame := resp.Frames[0]
	var got []string
	for i := 0; i < frame.Rows(); i++ {
		at, _ := frame.Fields[0].ConcreteAt(i)
		end, _ := frame.Fields[1].ConcreteAt(i)
		title, _ := frame.Fields[2].ConcreteAt(i)
		got = append(got, fmt.Sprintf("%s %s–%s", title, at.(time.Time).Format(time.RFC3339), end.(time.Time).Format("15:04")))
	}
	want := []string{
		"Maintenance: Nightly backup 2025-03-01T03:00:00Z–04:00",
		"Maintenance: Nightly backup 2025-03-02T03:00:00Z–04:00",
		"Maintenance: Nightly backup 2025-03-03T03:00:00Z–04:00",
	}
	if !slices.Equal(got, want) {
		t.Errorf("annotations:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSeriesFromOlderServer: a server without `/series/columns` (simulated by a proxy to the
// test server that answers 404 there, as such a server does) gets the same frames from
// `/series`, and the data source stops asking for columns.
func TestSeriesFromOlderServer(t *testing.T) {
	var columnsAsked, rowsAsked atomic.Int32
	target, err := url.Parse(env.URL)
	if err != nil {
		t.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	older := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/v1/series/columns":
			columnsAsked.Add(1)
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"title":"Not Found","status":404}`))
			return
		case "/api/v1/series":
			rowsAsked.Add(1)
		}
		proxy.ServeHTTP(w, r)
	}))
	defer older.Close()
	model := map[string]any{"queryType": "series", "metric": "availability", "selector": "team=payments"}
	want := query(t, newDatasource(t, env.URL, env.ReadToken), model, recentRange(), nil, time.Hour)
	ds := newDatasource(t, older.URL, env.ReadToken)
	for range 2 {
		got := query(t, ds, model, recentRange(), nil, time.Hour)
		if got.Error != nil || want.Error != nil {
			t.Fatalf("errors: %v, %v", got.Error, want.Error)
		}
		if len(got.Frames) != len(want.Frames) || len(got.Frames) != 2 {
			t.Fatalf("%d frames from /series, %d from /series/columns", len(got.Frames), len(want.Frames))
		}
		for i := range got.Frames {
			a, errA := json.Marshal(want.Frames[i])
			b, errB := json.Marshal(got.Frames[i])
			if errA != nil || errB != nil || string(a) != string(b) {
				t.Errorf("frame %d differs:\nfrom /series/columns %s\nfrom /series %s", i, a, b)
			}
		}
	}
	if columnsAsked.Load() != 1 || rowsAsked.Load() != 2 {
		t.Errorf("asked /series/columns %d times and /series %d times, want 1 and 2", columnsAsked.Load(), rowsAsked.Load())
	}
}
