package plugin_test

import (
	"flag"
	"slices"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
	"github.com/grafana/grafana-plugin-sdk-go/experimental"
)

var update = flag.Bool("update", false, "rewrite the golden frame files under testdata/")

// ref is where stable() moves the start of the query range.
var ref = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// stable is resp with what changes between runs fixed: time fields moved so that base lands
// on ref, and the values of the volatile fields (check times, latencies, random ids) replaced
// by placeholders, null staying null.
func stable(t *testing.T, resp backend.DataResponse, base time.Time, volatile ...string) *backend.DataResponse {
	t.Helper()
	if resp.Error != nil {
		t.Fatalf("query failed: %v", resp.Error)
	}
	out := &backend.DataResponse{}
	for _, f := range resp.Frames {
		fields := make([]*data.Field, len(f.Fields))
		for i, field := range f.Fields {
			fields[i] = stableField(field, base, slices.Contains(volatile, field.Name))
		}
		frame := data.NewFrame(f.Name, fields...)
		frame.RefID, frame.Meta = f.RefID, f.Meta
		out.Frames = append(out.Frames, frame)
	}
	return out
}

func stableField(f *data.Field, base time.Time, volatile bool) *data.Field {
	out := data.NewFieldFromFieldType(f.Type(), f.Len())
	out.Name, out.Labels, out.Config = f.Name, f.Labels, f.Config
	for i := range f.Len() {
		v := f.At(i)
		switch x := v.(type) {
		case time.Time:
			v = moved(x, base, volatile)
		case *time.Time:
			if x != nil {
				m := moved(*x, base, volatile)
				v = &m
			}
		case float64:
			if volatile {
				v = float64(1)
			}
		case *float64:
			if x != nil && volatile {
				one := float64(1)
				v = &one
			}
		case string:
			if volatile {
				v = "(varies)"
			}
		case *string:
			if x != nil && volatile {
				s := "(varies)"
				v = &s
			}
		}
		out.Set(i, v)
	}
	return out
}

func moved(at, base time.Time, volatile bool) time.Time {
	if volatile {
		return ref
	}
	return ref.Add(at.Sub(base))
}

// goldenRange is three whole UTC days, the last holding every seeded check (the test fails
// if it runs across midnight after seeding, which it reports).
func goldenRange(t *testing.T) backend.TimeRange {
	t.Helper()
	day := seeded.Truncate(24 * time.Hour)
	if !time.Now().UTC().Truncate(24 * time.Hour).Equal(day) {
		t.Fatal("the test ran across midnight UTC after seeding; run it again")
	}
	return backend.TimeRange{From: day.Add(-48 * time.Hour), To: day.Add(24 * time.Hour)}
}

// TestGoldenFrames checks the frames of every query type against testdata/*.jsonc (rewrite
// them with `go test ./pkg/plugin -run TestGoldenFrames -update`). Every case must answer the
// same at any time of day: the SLO case measures its burn rate over the whole range, not the
// last hour before midnight, which holds the seeded checks only when run after 23:00 UTC.
func TestGoldenFrames(t *testing.T) {
	ds := newDatasource(t, env.URL, env.ReadToken)
	tr := goldenRange(t)
	cases := []struct {
		name     string
		model    map[string]any
		volatile []string
	}{
		{"series_uptime", map[string]any{"queryType": "series", "metric": "uptime", "legendFormat": "{{name}} ({{label.env}})"}, nil},
		{"series_availability_selector", map[string]any{"queryType": "series", "metric": "availability", "selector": "team=payments"}, nil},
		{"series_failures_ids", map[string]any{"queryType": "series", "metric": "failures", "monitorIds": []string{"pay-web", "search"}}, nil},
		{"series_checks_in", map[string]any{"queryType": "series", "metric": "checks", "selector": "env in (prod,stage),team!=search"}, nil},
		{"state", map[string]any{"queryType": "state"}, []string{"since", "last_result_at", "latency_ms", "message"}},
		{"incidents", map[string]any{"queryType": "incidents", "selector": "team=payments"}, []string{"id", "opened_at", "resolved_at", "duration", "message"}},
		{"results", map[string]any{"queryType": "results", "monitorIds": []string{"pay-web"}, "limit": 4}, []string{"time", "latency_ms", "message"}},
		{"slo", map[string]any{"queryType": "slo", "sloTarget": 50, "sloWindow": "3d", "sloBurnWindow": "3d", "monitorIds": []string{"pay-web", "pay-api"}}, nil},
		{"annotations_incidents", map[string]any{"queryType": "annotations", "annotationSource": "incidents"}, []string{"time", "timeEnd", "text"}},
		{"annotations_maintenance", map[string]any{"queryType": "annotations", "annotationSource": "maintenance"}, []string{"time", "timeEnd"}},
		{"annotations_deployments", map[string]any{"queryType": "annotations", "annotationSource": "deployments"}, []string{"time", "timeEnd"}},
		{"variable_monitors", map[string]any{"queryType": "variable", "variableKind": "monitors", "selector": "env=prod"}, nil},
		{"variable_label_keys", map[string]any{"queryType": "variable", "variableKind": "labelKeys"}, nil},
		{"variable_label_values", map[string]any{"queryType": "variable", "variableKind": "labelValues", "variableLabel": "team"}, nil},
		{"series_empty", map[string]any{"queryType": "series", "selector": "team=nobody"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp := query(t, ds, c.model, tr, nil, 24*time.Hour)
			experimental.CheckGoldenJSONResponse(t, "testdata", c.name, stable(t, resp, tr.From, c.volatile...), *update)
		})
	}
}
