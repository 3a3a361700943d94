package provider

import (
	"fmt"

	dschema "github.com/hashicorp/terraform-plugin-framework/datasource/schema"
	rschema "github.com/hashicorp/terraform-plugin-framework/resource/schema"
)

// computedAttributes turns resource attributes into data source attributes that are all computed,
// keeping types, custom types, sensitivity and descriptions, so that a data source reads into the
// same model as its resource.
func computedAttributes(attrs map[string]rschema.Attribute) map[string]dschema.Attribute {
	out := make(map[string]dschema.Attribute, len(attrs))
	for name, a := range attrs {
		out[name] = computedAttribute(a)
	}
	return out
}

func computedAttribute(a rschema.Attribute) dschema.Attribute {
	switch a := a.(type) {
	case rschema.StringAttribute:
		return dschema.StringAttribute{Computed: true, CustomType: a.CustomType, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription}
	case rschema.Int64Attribute:
		return dschema.Int64Attribute{Computed: true, Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription}
	case rschema.BoolAttribute:
		return dschema.BoolAttribute{Computed: true, Sensitive: a.Sensitive, MarkdownDescription: a.MarkdownDescription}
	case rschema.MapAttribute:
		return dschema.MapAttribute{Computed: true, ElementType: a.ElementType, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription}
	case rschema.ListAttribute:
		return dschema.ListAttribute{Computed: true, ElementType: a.ElementType, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription}
	case rschema.SingleNestedAttribute:
		return dschema.SingleNestedAttribute{Computed: true, Sensitive: a.Sensitive,
			MarkdownDescription: a.MarkdownDescription, Attributes: computedAttributes(a.Attributes)}
	}
	panic(fmt.Sprintf("computedAttribute: unsupported attribute type %T", a))
}
