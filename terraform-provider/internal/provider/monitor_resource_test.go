package provider

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

const monitorCreate = `
resource "vedette_monitor" "web" {
  id          = "acc-web"
  name        = "Acceptance web"
  labels      = { team = "payments", env = "acc" }
  interval    = "60s"
  timeout     = "5000ms"
  assertions  = ["status == 200", "response_time < 300ms"]
  http = {
    url     = "http://127.0.0.1:9/healthz"
    headers = { Accept = "application/json" }
    basic_auth = {
      username = "probe"
      password = "s3cret-password"
    }
  }
}
`

const monitorUpdate = `
resource "vedette_monitor" "web" {
  id                = "acc-web"
  name              = "Acceptance web (renamed)"
  description       = "updated by the acceptance test"
  labels            = { team = "payments", env = "acc", tier = "1" }
  interval          = "90s"
  timeout           = "5s"
  retries           = 2
  degraded_after    = "800ms"
  failure_threshold = 3
  paused            = true
  assertions        = ["status == 200"]
  http = {
    url          = "http://127.0.0.1:9/ready"
    method       = "HEAD"
    bearer_token = "tok-0123456789"
  }
}
`

func TestAccMonitorResource(t *testing.T) {
	const addr = "vedette_monitor.web"
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			// Create, with durations written the non-canonical way.
			{
				Config: monitorCreate,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "id", "acc-web"),
					resource.TestCheckResourceAttr(addr, "interval", "60s"),
					resource.TestCheckResourceAttr(addr, "timeout", "5000ms"),
					resource.TestCheckResourceAttr(addr, "http.method", "GET"),
					resource.TestCheckResourceAttr(addr, "http.max_redirects", "10"),
					resource.TestCheckResourceAttr(addr, "http.version", "auto"),
					resource.TestCheckResourceAttr(addr, "failure_threshold", "1"),
					resource.TestCheckResourceAttr(addr, "labels.team", "payments"),
					resource.TestCheckResourceAttr(addr, "assertions.#", "2"),
					resource.TestCheckNoResourceAttr(addr, "push_url"),
					resource.TestCheckResourceAttrSet(addr, "version"),
					checkOnServer(t, client.Monitors, "acc-web", func(m *client.Monitor) error {
						if m.Spec.Interval != "1m" || m.Spec.Timeout != "5s" {
							return fmt.Errorf("server holds interval %s timeout %s", m.Spec.Interval, m.Spec.Timeout)
						}
						if m.Spec.HTTP == nil || m.Spec.HTTP.Headers["Accept"] != "application/json" {
							return fmt.Errorf("server holds %+v", m.Spec.HTTP)
						}
						return nil
					}),
				),
			},
			// The same configuration again plans nothing (60s against the server's 1m included).
			{Config: monitorCreate, PlanOnly: true},
			// Update in place.
			{
				Config:           monitorUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "http.url", "http://127.0.0.1:9/ready"),
					resource.TestCheckResourceAttr(addr, "http.method", "HEAD"),
					resource.TestCheckNoResourceAttr(addr, "http.basic_auth"),
					resource.TestCheckResourceAttr(addr, "paused", "true"),
					resource.TestCheckResourceAttr(addr, "retries", "2"),
					resource.TestCheckResourceAttr(addr, "labels.%", "3"),
					checkOnServer(t, client.Monitors, "acc-web", func(m *client.Monitor) error {
						if !m.Spec.Paused || m.Spec.Retries != 2 || m.Spec.HTTP.Auth == nil || m.Spec.HTTP.Auth.Bearer == nil {
							return fmt.Errorf("server holds %+v", m.Spec)
						}
						return nil
					}),
				),
			},
			{Config: monitorUpdate, PlanOnly: true},
			// Import by id gives the same state.
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateId:     "acc-web",
				ImportStateVerify: true,
				// The state keeps "5000ms" from the first configuration: "5s" means the same, so the
				// update planned the stored value; an import reads the server's "5s". The API shows
				// credentials as "********", so an import cannot read the bearer token back.
				ImportStateVerifyIgnore: []string{"timeout", "http.bearer_token"},
			},
			// A change made outside Terraform shows in the plan...
			driftStep(t, client.Monitors, "acc-web", func(m *client.Monitor) (client.MonitorWrite, int64) {
				m.Spec.HTTP.URL = "http://127.0.0.1:9/changed-by-hand"
				m.Labels["owner"] = "someone-else"
				return client.MonitorWrite{Labels: m.Labels, Spec: m.Spec}, m.Version
			}, resource.TestStep{Config: monitorUpdate}),
			// ...as exactly that change, which apply reverts.
			{
				Config: monitorUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate,
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("http").AtMapKey("url"), knownvalue.StringExact("http://127.0.0.1:9/ready")),
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("labels"), knownvalue.MapSizeExact(3))),
				Check: checkOnServer(t, client.Monitors, "acc-web", func(m *client.Monitor) error {
					if m.Spec.HTTP.URL != "http://127.0.0.1:9/ready" || m.Labels["owner"] != "" {
						return fmt.Errorf("not reverted: %s %v", m.Spec.HTTP.URL, m.Labels)
					}
					return nil
				}),
			},
			// A monitor deleted outside Terraform is dropped from state and created again.
			deletedStep(t, client.Monitors, "acc-web", addr, resource.TestStep{
				Config: monitorUpdate,
				Check: checkOnServer(t, client.Monitors, "acc-web", func(m *client.Monitor) error {
					if m.Spec.HTTP.URL != "http://127.0.0.1:9/ready" {
						return fmt.Errorf("recreated with %s", m.Spec.HTTP.URL)
					}
					return nil
				}),
			}),
			{Config: monitorUpdate, PlanOnly: true},
		},
	})
}

const monitorKinds = `
resource "vedette_monitor" "tcp" {
  id       = "acc-tcp"
  interval = "15s"
  timeout  = "3s"
  tcp      = { host = "127.0.0.1", port = 9, send = "PING\r\n", expect = "^\\+PONG" }
}

resource "vedette_monitor" "dns" {
  id   = "acc-dns"
  name = "Public DNS"
  dns  = { name = "example.com", record_type = "AAAA", resolver = "127.0.0.1:5353", expect = ["::1"] }
}

resource "vedette_monitor" "tls" {
  id  = "acc-tls"
  tls = { host = "127.0.0.1", port = 9, expiry_warning = "21d" }
  interval = "1h"
}

resource "vedette_monitor" "heartbeat" {
  id        = "acc-heartbeat"
  heartbeat = { schedule = "0 3 * * *", grace = "30m" }
}

resource "vedette_monitor" "heartbeat_token" {
  id        = "acc-heartbeat-token"
  heartbeat = { token = "acc-token-0123456789abcdef" }
}
`

// Every kind is created with the server's defaults planned in, plans nothing afterwards, and
// imports to the same state.
func TestAccMonitorKinds(t *testing.T) {
	steps := []resource.TestStep{
		{
			Config: monitorKinds,
			Check: resource.ComposeAggregateTestCheckFunc(
				resource.TestCheckResourceAttr("vedette_monitor.tcp", "tcp.port", "9"),
				resource.TestCheckResourceAttr("vedette_monitor.dns", "dns.transport", "udp"),
				resource.TestCheckResourceAttr("vedette_monitor.dns", "dns.rcode", "NOERROR"),
				resource.TestCheckResourceAttr("vedette_monitor.tls", "tls.expiry_warning", "21d"),
				resource.TestCheckResourceAttr("vedette_monitor.tls", "tls.verify", "true"),
				resource.TestCheckResourceAttr("vedette_monitor.heartbeat", "heartbeat.grace", "30m"),
				resource.TestMatchResourceAttr("vedette_monitor.heartbeat", "push_url", regexp.MustCompile(`^http://127\.0\.0\.1:\d+/push/\S+$`)),
				func(s *terraform.State) error {
					return resource.TestCheckResourceAttr("vedette_monitor.heartbeat_token", "push_url",
						os.Getenv("VEDETTE_URL")+"/push/acc-token-0123456789abcdef")(s)
				},
			),
		},
		{Config: monitorKinds, PlanOnly: true},
	}
	for _, name := range []string{"tcp", "dns", "tls", "heartbeat", "heartbeat_token"} {
		steps = append(steps, resource.TestStep{
			ResourceName:      "vedette_monitor." + name,
			ImportState:       true,
			ImportStateVerify: true,
			// Durations come back as written (21d); secrets are never read back.
			ImportStateVerifyIgnore: []string{"http.basic_auth.password", "http.bearer_token"},
		})
	}
	// Switching the kind of a monitor is an update, not a replacement.
	steps = append(steps, resource.TestStep{
		Config: `
resource "vedette_monitor" "tcp" {
  id   = "acc-tcp"
  http = { url = "https://127.0.0.1:9/" }
}`,
		ConfigPlanChecks: plannedAs("vedette_monitor.tcp", plancheck.ResourceActionUpdate),
		Check: resource.ComposeAggregateTestCheckFunc(
			resource.TestCheckNoResourceAttr("vedette_monitor.tcp", "tcp"),
			resource.TestCheckResourceAttr("vedette_monitor.tcp", "interval", "1m"),
		),
	})
	accTest(t, resource.TestCase{
		Steps: steps,
	})
}

// The server's validation errors come back on the attribute at fault.
func TestAccMonitorServerValidation(t *testing.T) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: `
resource "vedette_monitor" "bad" {
  id         = "acc-bad"
  assertions = ["status == 200", "status =="]
  http       = { url = "https://example.com" }
}`,
				ExpectError: regexp.MustCompile(`(?s)invalid value.*assertions = \[.*expected a value.*API field\s+spec\.assertions\[1\]`),
			},
			{
				Config: `
resource "vedette_monitor" "bad" {
  id       = "acc-bad"
  interval = "10s"
  timeout  = "20s"
  tcp      = { host = "127.0.0.1", port = 9 }
}`,
				ExpectError: regexp.MustCompile(`(?s)on terraform_plugin_test.tf line \d+.*timeout\s+= "20s".*must not exceed interval`),
			},
		},
	})
}

// An existing monitor is not silently taken over by a create: the error says to import it.
func TestAccMonitorCreateRefusesExisting(t *testing.T) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			PreConfig: func() {
				_, err := client.Monitors.Put(context.Background(), testClient(t), "acc-existing", client.MonitorWrite{
					Spec: client.MonitorSpec{TCP: &client.TCPCheck{Host: "127.0.0.1", Port: 9}},
				}, client.Precondition{})
				if err != nil {
					t.Fatal(err)
				}
			},
			Config: `
resource "vedette_monitor" "m" {
  id  = "acc-existing"
  tcp = { host = "127.0.0.1", port = 9 }
}`,
			ExpectError: regexp.MustCompile(`(?s)already exists.*import \{`),
		}},
	})
	_ = client.Monitors.Delete(context.Background(), testClient(t), "acc-existing", client.Precondition{})
}

// Writes carry the version Terraform read: a stale one is refused, not applied over.
func TestAccClientOptimisticConcurrency(t *testing.T) {
	skipUnlessAcc(t)
	testAccPreCheck(t)
	ctx := context.Background()
	c := testClient(t)
	first, err := client.Monitors.Put(ctx, c, "acc-etag", client.MonitorWrite{
		Spec: client.MonitorSpec{TCP: &client.TCPCheck{Host: "127.0.0.1", Port: 9}},
	}, client.IfAbsent())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = client.Monitors.Delete(ctx, c, "acc-etag", client.Precondition{}) }()
	second, err := client.Monitors.Put(ctx, c, "acc-etag", client.MonitorWrite{
		Spec: client.MonitorSpec{TCP: &client.TCPCheck{Host: "127.0.0.1", Port: 10}},
	}, client.IfMatch(first.Version))
	if err != nil {
		t.Fatal(err)
	}
	if second.Version == first.Version {
		t.Fatalf("version did not change: %d", second.Version)
	}
	_, err = client.Monitors.Put(ctx, c, "acc-etag", client.MonitorWrite{
		Spec: client.MonitorSpec{TCP: &client.TCPCheck{Host: "127.0.0.1", Port: 11}},
	}, client.IfMatch(first.Version))
	if !client.IsPreconditionFailed(err) {
		t.Fatalf("stale update: want 412, got %v", err)
	}
	if err := client.Monitors.Delete(ctx, c, "acc-etag", client.IfMatch(first.Version)); !client.IsPreconditionFailed(err) {
		t.Fatalf("stale delete: want 412, got %v", err)
	}
	if _, err := client.Monitors.Put(ctx, c, "acc-etag", client.MonitorWrite{
		Spec: client.MonitorSpec{TCP: &client.TCPCheck{Host: "127.0.0.1", Port: 9}},
	}, client.IfAbsent()); !client.IsPreconditionFailed(err) {
		t.Fatalf("create over an existing monitor: want 412, got %v", err)
	}
}
