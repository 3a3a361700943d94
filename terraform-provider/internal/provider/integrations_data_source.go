package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

var _ datasource.DataSourceWithConfigure = &integrationsDataSource{}

// NewIntegrationsDataSource is the vedette_integrations data source.
func NewIntegrationsDataSource() datasource.DataSource {
	return &integrationsDataSource{dataSource{name: "integrations"}}
}

type integrationsDataSource struct {
	dataSource
}

type integrationsModel struct {
	Category     types.String         `tfsdk:"category"`
	Names        types.List           `tfsdk:"names"`
	Integrations []integrationSummary `tfsdk:"integrations"`
}

type integrationSummary struct {
	Name        types.String `tfsdk:"name"`
	Title       types.String `tfsdk:"title"`
	Category    types.String `tfsdk:"category"`
	Description types.String `tfsdk:"description"`
	EventTypes  types.List   `tfsdk:"event_types"`
	Parameters  types.String `tfsdk:"parameters"`
}

var integrationCategories = []string{"chat", "paging", "push", "automation", "generic"}

func (d *integrationsDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Lists the integration catalog of the server (built-in integrations plus those loaded with " +
			"`vedette serve --webhook-catalog-dir`), ordered by name: what a `vedette_webhook_endpoint`'s " +
			"`integration.name` can be and which parameters it takes.",
		Attributes: map[string]schema.Attribute{
			"category": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Only integrations of this category: " + backticked(integrationCategories) + ". All when absent.",
				Validators:          []validator.String{stringvalidator.LengthAtLeast(1)},
			},
			"names": schema.ListAttribute{
				Computed:            true,
				ElementType:         types.StringType,
				MarkdownDescription: "Names of the integrations, ordered.",
			},
			"integrations": schema.ListNestedAttribute{
				Computed:            true,
				MarkdownDescription: "The integrations, ordered by name.",
				NestedObject: schema.NestedAttributeObject{
					Attributes: map[string]schema.Attribute{
						"name":        schema.StringAttribute{Computed: true, MarkdownDescription: "Name, for `integration.name`."},
						"title":       schema.StringAttribute{Computed: true, MarkdownDescription: "Display name."},
						"category":    schema.StringAttribute{Computed: true, MarkdownDescription: "Category: " + backticked(integrationCategories) + "."},
						"description": schema.StringAttribute{Computed: true, MarkdownDescription: "One sentence."},
						"event_types": schema.ListAttribute{Computed: true, ElementType: types.StringType,
							MarkdownDescription: "Event types it handles (patterns); others are not delivered to its endpoints."},
						"parameters": schema.StringAttribute{Computed: true,
							MarkdownDescription: "JSON Schema of the parameters, as a JSON string (`jsondecode()` it); `x-secret: true` " +
								"marks parameters that go into `integration.secret_params`."},
					},
				},
			},
		},
	}
}

func (d *integrationsDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var cfg integrationsModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	items, err := d.client.ListIntegrations(ctx, cfg.Category.ValueString())
	if err != nil {
		addAPIError(&resp.Diagnostics, "Listing integrations", err)
		return
	}
	names := make([]attr.Value, 0, len(items))
	cfg.Integrations = make([]integrationSummary, 0, len(items))
	for _, i := range items {
		params := string(i.Parameters)
		if params == "" {
			params = "{}"
		}
		cfg.Integrations = append(cfg.Integrations, integrationSummary{
			Name:        types.StringValue(i.Name),
			Title:       types.StringValue(i.Title),
			Category:    types.StringValue(i.Category),
			Description: types.StringValue(i.Description),
			EventTypes:  listValue(i.EventTypes),
			Parameters:  types.StringValue(params),
		})
		names = append(names, types.StringValue(i.Name))
	}
	cfg.Names = types.ListValueMust(types.StringType, names)
	resp.Diagnostics.Append(resp.State.Set(ctx, &cfg)...)
}
