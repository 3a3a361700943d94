package provider

import (
	"errors"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

func TestAttributePath(t *testing.T) {
	for _, tc := range []struct {
		field string
		want  path.Path
		ok    bool
	}{
		{"spec.http.url", path.Root("http").AtName("url"), true},
		{"spec.interval", path.Root("interval"), true},
		{"spec.assertions[2]", path.Root("assertions").AtListIndex(2), true},
		{"spec.dns.expect[0]", path.Root("dns").AtName("expect").AtListIndex(0), true},
		{"spec.http.headers.X-Api.Key", path.Root("http").AtName("headers").AtMapKey("X-Api.Key"), true},
		{"labels.team.eu/zone", path.Root("labels").AtMapKey("team.eu/zone"), true},
		{"labels", path.Root("labels"), true},
		{"metadata.labels.team", path.Root("labels").AtMapKey("team"), true},
		{"spec.http.auth.basic.password", path.Root("http").AtName("basic_auth").AtName("password"), true},
		{"spec.http.auth.bearer.token", path.Root("http").AtName("bearer_token"), true},
		{"spec.heartbeat.token", path.Root("heartbeat").AtName("token"), true},
		{"spec.monitors[3]", path.Root("monitors").AtListIndex(3), true},
		{"id", path.Root("id"), true},
		{"spec.headers.X-Big", path.Root("headers").AtMapKey("X-Big"), true},
		{"spec.event_types[0]", path.Root("event_types").AtListIndex(0), true},
		{"spec.template.body", path.Root("template").AtName("body"), true},
		{"spec.integration.params.webhook_url", path.Root("integration").AtName("params"), true},
		{"spec.auth.token", path.Root("auth").AtName("secret"), true},
		{"spec.secrets[0].secret", path.Root("signing_secret"), true},
		{"spec.connection.url", path.Root("endpoint").AtName("url"), true},
		{"spec.connection.tls.ca_cert", path.Root("endpoint").AtName("ca_cert"), true},
		{"spec.connection.credentials.header.value.env",
			path.Root("endpoint").AtName("credentials").AtName("header").AtName("value").AtName("env"), true},
		{"spec.groups[0].monitors[1].id", path.Root("groups").AtListIndex(0).AtName("monitors").AtListIndex(1).AtName("id"), true},
		{"spec", path.Empty(), false},
		{"", path.Empty(), false},
	} {
		got, ok := AttributePath(tc.field)
		if ok != tc.ok || (ok && !got.Equal(tc.want)) {
			t.Errorf("AttributePath(%q) = %s, %v; want %s, %v", tc.field, got, ok, tc.want, tc.ok)
		}
	}
}

func TestValidationProblemBecomesAttributeDiagnostics(t *testing.T) {
	body := []byte(`{"type":"https://vedette.dev/problems/validation","title":"Validation failed","status":422,
		"detail":"2 problems","errors":[{"field":"spec.http.url","message":"expected an absolute http:// or https:// URL"},
		{"field":"spec.assertions[1]","message":"unexpected end of input at column 9"},
		{"field":"spec","message":"exactly one of http, tcp, dns, tls, heartbeat must be set; found none"}]}`)
	err := client.DecodeProblem(422, body)
	var diags diag.Diagnostics
	addAPIError(&diags, "Creating monitor x", err)
	if len(diags) != 3 {
		t.Fatalf("want 3 diagnostics, got %d: %v", len(diags), diags)
	}
	withPath := map[string]string{}
	for _, d := range diags {
		if d, ok := d.(diag.DiagnosticWithPath); ok {
			withPath[d.Path().String()] = d.Detail()
		}
	}
	if !strings.Contains(withPath["http.url"], "absolute http://") {
		t.Errorf("http.url diagnostic missing: %v", withPath)
	}
	if !strings.Contains(withPath["assertions[1]"], "column 9") {
		t.Errorf("assertions[1] diagnostic missing: %v", withPath)
	}
	if len(withPath) != 2 {
		t.Errorf("the spec-level problem must have no path: %v", withPath)
	}
}

func TestOtherErrorsBecomeOneDiagnostic(t *testing.T) {
	for status, want := range map[int]string{
		412: "changed outside Terraform",
		409: "conflict",
		401: "unauthorized",
		403: "forbidden",
		500: "Reading monitor x",
	} {
		var diags diag.Diagnostics
		addAPIError(&diags, "Reading monitor x", client.DecodeProblem(status, []byte(`{"title":"t","status":1,"detail":"d"}`)))
		if len(diags) != 1 || !strings.Contains(diags[0].Summary(), want) {
			t.Errorf("%d: got %v, want a summary with %q", status, diags, want)
		}
	}
	var diags diag.Diagnostics
	addAPIError(&diags, "Reading", errors.New("connection refused"))
	if len(diags) != 1 || diags[0].Detail() != "connection refused" {
		t.Errorf("got %v", diags)
	}
}
