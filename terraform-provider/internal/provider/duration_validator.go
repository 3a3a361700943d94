package provider

import (
	"context"
	"fmt"

	"github.com/hashicorp/terraform-plugin-framework/schema/validator"
)

// durationBetween refuses a duration outside [lo, hi] at plan time, with the bounds the server
// checks, so that a mistake is reported on its attribute before any API call.
type durationBetween struct{ lo, hi string }

func (v durationBetween) Description(context.Context) string {
	return fmt.Sprintf("must be between %s and %s", v.lo, v.hi)
}

func (v durationBetween) MarkdownDescription(ctx context.Context) string { return v.Description(ctx) }

func (v durationBetween) ValidateString(_ context.Context, req validator.StringRequest, resp *validator.StringResponse) {
	if req.ConfigValue.IsNull() || req.ConfigValue.IsUnknown() {
		return
	}
	n, err := ParseDuration(req.ConfigValue.ValueString())
	if err != nil {
		// The attribute's type reports the malformed duration.
		return
	}
	lo, _ := ParseDuration(v.lo)
	hi, _ := ParseDuration(v.hi)
	if n < lo || n > hi {
		resp.Diagnostics.AddAttributeError(req.Path, "Duration out of range",
			fmt.Sprintf("%s is %q: it must be between %s and %s.", req.Path, req.ConfigValue.ValueString(), v.lo, v.hi))
	}
}
