package plugin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/internal/testenv"
	"github.com/vedette-dev/vedette/grafana-plugin/pkg/plugin"
)

// env is the server every test queries, seeded once by seed.
var env *testenv.Env

// seeded is when seeding began: every seeded check lies in [seeded, now].
var seeded time.Time

func TestMain(m *testing.M) {
	var err error
	env, err = testenv.Start()
	if err != nil {
		fmt.Fprintln(os.Stderr, "starting vedette:", err)
		os.Exit(1)
	}
	if err := seed(); err != nil {
		fmt.Fprintln(os.Stderr, "seeding:", err, "\n", env.Log())
		env.Stop()
		os.Exit(1)
	}
	code := m.Run()
	env.Stop()
	os.Exit(code)
}

// seed makes three monitors, a flapping history for one of them (with an incident opened and
// resolved), and a one-off maintenance window and a deployment for the annotations.
func seed() error {
	seeded = time.Now().UTC()
	monitors := []struct{ id, name, path, team, env string }{
		{"pay-api", "Payments API", "/ok", "payments", "prod"},
		{"pay-web", "Payments web", "/switch", "payments", "stage"},
		{"search", "Search", "/ok", "search", "prod"},
	}
	for _, m := range monitors {
		if err := env.PutMonitor(m.id, m.name, m.path, map[string]string{"team": m.team, "env": m.env}); err != nil {
			return err
		}
	}
	// pay-web: up at creation, then down, down, up (one incident, resolved), then up. The check
	// at creation runs in the background, so the target stays up until it is recorded.
	if err := env.WaitResults("pay-web", 1); err != nil {
		return err
	}
	for _, up := range []bool{false, false, true, true} {
		env.SetUp(up)
		if err := env.Run("pay-web"); err != nil {
			return err
		}
	}
	if err := env.Run("pay-api"); err != nil {
		return err
	}
	window := map[string]any{"spec": map[string]any{
		"name": "Database upgrade", "description": "Planned failover",
		"start": seeded.Add(-2 * time.Hour).Format(time.RFC3339), "end": seeded.Add(-time.Hour).Format(time.RFC3339),
		"monitors": []string{"pay-api"},
	}}
	if err := env.Call("PUT", "/api/v1/maintenance/db-upgrade", testenv.AdminToken, window, 201, nil); err != nil {
		return err
	}
	deployment := map[string]any{"spec": map[string]any{
		"service": "payments", "version": "1.4.2", "environment": "prod",
		"started_at":  seeded.Add(-30 * time.Minute).Format(time.RFC3339),
		"finished_at": seeded.Add(-25 * time.Minute).Format(time.RFC3339),
		"status":      "succeeded",
	}}
	return env.Call("PUT", "/api/v1/deployments/payments-1-4-2", testenv.AdminToken, deployment, 201, nil)
}

// newDatasource is a data source instance on the test server with token.
func newDatasource(t *testing.T, url, token string) *plugin.Datasource {
	t.Helper()
	settings := backend.DataSourceInstanceSettings{
		UID:                     "vedette-test",
		JSONData:                json.RawMessage(fmt.Sprintf(`{"url": %q}`, url)),
		DecryptedSecureJSONData: map[string]string{"token": token},
	}
	inst, err := plugin.NewDatasource(context.Background(), settings)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(inst.(*plugin.Datasource).Dispose)
	return inst.(*plugin.Datasource)
}

// query runs one query (its JSON given as a map) over tr at Grafana's interval and returns
// its response.
func query(t *testing.T, ds *plugin.Datasource, model map[string]any, tr backend.TimeRange, headers map[string]string, interval time.Duration) backend.DataResponse {
	t.Helper()
	raw, err := json.Marshal(model)
	if err != nil {
		t.Fatal(err)
	}
	qt, _ := model["queryType"].(string)
	resp, err := ds.QueryData(context.Background(), &backend.QueryDataRequest{
		Headers: headers,
		Queries: []backend.DataQuery{{RefID: "A", QueryType: qt, JSON: raw, TimeRange: tr, Interval: interval, MaxDataPoints: 1000}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return resp.Responses["A"]
}
