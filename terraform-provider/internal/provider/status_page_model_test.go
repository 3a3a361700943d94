package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// A page read from the API and written back gives the same spec, and empty optional parts stay
// null (the schema refuses `monitors = []`, so null is how they are written).
func TestStatusPageRoundTrip(t *testing.T) {
	desc, logo, sel, name := "All our services", "https://example.com/logo.png", "team=payments", "Public API"
	api := &client.StatusPage{
		ID:     "public",
		Labels: map[string]string{"team": "web"},
		Spec: client.StatusPageSpec{
			Title: "Example status", Slug: "example", Description: &desc, LogoURL: &logo,
			Groups: []client.StatusGroup{
				{Name: "API", Monitors: []client.PageMonitor{{ID: "api", Name: &name}, {ID: "auth"}}},
				{Name: "Payments", Selector: &sel},
			},
			Show: &client.ShowFigures{Uptime: true, Latency: true},
		},
		PublicPath: "/status/example",
		Version:    3,
	}
	m := statusPageFromAPI(api)
	if m.Groups[1].Monitors != nil || !m.Groups[0].Selector.IsNull() || !m.Announcement.IsNull() {
		t.Errorf("absent parts are not null: %+v", m)
	}
	if m.PublicPath.ValueString() != "/status/example" || m.Version.ValueInt64() != 3 {
		t.Errorf("computed attributes: %v %v", m.PublicPath, m.Version)
	}
	w, diags := m.toAPI(context.Background())
	if diags.HasError() {
		t.Fatal(diags)
	}
	if !reflect.DeepEqual(w.Spec, api.Spec) || !reflect.DeepEqual(w.Labels, api.Labels) {
		t.Errorf("round trip:\n got %+v\nwant %+v", w.Spec, api.Spec)
	}
}

// A page without `show` is written with the server's defaults.
func TestStatusPageShowDefaults(t *testing.T) {
	m := statusPageFromAPI(&client.StatusPage{ID: "p", Spec: client.StatusPageSpec{Title: "t", Slug: "s",
		Groups: []client.StatusGroup{{Name: "g", Monitors: []client.PageMonitor{{ID: "m"}}}}}})
	if !m.Show.Uptime.ValueBool() || m.Show.Latency.ValueBool() || m.Show.Messages.ValueBool() {
		t.Errorf("defaults: %+v", m.Show)
	}
	m.Show = nil
	w, _ := m.toAPI(context.Background())
	if w.Spec.Show == nil || *w.Spec.Show != client.DefaultShowFigures {
		t.Errorf("written show: %+v", w.Spec.Show)
	}
}
