package provider

import (
	"regexp"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

const dataSourceConfig = `
resource "vedette_monitor" "a" {
  id       = "acc-ds-a"
  name     = "A"
  labels   = { suite = "acc-ds", tier = "1" }
  interval = "30s"
  http     = { url = "http://127.0.0.1:9/a", headers = { X-Probe = "yes" } }
}

resource "vedette_monitor" "b" {
  id     = "acc-ds-b"
  labels = { suite = "acc-ds", tier = "2" }
  tcp    = { host = "127.0.0.1", port = 9 }
}

data "vedette_monitor" "a" {
  id = vedette_monitor.a.id
}
`

func TestAccMonitorDataSource(t *testing.T) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: dataSourceConfig,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttrPair("data.vedette_monitor.a", "name", "vedette_monitor.a", "name"),
					resource.TestCheckResourceAttrPair("data.vedette_monitor.a", "http.url", "vedette_monitor.a", "http.url"),
					resource.TestCheckResourceAttrPair("data.vedette_monitor.a", "version", "vedette_monitor.a", "version"),
					resource.TestCheckResourceAttr("data.vedette_monitor.a", "http.headers.X-Probe", "yes"),
					resource.TestCheckResourceAttr("data.vedette_monitor.a", "interval", "30s"),
					resource.TestCheckResourceAttr("data.vedette_monitor.a", "timeout", "10s"),
					resource.TestCheckResourceAttr("data.vedette_monitor.a", "labels.tier", "1"),
				),
			},
			{
				Config: dataSourceConfig + `
data "vedette_monitor" "missing" {
  id = "acc-ds-does-not-exist"
}`,
				ExpectError: regexp.MustCompile(`Monitor not found`),
			},
		},
	})
}
