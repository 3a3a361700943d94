package provider

import (
	"context"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/attr/xattr"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The table mirrors crates/model/src/duration.rs so both sides agree on the canonical form.
func TestParseAndFormatDuration(t *testing.T) {
	for _, tc := range []struct {
		in    string
		nanos uint64
		canon string
	}{
		{"500ms", 500_000_000, "500ms"},
		{"30s", 30_000_000_000, "30s"},
		{"1m30s", 90_000_000_000, "90s"},
		{"2h", 7_200_000_000_000, "2h"},
		{"90s", 90_000_000_000, "90s"},
		{"60s", 60_000_000_000, "1m"},
		{"1.5s", 1_500_000_000, "1500ms"},
		{"1d", 86_400_000_000_000, "1d"},
		{"24h", 86_400_000_000_000, "1d"},
		{"14d", 14 * 86_400_000_000_000, "14d"},
		{"21d", 21 * 86_400_000_000_000, "21d"},
		{"504h", 21 * 86_400_000_000_000, "21d"},
		{"36h", 36 * 3_600_000_000_000, "36h"},
		{"90m", 90 * 60_000_000_000, "90m"},
		{"1h30m", 90 * 60_000_000_000, "90m"},
		{"0", 0, "0s"},
		{"0s", 0, "0s"},
		{" 10s ", 10_000_000_000, "10s"},
		{"1h0m5s", 3_605_000_000_000, "3605s"},
		{"250us", 250_000, "250us"},
		{"3ns", 3, "3ns"},
	} {
		got, err := ParseDuration(tc.in)
		if err != nil {
			t.Fatalf("ParseDuration(%q): %v", tc.in, err)
		}
		if got != tc.nanos {
			t.Errorf("ParseDuration(%q) = %d, want %d", tc.in, got, tc.nanos)
		}
		if c := FormatDuration(got); c != tc.canon {
			t.Errorf("FormatDuration(%q) = %q, want %q", tc.in, c, tc.canon)
		}
		if back, err := ParseDuration(tc.canon); err != nil || back != got {
			t.Errorf("canonical %q does not parse back to %d: %d, %v", tc.canon, got, back, err)
		}
	}
}

func TestParseDurationRejects(t *testing.T) {
	for _, in := range []string{"", "10", "ms", "5x", "1..2s", "99999999999999999999999h", "-1s", "1 s", "s1"} {
		if n, err := ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %d, want an error", in, n)
		}
	}
}

func TestDurationSemanticEquality(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{"60s", "1m", true},
		{"1m", "60s", true},
		{"90s", "1m30s", true},
		{"1d", "24h", true},
		{"1500ms", "1s500ms", true},
		{"21d", "504h", true},
		{"1m", "1m1s", false},
		{"bogus", "bogus", true},
		{"bogus", "1m", false},
	} {
		got, diags := NewDurationValue(tc.a).StringSemanticEquals(ctx, NewDurationValue(tc.b))
		if diags.HasError() {
			t.Fatalf("%q vs %q: %v", tc.a, tc.b, diags)
		}
		if got != tc.equal {
			t.Errorf("%q vs %q: semantic equality %v, want %v", tc.a, tc.b, got, tc.equal)
		}
	}
	// Exact equality stays exact (the framework needs it to tell configuration apart).
	if NewDurationValue("60s").Equal(NewDurationValue("1m")) {
		t.Error("Equal must compare the strings")
	}
}

func TestDurationValidation(t *testing.T) {
	ctx := context.Background()
	for in, ok := range map[string]bool{"30s": true, "1m30s": true, "thirty seconds": false, "10": false} {
		var resp xattr.ValidateAttributeResponse
		NewDurationValue(in).ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: path.Root("interval")}, &resp)
		if resp.Diagnostics.HasError() == ok {
			t.Errorf("%q: errors %v, want ok=%v", in, resp.Diagnostics, ok)
		}
	}
	var resp xattr.ValidateAttributeResponse
	NewDurationNull().ValidateAttribute(ctx, xattr.ValidateAttributeRequest{Path: path.Root("x")}, &resp)
	if resp.Diagnostics.HasError() {
		t.Error("null must validate")
	}
}

func TestDurationTypeRoundTrip(t *testing.T) {
	ctx := context.Background()
	v, diags := DurationType{}.ValueFromString(ctx, basetypes.NewStringValue("5s"))
	if diags.HasError() {
		t.Fatal(diags)
	}
	tv, err := v.ToTerraformValue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	back, err := DurationType{}.ValueFromTerraform(ctx, tv)
	if err != nil {
		t.Fatal(err)
	}
	if !back.Equal(NewDurationValue("5s")) {
		t.Errorf("round trip gave %v", back)
	}
}

func TestTimestampSemanticEquality(t *testing.T) {
	for _, tc := range []struct {
		a, b  string
		equal bool
	}{
		{"2026-11-26T12:00:00+02:00", "2026-11-26T10:00:00Z", true},
		{"2026-11-26T10:00:00.000Z", "2026-11-26T10:00:00Z", true},
		{"2026-11-26T10:00:01Z", "2026-11-26T10:00:00Z", false},
		{"tomorrow", "2026-11-26T10:00:00Z", false},
	} {
		if got := TimestampsEqual(tc.a, tc.b); got != tc.equal {
			t.Errorf("%q vs %q: %v, want %v", tc.a, tc.b, got, tc.equal)
		}
	}
}
