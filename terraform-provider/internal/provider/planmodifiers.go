package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// keepStateWhenEquivalent plans the prior state's value when the configured value means the same
// thing (`60s` against a stored `1m`, or a time in another offset), so that an imported resource
// or a hand-written equivalent never shows a diff. Terraform accepts a planned value equal to the
// prior state in place of the configuration's for exactly this purpose.
type keepStateWhenEquivalent struct {
	equal func(a, b string) bool
	what  string
}

func (m keepStateWhenEquivalent) Description(context.Context) string {
	return "Keeps the stored value when the configured one is an equivalent " + m.what + "."
}

func (m keepStateWhenEquivalent) MarkdownDescription(ctx context.Context) string {
	return m.Description(ctx)
}

func (m keepStateWhenEquivalent) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.StateValue.IsNull() || req.StateValue.IsUnknown() || req.PlanValue.IsNull() || req.PlanValue.IsUnknown() {
		return
	}
	if req.PlanValue.ValueString() != req.StateValue.ValueString() && m.equal(req.PlanValue.ValueString(), req.StateValue.ValueString()) {
		resp.PlanValue = req.StateValue
	}
}

func equivalentDuration() planmodifier.String {
	return keepStateWhenEquivalent{equal: DurationsEqual, what: "duration"}
}

func equivalentTimestamp() planmodifier.String {
	return keepStateWhenEquivalent{equal: TimestampsEqual, what: "time"}
}

// pushURLPlan keeps a heartbeat monitor's push URL from the prior state while its token stays the
// same, marks it unknown when the token may change, and null for other kinds.
type pushURLPlan struct{}

func (pushURLPlan) Description(context.Context) string {
	return "Keeps the push URL while the heartbeat token is unchanged."
}

func (m pushURLPlan) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (pushURLPlan) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	var planned, prior types.Object
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("heartbeat"), &planned)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if planned.IsNull() {
		resp.PlanValue = types.StringNull()
		return
	}
	if req.State.Raw.IsNull() || req.StateValue.IsNull() || req.StateValue.IsUnknown() {
		resp.PlanValue = types.StringUnknown()
		return
	}
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("heartbeat"), &prior)...)
	if resp.Diagnostics.HasError() || prior.IsNull() {
		resp.PlanValue = types.StringUnknown()
		return
	}
	var plannedToken, priorToken types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("heartbeat").AtName("token"), &plannedToken)...)
	resp.Diagnostics.Append(req.State.GetAttribute(ctx, path.Root("heartbeat").AtName("token"), &priorToken)...)
	if plannedToken.IsUnknown() || !plannedToken.Equal(priorToken) {
		resp.PlanValue = types.StringUnknown()
		return
	}
	resp.PlanValue = req.StateValue
}

// keepVersionWhenUnchanged undoes the framework's marking of `version` as unknown when the plan
// turns out to change nothing. The framework marks computed attributes unknown as soon as the
// configuration differs textually from the state (`60s` against a stored `1m`), before the
// attribute plan modifiers have planned the equivalent stored value; without this, such a
// resource would show a perpetual update of its version alone. Further computed attributes that
// only the server changes (a discovery source's `status`) are given in also.
func keepVersionWhenUnchanged(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse, also ...path.Path) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	candidate := resp.Plan
	for _, p := range append([]path.Path{path.Root("version")}, also...) {
		var stored attr.Value
		resp.Diagnostics.Append(req.State.GetAttribute(ctx, p, &stored)...)
		if resp.Diagnostics.HasError() {
			return
		}
		resp.Diagnostics.Append(candidate.SetAttribute(ctx, p, stored)...)
		if resp.Diagnostics.HasError() {
			return
		}
	}
	if candidate.Raw.Equal(req.State.Raw) {
		resp.Plan = candidate
	}
}
