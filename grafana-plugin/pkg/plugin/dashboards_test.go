package plugin

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
)

// TestBundledDashboards checks that every query of the bundled dashboards (panel targets,
// annotations, variables) is one this backend answers: a known query type, metric, source
// and variable kind, on this data source.
func TestBundledDashboards(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("..", "..", "dashboards", "*.json"))
	if err != nil || len(paths) != 3 {
		t.Fatalf("want the overview, monitor and SLO dashboards, found %v (%v)", paths, err)
	}
	metrics := make([]string, len(Metrics))
	for i, m := range Metrics {
		metrics[i] = m.Name
	}
	for _, path := range paths {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		var d struct {
			UID    string `json:"uid"`
			Panels []struct {
				Title   string            `json:"title"`
				Targets []json.RawMessage `json:"targets"`
			} `json:"panels"`
			Annotations struct {
				List []struct {
					Target json.RawMessage `json:"target"`
				} `json:"list"`
			} `json:"annotations"`
			Templating struct {
				List []struct {
					Type  string          `json:"type"`
					Query json.RawMessage `json:"query"`
				} `json:"list"`
			} `json:"templating"`
		}
		if err := json.Unmarshal(raw, &d); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		var queries []json.RawMessage
		for _, p := range d.Panels {
			if len(p.Targets) == 0 {
				t.Errorf("%s: panel %q has no query", path, p.Title)
			}
			queries = append(queries, p.Targets...)
		}
		for _, a := range d.Annotations.List {
			if a.Target != nil {
				queries = append(queries, a.Target)
			}
		}
		for _, v := range d.Templating.List {
			if v.Type == "query" {
				queries = append(queries, v.Query)
			}
		}
		for _, raw := range queries {
			q, err := parseQuery(backend.DataQuery{JSON: raw})
			if err != nil {
				t.Errorf("%s: %s: %v", path, raw, err)
				continue
			}
			ok := slices.Contains([]string{TypeSeries, TypeState, TypeIncidents, TypeResults, TypeSLO, TypeAnnotations, TypeVariable}, q.QueryType)
			switch q.QueryType {
			case TypeSeries:
				ok = ok && slices.Contains(metrics, q.Metric)
			case TypeAnnotations:
				ok = slices.Contains([]string{"incidents", "maintenance", "deployments"}, q.AnnotationSource)
			case TypeVariable:
				ok = slices.Contains([]string{"monitors", "labelKeys", "labelValues"}, q.VariableKind)
			}
			if !ok {
				t.Errorf("%s: query the backend does not answer: %s", path, raw)
			}
		}
		if !json.Valid(raw) || d.UID == "" {
			t.Errorf("%s: no uid", path)
		}
	}
}

// TestProvisioning checks the data source provisioning file names this plugin and the
// settings it reads (jsonData.url, the token in secureJsonData).
func TestProvisioning(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "provisioning", "datasources", "vedette.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	text := string(raw)
	for _, want := range []string{"type: " + ID, "jsonData:\n      url: $VEDETTE_URL", "secureJsonData:\n      token: $VEDETTE_GRAFANA_TOKEN"} {
		if !strings.Contains(text, want) {
			t.Errorf("provisioning/datasources/vedette.yaml lacks %q", want)
		}
	}
}
