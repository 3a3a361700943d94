// Package provider is the Terraform provider for Vedette.
package provider

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/datasource"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/provider"
	"github.com/hashicorp/terraform-plugin-framework/provider/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var _ provider.Provider = &vedetteProvider{}

// New returns the provider factory for a build of the given version.
func New(version string) func() provider.Provider {
	return func() provider.Provider { return &vedetteProvider{version: version} }
}

type vedetteProvider struct {
	version string
}

type providerModel struct {
	Endpoint           types.String  `tfsdk:"endpoint"`
	Token              types.String  `tfsdk:"token"`
	RequestTimeout     DurationValue `tfsdk:"request_timeout"`
	InsecureSkipVerify types.Bool    `tfsdk:"insecure_skip_verify"`
	CACertPEM          types.String  `tfsdk:"ca_cert_pem"`
}

func (p *vedetteProvider) Metadata(_ context.Context, _ provider.MetadataRequest, resp *provider.MetadataResponse) {
	resp.TypeName = "vedette"
	resp.Version = p.version
}

func (p *vedetteProvider) Schema(_ context.Context, _ provider.SchemaRequest, resp *provider.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "Manage [Vedette](https://vedette.dev) monitors and maintenance windows as code. " +
			"The provider talks to the Vedette REST API (`/api/v1`) with a token that has the `write` scope " +
			"(`read` is enough for data sources).",
		Attributes: map[string]schema.Attribute{
			"endpoint": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Base URL of the Vedette server, e.g. `https://vedette.example.com`. Defaults to the `VEDETTE_URL` environment variable.",
			},
			"token": schema.StringAttribute{
				Optional:            true,
				Sensitive:           true,
				MarkdownDescription: "API token (`vdt_...`). Defaults to the `VEDETTE_TOKEN` environment variable.",
			},
			"request_timeout": schema.StringAttribute{
				CustomType:          DurationType{},
				Optional:            true,
				MarkdownDescription: "Time one API request may take, e.g. `30s`. Defaults to `30s`.",
			},
			"insecure_skip_verify": schema.BoolAttribute{
				Optional:            true,
				MarkdownDescription: "Skip verification of the server's TLS certificate. Only for testing.",
			},
			"ca_cert_pem": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Extra CA certificate(s), PEM, trusted for the server's TLS certificate (for a private CA).",
			},
		},
	}
}

func (p *vedetteProvider) Configure(ctx context.Context, req provider.ConfigureRequest, resp *provider.ConfigureResponse) {
	var cfg providerModel
	resp.Diagnostics.Append(req.Config.Get(ctx, &cfg)...)
	if resp.Diagnostics.HasError() {
		return
	}
	if cfg.Endpoint.IsUnknown() || cfg.Token.IsUnknown() {
		resp.Diagnostics.AddWarning("Provider configuration not known yet",
			"endpoint or token depends on values known only after apply; the provider is not configured in this plan.")
		return
	}
	endpoint := os.Getenv("VEDETTE_URL")
	if !cfg.Endpoint.IsNull() {
		endpoint = cfg.Endpoint.ValueString()
	}
	token := os.Getenv("VEDETTE_TOKEN")
	if !cfg.Token.IsNull() {
		token = cfg.Token.ValueString()
	}
	if endpoint == "" {
		resp.Diagnostics.AddAttributeError(path.Root("endpoint"), "Missing Vedette endpoint",
			"Set endpoint in the provider block or the VEDETTE_URL environment variable, e.g. https://vedette.example.com.")
	}
	if token == "" {
		resp.Diagnostics.AddAttributeError(path.Root("token"), "Missing Vedette token",
			"Set token in the provider block or the VEDETTE_TOKEN environment variable (create one with POST /api/v1/tokens).")
	}
	var timeout time.Duration
	if s := known(cfg.RequestTimeout); s != "" {
		n, err := ParseDuration(s)
		if err != nil {
			resp.Diagnostics.AddAttributeError(path.Root("request_timeout"), "Invalid request_timeout", err.Error())
		}
		timeout = time.Duration(n)
	}
	if resp.Diagnostics.HasError() {
		return
	}
	c, err := client.New(client.Config{
		Endpoint:           endpoint,
		Token:              token,
		Timeout:            timeout,
		InsecureSkipVerify: !cfg.InsecureSkipVerify.IsNull() && cfg.InsecureSkipVerify.ValueBool(),
		CACertPEM:          cfg.CACertPEM.ValueString(),
		UserAgent:          fmt.Sprintf("terraform-provider-vedette/%s terraform/%s", p.version, req.TerraformVersion),
	})
	if err != nil {
		resp.Diagnostics.AddError("Invalid Vedette provider configuration", err.Error())
		return
	}
	resp.DataSourceData = c
	resp.ResourceData = c
}

func (p *vedetteProvider) Resources(context.Context) []func() resource.Resource {
	return []func() resource.Resource{
		NewMonitorResource,
		NewMaintenanceWindowResource,
		NewWebhookEndpointResource,
		NewStatusPageResource,
		NewDiscoverySourceResource,
	}
}

func (p *vedetteProvider) DataSources(context.Context) []func() datasource.DataSource {
	return []func() datasource.DataSource{
		NewMonitorDataSource,
		NewMonitorsDataSource,
		NewIntegrationsDataSource,
	}
}

// configuredClient is the client handed over by the provider's Configure (nil before it ran).
func configuredClient(data any, diags *diag.Diagnostics) *client.Client {
	if data == nil {
		return nil
	}
	c, ok := data.(*client.Client)
	if !ok {
		diags.AddError("Unexpected provider data", fmt.Sprintf("expected *client.Client, got %T", data))
		return nil
	}
	return c
}

// dataSource is what every data source of the provider embeds: its type name after `vedette_`
// (Metadata), and the provider's client (Configure). The data source adds its schema and Read.
type dataSource struct {
	name   string
	client *client.Client
}

// Metadata names the data source vedette_<name>.
func (d *dataSource) Metadata(_ context.Context, req datasource.MetadataRequest, resp *datasource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + d.name
}

// Configure takes the client the provider configured.
func (d *dataSource) Configure(_ context.Context, req datasource.ConfigureRequest, resp *datasource.ConfigureResponse) {
	d.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}
