package provider

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
)

// The units of a Vedette duration, largest first, in nanoseconds (crates/model/src/duration.rs).
var durationUnits = []struct {
	name  string
	nanos uint64
}{
	{"d", 86_400_000_000_000},
	{"h", 3_600_000_000_000},
	{"m", 60_000_000_000},
	{"s", 1_000_000_000},
	{"ms", 1_000_000},
	{"us", 1_000},
	{"ns", 1},
}

// ParseDuration parses a Vedette duration (`500ms`, `30s`, `1m30s`, `1.5s`, `2h`, `1d`, `0`) into
// nanoseconds, with the server's rules.
func ParseDuration(input string) (uint64, error) {
	s := strings.TrimSpace(input)
	fail := func(reason string) (uint64, error) {
		return 0, fmt.Errorf("invalid duration %q: %s (expected e.g. 500ms, 30s, 1m30s, 2h)", input, reason)
	}
	if s == "" {
		return fail("empty")
	}
	if s == "0" {
		return 0, nil
	}
	var total uint64
	for i := 0; i < len(s); {
		start := i
		for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
			i++
		}
		if start == i {
			return fail("expected a number")
		}
		number, err := strconv.ParseFloat(s[start:i], 64)
		if err != nil || strings.Count(s[start:i], ".") > 1 {
			return fail("malformed number")
		}
		ustart := i
		for i < len(s) && (s[i] >= 'a' && s[i] <= 'z' || s[i] >= 'A' && s[i] <= 'Z') {
			i++
		}
		unit := s[ustart:i]
		if unit == "" {
			return fail("missing unit (ms, s, m, h, d)")
		}
		var size uint64
		for _, u := range durationUnits {
			if u.name == unit {
				size = u.nanos
			}
		}
		if size == 0 {
			return fail("unknown unit (use ns, us, ms, s, m, h or d)")
		}
		part := number * float64(size)
		if math.IsInf(part, 0) || math.IsNaN(part) || part >= float64(math.MaxInt64) {
			return fail("too large")
		}
		if total+uint64(part) < total || total+uint64(part) > math.MaxInt64 {
			return fail("too large")
		}
		total += uint64(part)
	}
	return total, nil
}

// FormatDuration writes nanoseconds the way the server does: one number in the largest unit that
// divides the span exactly (`21d`, `36h`, `90m`, `1500ms`), `0s` for nothing.
func FormatDuration(nanos uint64) string {
	if nanos == 0 {
		return "0s"
	}
	for _, u := range durationUnits {
		if nanos%u.nanos == 0 {
			return fmt.Sprintf("%d%s", nanos/u.nanos, u.name)
		}
	}
	return fmt.Sprintf("%dns", nanos)
}

// CanonicalDuration is the server's form of a duration, or the input itself when it does not parse.
func CanonicalDuration(s string) string {
	n, err := ParseDuration(s)
	if err != nil {
		return s
	}
	return FormatDuration(n)
}

// DurationsEqual says whether two duration strings mean the same span (`60s` and `1m`).
func DurationsEqual(a, b string) bool {
	if a == b {
		return true
	}
	x, errA := ParseDuration(a)
	y, errB := ParseDuration(b)
	return errA == nil && errB == nil && x == y
}

// durationSemantics makes durations that mean the same span equal.
type durationSemantics struct{}

func (durationSemantics) name() string           { return "Duration" }
func (durationSemantics) equal(a, b string) bool { return DurationsEqual(a, b) }
func (durationSemantics) validate(s string) error {
	_, err := ParseDuration(s)
	return err
}

// DurationType is a string attribute holding a Vedette duration; values that mean the same span
// are semantically equal, so `60s` in a configuration and `1m` from the server never make a diff.
type DurationType = semanticStringType[durationSemantics]

// DurationValue is a value of DurationType.
type DurationValue = semanticStringValue[durationSemantics]

// NewDurationValue is a known duration.
func NewDurationValue(s string) DurationValue {
	return DurationValue{StringValue: basetypes.NewStringValue(s)}
}

// NewDurationPointerValue is a duration, null when s is nil.
func NewDurationPointerValue(s *string) DurationValue {
	return DurationValue{StringValue: basetypes.NewStringPointerValue(s)}
}

// NewDurationNull is a null duration.
func NewDurationNull() DurationValue { return DurationValue{StringValue: basetypes.NewStringNull()} }
