package provider

import (
	"fmt"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/knownvalue"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/tfjsonpath"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// A one-off window written with a +02:00 offset and 60m: the server stores UTC; no diff follows.
const windowCreate = `
resource "vedette_maintenance_window" "w" {
  id          = "acc-window"
  name        = "Database upgrade"
  labels      = { team = "platform" }
  start       = "2030-01-01T02:00:00+02:00"
  end         = "2030-01-01T04:30:00+02:00"
  monitors    = ["acc-db", "acc-api"]
}
`

const windowUpdate = `
resource "vedette_maintenance_window" "w" {
  id          = "acc-window"
  name        = "Weekly patching"
  description = "Sunday night patch window"
  labels      = { team = "platform" }
  cron        = "0 2 * * 0"
  duration    = "90m"
  selector    = "team=platform,env in (prod,staging)"
}
`

const windowRRule = `
resource "vedette_maintenance_window" "w" {
  id       = "acc-window"
  rrule    = "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"
  start    = "2030-01-06T02:00:00Z"
  duration = "1h"
  monitors = ["acc-db"]
}
`

func TestAccMaintenanceWindowResource(t *testing.T) {
	const addr = "vedette_maintenance_window.w"
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: windowCreate,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "start", "2030-01-01T02:00:00+02:00"),
					resource.TestCheckResourceAttr(addr, "monitors.#", "2"),
					resource.TestCheckResourceAttrSet(addr, "version"),
					checkOnServer(t, client.MaintenanceWindows, "acc-window", func(w *client.MaintenanceWindow) error {
						if w.Spec.Start == nil || !TimestampsEqual(*w.Spec.Start, "2030-01-01T00:00:00Z") {
							return fmt.Errorf("server holds start %v", w.Spec.Start)
						}
						return nil
					}),
				),
			},
			{Config: windowCreate, PlanOnly: true},
			{
				Config:           windowUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "cron", "0 2 * * 0"),
					resource.TestCheckResourceAttr(addr, "duration", "90m"),
					resource.TestCheckNoResourceAttr(addr, "start"),
					resource.TestCheckResourceAttr(addr, "monitors.#", "0"),
				),
			},
			{Config: windowUpdate, PlanOnly: true},
			{
				// 90m comes back as written.
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
			},
			driftStep(t, client.MaintenanceWindows, "acc-window", func(w *client.MaintenanceWindow) (client.MaintenanceWrite, int64) {
				d := "2h"
				w.Spec.Duration = &d
				return client.MaintenanceWrite{Labels: w.Labels, Spec: w.Spec}, w.Version
			}, resource.TestStep{Config: windowUpdate}),
			{
				Config: windowUpdate,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate,
					plancheck.ExpectKnownValue(addr, tfjsonpath.New("duration"), knownvalue.StringExact("90m"))),
			},
			deletedStep(t, client.MaintenanceWindows, "acc-window", addr, resource.TestStep{Config: windowUpdate}),
			{
				Config: windowRRule,
				Check:  resource.TestCheckResourceAttr(addr, "rrule", "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2"),
			},
			{Config: windowRRule, PlanOnly: true},
		},
	})
}
