package provider

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/resourcevalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var (
	_ managedResource                       = &webhookEndpointResource{}
	_ resource.ResourceWithConfigValidators = &webhookEndpointResource{}
)

type webhookModel struct {
	ID                     types.String          `tfsdk:"id"`
	Labels                 types.Map             `tfsdk:"labels"`
	URL                    types.String          `tfsdk:"url"`
	Description            types.String          `tfsdk:"description"`
	EventTypes             types.List            `tfsdk:"event_types"`
	Selector               types.String          `tfsdk:"selector"`
	Headers                types.Map             `tfsdk:"headers"`
	SecretHeaders          types.Map             `tfsdk:"secret_headers"`
	SecretHeadersWO        types.Map             `tfsdk:"secret_headers_wo"`
	SecretHeadersWOVersion types.Int64           `tfsdk:"secret_headers_wo_version"`
	Template               *webhookTemplateModel `tfsdk:"template"`
	Integration            *webhookIntegration   `tfsdk:"integration"`
	Timeout                DurationValue         `tfsdk:"timeout"`
	RateLimit              types.Int64           `tfsdk:"rate_limit"`
	Enabled                types.Bool            `tfsdk:"enabled"`
	Auth                   *webhookAuthModel     `tfsdk:"auth"`
	SigningSecret          types.String          `tfsdk:"signing_secret"`
	PublicKey              types.String          `tfsdk:"public_key"`
	Version                types.Int64           `tfsdk:"version"`
}

type webhookTemplateModel struct {
	Body        types.String `tfsdk:"body"`
	ContentType types.String `tfsdk:"content_type"`
}

type webhookIntegration struct {
	Name                  types.String `tfsdk:"name"`
	Params                types.String `tfsdk:"params"`
	SecretParams          types.Map    `tfsdk:"secret_params"`
	SecretParamsWO        types.Map    `tfsdk:"secret_params_wo"`
	SecretParamsWOVersion types.Int64  `tfsdk:"secret_params_wo_version"`
}

type webhookAuthModel struct {
	Type            types.String `tfsdk:"type"`
	Username        types.String `tfsdk:"username"`
	Header          types.String `tfsdk:"header"`
	Secret          types.String `tfsdk:"secret"`
	SecretWO        types.String `tfsdk:"secret_wo"`
	SecretWOVersion types.Int64  `tfsdk:"secret_wo_version"`
}

// JSONEqual says whether two JSON texts hold the same value (key order and spacing aside).
func JSONEqual(a, b string) bool {
	var x, y any
	if json.Unmarshal([]byte(a), &x) != nil || json.Unmarshal([]byte(b), &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// toAPI is the API body of the plan. cfg (the configuration) supplies the write-only values,
// which are never in the plan.
func (m *webhookModel) toAPI(ctx context.Context, cfg *webhookModel) (client.WebhookWrite, diag.Diagnostics) {
	var diags diag.Diagnostics
	spec := client.WebhookSpec{
		URL:         optional(m.URL),
		Description: m.Description.ValueString(),
		EventTypes:  stringList(ctx, m.EventTypes, &diags),
		Selector:    optional(m.Selector),
		Headers:     map[string]client.WebhookHeader{},
		RateLimit:   optionalInt(m.RateLimit),
		Enabled:     m.Enabled.IsNull() || m.Enabled.IsUnknown() || m.Enabled.ValueBool(),
	}
	if t := known(m.Timeout); t != "" {
		spec.Timeout = CanonicalDuration(t)
	}
	for k, v := range stringMap(ctx, m.Headers, &diags) {
		spec.Headers[k] = client.WebhookHeader{Value: v}
	}
	for k, v := range stringMap(ctx, m.SecretHeaders, &diags) {
		spec.Headers[k] = client.WebhookHeader{Value: v, Secret: true}
	}
	if cfg != nil {
		for k, v := range stringMap(ctx, cfg.SecretHeadersWO, &diags) {
			spec.Headers[k] = client.WebhookHeader{Value: v, Secret: true}
		}
	}
	if m.Template != nil {
		spec.Template = &client.WebhookTemplate{Body: m.Template.Body.ValueString(), ContentType: known(m.Template.ContentType)}
	}
	if i := m.Integration; i != nil {
		params := map[string]json.RawMessage{}
		if p := known(i.Params); p != "" {
			if err := json.Unmarshal([]byte(p), &params); err != nil {
				diags.AddAttributeError(path.Root("integration").AtName("params"), "Invalid integration parameters",
					"params must be a JSON object (write it with jsonencode({...})): "+err.Error())
			}
		}
		secrets := stringMap(ctx, i.SecretParams, &diags)
		if cfg != nil && cfg.Integration != nil {
			for k, v := range stringMap(ctx, cfg.Integration.SecretParamsWO, &diags) {
				secrets[k] = v
			}
		}
		for k, v := range secrets {
			b, _ := json.Marshal(v)
			params[k] = b
		}
		spec.Integration = &client.WebhookIntegration{Name: i.Name.ValueString(), Params: params}
	}
	if a := m.Auth; a != nil {
		value := a.Secret.ValueString()
		if cfg != nil && cfg.Auth != nil && known(cfg.Auth.SecretWO) != "" {
			value = cfg.Auth.SecretWO.ValueString()
		}
		auth := client.WebhookAuth{Type: a.Type.ValueString()}
		switch auth.Type {
		case "basic":
			auth.Username, auth.Password = a.Username.ValueString(), value
		case "bearer":
			auth.Token = value
		case "api_key":
			auth.Header, auth.Value = a.Header.ValueString(), value
		}
		spec.Auth = &auth
	}
	return client.WebhookWrite{Labels: stringMap(ctx, m.Labels, &diags), Spec: spec}, diags
}

func isRedacted(raw json.RawMessage) bool {
	var s string
	return json.Unmarshal(raw, &s) == nil && s == client.Redacted
}

// webhookFromAPI is the Terraform state of an API webhook endpoint. Secrets never come back from
// the API, so they are taken from prior (the state before, nil when there is none); the values
// of write-only attributes are never stored.
func webhookFromAPI(api *client.Webhook, prior *webhookModel) webhookModel {
	importing := prior == nil || prior.Version.IsNull()
	if prior == nil {
		prior = &webhookModel{}
	}
	s := api.Spec
	plain := map[string]string{}
	secretHeaders := map[string]string{}
	priorSecrets := map[string]string{}
	if !prior.SecretHeaders.IsNull() && !prior.SecretHeaders.IsUnknown() {
		_ = prior.SecretHeaders.ElementsAs(context.Background(), &priorSecrets, false)
	}
	for k, h := range s.Headers {
		switch {
		case !h.Secret:
			plain[k] = h.Value
		case priorSecrets[k] != "" && h.Value == client.Redacted:
			secretHeaders[k] = priorSecrets[k]
		case !importing && !prior.SecretHeadersWOVersion.IsNull() && h.Value == client.Redacted:
			// A header set through secret_headers_wo: its value is not in state.
		default:
			// Imported, or added outside Terraform: its value is unknown here; the next apply
			// writes the configured one.
			secretHeaders[k] = h.Value
		}
	}
	out := webhookModel{
		ID:                     types.StringValue(api.ID),
		Labels:                 mapValue(api.Labels),
		URL:                    types.StringPointerValue(s.URL),
		Description:            types.StringValue(s.Description),
		EventTypes:             listValue(s.EventTypes),
		Selector:               types.StringPointerValue(s.Selector),
		Headers:                mapValue(plain),
		SecretHeaders:          types.MapNull(types.StringType),
		SecretHeadersWO:        types.MapNull(types.StringType),
		SecretHeadersWOVersion: prior.SecretHeadersWOVersion,
		Timeout:                NewDurationValue(s.Timeout),
		RateLimit:              types.Int64PointerValue(s.RateLimit),
		Enabled:                types.BoolValue(s.Enabled),
		SigningSecret:          prior.SigningSecret,
		PublicKey:              prior.PublicKey,
		Version:                types.Int64Value(api.Version),
	}
	if out.SigningSecret.IsUnknown() {
		out.SigningSecret = types.StringNull()
	}
	if out.PublicKey.IsUnknown() {
		out.PublicKey = types.StringNull()
	}
	if api.SigningSecret != "" {
		out.SigningSecret = types.StringValue(api.SigningSecret)
		out.PublicKey = types.StringNull()
		if api.PublicKey != "" {
			out.PublicKey = types.StringValue(api.PublicKey)
		}
	}
	if len(secretHeaders) > 0 || (!prior.SecretHeaders.IsNull() && !prior.SecretHeaders.IsUnknown()) {
		out.SecretHeaders = mapValue(secretHeaders)
	}
	if t := s.Template; t != nil {
		out.Template = &webhookTemplateModel{Body: types.StringValue(t.Body), ContentType: types.StringValue(t.ContentType)}
	}
	if i := s.Integration; i != nil {
		out.Integration = integrationFromAPI(i, prior.Integration, importing)
	}
	if a := s.Auth; a != nil {
		auth := &webhookAuthModel{
			Type:            types.StringValue(a.Type),
			Username:        types.StringNull(),
			Header:          types.StringNull(),
			Secret:          types.StringNull(),
			SecretWO:        types.StringNull(),
			SecretWOVersion: types.Int64Null(),
		}
		value := a.Value
		switch a.Type {
		case "basic":
			auth.Username, value = types.StringValue(a.Username), a.Password
		case "bearer":
			value = a.Token
		case "api_key":
			auth.Header = types.StringValue(a.Header)
		}
		if p := prior.Auth; p != nil {
			auth.SecretWOVersion = p.SecretWOVersion
			if p.Type.ValueString() == a.Type {
				auth.Secret = secret(value, p.Secret)
				if redacted(value) && p.Secret.IsNull() {
					auth.Secret = types.StringNull()
				}
			}
		} else if !redacted(value) {
			auth.Secret = types.StringValue(value)
		}
		out.Auth = auth
	}
	return out
}

func integrationFromAPI(api *client.WebhookIntegration, prior *webhookIntegration, importing bool) *webhookIntegration {
	out := &webhookIntegration{
		Name:                  types.StringValue(api.Name),
		Params:                types.StringNull(),
		SecretParams:          types.MapNull(types.StringType),
		SecretParamsWO:        types.MapNull(types.StringType),
		SecretParamsWOVersion: types.Int64Null(),
	}
	priorParams := map[string]json.RawMessage{}
	priorSecrets := map[string]string{}
	samePrior := prior != nil && prior.Name.ValueString() == api.Name
	if samePrior {
		out.SecretParamsWOVersion = prior.SecretParamsWOVersion
		if p := known(prior.Params); p != "" {
			_ = json.Unmarshal([]byte(p), &priorParams)
		}
		if !prior.SecretParams.IsNull() && !prior.SecretParams.IsUnknown() {
			_ = prior.SecretParams.ElementsAs(context.Background(), &priorSecrets, false)
		}
	}
	params := map[string]json.RawMessage{}
	secrets := map[string]string{}
	for k, v := range api.Params {
		if isRedacted(v) {
			if s, ok := priorSecrets[k]; ok {
				secrets[k] = s
			}
			continue
		}
		// Parameters the configuration leaves out come back with their schema defaults: only
		// the configured ones are compared (all of them after an import).
		if _, ok := priorParams[k]; ok || importing || !samePrior {
			params[k] = v
		}
	}
	if len(params) > 0 || (samePrior && !prior.Params.IsNull()) {
		b, _ := json.Marshal(params)
		out.Params = types.StringValue(string(b))
		if samePrior && !prior.Params.IsNull() && !prior.Params.IsUnknown() && JSONEqual(prior.Params.ValueString(), string(b)) {
			out.Params = prior.Params
		}
	}
	if len(secrets) > 0 || (samePrior && !prior.SecretParams.IsNull()) {
		out.SecretParams = mapValue(secrets)
	}
	return out
}

// NewWebhookEndpointResource is the vedette_webhook_endpoint resource.
func NewWebhookEndpointResource() resource.Resource {
	return &webhookEndpointResource{apiResource[webhookModel, client.Webhook, client.WebhookWrite]{
		api:          client.Webhooks,
		what:         "webhook endpoint",
		example:      "ops-slack",
		importAdvice: "Import it instead",
		writeOnly:    true,
		toAPI: func(ctx context.Context, plan, cfg *webhookModel) (client.WebhookWrite, diag.Diagnostics) {
			return plan.toAPI(ctx, cfg)
		},
		fromAPI: func(_ *client.Client, w *client.Webhook, prior *webhookModel) webhookModel {
			return webhookFromAPI(w, prior)
		},
		// The signing secret is in the answer of the create only.
		afterUpdate: func(state, prior *webhookModel) {
			state.SigningSecret, state.PublicKey = prior.SigningSecret, prior.PublicKey
		},
	}}
}

type webhookEndpointResource struct {
	apiResource[webhookModel, client.Webhook, client.WebhookWrite]
}

// keepPriorState plans the stored value of a computed attribute that only the create sets.
type keepPriorState struct{}

func (keepPriorState) Description(context.Context) string {
	return "Keeps the stored value: it is set when the resource is created."
}

func (m keepPriorState) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (keepPriorState) PlanModifyString(_ context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	if req.State.Raw.IsNull() || req.Plan.Raw.IsNull() {
		return
	}
	resp.PlanValue = req.StateValue
}

func woVersionAttribute(of string) schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional: true,
		MarkdownDescription: fmt.Sprintf("Version of `%s`: Terraform never stores a write-only value, so change this number "+
			"to have a changed value written.", of),
		Validators: []validator.Int64{int64validator.AlsoRequires(path.MatchRelative().AtParent().AtName(of))},
	}
}

func (r *webhookEndpointResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	sibling := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	resp.Schema = schema.Schema{
		MarkdownDescription: "A webhook endpoint: events (`monitor.down`, `incident.opened`, ...) delivered as signed HTTP " +
			"requests (Standard Webhooks), as the event's JSON, through a custom template, or shaped by an integration " +
			"of the catalog (see the `vedette_integrations` data source).\n\n" +
			"**Secrets.** The API never returns secret values (`secret_headers`, `auth.secret`, " +
			"`integration.secret_params`): Terraform keeps the configured value in state, so they never drift, but a " +
			"change made outside Terraform to a secret value is not seen. On Terraform 1.11 and later prefer the " +
			"write-only variants (`*_wo`, with a `*_wo_version` to bump when the value changes), which never enter " +
			"the state or the plan. The signing secret the server generates is exported once, on create, as " +
			"`signing_secret`.",
		Attributes: map[string]schema.Attribute{
			"id":     idAttribute("webhook endpoint"),
			"labels": labelsAttribute("webhook endpoint"),
			"url": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "Where to send (`http` or `https`). Required unless `integration` supplies the URL.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(2048)},
			},
			"description": schema.StringAttribute{
				Optional: true, Computed: true, Default: stringdefault.StaticString(""),
				MarkdownDescription: "Free text. Defaults to `\"\"`.",
				Validators:          []validator.String{stringvalidator.LengthAtMost(1024)},
			},
			"event_types": schema.ListAttribute{
				ElementType: types.StringType,
				Optional:    true, Computed: true,
				Default:             listdefault.StaticValue(listValue([]string{"*"})),
				MarkdownDescription: "Event types to deliver: exact names (`incident.opened`), `prefix.*` wildcards or `*`. Defaults to `[\"*\"]`.",
				Validators:          []validator.List{listvalidator.SizeAtLeast(1)},
			},
			"selector": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "Label selector over the monitor's labels (`team=payments,env!=dev`); every monitor when " +
					"absent. Events without a monitor pass only when no selector is set.",
			},
			"headers": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true, Computed: true,
				Default:             mapdefault.StaticValue(mapValue(nil)),
				MarkdownDescription: "Extra request headers, shown as they are. Use `secret_headers` for credentials.",
			},
			"secret_headers": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Sensitive:   true,
				MarkdownDescription: "Extra request headers whose values are secret (redacted in API answers and delivery " +
					"logs). Kept in state as configured.",
				Validators: []validator.Map{mapvalidator.ConflictsWith(path.MatchRoot("secret_headers_wo"))},
			},
			"secret_headers_wo": schema.MapAttribute{
				ElementType: types.StringType,
				Optional:    true,
				Sensitive:   true,
				WriteOnly:   true,
				MarkdownDescription: "Write-only form of `secret_headers` (Terraform 1.11+): never stored in state. Bump " +
					"`secret_headers_wo_version` to write changed values.",
			},
			"secret_headers_wo_version": woVersionAttribute("secret_headers_wo"),
			"template": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "A custom payload template; the event is sent as JSON when neither this nor " +
					"`integration` is set.",
				Attributes: map[string]schema.Attribute{
					"body": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "minijinja source of the body (`{{ summary | json }}`, `{{ event | json }}`, ...).",
					},
					"content_type": defaultString("`Content-Type` of the rendered body; JSON bodies are checked to parse.", "application/json"),
				},
			},
			"integration": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "An integration of the catalog (`slack`, `pagerduty`, `ntfy`, ...) shaping URL, headers and body.",
				Attributes: map[string]schema.Attribute{
					"name": schema.StringAttribute{Required: true, MarkdownDescription: "Catalog name, e.g. `slack`."},
					"params": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "The non-secret parameters as a JSON object (`jsonencode({ topic = \"alerts\" })`), " +
							"checked against the integration's schema. Parameters left out take their defaults and are not compared.",
						PlanModifiers: []planmodifier.String{keepStateWhenEquivalent{equal: JSONEqual, what: "JSON value"}},
					},
					"secret_params": schema.MapAttribute{
						ElementType: types.StringType,
						Optional:    true,
						Sensitive:   true,
						MarkdownDescription: "The secret parameters (marked `x-secret` in the integration's schema, e.g. Slack's " +
							"`webhook_url`). Kept in state as configured.",
						Validators: []validator.Map{mapvalidator.ConflictsWith(sibling("secret_params_wo"))},
					},
					"secret_params_wo": schema.MapAttribute{
						ElementType: types.StringType,
						Optional:    true,
						Sensitive:   true,
						WriteOnly:   true,
						MarkdownDescription: "Write-only form of `secret_params` (Terraform 1.11+): never stored in state. Bump " +
							"`secret_params_wo_version` to write changed values.",
					},
					"secret_params_wo_version": woVersionAttribute("secret_params_wo"),
				},
			},
			"timeout": durationAttribute("Per-request timeout, at most 60 s.", "15s"),
			"rate_limit": schema.Int64Attribute{
				Optional:            true,
				MarkdownDescription: "Most requests per second to this endpoint; unlimited when absent.",
				Validators:          []validator.Int64{int64validator.AtLeast(1)},
			},
			"enabled": schema.BoolAttribute{
				Optional: true, Computed: true, Default: booldefault.StaticBool(true),
				MarkdownDescription: "Whether deliveries are made. Writing `true` clears a disablement by the dispatcher. Defaults to `true`.",
			},
			"auth": schema.SingleNestedAttribute{
				Optional:            true,
				MarkdownDescription: "Outbound authentication besides the signature.",
				Attributes: map[string]schema.Attribute{
					"type": schema.StringAttribute{
						Required:            true,
						MarkdownDescription: "`basic` (`username` and the password as secret), `bearer` (the token as secret) or `api_key` (`header` and the key as secret).",
						Validators:          []validator.String{stringvalidator.OneOf("basic", "bearer", "api_key")},
					},
					"username": schema.StringAttribute{Optional: true, MarkdownDescription: "User name, for `basic`."},
					"header":   schema.StringAttribute{Optional: true, MarkdownDescription: "Header carrying the key, for `api_key` (e.g. `X-API-Key`)."},
					"secret": schema.StringAttribute{
						Optional:            true,
						Sensitive:           true,
						MarkdownDescription: "The password, token or key. Kept in state as configured.",
						Validators: []validator.String{
							stringvalidator.ExactlyOneOf(sibling("secret"), sibling("secret_wo")),
						},
					},
					"secret_wo": schema.StringAttribute{
						Optional:  true,
						Sensitive: true,
						WriteOnly: true,
						MarkdownDescription: "Write-only form of `secret` (Terraform 1.11+): never stored in state. Bump " +
							"`secret_wo_version` to write a changed value.",
					},
					"secret_wo_version": woVersionAttribute("secret_wo"),
				},
			},
			"signing_secret": schema.StringAttribute{
				Computed:  true,
				Sensitive: true,
				MarkdownDescription: "The signing secret (`whsec_...`) the server generated on create, for the receiver to verify " +
					"`webhook-signature` with. Shown by the API only once: it is null after an import.",
				PlanModifiers: []planmodifier.String{keepPriorState{}},
			},
			"public_key": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "For an Ed25519 signing secret, the public key (`whpk_...`) receivers verify with.",
				PlanModifiers:       []planmodifier.String{keepPriorState{}},
			},
			"version": versionAttribute(),
		},
	}
}

func (r *webhookEndpointResource) ConfigValidators(context.Context) []resource.ConfigValidator {
	return []resource.ConfigValidator{
		resourcevalidator.ExactlyOneOf(path.MatchRoot("url"), path.MatchRoot("integration")),
		resourcevalidator.Conflicting(path.MatchRoot("template"), path.MatchRoot("integration")),
	}
}
