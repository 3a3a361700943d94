package provider

import (
	"context"
	"reflect"
	"testing"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

func ptr[T any](v T) *T { return &v }

// A source read from the API and written back gives the same spec, for every kind of credential
// reference.
func TestDiscoverySourceRoundTrip(t *testing.T) {
	for _, creds := range []*client.Credentials{
		nil,
		{Bearer: &client.BearerCredentials{Token: client.SecretRef{Env: ptr("VEDETTE_DISCOVERY_TOKEN")}}},
		{Basic: &client.BasicCredentials{Username: "nginx", Password: client.SecretRef{File: ptr("/run/secrets/nginx")}}},
		{Header: &client.HeaderCredentials{Name: "Kong-Admin-Token", Value: client.SecretRef{Env: ptr("VEDETTE_DISCOVERY_KONG")}}},
		{AWSSigV4: &client.AWSSigV4{Region: "eu-west-1", AccessKeyID: client.SecretRef{Env: ptr("VEDETTE_DISCOVERY_AWS_ID")},
			SecretAccessKey: client.SecretRef{File: ptr("/var/run/secrets/aws/key")},
			SessionToken:    &client.SecretRef{Env: ptr("VEDETTE_DISCOVERY_AWS_TOKEN")}}},
	} {
		api := &client.DiscoverySource{
			ID:     "edge",
			Labels: map[string]string{"team": "platform"},
			Spec: client.DiscoverySourceSpec{
				Name: ptr("Edge Envoy"), Type: "envoy",
				Connection: client.Connection{URL: "http://127.0.0.1:9901", Credentials: creds,
					TLS: client.TLSSettings{CACert: ptr("-----BEGIN CERTIFICATE-----\n...")}, Timeout: "5s", MaxBytes: 1024},
				Interval: "30s", GracePeriod: "1h", DryRun: true,
				Filters: client.Filters{Include: client.RouteFilter{Hosts: []string{"*.example.com"}},
					Exclude: client.RouteFilter{Paths: []string{"/internal/*"}, Tags: []string{"beta"}}},
				Selection: &client.Selection{OptIn: true, OptInTag: "monitor", OptOutTag: "vedette:off"},
				Template: &client.MonitorTemplate{Name: "{service}", URL: "{base}{path}", Method: "HEAD",
					Headers: map[string]string{"Host": "{host}"}, Interval: "2m", Timeout: "5s", ExpectedStatus: ptr(int64(204)),
					Assertions: []string{"response_time < 500ms"}, Labels: map[string]string{"gateway": "{gateway}"},
					TLSVerify: false, FailureThreshold: 3},
				MaxRoutes: 500,
			},
			Status: client.DiscoveryStatus{State: "failed", Error: ptr("connection refused"), RoutesSeen: 4},
		}
		m := discoveryFromAPI(api, nil)
		w, diags := m.toAPI(context.Background())
		if diags.HasError() {
			t.Fatal(diags)
		}
		if !reflect.DeepEqual(w.Spec, api.Spec) {
			t.Errorf("round trip:\n got %+v\nwant %+v", w.Spec, api.Spec)
		}
		if got := m.Status.Attributes()["error"].String(); got != `"connection refused"` {
			t.Errorf("status.error = %s", got)
		}
	}
}

// Empty filters are left out on import, and kept as written when the configuration had them.
func TestDiscoveryEmptyFilters(t *testing.T) {
	api := &client.DiscoverySource{ID: "s", Spec: client.DiscoverySourceSpec{Type: "kong",
		Connection: client.Connection{URL: "http://127.0.0.1:8001"}}}
	if m := discoveryFromAPI(api, nil); m.Filters != nil {
		t.Errorf("imported empty filters: %+v", m.Filters)
	}
	prior := &discoveryModel{Filters: &filtersModel{Exclude: &routeFilterModel{}}}
	m := discoveryFromAPI(api, prior)
	if m.Filters == nil || m.Filters.Include != nil || m.Filters.Exclude == nil || !m.Filters.Exclude.Hosts.IsNull() {
		t.Errorf("configured empty filters: %+v", m.Filters)
	}
	if m.Template == nil || m.Template.Method.ValueString() != "GET" || m.Selection.OptOutTag.ValueString() != "vedette:off" {
		t.Errorf("defaults: %+v %+v", m.Template, m.Selection)
	}
}
