package provider

import (
	"context"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/listvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/objectdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

var _ managedResource = &statusPageResource{}

// The formats the server checks (crates/model/src/status_page.rs), checked here at plan time.
var (
	pageSlugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{0,63}$`)
	domainPattern   = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$`)
	httpURLPattern  = regexp.MustCompile(`^(?i)https?://[^/\s]\S*$`)
	notBlank        = regexp.MustCompile(`\S`)
)

type statusPageModel struct {
	ID           types.String       `tfsdk:"id"`
	Labels       types.Map          `tfsdk:"labels"`
	Title        types.String       `tfsdk:"title"`
	Slug         types.String       `tfsdk:"slug"`
	Description  types.String       `tfsdk:"description"`
	LogoURL      types.String       `tfsdk:"logo_url"`
	Groups       []statusGroupModel `tfsdk:"groups"`
	Show         *showFiguresModel  `tfsdk:"show"`
	Announcement types.String       `tfsdk:"announcement"`
	CustomDomain types.String       `tfsdk:"custom_domain"`
	PublicPath   types.String       `tfsdk:"public_path"`
	Version      types.Int64        `tfsdk:"version"`
}

type statusGroupModel struct {
	Name     types.String       `tfsdk:"name"`
	Monitors []pageMonitorModel `tfsdk:"monitors"`
	Selector types.String       `tfsdk:"selector"`
}

type pageMonitorModel struct {
	ID   types.String `tfsdk:"id"`
	Name types.String `tfsdk:"name"`
}

type showFiguresModel struct {
	Uptime      types.Bool `tfsdk:"uptime"`
	Latency     types.Bool `tfsdk:"latency"`
	Incidents   types.Bool `tfsdk:"incidents"`
	Maintenance types.Bool `tfsdk:"maintenance"`
	Messages    types.Bool `tfsdk:"messages"`
}

// boolOr is the value of a bool that is neither null nor unknown, else def.
func boolOr(v types.Bool, def bool) bool {
	if v.IsNull() || v.IsUnknown() {
		return def
	}
	return v.ValueBool()
}

func (m *statusPageModel) toAPI(ctx context.Context) (client.StatusPageWrite, diag.Diagnostics) {
	var diags diag.Diagnostics
	spec := client.StatusPageSpec{
		Title:        m.Title.ValueString(),
		Slug:         m.Slug.ValueString(),
		Description:  optional(m.Description),
		LogoURL:      optional(m.LogoURL),
		Groups:       make([]client.StatusGroup, 0, len(m.Groups)),
		Announcement: optional(m.Announcement),
		CustomDomain: optional(m.CustomDomain),
	}
	for _, g := range m.Groups {
		group := client.StatusGroup{Name: g.Name.ValueString(), Selector: optional(g.Selector)}
		for _, pm := range g.Monitors {
			group.Monitors = append(group.Monitors, client.PageMonitor{ID: pm.ID.ValueString(), Name: optional(pm.Name)})
		}
		spec.Groups = append(spec.Groups, group)
	}
	show := client.DefaultShowFigures
	if s := m.Show; s != nil {
		show = client.ShowFigures{
			Uptime:      boolOr(s.Uptime, show.Uptime),
			Latency:     boolOr(s.Latency, show.Latency),
			Incidents:   boolOr(s.Incidents, show.Incidents),
			Maintenance: boolOr(s.Maintenance, show.Maintenance),
			Messages:    boolOr(s.Messages, show.Messages),
		}
	}
	spec.Show = &show
	return client.StatusPageWrite{Labels: stringMap(ctx, m.Labels, &diags), Spec: spec}, diags
}

// statusPageFromAPI is the Terraform state of a status page of the API. A group's `monitors`
// the API leaves out is null: the schema refuses an empty list, so null is the only way to write
// it.
func statusPageFromAPI(api *client.StatusPage) statusPageModel {
	s := api.Spec
	out := statusPageModel{
		ID:           types.StringValue(api.ID),
		Labels:       mapValue(api.Labels),
		Title:        types.StringValue(s.Title),
		Slug:         types.StringValue(s.Slug),
		Description:  types.StringPointerValue(s.Description),
		LogoURL:      types.StringPointerValue(s.LogoURL),
		Groups:       make([]statusGroupModel, 0, len(s.Groups)),
		Announcement: types.StringPointerValue(s.Announcement),
		CustomDomain: types.StringPointerValue(s.CustomDomain),
		PublicPath:   types.StringValue(api.PublicPath),
		Version:      types.Int64Value(api.Version),
	}
	for _, g := range s.Groups {
		group := statusGroupModel{Name: types.StringValue(g.Name), Selector: types.StringPointerValue(g.Selector)}
		for _, pm := range g.Monitors {
			group.Monitors = append(group.Monitors, pageMonitorModel{ID: types.StringValue(pm.ID), Name: types.StringPointerValue(pm.Name)})
		}
		out.Groups = append(out.Groups, group)
	}
	show := client.DefaultShowFigures
	if s.Show != nil {
		show = *s.Show
	}
	out.Show = &showFiguresModel{
		Uptime:      types.BoolValue(show.Uptime),
		Latency:     types.BoolValue(show.Latency),
		Incidents:   types.BoolValue(show.Incidents),
		Maintenance: types.BoolValue(show.Maintenance),
		Messages:    types.BoolValue(show.Messages),
	}
	return out
}

// NewStatusPageResource is the vedette_status_page resource.
func NewStatusPageResource() resource.Resource {
	return &statusPageResource{apiResource[statusPageModel, client.StatusPage, client.StatusPageWrite]{
		api:          client.StatusPages,
		what:         "status page",
		example:      "public-status",
		importAdvice: "Import it instead",
		toAPI: func(ctx context.Context, plan, _ *statusPageModel) (client.StatusPageWrite, diag.Diagnostics) {
			return plan.toAPI(ctx)
		},
		fromAPI: func(_ *client.Client, p *client.StatusPage, _ *statusPageModel) statusPageModel {
			return statusPageFromAPI(p)
		},
	}}
}

type statusPageResource struct {
	apiResource[statusPageModel, client.StatusPage, client.StatusPageWrite]
}

// showDefault is `show` when the configuration leaves it out: the server's defaults.
func showDefault() types.Object {
	d := client.DefaultShowFigures
	return types.ObjectValueMust(
		map[string]attr.Type{"uptime": types.BoolType, "latency": types.BoolType, "incidents": types.BoolType,
			"maintenance": types.BoolType, "messages": types.BoolType},
		map[string]attr.Value{"uptime": types.BoolValue(d.Uptime), "latency": types.BoolValue(d.Latency),
			"incidents": types.BoolValue(d.Incidents), "maintenance": types.BoolValue(d.Maintenance),
			"messages": types.BoolValue(d.Messages)})
}

func textAttribute(description string, required bool, max int) schema.StringAttribute {
	a := schema.StringAttribute{
		Optional:            !required,
		Required:            required,
		MarkdownDescription: description,
		Validators:          []validator.String{stringvalidator.LengthAtMost(max)},
	}
	if required {
		a.Validators = append(a.Validators, stringvalidator.RegexMatches(notBlank, "must not be blank"))
	}
	return a
}

func (r *statusPageResource) Schema(_ context.Context, _ resource.SchemaRequest, resp *resource.SchemaResponse) {
	sibling := func(name string) path.Expression { return path.MatchRelative().AtParent().AtName(name) }
	resp.Schema = schema.Schema{
		MarkdownDescription: "A public status page at `/status/<slug>` (HTML, `/status/<slug>.json` and an Atom feed of " +
			"incidents), showing the chosen monitors in groups under display names. Only what a page lists is ever " +
			"shown publicly, and only the figures `show` allows. See `docs/status-pages.md`.",
		Attributes: map[string]schema.Attribute{
			"id":     idAttribute("status page"),
			"labels": labelsAttribute("status page"),
			"title":  textAttribute("The page's heading, 1 to 200 bytes.", true, 200),
			"slug": schema.StringAttribute{
				Required: true,
				MarkdownDescription: "The page's address, `/status/<slug>`: 1 to 64 characters of `a-z`, `0-9` and `-`, " +
					"starting with a letter or digit; unique among pages.",
				Validators: []validator.String{stringvalidator.RegexMatches(pageSlugPattern,
					"must be 1 to 64 characters of a-z, 0-9 or '-', starting with a letter or digit")},
			},
			"description": textAttribute("A paragraph under the title, at most 4096 bytes.", false, 4096),
			"logo_url": schema.StringAttribute{
				Optional:            true,
				MarkdownDescription: "A logo shown beside the title: an absolute `http` or `https` URL.",
				Validators: []validator.String{stringvalidator.LengthAtMost(2048),
					stringvalidator.RegexMatches(httpURLPattern, "must be an absolute http:// or https:// URL")},
			},
			"groups": schema.ListNestedAttribute{
				Required:            true,
				MarkdownDescription: "The monitors shown, in 1 to 50 groups, in this order.",
				Validators:          []validator.List{listvalidator.SizeBetween(1, 50)},
				NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
					"name": textAttribute("The group's heading, 1 to 200 bytes.", true, 200),
					"monitors": schema.ListNestedAttribute{
						Optional: true,
						MarkdownDescription: "Monitors named by id (1 to 500), shown in this order. Leave it out (rather " +
							"than `[]`) for a group of `selector` alone.",
						Validators: []validator.List{
							listvalidator.SizeBetween(1, 500),
							listvalidator.AtLeastOneOf(sibling("selector")),
						},
						NestedObject: schema.NestedAttributeObject{Attributes: map[string]schema.Attribute{
							"id": schema.StringAttribute{
								Required:            true,
								MarkdownDescription: "The monitor's id.",
								Validators:          []validator.String{stringvalidator.RegexMatches(slugPattern, "must be a monitor id")},
							},
							"name": textAttribute("Its name on the page (1 to 200 bytes); the monitor's own name (or id) when absent.", false, 200),
						}},
					},
					"selector": schema.StringAttribute{
						Optional: true,
						MarkdownDescription: "Label selector of more monitors (`team=payments,env=prod`), shown after those " +
							"named, by id, under their own names. At least one of `monitors` and `selector` is set.",
					},
				}},
			},
			"show": schema.SingleNestedAttribute{
				Optional:            true,
				Computed:            true,
				Default:             objectdefault.StaticValue(showDefault()),
				MarkdownDescription: "Which figures the page shows; states and display names are always shown.",
				Attributes: map[string]schema.Attribute{
					"uptime":      defaultBool("90-day uptime bars and uptime percentages.", true),
					"latency":     defaultBool("Response times.", false),
					"incidents":   defaultBool("Current incidents and the incident history.", true),
					"maintenance": defaultBool("Scheduled and current maintenance.", true),
					"messages":    defaultBool("The failure messages of incidents (they may name hosts and errors).", false),
				},
			},
			"announcement": textAttribute("A notice shown at the top of the page, at most 4096 bytes.", false, 4096),
			"custom_domain": schema.StringAttribute{
				Optional: true,
				MarkdownDescription: "A host name (`status.example.com`, lower case, no scheme or port) whose requests get " +
					"this page at `/`; unique among pages.",
				Validators: []validator.String{stringvalidator.LengthAtMost(253), stringvalidator.RegexMatches(domainPattern,
					"must be a lower-case host name such as status.example.com (no scheme, port or path)")},
			},
			"public_path": schema.StringAttribute{
				Computed:            true,
				MarkdownDescription: "The public page's path, `/status/<slug>`.",
				PlanModifiers:       []planmodifier.String{publicPathPlan{}},
			},
			"version": versionAttribute(),
		},
	}
}

// publicPathPlan plans `/status/<slug>` from the planned slug, so that the path is known at plan
// time and changes only with the slug.
type publicPathPlan struct{}

func (publicPathPlan) Description(context.Context) string {
	return "The path follows the slug."
}

func (m publicPathPlan) MarkdownDescription(ctx context.Context) string { return m.Description(ctx) }

func (publicPathPlan) PlanModifyString(ctx context.Context, req planmodifier.StringRequest, resp *planmodifier.StringResponse) {
	var slug types.String
	resp.Diagnostics.Append(req.Plan.GetAttribute(ctx, path.Root("slug"), &slug)...)
	if slug.IsUnknown() || slug.IsNull() {
		resp.PlanValue = types.StringUnknown()
		return
	}
	resp.PlanValue = types.StringValue("/status/" + slug.ValueString())
}
