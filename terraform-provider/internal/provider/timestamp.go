package provider

import (
	"fmt"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types/basetypes"
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

// timestampSemantics makes times that name the same instant equal.
type timestampSemantics struct{}

func (timestampSemantics) name() string           { return "Timestamp" }
func (timestampSemantics) equal(a, b string) bool { return TimestampsEqual(a, b) }
func (timestampSemantics) validate(s string) error {
	if _, err := time.Parse(time.RFC3339Nano, s); err != nil {
		return fmt.Errorf("expected an RFC 3339 time such as 2026-11-26T10:00:00Z: %v", err)
	}
	return nil
}

// TimestampType is a string attribute holding an RFC 3339 time; values naming the same instant
// are semantically equal.
type TimestampType = semanticStringType[timestampSemantics]

// TimestampValue is a value of TimestampType.
type TimestampValue = semanticStringValue[timestampSemantics]

// NewTimestampPointerValue is a timestamp, null when s is nil.
func NewTimestampPointerValue(s *string) TimestampValue {
	return TimestampValue{StringValue: basetypes.NewStringPointerValue(s)}
}
