package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var (
	_ managedResource                       = &monitorResource{}
	_ resource.ResourceWithConfigValidators = &monitorResource{}
)

// monitorAttributes is the schema of vedette_monitor; the data source derives its own from it.
func monitorAttributes() map[string]schema.Attribute {
	return map[string]schema.Attribute{
		"id": idAttribute("monitor"),
		"name": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Display name; the id is shown when absent.",
			Validators:          []validator.String{stringvalidator.LengthAtMost(4096)},
		},
		"description": schema.StringAttribute{
			Optional:            true,
			MarkdownDescription: "Free text for people reading dashboards and alerts.",
			Validators:          []validator.String{stringvalidator.LengthAtMost(4096)},
		},
		"labels": labelsAttribute("monitor"),
		"http": schema.SingleNestedAttribute{
			Optional:            true,
			MarkdownDescription: "An HTTP(S) request. Exactly one of `http`, `tcp`, `dns`, `tls` and `heartbeat` is set.",
			Attributes: map[string]schema.Attribute{
				"url": schema.StringAttribute{
					Required:            true,
					MarkdownDescription: "Absolute `http://` or `https://` URL.",
					Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^(?i)https?://[^/\s]\S*$`),
						"must be an absolute http:// or https:// URL with a host and no spaces")},
				},
				"method": defaultString("Request method.", "GET", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
				"headers": schema.MapAttribute{
					ElementType:         types.StringType,
					Optional:            true,
					Computed:            true,
					Default:             mapdefault.StaticValue(mapValue(nil)),
					MarkdownDescription: "Request headers.",
				},
				"body": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: "Request body.",
				},
				"follow_redirects": defaultBool("Follow redirects (up to `max_redirects`); when false a 3xx is the final response.", true),
				"max_redirects":    defaultInt("Most redirects followed before the check fails.", 10, 0, 30),
				"tls_verify":       defaultBool("Verify the server certificate chain and hostname.", true),
				"ca_cert": schema.StringAttribute{
					Optional:            true,
					MarkdownDescription: "Extra trusted CA certificate(s), PEM.",
				},
				"basic_auth": schema.SingleNestedAttribute{
					Optional:            true,
					MarkdownDescription: "Send `Authorization: Basic`. Conflicts with `bearer_token`.",
					Attributes: map[string]schema.Attribute{
						"username": schema.StringAttribute{Required: true, MarkdownDescription: "User name."},
						"password": schema.StringAttribute{Required: true, Sensitive: true, MarkdownDescription: "Password."},
					},
				},
				"bearer_token": schema.StringAttribute{
					Optional:            true,
					Sensitive:           true,
					MarkdownDescription: "Send `Authorization: Bearer <token>`. Conflicts with `basic_auth`.",
					Validators: []validator.String{stringvalidator.ConflictsWith(
						path.MatchRelative().AtParent().AtName("basic_auth"))},
				},
				"version":        defaultString("HTTP versions the check may use: HTTP/2 through ALPN or HTTP/1.1 (`auto`), or only one.", "auto", "auto", "http1", "http2"),
				"max_body_bytes": defaultInt("Bytes of body read at most; a larger body fails the check with `body_too_large`.", 1048576, 1, 64*1024*1024),
			},
		},
		"tcp": schema.SingleNestedAttribute{
			Optional:            true,
			MarkdownDescription: "A TCP connection, optionally with a request and an expected reply.",
			Attributes: map[string]schema.Attribute{
				"host": schema.StringAttribute{Required: true, MarkdownDescription: "Host name or IP address."},
				"port": schema.Int64Attribute{Required: true, MarkdownDescription: "Port.",
					Validators: []validator.Int64{int64validator.Between(1, 65535)}},
				"send": schema.StringAttribute{Optional: true,
					MarkdownDescription: "Bytes sent after connecting (escape sequences `\\r`, `\\n`, `\\t`, `\\\\` are decoded)."},
				"expect": schema.StringAttribute{Optional: true,
					MarkdownDescription: "Regular expression the reply must match."},
			},
		},
		"dns": schema.SingleNestedAttribute{
			Optional:            true,
			MarkdownDescription: "A DNS query.",
			Attributes: map[string]schema.Attribute{
				"name":        schema.StringAttribute{Required: true, MarkdownDescription: "Name to resolve."},
				"record_type": defaultString("Record type.", "A", "A", "AAAA", "CNAME", "MX", "TXT", "NS", "SOA", "SRV"),
				"resolver": schema.StringAttribute{Optional: true,
					MarkdownDescription: "Resolver `ip[:port]` (port 53 when absent); the server's system resolver when absent."},
				"transport": defaultString("Transport to the resolver.", "udp", "udp", "tcp"),
				"expect":    stringListDefaultEmpty("Answers that must all be present, in their textual form (`93.184.216.34`)."),
				"rcode":     defaultString("Expected response code.", "NOERROR", "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED"),
			},
		},
		"tls": schema.SingleNestedAttribute{
			Optional:            true,
			MarkdownDescription: "A TLS handshake and certificate check.",
			Attributes: map[string]schema.Attribute{
				"host": schema.StringAttribute{Required: true, MarkdownDescription: "Host to connect to."},
				"port": defaultInt("Port.", 443, 1, 65535),
				"server_name": schema.StringAttribute{Optional: true,
					MarkdownDescription: "SNI and hostname to verify; `host` when absent."},
				"ca_cert": schema.StringAttribute{Optional: true, MarkdownDescription: "Extra trusted CA certificate(s), PEM."},
				"verify":  defaultBool("Fail when the chain or hostname does not verify.", true),
				"expiry_warning": durationAttribute("A `certificate.expiring` event is raised when the leaf certificate expires within this span.",
					"14d"),
			},
		},
		"heartbeat": schema.SingleNestedAttribute{
			Optional:            true,
			MarkdownDescription: "A push monitor: the monitored job calls `push_url`; a missed call makes the monitor down.",
			Attributes: map[string]schema.Attribute{
				"schedule": schema.StringAttribute{Optional: true,
					MarkdownDescription: "Cron expression (5 fields, UTC) for when pings are expected; every `interval` when absent."},
				"grace": durationAttribute("Extra time allowed after a ping was due.", "1m"),
				"token": schema.StringAttribute{
					Optional:            true,
					Computed:            true,
					Sensitive:           true,
					MarkdownDescription: "The push token (16 to 128 letters, digits, `-`, `_`); generated by the server when not set.",
					Validators:          []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9_-]{16,128}$`), "must be 16 to 128 letters, digits, '-' or '_'")},
					PlanModifiers:       []planmodifier.String{stringplanmodifier.UseStateForUnknown()},
				},
			},
		},
		"interval": durationAttribute("Time between checks (1s to 24h).", "1m"),
		"timeout":  durationAttribute("Time one attempt may take (at most 5m and, except for heartbeats, at most `interval`).", "10s"),
		"retries":  defaultInt("Immediate re-checks before a failure counts.", 0, 0, 10),
		"assertions": stringListDefaultEmpty("Assertion expressions that must all hold, e.g. `status == 200`, " +
			"`response_time < 300ms`, `body.$.status == \"UP\"`."),
		"degraded_after":    durationAttribute("A successful check slower than this counts as degraded.", ""),
		"failure_threshold": defaultInt("Consecutive failures before the monitor is down.", 1, 1, 100),
		"success_threshold": defaultInt("Consecutive successes before a down monitor is up again.", 1, 1, 100),
		"paused":            defaultBool("A paused monitor is not checked.", false),
		"push_url": schema.StringAttribute{
			Computed:            true,
			Sensitive:           true,
			MarkdownDescription: "For a heartbeat monitor, the URL the monitored job calls (it holds the token); null for other kinds.",
			PlanModifiers:       []planmodifier.String{pushURLPlan{}},
		},
		"version": versionAttribute(),
	}
}

// NewMonitorResource is the vedette_monitor resource.
func NewMonitorResource() resource.Resource {
	return &monitorResource{apiResource[monitorModel, client.Monitor, client.MonitorWrite]{
		api:            client.Monitors,
		what:           "monitor",
		example:        "payments-api",
		importAdvice:   "Import it instead of creating it",
		importFollowUp: "\n\n(or run `vedette export --format terraform` to write the resources and import blocks for you)",
		toAPI: func(ctx context.Context, plan, _ *monitorModel) (client.MonitorWrite, diag.Diagnostics) {
			return plan.toAPI(ctx)
		},
		fromAPI: func(c *client.Client, m *client.Monitor, prior *monitorModel) monitorModel {
			return monitorFromAPI(m, prior, c.ResolveURL)
		},
	}}
}

type monitorResource struct {
	apiResource[monitorModel, client.Monitor, client.MonitorWrite]
}

func (r *monitorResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	resp.Schema = schema.Schema{
		MarkdownDescription: "A Vedette monitor: an HTTP(S), TCP, DNS, TLS or heartbeat (push) check with its " +
			"schedule, assertions and thresholds. Exactly one of `http`, `tcp`, `dns`, `tls` and `heartbeat` is set.\n\n" +
			"Every field the server defaults is optional here and planned with the server's default, so the plan shows " +
			"exactly what the monitor will be. Changes made outside Terraform (in the UI, with the API or the CLI) show " +
			"up in the next plan; a monitor deleted outside Terraform is created again by the next apply.",
		Attributes: monitorAttributes(),
	}
}

func (r *monitorResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(
			path.MatchRoot("http"), path.MatchRoot("tcp"), path.MatchRoot("dns"),
			path.MatchRoot("tls"), path.MatchRoot("heartbeat"),
		),
	}
}
