package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var _ datasource.DataSourceWithConfigure = &monitorsDataSource{}

// NewMonitorsDataSource is the vedette_monitors data source.
func NewMonitorsDataSource() datasource.DataSource {
	return &monitorsDataSource{dataSource{name: "monitors"}}
}

type monitorsDataSource struct {
	dataSource
}

type monitorsModel struct {
	Selector types.String     `tfsdk:"selector"`
	IDs      types.List       `tfsdk:"ids"`
	Monitors []monitorSummary `tfsdk:"monitors"`
}

type monitorSummary struct {
	ID          types.String  `tfsdk:"id"`
	Name        types.String  `tfsdk:"name"`
	Description types.String  `tfsdk:"description"`
	Labels      types.Map     `tfsdk:"labels"`
	Kind        types.String  `tfsdk:"kind"`
	Interval    DurationValue `tfsdk:"interval"`
	Paused      types.Bool    `tfsdk:"paused"`
	State       types.String  `tfsdk:"state"`
	ManagedBy   types.String  `tfsdk:"managed_by"`
	Version     types.Int64   `tfsdk:"version"`
}

func (d *monitorsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the monitors matching a label selector, ordered by id.",
		Attributes: map[string]schema.Attribute{
			"selector": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Label selector in Kubernetes syntax: `team=payments,env!=dev,tier in (a,b),!legacy`. " +
					"All monitors when absent.",
			},
			"ids": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Ids of the matching monitors, ordered.",
			},
			"monitors": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The matching monitors, ordered by id.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"id":          schema.StringAttribute{Computed: true, MarkdownDescription: "Id."},
						"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Display name."},
						"description": schema.StringAttribute{Computed: true, MarkdownDescription: "Description."},
						"labels":      schema.MapAttribute{Computed: true, ElementType: types.StringType, MarkdownDescription: "Labels."},
						"kind":        schema.StringAttribute{Computed: true, MarkdownDescription: "`http`, `tcp`, `dns`, `tls` or `heartbeat`."},
						"interval":    schema.StringAttribute{Computed: true, CustomType: DurationType{}, MarkdownDescription: "Time between checks."},
						"paused":      schema.BoolAttribute{Computed: true, MarkdownDescription: "Whether checks are paused."},
						"state":       schema.StringAttribute{Computed: true, MarkdownDescription: "Current state: `up`, `degraded`, `down`, `pending`, `paused` or `maintenance`."},
						"managed_by":  schema.StringAttribute{Computed: true, MarkdownDescription: "Who writes the monitor: `api` (also Terraform), `file` or `demo`."},
						"version":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Version (ETag)."},
					},
				},
			},
		},
	}
}

func (d *monitorsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg monitorsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	monitors, err := client.Monitors.List(ctx, d.client, cfg.Selector.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "Listing monitors", err)
		return
	}
	cfg.Monitors, cfg.IDs = summarise(monitors)
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}

func summarise(monitors []client.Monitor) ([]monitorSummary, types.List) {
	out := make([]monitorSummary, 0, len(monitors))
	ids := make([]attr.Value, 0, len(monitors))
	for _, m := range monitors {
		state := types.StringNull()
		if m.Status != nil && m.Status.State != "" {
			state = types.StringValue(m.Status.State)
		}
		managedBy := types.StringNull()
		if m.ManagedBy != "" {
			managedBy = types.StringValue(m.ManagedBy)
		}
		out = append(out, monitorSummary{
			ID:          types.StringValue(m.ID),
			Name:        types.StringPointerValue(m.Spec.Name),
			Description: types.StringPointerValue(m.Spec.Description),
			Labels:      mapValue(m.Labels),
			Kind:        types.StringValue(kindOf(m.Spec)),
			Interval:    NewDurationValue(m.Spec.Interval),
			Paused:      types.BoolValue(m.Spec.Paused),
			State:       state,
			ManagedBy:   managedBy,
			Version:     types.Int64Value(m.Version),
		})
		ids = append(ids, types.StringValue(m.ID))
	}
	return out, types.ListValueMust(types.StringType, ids)
}
