package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/objectvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var _ managedResource = &discoverySourceResource{}

// The gateway types the server knows (crates/model/src/discovery.rs).
var gatewayTypes = []string{"kong", "istio", "aws-apigateway", "envoy", "nginx-plus", "nginx", "traefik"}

// Formats the server checks for credential references and the connection URL.
var (
	envRefPattern  = regexp.MustCompile(`^VEDETTE_DISCOVERY_[A-Z0-9_]{1,110}$`)
	fileRefPattern = regexp.MustCompile(`^/(var/)?run/secrets/\S+$`)
	sourceURL      = regexp.MustCompile(`^(?i)(https?://[^/\s]\S*|file:///\S+)$`)
)

type discoveryModel struct {
	ID          types.String          `tfsdk:"id"`
	Labels      types.Map             `tfsdk:"labels"`
	Name        types.String          `tfsdk:"name"`
	Type        types.String          `tfsdk:"type"`
	Connection  *connectionModel      `tfsdk:"endpoint"`
	Interval    DurationValue         `tfsdk:"interval"`
	GracePeriod DurationValue         `tfsdk:"grace_period"`
	DryRun      types.Bool            `tfsdk:"dry_run"`
	Filters     *filtersModel         `tfsdk:"filters"`
	Selection   *selectionModel       `tfsdk:"selection"`
	Template    *monitorTemplateModel `tfsdk:"template"`
	MaxRoutes   types.Int64           `tfsdk:"max_routes"`
	Status      types.Object          `tfsdk:"status"`
	Version     types.Int64           `tfsdk:"version"`
}

type connectionModel struct {
	URL         types.String      `tfsdk:"url"`
	Credentials *credentialsModel `tfsdk:"credentials"`
	CACert      types.String      `tfsdk:"ca_cert"`
	Timeout     DurationValue     `tfsdk:"timeout"`
	MaxBytes    types.Int64       `tfsdk:"max_bytes"`
}

type secretRefModel struct {
	Env  types.String `tfsdk:"env"`
	File types.String `tfsdk:"file"`
}

type credentialsModel struct {
	Bearer *struct {
		Token *secretRefModel `tfsdk:"token"`
	} `tfsdk:"bearer"`
	Basic *struct {
		Username types.String    `tfsdk:"username"`
		Password *secretRefModel `tfsdk:"password"`
	} `tfsdk:"basic"`
	Header *struct {
		Name  types.String    `tfsdk:"name"`
		Value *secretRefModel `tfsdk:"value"`
	} `tfsdk:"header"`
	AWSSigV4 *struct {
		Region          types.String    `tfsdk:"region"`
		AccessKeyID     *secretRefModel `tfsdk:"access_key_id"`
		SecretAccessKey *secretRefModel `tfsdk:"secret_access_key"`
		SessionToken    *secretRefModel `tfsdk:"session_token"`
	} `tfsdk:"aws_sigv4"`
}

type routeFilterModel struct {
	Hosts      types.List `tfsdk:"hosts"`
	Paths      types.List `tfsdk:"paths"`
	Tags       types.List `tfsdk:"tags"`
	Namespaces types.List `tfsdk:"namespaces"`
	Stages     types.List `tfsdk:"stages"`
}

type filtersModel struct {
	Include *routeFilterModel `tfsdk:"include"`
	Exclude *routeFilterModel `tfsdk:"exclude"`
}

type selectionModel struct {
	OptIn     types.Bool   `tfsdk:"opt_in"`
	OptInTag  types.String `tfsdk:"opt_in_tag"`
	OptOutTag types.String `tfsdk:"opt_out_tag"`
}

type monitorTemplateModel struct {
	Name             types.String  `tfsdk:"name"`
	URL              types.String  `tfsdk:"url"`
	Method           types.String  `tfsdk:"method"`
	Headers          types.Map     `tfsdk:"headers"`
	Interval         DurationValue `tfsdk:"interval"`
	Timeout          DurationValue `tfsdk:"timeout"`
	ExpectedStatus   types.Int64   `tfsdk:"expected_status"`
	Assertions       types.List    `tfsdk:"assertions"`
	Labels           types.Map     `tfsdk:"labels"`
	TLSVerify        types.Bool    `tfsdk:"tls_verify"`
	FailureThreshold types.Int64   `tfsdk:"failure_threshold"`
}

// discoveryStatusModel is the computed `status`.
type discoveryStatusModel struct {
	State          types.String `tfsdk:"state"`
	LastRun        types.String `tfsdk:"last_run"`
	LastSuccess    types.String `tfsdk:"last_success"`
	Error          types.String `tfsdk:"error"`
	RoutesSeen     types.Int64  `tfsdk:"routes_seen"`
	RoutesSelected types.Int64  `tfsdk:"routes_selected"`
	MonitorsOwned  types.Int64  `tfsdk:"monitors_owned"`
	Created        types.Int64  `tfsdk:"created"`
	Updated        types.Int64  `tfsdk:"updated"`
	Deleted        types.Int64  `tfsdk:"deleted"`
	Conflicts      types.List   `tfsdk:"conflicts"`
}

var discoveryStatusTypes = map[string]attr.Type{
	"state": types.StringType, "last_run": types.StringType, "last_success": types.StringType,
	"error": types.StringType, "routes_seen": types.Int64Type, "routes_selected": types.Int64Type,
	"monitors_owned": types.Int64Type, "created": types.Int64Type, "updated": types.Int64Type,
	"deleted": types.Int64Type, "conflicts": types.ListType{ElemType: types.StringType},
}

func (r *secretRefModel) toAPI() client.SecretRef {
	if r == nil {
		return client.SecretRef{}
	}
	return client.SecretRef{Env: optional(r.Env), File: optional(r.File)}
}

func secretRefFromAPI(r client.SecretRef) *secretRefModel {
	return &secretRefModel{Env: types.StringPointerValue(r.Env), File: types.StringPointerValue(r.File)}
}

func (f *routeFilterModel) toAPI(ctx context.Context, diags *diag.Diagnostics) client.RouteFilter {
	if f == nil {
		return client.RouteFilter{}
	}
	return client.RouteFilter{
		Hosts:      stringList(ctx, f.Hosts, diags),
		Paths:      stringList(ctx, f.Paths, diags),
		Tags:       stringList(ctx, f.Tags, diags),
		Namespaces: stringList(ctx, f.Namespaces, diags),
		Stages:     stringList(ctx, f.Stages, diags),
	}
}

func routeFilterEmpty(f client.RouteFilter) bool {
	return len(f.Hosts)+len(f.Paths)+len(f.Tags)+len(f.Namespaces)+len(f.Stages) == 0
}

// nullableList is a list that the schema refuses empty: null when the API has none.
func nullableList(l []string) types.List {
	if len(l) == 0 {
		return types.ListNull(types.StringType)
	}
	return listValue(l)
}

// routeFilterFromAPI is one side of the filters; null when empty and not configured before.
func routeFilterFromAPI(f client.RouteFilter, prior *routeFilterModel) *routeFilterModel {
	if routeFilterEmpty(f) && prior == nil {
		return nil
	}
	return &routeFilterModel{
		Hosts:      nullableList(f.Hosts),
		Paths:      nullableList(f.Paths),
		Tags:       nullableList(f.Tags),
		Namespaces: nullableList(f.Namespaces),
		Stages:     nullableList(f.Stages),
	}
}

func (m *discoveryModel) toAPI(ctx context.Context) (client.DiscoverySourceWrite, diag.Diagnostics) {
	var diags diag.Diagnostics
	spec := client.DiscoverySourceSpec{
		Name:        optional(m.Name),
		Type:        m.Type.ValueString(),
		Interval:    CanonicalDuration(known(m.Interval)),
		GracePeriod: CanonicalDuration(known(m.GracePeriod)),
		DryRun:      boolOr(m.DryRun, false),
		MaxRoutes:   intOr(m.MaxRoutes, 0),
	}
	if c := m.Connection; c != nil {
		spec.Connection = client.Connection{
			URL:      c.URL.ValueString(),
			TLS:      client.TLSSettings{CACert: optional(c.CACert)},
			Timeout:  CanonicalDuration(known(c.Timeout)),
			MaxBytes: intOr(c.MaxBytes, 0),
		}
		if cr := c.Credentials; cr != nil {
			creds := &client.Credentials{}
			switch {
			case cr.Bearer != nil:
				creds.Bearer = &client.BearerCredentials{Token: cr.Bearer.Token.toAPI()}
			case cr.Basic != nil:
				creds.Basic = &client.BasicCredentials{Username: cr.Basic.Username.ValueString(), Password: cr.Basic.Password.toAPI()}
			case cr.Header != nil:
				creds.Header = &client.HeaderCredentials{Name: cr.Header.Name.ValueString(), Value: cr.Header.Value.toAPI()}
			case cr.AWSSigV4 != nil:
				a := cr.AWSSigV4
				creds.AWSSigV4 = &client.AWSSigV4{Region: a.Region.ValueString(), AccessKeyID: a.AccessKeyID.toAPI(),
					SecretAccessKey: a.SecretAccessKey.toAPI()}
				if a.SessionToken != nil {
					t := a.SessionToken.toAPI()
					creds.AWSSigV4.SessionToken = &t
				}
			}
			spec.Connection.Credentials = creds
		}
	}
	if f := m.Filters; f != nil {
		spec.Filters = client.Filters{Include: f.Include.toAPI(ctx, &diags), Exclude: f.Exclude.toAPI(ctx, &diags)}
	}
	if s := m.Selection; s != nil {
		spec.Selection = &client.Selection{OptIn: boolOr(s.OptIn, false), OptInTag: known(s.OptInTag), OptOutTag: known(s.OptOutTag)}
	}
	if t := m.Template; t != nil {
		spec.Template = &client.MonitorTemplate{
			Name:             known(t.Name),
			URL:              known(t.URL),
			Method:           known(t.Method),
			Headers:          stringMap(ctx, t.Headers, &diags),
			Interval:         CanonicalDuration(known(t.Interval)),
			Timeout:          CanonicalDuration(known(t.Timeout)),
			ExpectedStatus:   optionalInt(t.ExpectedStatus),
			Assertions:       stringList(ctx, t.Assertions, &diags),
			Labels:           stringMap(ctx, t.Labels, &diags),
			TLSVerify:        boolOr(t.TLSVerify, true),
			FailureThreshold: intOr(t.FailureThreshold, 1),
		}
	}
	return client.DiscoverySourceWrite{Labels: stringMap(ctx, m.Labels, &diags), Spec: spec}, diags
}

// discoveryFromAPI is the Terraform state of a discovery source of the API. prior (the plan or
// state before, nil on import) decides only whether empty `filters` are written as an empty
// object or left out: the server answers both the same.
func discoveryFromAPI(api *client.DiscoverySource, prior *discoveryModel) discoveryModel {
	s := api.Spec
	c := s.Connection
	out := discoveryModel{
		ID:          types.StringValue(api.ID),
		Labels:      mapValue(api.Labels),
		Name:        types.StringPointerValue(s.Name),
		Type:        types.StringValue(s.Type),
		Interval:    NewDurationValue(s.Interval),
		GracePeriod: NewDurationValue(s.GracePeriod),
		DryRun:      types.BoolValue(s.DryRun),
		MaxRoutes:   types.Int64Value(s.MaxRoutes),
		Status:      discoveryStatusValue(api.Status),
		Version:     types.Int64Value(api.Version),
		Connection: &connectionModel{
			URL:      types.StringValue(c.URL),
			CACert:   types.StringPointerValue(c.TLS.CACert),
			Timeout:  NewDurationValue(c.Timeout),
			MaxBytes: types.Int64Value(c.MaxBytes),
		},
	}
	if cr := c.Credentials; cr != nil {
		creds := &credentialsModel{}
		switch {
		case cr.Bearer != nil:
			creds.Bearer = &struct {
				Token *secretRefModel `tfsdk:"token"`
			}{Token: secretRefFromAPI(cr.Bearer.Token)}
		case cr.Basic != nil:
			creds.Basic = &struct {
				Username types.String    `tfsdk:"username"`
				Password *secretRefModel `tfsdk:"password"`
			}{Username: types.StringValue(cr.Basic.Username), Password: secretRefFromAPI(cr.Basic.Password)}
		case cr.Header != nil:
			creds.Header = &struct {
				Name  types.String    `tfsdk:"name"`
				Value *secretRefModel `tfsdk:"value"`
			}{Name: types.StringValue(cr.Header.Name), Value: secretRefFromAPI(cr.Header.Value)}
		case cr.AWSSigV4 != nil:
			a := cr.AWSSigV4
			creds.AWSSigV4 = &struct {
				Region          types.String    `tfsdk:"region"`
				AccessKeyID     *secretRefModel `tfsdk:"access_key_id"`
				SecretAccessKey *secretRefModel `tfsdk:"secret_access_key"`
				SessionToken    *secretRefModel `tfsdk:"session_token"`
			}{Region: types.StringValue(a.Region), AccessKeyID: secretRefFromAPI(a.AccessKeyID),
				SecretAccessKey: secretRefFromAPI(a.SecretAccessKey)}
			if a.SessionToken != nil {
				creds.AWSSigV4.SessionToken = secretRefFromAPI(*a.SessionToken)
			}
		}
		out.Connection.Credentials = creds
	}
	var priorFilters *filtersModel
	if prior != nil {
		priorFilters = prior.Filters
	}
	if !routeFilterEmpty(s.Filters.Include) || !routeFilterEmpty(s.Filters.Exclude) || priorFilters != nil {
		var inc, exc *routeFilterModel
		if priorFilters != nil {
			inc, exc = priorFilters.Include, priorFilters.Exclude
		}
		out.Filters = &filtersModel{Include: routeFilterFromAPI(s.Filters.Include, inc), Exclude: routeFilterFromAPI(s.Filters.Exclude, exc)}
	}
	sel := client.Selection{OptInTag: "vedette:on", OptOutTag: "vedette:off"}
	if s.Selection != nil {
		sel = *s.Selection
	}
	out.Selection = &selectionModel{OptIn: types.BoolValue(sel.OptIn), OptInTag: types.StringValue(sel.OptInTag), OptOutTag: types.StringValue(sel.OptOutTag)}
	t := defaultMonitorTemplate
	if s.Template != nil {
		t = *s.Template
	}
	out.Template = &monitorTemplateModel{
		Name:             types.StringValue(t.Name),
		URL:              types.StringValue(t.URL),
		Method:           types.StringValue(t.Method),
		Headers:          mapValue(t.Headers),
		Interval:         NewDurationValue(t.Interval),
		Timeout:          NewDurationValue(t.Timeout),
		ExpectedStatus:   types.Int64PointerValue(t.ExpectedStatus),
		Assertions:       listValue(t.Assertions),
		Labels:           mapValue(t.Labels),
		TLSVerify:        types.BoolValue(t.TLSVerify),
		FailureThreshold: types.Int64Value(t.FailureThreshold),
	}
	return out
}

func discoveryStatusValue(s client.DiscoveryStatus) types.Object {
	state := s.State
	if state == "" {
		state = "pending"
	}
	v, _ := types.ObjectValueFrom(context.Background(), discoveryStatusTypes, discoveryStatusModel{
		State:          types.StringValue(state),
		LastRun:        types.StringPointerValue(s.LastRun),
		LastSuccess:    types.StringPointerValue(s.LastSuccess),
		Error:          types.StringPointerValue(s.Error),
		RoutesSeen:     types.Int64Value(s.RoutesSeen),
		RoutesSelected: types.Int64Value(s.RoutesSelected),
		MonitorsOwned:  types.Int64Value(s.MonitorsOwned),
		Created:        types.Int64Value(s.Created),
		Updated:        types.Int64Value(s.Updated),
		Deleted:        types.Int64Value(s.Deleted),
		Conflicts:      listValue(s.Conflicts),
	})
	return v
}

// defaultMonitorTemplate is the template the server assumes when a source leaves it out.
var defaultMonitorTemplate = client.MonitorTemplate{
	Name: "{host}{path}", URL: "{base}{path}", Method: "GET", Interval: "1m", Timeout: "10s",
	TLSVerify: true, FailureThreshold: 1,
}

// NewDiscoverySourceResource is the vedette_discovery_source resource.
func NewDiscoverySourceResource() resource.Resource {
	return &discoverySourceResource{apiResource[discoveryModel, client.DiscoverySource, client.DiscoverySourceWrite]{
		api:          client.DiscoverySources,
		what:         "discovery source",
		example:      "edge-envoy",
		importAdvice: "Import it instead",
		toAPI: func(ctx context.Context, plan, _ *discoveryModel) (client.DiscoverySourceWrite, diag.Diagnostics) {
			return plan.toAPI(ctx)
		},
		fromAPI: func(_ *client.Client, d *client.DiscoverySource, prior *discoveryModel) discoveryModel {
			return discoveryFromAPI(d, prior)
		},
	}}
}

type discoverySourceResource struct {
	apiResource[discoveryModel, client.DiscoverySource, client.DiscoverySourceWrite]
}

// ModifyPlan keeps the version and the status when nothing else changes.
func (r *discoverySourceResource) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	keepVersionWhenUnchanged(ctx, req, resp, path.Root("status"))
}

// secretRefAttribute is a credential reference: where the server reads the value, never the
// value itself.
func secretRefAttribute(description string, required bool) schema.SingleNestedAttribute {
	sibling := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	return schema.SingleNestedAttribute{
		Required: required,
		Optional: !required,
		MarkdownDescription: description + " A reference, not the value: exactly one of `env` (a variable of the " +
			"server's environment) and `file` (a mounted secret file).",
		Attributes: map[string]schema.Attribute{
			"env": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "An environment variable of the server named `VEDETTE_DISCOVERY_...` (A-Z, 0-9, `_`).",
				Validators: []validator.String{
					stringvalidator.ExactlyOneOf(sibling("env"), sibling("file")),
					stringvalidator.RegexMatches(envRefPattern, "must be an environment variable name starting with VEDETTE_DISCOVERY_ (A-Z, 0-9, _; at most 128 characters)"),
				},
			},
			"file": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "A file under `/run/secrets/` or `/var/run/secrets/` (a trailing newline is ignored).",
				Validators: []validator.String{stringvalidator.LengthAtMost(1024),
					stringvalidator.RegexMatches(fileRefPattern, "must be a file under /run/secrets/ or /var/run/secrets/")},
			},
		},
	}
}

func patternList(description string) schema.ListAttribute {
	return schema.ListAttribute{
		ElementType:         types.StringType,
		Optional:            true,
		MarkdownDescription: description + " 1 to 256 patterns of 1 to 256 bytes; `*` matches any run of characters.",
		Validators: []validator.List{listvalidator.SizeBetween(1, 256),
			listvalidator.ValueStringsAre(stringvalidator.LengthBetween(1, 256))},
	}
}

func routeFilterAttribute(description string) schema.SingleNestedAttribute {
	return schema.SingleNestedAttribute{
		Optional:            true,
		MarkdownDescription: description,
		Attributes: map[string]schema.Attribute{
			"hosts":      patternList("Host patterns (`*.example.com`)."),
			"paths":      patternList("Path patterns (`/api/*`)."),
			"tags":       patternList("Tags (Kong tags; Traefik router labels and Istio labels as `key=value`)."),
			"namespaces": patternList("Kubernetes namespaces (Istio)."),
			"stages":     patternList("API Gateway stages."),
		},
	}
}

func (r *discoverySourceResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	sibling := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	id := idAttribute("discovery source")
	id.Validators = append(id.Validators, stringvalidator.LengthAtMost(63))
	id.MarkdownDescription += " At most 63 characters: it is the value of the `discovered-by` label of the source's monitors."
	credentials := func(what string, attrs map[string]schema.Attribute) schema.SingleNestedAttribute {
		return schema.SingleNestedAttribute{Optional: true, MarkdownDescription: what, Attributes: attrs}
	}
	templateDefault := defaultMonitorTemplate
	resp.Schema = schema.Schema{
		MarkdownDescription: "A gateway whose routes become monitors (Kong, Istio, AWS API Gateway, Envoy, NGINX Plus, " +
			"NGINX, Traefik). Each run lists the gateway and creates, updates and deletes only the monitors labelled " +
			"`discovered-by=<id>`; a route missing from the listings is deleted after `grace_period`. See " +
			"`docs/gateways.md`.\n\n" +
			"**Credentials** are references (`{ env = \"VEDETTE_DISCOVERY_KONG_TOKEN\" }` or `{ file = " +
			"\"/run/secrets/kong-token\" }`) read by the server at each listing: no secret value is ever sent, stored " +
			"in the state or shown by the API.\n\n" +
			"The monitors a source makes are not Terraform resources; `status` reports what its last run found and did.",
		Attributes: map[string]schema.Attribute{
			"id":     id,
			"labels": labelsAttribute("discovery source"),
			"name":   textAttribute("Display name, at most 256 bytes.", false, 256),
			"type": schema.StringAttribute{
				Required:            true,
				MarkdownDescription: "The gateway's kind: one of " + backticked(gatewayTypes) + ".",
				Validators:          []validator.String{stringvalidator.OneOf(gatewayTypes...)},
			},
			"endpoint": schema.SingleNestedAttribute{
				Required:            true,
				MarkdownDescription: "How the server reaches the gateway's API (`connection` in the API and in files: `connection` is a name Terraform reserves).",
				Attributes: map[string]schema.Attribute{
					"url": schema.StringAttribute{
						Required: true,
						MarkdownDescription: "Base URL of the gateway's API (`http://127.0.0.1:9901` for Envoy's admin, the " +
							"Kong Admin API, the AWS endpoint override, ...); for `nginx`, a `file:///...` path of saved " +
							"`nginx -T` output, which the server reads only under its `--discovery-file-root` " +
							"(`VEDETTE_DISCOVERY_FILE_ROOT`): without one, nginx sources are refused.",
						Validators: []validator.String{stringvalidator.LengthAtMost(2048),
							stringvalidator.RegexMatches(sourceURL, "must be an absolute http:// or https:// URL (or file:/// for nginx)")},
					},
					"credentials": schema.SingleNestedAttribute{
						Optional:            true,
						MarkdownDescription: "How the source authenticates: exactly one of `bearer`, `basic`, `header` and `aws_sigv4`.",
						Attributes: map[string]schema.Attribute{
							"bearer": func() schema.SingleNestedAttribute {
								a := credentials("`Authorization: Bearer <token>`.", map[string]schema.Attribute{
									"token": secretRefAttribute("The token.", true),
								})
								a.Validators = []validator.Object{objectvalidator.ExactlyOneOf(
									sibling("basic"), sibling("header"), sibling("aws_sigv4"))}
								return a
							}(),
							"basic": credentials("`Authorization: Basic ...` (NGINX Plus).", map[string]schema.Attribute{
								"username": schema.StringAttribute{Required: true, MarkdownDescription: "User name (not secret).",
									Validators: []validator.String{stringvalidator.LengthBetween(1, 256)}},
								"password": secretRefAttribute("The password.", true),
							}),
							"header": credentials("One header of the gateway's choosing (`Kong-Admin-Token`).", map[string]schema.Attribute{
								"name": schema.StringAttribute{Required: true, MarkdownDescription: "Header name.",
									Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`),
										"must be a header name (A-Z, 0-9, -, _)")}},
								"value": secretRefAttribute("The header's value.", true),
							}),
							"aws_sigv4": credentials("AWS Signature Version 4 (API Gateway management API).", map[string]schema.Attribute{
								"region": schema.StringAttribute{Required: true, MarkdownDescription: "AWS region (`eu-west-1`).",
									Validators: []validator.String{stringvalidator.RegexMatches(regexp.MustCompile(`^[a-z0-9-]{1,32}$`),
										"must be a region such as eu-west-1")}},
								"access_key_id":     secretRefAttribute("The access key id.", true),
								"secret_access_key": secretRefAttribute("The secret access key.", true),
								"session_token":     secretRefAttribute("The session token of temporary credentials.", false),
							}),
						},
					},
					"ca_cert": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Extra trusted CA certificate(s), PEM, at most 256 KiB (`tls.ca_cert` in the API). " +
							"Certificates are always verified.",
						Validators: []validator.String{stringvalidator.LengthAtMost(256 * 1024),
							stringvalidator.RegexMatches(regexp.MustCompile(`-----BEGIN CERTIFICATE-----`), "must hold one or more PEM certificates")},
					},
					"timeout": func() schema.StringAttribute {
						a := durationAttribute("Longest one listing may take, all its requests together (at most 5m).", "10s")
						a.Validators = []validator.String{durationBetween{"1ms", "5m"}}
						return a
					}(),
					"max_bytes": defaultInt("Most bytes read from the gateway in one listing; a larger listing fails and deletes nothing.",
						32*1024*1024, 1, 256*1024*1024),
				},
			},
			"interval": func() schema.StringAttribute {
				a := durationAttribute("Time between listings (5s to 1d).", "1m")
				a.Validators = []validator.String{durationBetween{"5s", "1d"}}
				return a
			}(),
			"grace_period": func() schema.StringAttribute {
				a := durationAttribute("How long a route may be missing from the listings before its monitor is deleted (at most 7d).", "10m")
				a.Validators = []validator.String{durationBetween{"0s", "7d"}}
				return a
			}(),
			"dry_run": defaultBool("List and plan, but write nothing (the plan shows in `status` and the API's preview).", false),
			"filters": schema.SingleNestedAttribute{
				Optional: true,
				MarkdownDescription: "Which routes become monitors: those matching `include` (all when it is left out) and " +
					"not `exclude`. Within each, a route matches when every list that is set has a matching entry.",
				Attributes: map[string]schema.Attribute{
					"include": routeFilterAttribute("What a route must match."),
					"exclude": routeFilterAttribute("What leaves a route out (a route matching any of its lists)."),
				},
			},
			"selection": schema.SingleNestedAttribute{
				Optional: true,
				Computed: true,
				Default: objectdefault.StaticValue(types.ObjectValueMust(
					map[string]attr.Type{"opt_in": types.BoolType, "opt_in_tag": types.StringType, "opt_out_tag": types.StringType},
					map[string]attr.Value{"opt_in": types.BoolValue(false), "opt_in_tag": types.StringValue("vedette:on"),
						"opt_out_tag": types.StringValue("vedette:off")})),
				MarkdownDescription: "Per-route opt-in or opt-out through the gateway's own tags, annotations or labels " +
					"(`vedette.dev/monitor=false` on a Traefik router or Istio resource is reported as `vedette:off`).",
				Attributes: map[string]schema.Attribute{
					"opt_in":      defaultBool("Only routes tagged `opt_in_tag` become monitors.", false),
					"opt_in_tag":  nonEmptyDefaultString("The tag that opts a route in.", "vedette:on"),
					"opt_out_tag": nonEmptyDefaultString("The tag that always leaves a route out.", "vedette:off"),
				},
			},
			"template": schema.SingleNestedAttribute{
				Optional: true,
				Computed: true,
				Default:  objectdefault.StaticValue(templateObject(templateDefault)),
				MarkdownDescription: "The monitor made for each route. Text fields may hold the placeholders `{host}`, " +
					"`{path}`, `{base}` (where the gateway serves the route), `{scheme}`, `{route}`, `{service}`, " +
					"`{namespace}`, `{stage}`, `{source}` and `{gateway}`; the server checks that the template renders a " +
					"valid monitor.",
				Attributes: map[string]schema.Attribute{
					"name":    nonEmptyDefaultString("The monitor's name.", templateDefault.Name),
					"url":     nonEmptyDefaultString("The URL checked.", templateDefault.URL),
					"method":  defaultString("Request method.", "GET", "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"),
					"headers": defaultEmptyMap("Request headers (`Host = \"{host}\"` to reach a virtual host through an address)."),
					"interval": func() schema.StringAttribute {
						a := durationAttribute("Time between checks (1s to 24h).", templateDefault.Interval)
						a.Validators = []validator.String{durationBetween{"1s", "24h"}}
						return a
					}(),
					"timeout": durationAttribute("Time one attempt may take (at most `interval`).", templateDefault.Timeout),
					"expected_status": schema.Int64Attribute{
						Optional:            true,
						MarkdownDescription: "The status the route must answer (adds `status == N` to the assertions).",
						Validators:          []validator.Int64{int64validator.Between(100, 599)},
					},
					"assertions": schema.ListAttribute{
						ElementType: types.StringType, Optional: true, Computed: true,
						Default:             listdefault.StaticValue(listValue(nil)),
						MarkdownDescription: "Assertion expressions, as a monitor's (`status == 200`, `response_time < 500ms`).",
					},
					"labels": func() schema.MapAttribute {
						a := defaultEmptyMap("Labels of the monitors (values may hold placeholders); `discovered-by` is set by the source.")
						a.Validators = []validator.Map{mapvalidator.KeysAre(stringvalidator.NoneOf("discovered-by"))}
						return a
					}(),
					"tls_verify":        defaultBool("Verify the route's certificate.", true),
					"failure_threshold": defaultInt("Consecutive failures before a monitor is down.", 1, 1, 100),
				},
			},
			"max_routes": defaultInt("Most routes a listing may hold; a larger one fails and deletes nothing.", 10_000, 1, 50_000),
			"status": schema.SingleNestedAttribute{
				Computed:            true,
				MarkdownDescription: "What the source's last run found and did (read-only; refreshed on every read).",
				Attributes: map[string]schema.Attribute{
					"state":           schema.StringAttribute{Computed: true, MarkdownDescription: "`pending` (not run yet), `succeeded` or `failed`."},
					"last_run":        schema.StringAttribute{Computed: true, MarkdownDescription: "When the last run ended (RFC 3339)."},
					"last_success":    schema.StringAttribute{Computed: true, MarkdownDescription: "When the last successful run ended (RFC 3339)."},
					"error":           schema.StringAttribute{Computed: true, MarkdownDescription: "Why the last run failed (never holds a credential)."},
					"routes_seen":     schema.Int64Attribute{Computed: true, MarkdownDescription: "Routes the gateway listed in the last successful run."},
					"routes_selected": schema.Int64Attribute{Computed: true, MarkdownDescription: "Of those, the routes the filters and selection kept."},
					"monitors_owned":  schema.Int64Attribute{Computed: true, MarkdownDescription: "Monitors labelled `discovered-by=<id>`."},
					"created":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Monitors the last run created."},
					"updated":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Monitors the last run updated."},
					"deleted":         schema.Int64Attribute{Computed: true, MarkdownDescription: "Monitors the last run deleted."},
					"conflicts": schema.ListAttribute{ElementType: types.StringType, Computed: true,
						MarkdownDescription: "Routes whose monitor id is taken by a monitor the source does not own (left alone)."},
				},
			},
			"version": versionAttribute(),
		},
	}
}

func nonEmptyDefaultString(description, def string) schema.StringAttribute {
	a := defaultString(description, def)
	a.Validators = []validator.String{stringvalidator.LengthBetween(1, 256)}
	return a
}

func defaultEmptyMap(description string) schema.MapAttribute {
	return schema.MapAttribute{
		ElementType: types.StringType, Optional: true, Computed: true,
		Default:             mapdefault.StaticValue(mapValue(nil)),
		MarkdownDescription: description,
	}
}

// templateObject is a monitor template as the value of the `template` attribute.
func templateObject(t client.MonitorTemplate) types.Object {
	expected := types.Int64PointerValue(t.ExpectedStatus)
	return types.ObjectValueMust(
		map[string]attr.Type{
			"name": types.StringType, "url": types.StringType, "method": types.StringType,
			"headers": types.MapType{ElemType: types.StringType}, "interval": DurationType{}, "timeout": DurationType{},
			"expected_status": types.Int64Type, "assertions": types.ListType{ElemType: types.StringType},
			"labels": types.MapType{ElemType: types.StringType}, "tls_verify": types.BoolType, "failure_threshold": types.Int64Type,
		},
		map[string]attr.Value{
			"name": types.StringValue(t.Name), "url": types.StringValue(t.URL), "method": types.StringValue(t.Method),
			"headers": mapValue(t.Headers), "interval": NewDurationValue(t.Interval), "timeout": NewDurationValue(t.Timeout),
			"expected_status": expected, "assertions": listValue(t.Assertions), "labels": mapValue(t.Labels),
			"tls_verify": types.BoolValue(t.TLSVerify), "failure_threshold": types.Int64Value(t.FailureThreshold),
		})
}
