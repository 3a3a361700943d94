package provider

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// benchMonitors is how many monitors TestAccBenchmark200Monitors manages.
const benchMonitors = 200

type benchMark struct {
	at     time.Time
	counts map[string]int64
}

func mark() benchMark { return benchMark{at: time.Now(), counts: client.RequestCounts()} }

func (b benchMark) since(a benchMark) string {
	var parts []string
	total := int64(0)
	for _, m := range []string{"GET", "PUT", "POST", "PATCH", "DELETE"} {
		if n := b.counts[m] - a.counts[m]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", m, n))
			total += n
		}
	}
	return fmt.Sprintf("%6.2fs, %4d API requests (%s)", b.at.Sub(a.at).Seconds(), total, strings.Join(parts, ", "))
}

func benchConfig(interval string) string {
	return fmt.Sprintf(`
resource "vedette_monitor" "bench" {
  count    = %d
  id       = "bench-${count.index}"
  labels   = { suite = "bench" }
  interval = %q
  http     = { url = "http://127.0.0.1:9/bench/${count.index}" }
  assertions = ["status == 200"]
}
`, benchMonitors, interval)
}

// TestAccBenchmark200Monitors prints the time and API requests of plan and apply for 200 monitors
// (run with -v to see the figures). It asserts nothing about time; it does check that a refresh
// reads each monitor once at most.
func TestAccBenchmark200Monitors(t *testing.T) {
	var marks []benchMark
	record := func() { marks = append(marks, mark()) }
	recordCheck := func(*terraform.State) error { record(); return nil }
	resource.Test(t, resource.TestCase{
		PreCheck:                 func() { testAccPreCheck(t) },
		ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
		// The last mark is taken when the test is over (a Check on a Destroy step would make the
		// test framework refresh and plan twice more); what follows the destroy then is two plans
		// of an empty state, which make no request.
		Steps: []resource.TestStep{
			{PreConfig: record, Config: benchConfig("1m"), Check: recordCheck},
			{PreConfig: record, Config: benchConfig("2m"), Check: recordCheck},
			{PreConfig: record, Config: benchConfig("2m"), Destroy: true},
		},
	})
	record()
	if len(marks) != 6 {
		t.Fatalf("expected 6 marks, got %d", len(marks))
	}
	t.Logf("terraform with %d vedette_monitor resources, parallelism 10:", benchMonitors)
	t.Logf("  plan + apply, create all:            %s", marks[1].since(marks[0]))
	t.Logf("  plan -refresh=false + plan (refresh): %s   <- no changes", marks[2].since(marks[1]))
	t.Logf("  plan (refresh) + apply, update all:  %s", marks[3].since(marks[2]))
	t.Logf("  plan -refresh=false + plan (refresh): %s   <- no changes", marks[4].since(marks[3]))
	t.Logf("  plan -destroy (refresh) + apply:      %s", marks[5].since(marks[4]))
	if gets := marks[2].counts["GET"] - marks[1].counts["GET"]; gets > benchMonitors {
		t.Errorf("a refresh of %d monitors made %d GET requests: more than one read per resource", benchMonitors, gets)
	}
}
