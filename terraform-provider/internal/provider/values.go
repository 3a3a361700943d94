package provider

import (
	"context"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types"
)

// known is the value of a string that is neither null nor unknown, else "".
func known(v interface {
	IsNull() bool
	IsUnknown() bool
	ValueString() string
}) string {
	if v.IsNull() || v.IsUnknown() {
		return ""
	}
	return v.ValueString()
}

// optional is the value of a string as a pointer, nil when null or unknown.
func optional(v interface {
	IsNull() bool
	IsUnknown() bool
	ValueString() string
}) *string {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	s := v.ValueString()
	return &s
}

func optionalBool(v types.Bool) *bool {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	b := v.ValueBool()
	return &b
}

func optionalInt(v types.Int64) *int64 {
	if v.IsNull() || v.IsUnknown() {
		return nil
	}
	i := v.ValueInt64()
	return &i
}

func intOr(v types.Int64, def int64) int64 {
	if v.IsNull() || v.IsUnknown() {
		return def
	}
	return v.ValueInt64()
}

func stringMap(ctx context.Context, m types.Map, diags *diag.Diagnostics) map[string]string {
	out := map[string]string{}
	if m.IsNull() || m.IsUnknown() {
		return out
	}
	diags.Append(m.ElementsAs(ctx, &out, false)...)
	return out
}

func stringList(ctx context.Context, l types.List, diags *diag.Diagnostics) []string {
	var out []string
	if l.IsNull() || l.IsUnknown() {
		return nil
	}
	diags.Append(l.ElementsAs(ctx, &out, false)...)
	return out
}

// mapValue is a known map of strings; nil gives the empty map, not null (labels the API leaves out).
func mapValue(m map[string]string) types.Map {
	elems := make(map[string]attr.Value, len(m))
	for k, v := range m {
		elems[k] = types.StringValue(v)
	}
	return types.MapValueMust(types.StringType, elems)
}

// listValue is a known list of strings; nil gives the empty list, not null.
func listValue(l []string) types.List {
	elems := make([]attr.Value, 0, len(l))
	for _, v := range l {
		elems = append(elems, types.StringValue(v))
	}
	return types.ListValueMust(types.StringType, elems)
}

// redacted says whether a secret read back from the API is a placeholder rather than the value.
func redacted(s string) bool {
	t := strings.TrimSpace(s)
	return t == "" || strings.Trim(t, "*•") == "" || strings.EqualFold(t, "<redacted>") || strings.EqualFold(t, "[redacted]")
}

// secret is the value of a secret read from the API, or the prior value when the API hides it.
func secret(api string, prior types.String) types.String {
	if redacted(api) && !prior.IsNull() && !prior.IsUnknown() {
		return prior
	}
	return types.StringValue(api)
}
