package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// The steps and checks the resources' acceptance tests share: what the server holds, a change
// or a deletion made outside Terraform, and the plan that follows.

// checkOnServer runs f on the object id as the server holds it.
func checkOnServer[T, W any](t *testing.T, api client.Collection[T, W], id string, f func(*T) error) resource.TestCheckFunc {
	return func(*terraform.State) error {
		obj, err := api.Get(context.Background(), testClient(t), id)
		if err != nil {
			return err
		}
		return f(obj)
	}
}

// plannedAs is the pre-apply check that the plan has action for addr, and passes the checks more.
func plannedAs(addr string, action plancheck.ResourceActionType, more ...plancheck.PlanCheck) resource.ConfigPlanChecks {
	return resource.ConfigPlanChecks{PreApply: append([]plancheck.PlanCheck{plancheck.ExpectResourceAction(addr, action)}, more...)}
}

// driftStep is step (its configuration) planned after the object id was changed through the API,
// as someone outside Terraform would: change edits the object as the server holds it and returns
// the body that replaces it and the version it replaces. The plan must not be empty.
func driftStep[T, W any](t *testing.T, api client.Collection[T, W], id string, change func(*T) (W, int64), step resource.TestStep) resource.TestStep {
	step.PreConfig = func() {
		ctx, c := context.Background(), testClient(t)
		obj, err := api.Get(ctx, c, id)
		if err != nil {
			t.Fatal(err)
		}
		body, version := change(obj)
		if _, err := api.Put(ctx, c, id, body, client.IfMatch(version)); err != nil {
			t.Fatal(err)
		}
	}
	step.PlanOnly = true
	step.ExpectNonEmptyPlan = true
	return step
}

// deletedStep is step (its configuration and checks) applied after the object id, that of addr,
// was deleted through the API: the plan must create addr again.
func deletedStep[T, W any](t *testing.T, api client.Collection[T, W], id, addr string, step resource.TestStep) resource.TestStep {
	step.PreConfig = func() {
		if err := api.Delete(context.Background(), testClient(t), id, client.Precondition{}); err != nil {
			t.Fatal(err)
		}
	}
	step.ConfigPlanChecks = plannedAs(addr, plancheck.ResourceActionCreate)
	return step
}
