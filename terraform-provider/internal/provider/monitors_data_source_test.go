package provider

import (
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccMonitorsDataSource(t *testing.T) {
	resources := `
resource "vedette_monitor" "a" {
  id     = "acc-sel-a"
  labels = { suite = "acc-sel", env = "prod" }
  tcp    = { host = "127.0.0.1", port = 9 }
}

resource "vedette_monitor" "b" {
  id     = "acc-sel-b"
  labels = { suite = "acc-sel", env = "dev" }
  paused = true
  tcp    = { host = "127.0.0.1", port = 9 }
}

resource "vedette_monitor" "c" {
  id     = "acc-sel-c"
  labels = { suite = "acc-sel", env = "prod" }
  dns    = { name = "example.com", resolver = "127.0.0.1:5353" }
}
`
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{Config: resources},
			{
				Config: resources + `
data "vedette_monitors" "prod" {
  selector = "suite=acc-sel,env=prod"
}

data "vedette_monitors" "suite" {
  selector = "suite=acc-sel,env!=prod"
}
`,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.vedette_monitors.prod", "ids.#", "2"),
					resource.TestCheckResourceAttr("data.vedette_monitors.prod", "ids.0", "acc-sel-a"),
					resource.TestCheckResourceAttr("data.vedette_monitors.prod", "ids.1", "acc-sel-c"),
					resource.TestCheckResourceAttr("data.vedette_monitors.prod", "monitors.1.kind", "dns"),
					resource.TestCheckResourceAttr("data.vedette_monitors.prod", "monitors.0.labels.env", "prod"),
					resource.TestCheckResourceAttr("data.vedette_monitors.prod", "monitors.0.managed_by", "api"),
					resource.TestCheckResourceAttr("data.vedette_monitors.suite", "ids.#", "1"),
					resource.TestCheckResourceAttr("data.vedette_monitors.suite", "monitors.0.id", "acc-sel-b"),
					resource.TestCheckResourceAttr("data.vedette_monitors.suite", "monitors.0.paused", "true"),
					resource.TestCheckResourceAttr("data.vedette_monitors.suite", "monitors.0.state", "paused"),
				),
			},
		},
	})
}
