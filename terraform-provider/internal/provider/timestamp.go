package provider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/attr"
	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
	"github.com/hashicorp/terraform-plugin-go/tftypes"
)

// TimestampsEqual says whether two RFC 3339 strings name the same instant
// (`2026-11-26T12:00:00+02:00` and `2026-11-26T10:00:00Z`).
func TimestampsEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := time.Parse(time.RFC3339Nano, a)
	y, errB := time.Parse(time.RFC3339Nano, b)
	return errA == nil && errB == nil && x.Equal(y)
}

// TimestampType is a string attribute holding an RFC 3339 time; values naming the same instant
// are semantically equal.
type TimestampType struct {
	basetypes.StringType
}

var (
	_ basetypes.StringTypable                    = TimestampType{}
	_ basetypes.StringValuableWithSemanticEquals = TimestampValue{}
	_ xattr.ValidateableAttribute                = TimestampValue{}
)

func (t TimestampType) String() string { return "TimestampType" }

// Equal reports whether o is a TimestampType.
func (t TimestampType) Equal(o attr.Type) bool {
	_, ok := o.(TimestampType)
	return ok
}

// ValueType is the value type of TimestampType.
func (t TimestampType) ValueType(context.Context) attr.Value { return TimestampValue{} }

// ValueFromString wraps a string value.
func (t TimestampType) ValueFromString(_ context.Context, in basetypes.StringValue) (basetypes.StringValuable, diag.Diagnostics) {
	return TimestampValue{StringValue: in}, nil
}

// ValueFromTerraform decodes a Terraform value.
func (t TimestampType) ValueFromTerraform(ctx context.Context, in tftypes.Value) (attr.Value, error) {
	v, err := t.StringType.ValueFromTerraform(ctx, in)
	if err != nil {
		return nil, err
	}
	s, ok := v.(basetypes.StringValue)
	if !ok {
		return nil, errors.New("unexpected value type")
	}
	return TimestampValue{StringValue: s}, nil
}

// TimestampValue is a value of TimestampType.
type TimestampValue struct {
	basetypes.StringValue
}

// Type is TimestampType.
func (v TimestampValue) Type(context.Context) attr.Type { return TimestampType{} }

// Equal is exact equality.
func (v TimestampValue) Equal(o attr.Value) bool {
	other, ok := o.(TimestampValue)
	return ok && v.StringValue.Equal(other.StringValue)
}

// StringSemanticEquals is equality of the instants.
func (v TimestampValue) StringSemanticEquals(_ context.Context, newValuable basetypes.StringValuable) (bool, diag.Diagnostics) {
	var diags diag.Diagnostics
	newValue, ok := newValuable.(TimestampValue)
	if !ok {
		diags.AddError("Semantic equality check error", fmt.Sprintf("expected TimestampValue, got %T", newValuable))
		return false, diags
	}
	return TimestampsEqual(v.ValueString(), newValue.ValueString()), diags
}

// ValidateAttribute refuses strings that are not RFC 3339 times.
func (v TimestampValue) ValidateAttribute(_ context.Context, req xattr.ValidateAttributeRequest, resp *xattr.ValidateAttributeResponse) {
	if v.IsNull() || v.IsUnknown() {
		return
	}
	if _, err := time.Parse(time.RFC3339Nano, v.ValueString()); err != nil {
		resp.Diagnostics.AddAttributeError(req.Path, "Invalid timestamp",
			fmt.Sprintf("expected an RFC 3339 time such as 2026-11-26T10:00:00Z: %v", err))
	}
}

// NewTimestampPointerValue is a timestamp, null when s is nil.
func NewTimestampPointerValue(s *string) TimestampValue {
	return TimestampValue{StringValue: basetypes.NewStringPointerValue(s)}
}
