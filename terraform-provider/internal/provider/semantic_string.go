package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// stringSemantics is what a string attribute type with its own equality knows of its values:
// its name ("Duration"), which strings mean the same, and which are valid.
type stringSemantics interface {
	name() string
	equal(a, b string) bool
	validate(s string) error
}

// semanticStringType is a string attribute type whose values that K deems equal are
// semantically equal, so that an equivalent spelling never makes a diff, and whose values K
// refuses are invalid. DurationType and TimestampType are two.
type semanticStringType[K stringSemantics] struct {
	basetypes.StringType
}

var (
	_ basetypes.StringTypable                    = DurationType{}
	_ basetypes.StringValuableWithSemanticEquals = DurationValue{}
	_ xattr.ValidateableAttribute                = DurationValue{}
)

func (t semanticStringType[K]) String() string {
	var k K
	return k.name() + "Type"
}

// Equal reports whether o is the same type.
func (t semanticStringType[K]) Equal(o attr.Type) bool {
	_, ok := o.(semanticStringType[K])
	return ok
}

// ValueType is the value type of the type.
func (t semanticStringType[K]) ValueType(context.Context) attr.Value { return semanticStringValue[K]{} }

// ValueFromString wraps a string value.
func (t semanticStringType[K]) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return semanticStringValue[K]{StringValue: in}, nil
}

// ValueFromTerraform decodes a Terraform value.
func (t semanticStringType[K]) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, errors.New("unexpected value type")
	}
	return semanticStringValue[K]{StringValue: s}, nil
}

// semanticStringValue is a value of semanticStringType[K].
type semanticStringValue[K stringSemantics] struct {
	basetypes.StringValue
}

// Type is the value's type.
func (v semanticStringValue[K]) Type(context.Context) attr.Type { return semanticStringType[K]{} }

// Equal is exact equality (same string), as the framework requires.
func (v semanticStringValue[K]) Equal(o attr.Value) bool {
	other, ok := o.(semanticStringValue[K])
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals is equality as K sees it.
func (v semanticStringValue[K]) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	var k K
	newValue, ok := newValuable.(semanticStringValue[K])
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("expected %sValue, got %T", k.name(), newValuable))
		return false, diags
	}
	return k.equal(v.ValueString(), newValue.ValueString()), diags
}

// ValidateAttribute refuses strings that K does not accept.
func (v semanticStringValue[K]) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	var k K
	if err := k.validate(v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid "+strings.ToLower(k.name()), err.Error())
	}
}
