package provider

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// exportTerraform runs `vedette export --format terraform --selector selector` against the test
// server, logs what it printed and returns it.
func exportTerraform(t *testing.T, selector string) string {
	t.Helper()
	cmd := exec.Command(vedetteBinary(), "export", "--format", "terraform", "--selector", selector)
	cmd.Env = append(os.Environ(), "VEDETTE_CONFIG_FILE="+os.DevNull)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("vedette export --format terraform: %v\n%s", err, stderr.String())
	}
	t.Logf("exported configuration:\n%s", stdout.String())
	return stdout.String()
}

// adoptUnchanged applies config, an export, whose import blocks adopt the objects it names:
// the plan imports them with no change, and after the import nothing is left to change.
func adoptUnchanged(t *testing.T, config string) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: config,
				ConfigPlanChecks: resource.ConfigPlanChecks{PreApply: []plancheck.PlanCheck{
					plancheck.ExpectEmptyPlan(),
				}},
			},
			{Config: config, PlanOnly: true},
		},
	})
}

// Monitors and a maintenance window made by hand (through the API, with durations the server
// rewrites and strings that need HCL escaping) are adopted with the exported resources and import
// blocks: the plan imports them with no change, and after the import nothing is left to change.
func TestAccAdoptionExport(t *testing.T) {
	skipUnlessAcc(t)
	testAccPreCheck(t)
	requireTerraform(t)
	ctx := context.Background()
	c := testClient(t)
	name := "Payments \"API\" ${var.not_interpolated} %{ if x } \\ ünïcode\n second line"
	desc := "tab\there"
	body := `{"query": "${x}"}`
	labels := map[string]string{"adopt": "acc", "team": "payments"}
	schedule := "0 3 * * *"
	resolverAddr := "127.0.0.1:5353"
	degraded := "0.8s"
	monitors := map[string]client.MonitorSpec{
		"acc-adopt-http": {Name: &name, Description: &desc, Interval: "90s", Timeout: "5000ms", DegradedAfter: &degraded,
			Assertions: []string{`status == 200`, `body.$.status == "UP"`},
			HTTP: &client.HTTPCheck{URL: "http://127.0.0.1:9/healthz", Method: "POST", Body: &body,
				Headers: map[string]string{"Accept": "application/json", "X-Template": "${literal}"},
				Auth:    &client.HTTPAuth{Bearer: &client.BearerAuth{Token: "tok-0123456789"}}}},
		"acc-adopt-tcp": {TCP: &client.TCPCheck{Host: "127.0.0.1", Port: 9}, Retries: 2, Paused: true},
		"acc-adopt-dns": {DNS: &client.DNSCheck{Name: "example.com", RecordType: "MX", Resolver: &resolverAddr,
			Expect: []string{"10 mail.example.com."}}},
		"acc-adopt-tls": {TLS: &client.TLSCheck{Host: "127.0.0.1", Port: 9, ExpiryWarning: "21d"}, Interval: "1h"},
		"acc-adopt-hb":  {Heartbeat: &client.HeartbeatCheck{Schedule: &schedule, Grace: "1800s"}},
	}
	for id, spec := range monitors {
		if _, err := client.Monitors.Put(ctx, c, id, client.MonitorWrite{Labels: labels, Spec: spec}, client.IfAbsent()); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
	}
	start, end, sel := "2030-01-01T00:00:00Z", "2030-01-01T02:00:00Z", "adopt=acc"
	if _, err := client.MaintenanceWindows.Put(ctx, c, "acc-adopt-window", client.MaintenanceWrite{Labels: labels,
		Spec: client.MaintenanceSpec{Start: &start, End: &end, Selector: &sel}}, client.IfAbsent()); err != nil {
		t.Fatal(err)
	}
	config := exportTerraform(t, "adopt=acc")
	for id := range monitors {
		if !strings.Contains(config, fmt.Sprintf("id = %q", id)) && !strings.Contains(config, fmt.Sprintf("\"%s\"", id)) {
			t.Errorf("export lacks %s", id)
		}
	}
	adoptUnchanged(t, config)
}

// A status page and a discovery source made through the API are adopted from the export: the
// plan imports them with no change.
func TestAccAdoptionExportPagesAndSources(t *testing.T) {
	skipUnlessAcc(t)
	testAccPreCheck(t)
	requireTerraform(t)
	ctx := context.Background()
	c := testClient(t)
	labels := map[string]string{"adopt": "acc-pages"}
	desc, sel, name, domain := "Our \"public\" ${services}", "team=payments", "Payments API", "status.adopt.example.com"
	page := client.StatusPageSpec{Title: "Adopted status", Slug: "acc-adopted", Description: &desc, CustomDomain: &domain,
		Groups: []client.StatusGroup{
			{Name: "API", Monitors: []client.PageMonitor{{ID: "acc-adopt-api", Name: &name}, {ID: "acc-adopt-auth"}}},
			{Name: "Backends", Selector: &sel},
		},
		Show: &client.ShowFigures{Uptime: true, Latency: true, Incidents: false, Maintenance: true}}
	if _, err := client.StatusPages.Put(ctx, c, "acc-adopt-page", client.StatusPageWrite{Labels: labels, Spec: page}, client.IfAbsent()); err != nil {
		t.Fatal(err)
	}
	env, status := "VEDETTE_DISCOVERY_ADOPT_TOKEN", int64(204)
	source := client.DiscoverySourceSpec{Type: "kong", Interval: "90s", GracePeriod: "1h",
		Connection: client.Connection{URL: "http://127.0.0.1:9", Timeout: "3s",
			Credentials: &client.Credentials{Header: &client.HeaderCredentials{Name: "Kong-Admin-Token", Value: client.SecretRef{Env: &env}}}},
		Filters: client.Filters{Include: client.RouteFilter{Hosts: []string{"*.example.com"}}, Exclude: client.RouteFilter{Tags: []string{"internal"}}},
		Template: &client.MonitorTemplate{Name: "{service}", URL: "{base}{path}", Method: "HEAD", Interval: "2m", Timeout: "5s",
			ExpectedStatus: &status, Labels: map[string]string{"team": "edge"}, TLSVerify: true, FailureThreshold: 2}}
	if _, err := client.DiscoverySources.Put(ctx, c, "acc-adopt-kong", client.DiscoverySourceWrite{Labels: labels, Spec: source}, client.IfAbsent()); err != nil {
		t.Fatal(err)
	}
	config := exportTerraform(t, "adopt=acc-pages")
	for _, want := range []string{`resource "vedette_status_page" "acc_adopt_page"`, `resource "vedette_discovery_source" "acc_adopt_kong"`} {
		if !strings.Contains(config, want) {
			t.Errorf("export lacks %s", want)
		}
	}
	adoptUnchanged(t, config)
}
