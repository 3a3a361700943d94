package provider

import "testing"

// A map or list the API leaves out is empty in the state, as the schema defaults plan it.
func TestMapAndListValueOfNil(t *testing.T) {
	if m := mapValue(nil); m.IsNull() || m.IsUnknown() || len(m.Elements()) != 0 {
		t.Errorf("mapValue(nil) = %v", m)
	}
	if l := listValue(nil); l.IsNull() || l.IsUnknown() || len(l.Elements()) != 0 {
		t.Errorf("listValue(nil) = %v", l)
	}
}
