package provider

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// closedPort is a loopback address nothing listens on: the source's runs fail at once.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

const discoveryCreate = `
variable "gateway" { type = string }

resource "vedette_discovery_source" "d" {
  id       = "acc-edge"
  name     = "Edge Envoy"
  labels   = { team = "platform" }
  type     = "envoy"
  interval = "60s"
  endpoint = {
    url         = "http://${var.gateway}"
    credentials = { bearer = { token = { env = "VEDETTE_DISCOVERY_ACC_TOKEN" } } }
    timeout     = "2s"
  }
  filters = {
    include = { hosts = ["*.example.com"] }
    exclude = { paths = ["/internal/*"] }
  }
  template = {
    url             = "{base}{path}"
    interval        = "2m"
    expected_status = 200
    labels          = { gateway = "{gateway}" }
  }
}
`

const discoveryUpdate = `
variable "gateway" { type = string }

resource "vedette_discovery_source" "d" {
  id           = "acc-edge"
  name         = "Edge Envoy"
  labels       = { team = "platform" }
  type         = "envoy"
  interval     = "1h"
  grace_period = "30m"
  dry_run      = true
  endpoint = {
    url         = "http://${var.gateway}"
    credentials = { header = { name = "X-Admin-Token", value = { file = "/run/secrets/envoy-admin" } } }
  }
  selection = { opt_in = true }
  template = {
    name       = "{service} {path}"
    method     = "HEAD"
    assertions = ["response_time < 500ms"]
  }
  max_routes = 100
}
`

func TestAccDiscoverySourceResource(t *testing.T) {
	const addr = "vedette_discovery_source.d"
	ctx := context.Background()
	vars := config.Variables{"gateway": config.StringVariable(closedPort(t))}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				ConfigVariables: vars,
				Config:          discoveryCreate,
				Check: resource.ComposeAggregateTestCheckFunc(
					// 60s comes back as the server writes it, without a diff.
					resource.TestCheckResourceAttr(addr, "interval", "60s"),
					resource.TestCheckResourceAttr(addr, "grace_period", "10m"),
					resource.TestCheckResourceAttr(addr, "endpoint.max_bytes", "33554432"),
					resource.TestCheckResourceAttr(addr, "endpoint.credentials.bearer.token.env", "VEDETTE_DISCOVERY_ACC_TOKEN"),
					resource.TestCheckResourceAttr(addr, "template.method", "GET"),
					resource.TestCheckResourceAttr(addr, "template.timeout", "10s"),
					resource.TestCheckResourceAttr(addr, "selection.opt_out_tag", "vedette:off"),
					resource.TestCheckResourceAttrSet(addr, "status.state"),
					checkOnServer(t, client.DiscoverySources, "acc-edge", func(d *client.DiscoverySource) error {
						if d.Spec.Template == nil || d.Spec.Template.ExpectedStatus == nil || *d.Spec.Template.ExpectedStatus != 200 ||
							len(d.Spec.Filters.Exclude.Paths) != 1 {
							return fmt.Errorf("server holds %+v", d.Spec)
						}
						return nil
					}),
				),
			},
			{ConfigVariables: vars, Config: discoveryCreate, PlanOnly: true},
			{
				// The runner lists the (absent) gateway: the run fails, and the status says so.
				PreConfig: func() {
					deadline := time.Now().Add(20 * time.Second)
					for {
						d, err := client.DiscoverySources.Get(ctx, testClient(t), "acc-edge")
						if err != nil {
							t.Fatal(err)
						}
						if d.Status.State == "failed" {
							return
						}
						if time.Now().After(deadline) {
							t.Fatalf("no failed run within 20 s: %+v", d.Status)
						}
						time.Sleep(200 * time.Millisecond)
					}
				},
				ConfigVariables: vars,
				RefreshState:    true,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "status.state", "failed"),
					resource.TestCheckResourceAttrSet(addr, "status.last_run"),
					resource.TestMatchResourceAttr(addr, "status.error", regexp.MustCompile(`.+`)),
					resource.TestCheckResourceAttr(addr, "status.monitors_owned", "0"),
				),
			},
			{ConfigVariables: vars, Config: discoveryCreate, PlanOnly: true},
			{
				ConfigVariables:  vars,
				Config:           discoveryUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "dry_run", "true"),
					resource.TestCheckNoResourceAttr(addr, "filters"),
					resource.TestCheckNoResourceAttr(addr, "endpoint.credentials.bearer"),
					resource.TestCheckResourceAttr(addr, "endpoint.credentials.header.value.file", "/run/secrets/envoy-admin"),
					resource.TestCheckResourceAttr(addr, "template.interval", "1m"),
					resource.TestCheckNoResourceAttr(addr, "template.expected_status"),
					resource.TestCheckResourceAttr(addr, "selection.opt_in", "true"),
				),
			},
			{ConfigVariables: vars, Config: discoveryUpdate, PlanOnly: true},
			{
				ConfigVariables:         vars,
				ResourceName:            addr,
				ImportState:             true,
				ImportStateVerify:       true,
				ImportStateVerifyIgnore: []string{"status"},
			},
			// A change through the API is drift...
			driftStep(t, client.DiscoverySources, "acc-edge", func(d *client.DiscoverySource) (client.DiscoverySourceWrite, int64) {
				d.Spec.DryRun = false
				d.Spec.Interval = "5s"
				return client.DiscoverySourceWrite{Labels: d.Labels, Spec: d.Spec}, d.Version
			}, resource.TestStep{ConfigVariables: vars, Config: discoveryUpdate}),
			{
				// ...that the next apply undoes.
				ConfigVariables: vars,
				Config:          discoveryUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate,
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("dry_run"), knownvalue.Bool(true))),
				Check: resource.TestCheckResourceAttr(addr, "interval", "1h"),
			},
			deletedStep(t, client.DiscoverySources, "acc-edge", addr, resource.TestStep{ConfigVariables: vars, Config: discoveryUpdate}),
		},
	})
}

// A template that does not render a valid monitor is refused by the server on its attribute.
func TestAccDiscoverySourceServerErrors(t *testing.T) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: `
resource "vedette_discovery_source" "bad" {
  id       = "acc-bad-source"
  type     = "envoy"
  endpoint = { url = "http://127.0.0.1:9" }
  template = { url = "{nowhere}{path}" }
}`,
			ExpectError: regexp.MustCompile(`(?s)invalid value.*API field\s+spec\.template`),
		}},
	})
}
