package provider

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
)

func TestAccIntegrationsDataSource(t *testing.T) {
	const cfg = `
data "vedette_integrations" "all" {}

data "vedette_integrations" "paging" {
  category = "paging"
}

data "vedette_integrations" "none" {
  category = "no-such-category"
}
`
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: cfg,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckTypeSetElemAttr("data.vedette_integrations.all", "names.*", "slack"),
					resource.TestCheckTypeSetElemAttr("data.vedette_integrations.all", "names.*", "ntfy"),
					resource.TestCheckTypeSetElemAttr("data.vedette_integrations.paging", "names.*", "pagerduty"),
					resource.TestCheckResourceAttr("data.vedette_integrations.paging", "integrations.0.category", "paging"),
					resource.TestCheckResourceAttr("data.vedette_integrations.none", "names.#", "0"),
					resource.TestCheckResourceAttrWith("data.vedette_integrations.paging", "integrations.0.parameters", func(v string) error {
						var schema struct {
							Type       string         `json:"type"`
							Properties map[string]any `json:"properties"`
						}
						if err := json.Unmarshal([]byte(v), &schema); err != nil {
							return err
						}
						if schema.Type != "object" || len(schema.Properties) == 0 {
							return fmt.Errorf("parameters is not an object schema: %s", v)
						}
						return nil
					}),
				),
			},
			{Config: cfg, PlanOnly: true},
		},
	})
}
