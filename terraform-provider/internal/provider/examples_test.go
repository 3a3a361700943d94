package provider

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/config"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"
)

func readExample(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(moduleRoot(), "examples", rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The examples shown in the registry documentation apply as written, and plan nothing afterwards.
func TestAccExamples(t *testing.T) {
	resources := readExample(t, "resources/vedette_monitor/resource.tf") + "\n" +
		readExample(t, "resources/vedette_maintenance_window/resource.tf") + "\n" +
		readExample(t, "resources/vedette_status_page/resource.tf") + "\n" +
		readExample(t, "resources/vedette_discovery_source/resource.tf")
	withData := resources + "\n" +
		readExample(t, "data-sources/vedette_monitor/data-source.tf") + "\n" +
		readExample(t, "data-sources/vedette_monitors/data-source.tf")
	vars := config.Variables{"payments_probe_token": config.StringVariable("example-token-0123")}
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config:          resources,
				ConfigVariables: vars,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("vedette_monitor.payments_api", "assertions.#", "3"),
					resource.TestCheckResourceAttrSet("vedette_monitor.nightly_backup", "push_url"),
					resource.TestCheckResourceAttr("vedette_maintenance_window.weekly_patching", "duration", "1h30m"),
					resource.TestCheckResourceAttr("vedette_status_page.payments", "public_path", "/status/payments"),
					resource.TestCheckResourceAttr("vedette_discovery_source.kong", "selection.opt_in", "true"),
				),
			},
			{Config: resources, ConfigVariables: vars, PlanOnly: true},
			{
				Config:          withData,
				ConfigVariables: vars,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("data.vedette_monitor.payments_api", "http.url", "https://payments.example.com/healthz"),
					resource.TestCheckResourceAttr("data.vedette_monitors.payments_prod", "ids.#", "1"),
					resource.TestCheckResourceAttr("vedette_maintenance_window.payments_freeze", "monitors.0", "payments-api"),
				),
			},
			{Config: withData, ConfigVariables: vars, PlanOnly: true},
		},
	})
}

// The webhook examples (Terraform 1.11+ for the write-only token) apply and plan nothing afterwards.
func TestAccWebhookExamples(t *testing.T) {
	cfg := readExample(t, "resources/vedette_webhook_endpoint/resource.tf") + "\n" +
		readExample(t, "data-sources/vedette_integrations/data-source.tf")
	vars := config.Variables{
		"slack_webhook_url":  config.StringVariable("https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXX"),
		"ops_receiver_token": config.StringVariable("example-receiver-token"),
	}
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config:          cfg,
				ConfigVariables: vars,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr("vedette_webhook_endpoint.payments_slack", "integration.secret_params.webhook_url",
						"https://hooks.slack.com/services/T00000000/B00000000/XXXXXXXX"),
					resource.TestCheckResourceAttrSet("vedette_webhook_endpoint.ops_receiver", "signing_secret"),
					resource.TestCheckNoResourceAttr("vedette_webhook_endpoint.ops_receiver", "auth.secret"),
					resource.TestCheckTypeSetElemAttr("data.vedette_integrations.chat", "names.*", "slack"),
				),
			},
			{Config: cfg, ConfigVariables: vars, PlanOnly: true},
		},
	})
}
