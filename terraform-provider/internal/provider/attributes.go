package provider

import (
	"fmt"
	"regexp"

	"github.com/hashicorp/terraform-plugin-framework-validators/int64validator"
	"github.com/hashicorp/terraform-plugin-framework-validators/mapvalidator"
	"github.com/hashicorp/terraform-plugin-framework-validators/stringvalidator"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/booldefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/int64default"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/listdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/mapdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/planmodifier"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringdefault"
	"github.com/hashicorp/terraform-plugin-framework/resource/schema/stringplanmodifier"
	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// slugPattern is the id format of every Vedette resource.
var slugPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,127}$`)

// idAttribute is the `id` of a resource: the object's slug in the API, chosen by the user.
func idAttribute(what string) schema.StringAttribute {
	return schema.StringAttribute{
		Required: true,
		MarkdownDescription: fmt.Sprintf("Stable identifier of the %s: a slug `[a-z0-9][a-z0-9._-]{0,127}` chosen by you. "+
			"It is the id in the API and in `import` blocks; changing it replaces the %s.", what, what),
		Validators: []validator.String{stringvalidator.RegexMatches(slugPattern,
			"must be 1 to 128 characters of a-z, 0-9, '.', '_' or '-', starting with a letter or digit")},
		PlanModifiers: []planmodifier.String{stringplanmodifier.RequiresReplace()},
	}
}

// labelsAttribute is the `labels` of a resource, checked as the server checks them.
func labelsAttribute(what string) schema.MapAttribute {
	return schema.MapAttribute{
		ElementType: types.StringType,
		Optional:    true,
		Computed:    true,
		Default:     mapdefault.StaticValue(mapValue(nil)),
		MarkdownDescription: "Labels of the " + what + " for selection and ownership (`team`, `env`, ...). " +
			"Keys are `[prefix/]name`; names and values are at most 63 characters of letters, digits, `.`, `_`, `-`.",
		Validators: []validator.Map{
			mapvalidator.KeysAre(stringvalidator.RegexMatches(regexp.MustCompile(`^([^/]{1,253}/)?[A-Za-z0-9._-]{1,63}$`),
				"must be [prefix/]name with a name of 1 to 63 letters, digits, '.', '_' or '-'")),
			mapvalidator.ValueStringsAre(stringvalidator.RegexMatches(regexp.MustCompile(`^[A-Za-z0-9._-]{0,63}$`),
				"must be at most 63 letters, digits, '.', '_' or '-'")),
		},
	}
}

// versionAttribute is the `version` of a resource: the ETag apiResource sends as If-Match.
func versionAttribute() schema.Int64Attribute {
	return schema.Int64Attribute{
		Computed: true,
		MarkdownDescription: "Version of the object on the server (its `ETag`). Updates and deletes send it as `If-Match`, " +
			"so a change made by someone else since the last refresh is reported instead of overwritten.",
	}
}

func durationAttribute(description, def string) schema.StringAttribute {
	a := schema.StringAttribute{
		CustomType:          DurationType{},
		Optional:            true,
		MarkdownDescription: description,
		PlanModifiers:       []planmodifier.String{equivalentDuration()},
	}
	if def != "" {
		a.Computed = true
		a.Default = stringdefault.StaticString(def)
		a.MarkdownDescription += fmt.Sprintf(" A duration such as `30s`, `1m30s` or `2h`; equivalent spellings (`60s`, `1m`) never make a diff. Defaults to `%s`.", def)
	} else {
		a.MarkdownDescription += " A duration such as `500ms`, `30s` or `1m30s`; equivalent spellings never make a diff."
	}
	return a
}

func defaultString(description, def string, allowed ...string) schema.StringAttribute {
	a := schema.StringAttribute{
		Optional:            true,
		Computed:            true,
		Default:             stringdefault.StaticString(def),
		MarkdownDescription: fmt.Sprintf("%s Defaults to `%s`.", description, def),
	}
	if len(allowed) > 0 {
		a.Validators = []validator.String{stringvalidator.OneOf(allowed...)}
		a.MarkdownDescription = fmt.Sprintf("%s One of %s. Defaults to `%s`.", description, backticked(allowed), def)
	}
	return a
}

func defaultBool(description string, def bool) schema.BoolAttribute {
	return schema.BoolAttribute{
		Optional:            true,
		Computed:            true,
		Default:             booldefault.StaticBool(def),
		MarkdownDescription: fmt.Sprintf("%s Defaults to `%t`.", description, def),
	}
}

func defaultInt(description string, def, lo, hi int64) schema.Int64Attribute {
	return schema.Int64Attribute{
		Optional:            true,
		Computed:            true,
		Default:             int64default.StaticInt64(def),
		MarkdownDescription: fmt.Sprintf("%s Between %d and %d; defaults to `%d`.", description, lo, hi, def),
		Validators:          []validator.Int64{int64validator.Between(lo, hi)},
	}
}

func stringListDefaultEmpty(description string) schema.ListAttribute {
	return schema.ListAttribute{
		ElementType:         types.StringType,
		Optional:            true,
		Computed:            true,
		Default:             listdefault.StaticValue(listValue(nil)),
		MarkdownDescription: description,
	}
}

func backticked(items []string) string {
	out := ""
	for i, s := range items {
		if i > 0 {
			out += ", "
		}
		out += "`" + s + "`"
	}
	return out
}
