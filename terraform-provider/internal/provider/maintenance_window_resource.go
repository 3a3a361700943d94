package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var _ managedResource = &maintenanceWindowResource{}

type maintenanceModel struct {
	ID          types.String   `tfsdk:"id"`
	Name        types.String   `tfsdk:"name"`
	Description types.String   `tfsdk:"description"`
	Labels      types.Map      `tfsdk:"labels"`
	Start       TimestampValue `tfsdk:"start"`
	End         TimestampValue `tfsdk:"end"`
	Cron        types.String   `tfsdk:"cron"`
	RRule       types.String   `tfsdk:"rrule"`
	Duration    DurationValue  `tfsdk:"duration"`
	Monitors    types.List     `tfsdk:"monitors"`
	Selector    types.String   `tfsdk:"selector"`
	Version     types.Int64    `tfsdk:"version"`
}

func (m *maintenanceModel) toAPI(ctx context.Context) (client.MaintenanceWrite, diag.Diagnostics) {
	var diags diag.Diagnostics
	spec := client.MaintenanceSpec{
		Name:        optional(m.Name),
		Description: optional(m.Description),
		Start:       optional(m.Start),
		End:         optional(m.End),
		Cron:        optional(m.Cron),
		RRule:       optional(m.RRule),
		Duration:    optional(m.Duration),
		Monitors:    stringList(ctx, m.Monitors, &diags),
		Selector:    optional(m.Selector),
	}
	if spec.Duration != nil {
		canon := CanonicalDuration(*spec.Duration)
		spec.Duration = &canon
	}
	return client.MaintenanceWrite{Labels: stringMap(ctx, m.Labels, &diags), Spec: spec}, diags
}

func maintenanceFromAPI(api *client.MaintenanceWindow) maintenanceModel {
	s := api.Spec
	return maintenanceModel{
		ID:          types.StringValue(api.ID),
		Name:        types.StringPointerValue(s.Name),
		Description: types.StringPointerValue(s.Description),
		Labels:      mapValue(api.Labels),
		Start:       NewTimestampPointerValue(s.Start),
		End:         NewTimestampPointerValue(s.End),
		Cron:        types.StringPointerValue(s.Cron),
		RRule:       types.StringPointerValue(s.RRule),
		Duration:    NewDurationPointerValue(s.Duration),
		Monitors:    listValue(s.Monitors),
		Selector:    types.StringPointerValue(s.Selector),
		Version:     types.Int64Value(api.Version),
	}
}

// NewMaintenanceWindowResource is the vedette_maintenance_window resource.
func NewMaintenanceWindowResource() resource.Resource {
	return &maintenanceWindowResource{apiResource[maintenanceModel, client.MaintenanceWindow, client.MaintenanceWrite]{
		api:          client.MaintenanceWindows,
		what:         "maintenance window",
		example:      "weekly-db-patching",
		importAdvice: "Import it instead",
		toAPI: func(ctx context.Context, plan, _ *maintenanceModel) (client.MaintenanceWrite, diag.Diagnostics) {
			return plan.toAPI(ctx)
		},
		fromAPI: func(_ *client.Client, w *client.MaintenanceWindow, _ *maintenanceModel) maintenanceModel {
			return maintenanceFromAPI(w)
		},
	}}
}

type maintenanceWindowResource struct {
	apiResource[maintenanceModel, client.MaintenanceWindow, client.MaintenanceWrite]
}

func timestampAttribute(description string) schema.StringAttribute {
	return schema.StringAttribute{
		CustomType: TimestampType{},
		Optional:   true,
		MarkdownDescription: description + " An RFC 3339 time such as `2026-11-26T22:00:00Z`; the same instant " +
			"in another offset never makes a diff.",
		PlanModifiers: []planmodifier.String{equivalentTimestamp()},
	}
}

func (r *maintenanceWindowResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	duration := durationAttribute("How long each occurrence of a recurring window lasts (at most 31 days). Required with `cron` and `rrule`.", "")
	duration.Validators = []validator.String{stringvalidator.ConflictsWith(path.MatchRoot("end"))}
	start := timestampAttribute("Start of a one-off window, or the first occurrence (DTSTART) of an `rrule` window.")
	end := timestampAttribute("End of a one-off window (exclusive). Requires `start`.")
	end.Validators = []validator.String{stringvalidator.AlsoRequires(path.MatchRoot("start"))}
	resp.Schema = schema.Schema{
		MarkdownDescription: "A maintenance window: while it is active, notifications for the monitors it selects are " +
			"suppressed (their results are still recorded and count as `maintenance`, not against uptime).\n\n" +
			"Exactly one schedule form is set: a one-off window (`start` and `end`), a cron window (`cron` and " +
			"`duration`), or a recurrence rule (`rrule`, `start` and `duration`). Monitors are selected by id " +
			"(`monitors`), by label selector (`selector`), or both.",
		Attributes: map[string]schema.Attribute{
			"id": idAttribute("maintenance window"),
			"name": schema.StringAttribute{Optional: true, MarkdownDescription: "Display name.",
				Validators: []validator.String{stringvalidator.LengthAtMost(4096)}},
			"description": schema.StringAttribute{Optional: true, MarkdownDescription: "Why the window exists, who to ask.",
				Validators: []validator.String{stringvalidator.LengthAtMost(4096)}},
			"labels": labelsAttribute("maintenance window"),
			"start":  start,
			"end":    end,
			"cron": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Cron expression (5 fields, UTC) at which a recurring window opens, e.g. `0 2 * * SUN`. Requires `duration`.",
				Validators: []validator.String{
					stringvalidator.ConflictsWith(path.MatchRoot("start"), path.MatchRoot("end"), path.MatchRoot("rrule")),
					stringvalidator.AlsoRequires(path.MatchRoot("duration")),
				},
			},
			"rrule": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "RFC 5545 recurrence rule (UTC) at which a recurring window opens, e.g. " +
					"`FREQ=WEEKLY;BYDAY=SU;BYHOUR=2`; `start` is its first occurrence. Requires `start` and `duration`.",
				Validators: []validator.String{
					stringvalidator.ConflictsWith(path.MatchRoot("end")),
					stringvalidator.AlsoRequires(path.MatchRoot("start"), path.MatchRoot("duration")),
				},
			},
			"duration": duration,
			"monitors": func() schema.ListAttribute {
				a := stringListDefaultEmpty("Ids of the monitors the window covers.")
				a.Validators = []validator.List{listvalidator.ValueStringsAre(stringvalidator.RegexMatches(slugPattern, "must be a monitor id"))}
				return a
			}(),
			"selector": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Label selector of the monitors the window covers (`team=payments,env in (prod,staging)`). " +
					"At least one of `monitors` and `selector` is set.",
			},
			"version": versionAttribute(),
		},
	}
}
