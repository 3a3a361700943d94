package provider

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// pageMonitor is the monitor the pages name, under a display name of their own.
const pageMonitor = `
resource "vedette_monitor" "api" {
  id   = "acc-page-api"
  name = "api-internal-name"
  http = { url = "http://127.0.0.1:9/healthz" }
}
`

// A page of two groups: named monitors with display names, and a selector.
const pageCreate = pageMonitor + `
resource "vedette_status_page" "p" {
  id            = "acc-page"
  labels        = { team = "web" }
  title         = "Example status"
  slug          = "acc-example"
  description   = "Everything we run"
  logo_url      = "https://example.com/logo.png"
  custom_domain = "status.acc.example.com"
  groups = [
    {
      name     = "API"
      monitors = [{ id = vedette_monitor.api.id, name = "Public API" }, { id = "acc-page-auth" }]
    },
    { name = "Payments", selector = "team=payments" },
  ]
  show = { latency = true }
}
`

const pageUpdate = pageMonitor + `
resource "vedette_status_page" "p" {
  id           = "acc-page"
  labels       = { team = "web" }
  title        = "Example status (beta)"
  slug         = "acc-example"
  announcement = "Planned maintenance on Sunday"
  groups = [
    { name = "Everything", monitors = [{ id = vedette_monitor.api.id, name = "Public API" }], selector = "team=payments" },
  ]
}
`

// publicPage fetches a public path of the test server.
func publicPage(t *testing.T, p string) (int, string) {
	t.Helper()
	resp, err := http.Get(strings.TrimRight(os.Getenv("VEDETTE_URL"), "/") + p)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, string(b)
}

func TestAccStatusPageResource(t *testing.T) {
	const addr = "vedette_status_page.p"
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: pageCreate,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "public_path", "/status/acc-example"),
					resource.TestCheckResourceAttr(addr, "groups.#", "2"),
					resource.TestCheckResourceAttr(addr, "groups.0.monitors.0.name", "Public API"),
					resource.TestCheckNoResourceAttr(addr, "groups.0.monitors.1.name"),
					resource.TestCheckNoResourceAttr(addr, "groups.1.monitors"),
					resource.TestCheckResourceAttr(addr, "show.latency", "true"),
					resource.TestCheckResourceAttr(addr, "show.uptime", "true"),
					resource.TestCheckResourceAttr(addr, "show.messages", "false"),
					resource.TestCheckResourceAttrSet(addr, "version"),
					checkOnServer(t, client.StatusPages, "acc-page", func(p *client.StatusPage) error {
						if p.Spec.CustomDomain == nil || *p.Spec.CustomDomain != "status.acc.example.com" || !p.Spec.Show.Latency {
							return fmt.Errorf("server holds %+v", p.Spec)
						}
						// The public page is served, under the display name and not the monitor's own.
						code, body := publicPage(t, "/status/acc-example.json")
						if code != http.StatusOK || !strings.Contains(body, "Public API") || strings.Contains(body, "api-internal-name") {
							return fmt.Errorf("public page: %d %s", code, body)
						}
						return nil
					}),
				),
			},
			{Config: pageCreate, PlanOnly: true},
			{
				Config:           pageUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "title", "Example status (beta)"),
					resource.TestCheckResourceAttr(addr, "groups.#", "1"),
					resource.TestCheckResourceAttr(addr, "groups.0.selector", "team=payments"),
					resource.TestCheckResourceAttr(addr, "show.latency", "false"),
					resource.TestCheckNoResourceAttr(addr, "custom_domain"),
					resource.TestCheckNoResourceAttr(addr, "description"),
				),
			},
			{Config: pageUpdate, PlanOnly: true},
			{ResourceName: addr, ImportState: true, ImportStateVerify: true},
			// A change made through the API is seen as drift...
			driftStep(t, client.StatusPages, "acc-page", func(p *client.StatusPage) (client.StatusPageWrite, int64) {
				p.Spec.Title = "Changed by hand"
				p.Spec.Show.Messages = true
				return client.StatusPageWrite{Labels: p.Labels, Spec: p.Spec}, p.Version
			}, resource.TestStep{Config: pageUpdate}),
			{
				// ...and the next apply restores the configuration.
				Config: pageUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate,
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("title"), knownvalue.StringExact("Example status (beta)"))),
				Check: resource.TestCheckResourceAttr(addr, "show.messages", "false"),
			},
			// Deleted outside Terraform: created again.
			deletedStep(t, client.StatusPages, "acc-page", addr, resource.TestStep{Config: pageUpdate}),
		},
	})
}

// What only the server checks (a selector's grammar, a slug taken by another page) is reported
// on the attribute or as a conflict, with the API's words.
func TestAccStatusPageServerErrors(t *testing.T) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: `
resource "vedette_status_page" "bad" {
  id     = "acc-page-bad"
  title  = "Bad"
  slug   = "acc-bad"
  groups = [{ name = "G", selector = "team in (" }]
}`,
				ExpectError: regexp.MustCompile(`(?s)invalid value.*API field\s+spec\.groups\[0\]\.selector`),
			},
			{
				Config: `
resource "vedette_status_page" "one" {
  id     = "acc-page-one"
  title  = "One"
  slug   = "acc-same"
  groups = [{ name = "G", selector = "team=x" }]
}
resource "vedette_status_page" "two" {
  id         = "acc-page-two"
  title      = "Two"
  slug       = "acc-same"
  groups     = [{ name = "G", selector = "team=x" }]
  depends_on = [vedette_status_page.one]
}`,
				ExpectError: regexp.MustCompile(`(?s)conflict.*spec\.slug: status page\s+"acc-page-one" already has this slug`),
			},
		},
	})
}
