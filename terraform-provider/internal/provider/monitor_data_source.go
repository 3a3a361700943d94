package provider

import (
	"context"

	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var _ datasource.DataSourceWithConfigure = &monitorDataSource{}

// NewMonitorDataSource is the vedette_monitor data source.
func NewMonitorDataSource() datasource.DataSource {
	return &monitorDataSource{dataSource{name: "monitor"}}
}

type monitorDataSource struct {
	dataSource
}

func (d *monitorDataSource) Schema(_ context.Context, _ datasource.SchemaRequest, resp *datasource.SchemaResponse) {
	attrs := computedAttributes(monitorAttributes())
	attrs["id"] = schema.StringAttribute{
		Required:            true,
		MarkdownDescription: "Id of the monitor to read.",
		Validators: []validator.String{stringvalidator.RegexMatches(slugPattern,
			"must be 1 to 128 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")},
	}
	resp.Schema = schema.Schema{
		MarkdownDescription: "Reads one monitor by id, whoever manages it (Terraform, the API, config files). " +
			"Its attributes are those of the `vedette_monitor` resource, with every server default filled in.",
		Attributes: attrs,
	}
}

func (d *monitorDataSource) Read(ctx context.Context, req datasource.ReadRequest, resp *datasource.ReadResponse) {
	var id string
	resp.Diagnostics.Append(req.Config.GetAttribute(ctx, path.Root("id"), &id)...)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := client.Monitors.Get(ctx, d.client, id)
	if client.IsNotFound(err) {
		resp.Diagnostics.AddAttributeError(path.Root("id"), "Monitor not found", "No monitor with id "+id+" exists on the server.")
		return
	}
	if err != nil {
		addAPIError(&resp.Diagnostics, "Reading monitor "+id, err)
		return
	}
	state := monitorFromAPI(got, nil, d.client.ResolveURL)
	resp.Diagnostics.Append(resp.State.Set(ctx, &state)...)
}
