package provider

import (
	"context"
	"encoding/json"
	"reflect"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// apiHTTP is a monitor as the server returns it: every default filled in.
const apiHTTP = `{
  "id": "payments-api",
  "labels": {"team": "payments", "env": "prod"},
  "spec": {
    "name": "Payments API",
    "http": {"url": "https://payments.internal/healthz", "method": "GET", "headers": {"Accept": "application/json"},
      "follow_redirects": true, "max_redirects": 10, "tls_verify": true,
      "auth": {"basic": {"username": "probe", "password": "s3cret"}}, "version": "auto", "max_body_bytes": 1048576},
    "interval": "30s", "timeout": "5s", "retries": 0,
    "assertions": ["status == 200", "response_time < 300ms"],
    "degraded_after": "800ms", "failure_threshold": 2, "success_threshold": 1, "paused": false
  },
  "status": {"state": "up", "since": "2026-11-26T10:00:00Z", "last_result": null, "open_incident": null},
  "managed_by": "api", "version": 3, "created_at": "2026-11-26T10:00:00Z", "updated_at": "2026-11-26T10:00:00Z"
}`

const apiHeartbeat = `{
  "id": "nightly-backup", "labels": {},
  "spec": {"heartbeat": {"schedule": "0 3 * * *", "grace": "30m"}, "interval": "1m", "timeout": "10s",
    "retries": 0, "assertions": [], "failure_threshold": 1, "success_threshold": 1, "paused": true},
  "status": {"state": "paused", "since": "2026-11-26T10:00:00Z", "push_url": "/push/abcdefabcdefabcdef"},
  "managed_by": "api", "version": 1
}`

func decodeMonitor(t *testing.T, s string) *client.Monitor {
	t.Helper()
	var m client.Monitor
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return &m
}

func asJSON(t *testing.T, v any) map[string]any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func resolver(p string) string { return "https://vedette.example.com" + p }

// A monitor read from the API and written back is the same document: the state holds every
// field the server holds, so a refresh followed by an apply changes nothing.
func TestMonitorRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, doc := range []string{apiHTTP, apiHeartbeat,
		`{"id":"db","labels":{},"spec":{"tcp":{"host":"db.internal","port":5432,"send":"PING\\r\\n","expect":"^\\+PONG"},
		  "interval":"15s","timeout":"3s","retries":2,"assertions":[],"failure_threshold":3,"success_threshold":2,"paused":false},"version":7}`,
		`{"id":"dns","labels":{"team":"platform"},"spec":{"name":"Public DNS","description":"resolver health",
		  "dns":{"name":"example.com","record_type":"AAAA","resolver":"1.1.1.1","transport":"tcp","expect":["2606:2800::1"],"rcode":"NOERROR"},
		  "interval":"1m","timeout":"10s","retries":0,"assertions":["dns.answers contains \"x\""],"failure_threshold":1,"success_threshold":1,"paused":false},"version":1}`,
		`{"id":"cert","labels":{},"spec":{"tls":{"host":"www.example.com","port":443,"server_name":"example.com","verify":true,"expiry_warning":"21d"},
		  "interval":"1h","timeout":"10s","retries":0,"assertions":[],"failure_threshold":1,"success_threshold":1,"paused":false},"version":1}`,
	} {
		api := decodeMonitor(t, doc)
		state := monitorFromAPI(api, nil, resolver)
		body, diags := state.toAPI(ctx)
		if diags.HasError() {
			t.Fatal(diags)
		}
		want := asJSON(t, client.MonitorWrite{Labels: api.Labels, Spec: api.Spec})
		if got := asJSON(t, body); !reflect.DeepEqual(got, want) {
			t.Errorf("%s: round trip changed the document\n got %v\nwant %v", api.ID, got, want)
		}
	}
}

func TestMonitorFromAPI(t *testing.T) {
	m := monitorFromAPI(decodeMonitor(t, apiHTTP), nil, resolver)
	if m.ID.ValueString() != "payments-api" || m.Version.ValueInt64() != 3 || m.Interval.ValueString() != "30s" {
		t.Errorf("unexpected state %+v", m)
	}
	if m.HTTP == nil || m.HTTP.BasicAuth == nil || m.HTTP.BasicAuth.Password.ValueString() != "s3cret" {
		t.Fatalf("basic auth lost: %+v", m.HTTP)
	}
	if !m.HTTP.BearerToken.IsNull() || m.TCP != nil || !m.PushURL.IsNull() || !m.Description.IsNull() {
		t.Errorf("absent fields must be null: %+v", m)
	}
	if m.DegradedAfter.ValueString() != "800ms" {
		t.Errorf("degraded_after = %v", m.DegradedAfter)
	}

	hb := monitorFromAPI(decodeMonitor(t, apiHeartbeat), nil, resolver)
	if got := hb.PushURL.ValueString(); got != "https://vedette.example.com/push/abcdefabcdefabcdef" {
		t.Errorf("push_url = %q", got)
	}
	if !hb.Heartbeat.Token.IsNull() || hb.Heartbeat.Grace.ValueString() != "30m" || !hb.Paused.ValueBool() {
		t.Errorf("heartbeat = %+v", hb.Heartbeat)
	}
	if !hb.Labels.Equal(mapValue(nil)) || !hb.Assertions.Equal(listValue(nil)) {
		t.Errorf("empty labels and assertions must be empty, not null: %v %v", hb.Labels, hb.Assertions)
	}
}

// A secret the server hides (empty or starred out) keeps the value Terraform knows, so it never
// drifts; a secret the server does return is taken as is, so a change made elsewhere shows.
func TestSecretsKeepPriorWhenRedacted(t *testing.T) {
	prior := monitorFromAPI(decodeMonitor(t, apiHTTP), nil, resolver)
	for _, hidden := range []string{"", "***", "********", "<redacted>"} {
		api := decodeMonitor(t, apiHTTP)
		api.Spec.HTTP.Auth.Basic.Password = hidden
		got := monitorFromAPI(api, &prior, resolver)
		if got.HTTP.BasicAuth.Password.ValueString() != "s3cret" {
			t.Errorf("%q: password = %q", hidden, got.HTTP.BasicAuth.Password.ValueString())
		}
	}
	api := decodeMonitor(t, apiHTTP)
	api.Spec.HTTP.Auth.Basic.Password = "changed-elsewhere"
	if got := monitorFromAPI(api, &prior, resolver); got.HTTP.BasicAuth.Password.ValueString() != "changed-elsewhere" {
		t.Errorf("an out-of-band password change must show: %q", got.HTTP.BasicAuth.Password.ValueString())
	}
	api = decodeMonitor(t, apiHTTP)
	api.Spec.HTTP.Auth = &client.HTTPAuth{Bearer: &client.BearerAuth{Token: "***"}}
	priorBearer := prior
	priorBearer.HTTP = &httpModel{BearerToken: types.StringValue("tok-123")}
	if got := monitorFromAPI(api, &priorBearer, resolver); got.HTTP.BearerToken.ValueString() != "tok-123" || got.HTTP.BasicAuth != nil {
		t.Errorf("bearer token = %v, basic = %v", got.HTTP.BearerToken, got.HTTP.BasicAuth)
	}
}

// What a plan sends: durations in the server's canonical form, absent optional fields omitted so
// the server fills in its defaults.
func TestMonitorToAPI(t *testing.T) {
	ctx := context.Background()
	m := monitorModel{
		ID:               types.StringValue("shop"),
		Name:             types.StringNull(),
		Description:      types.StringNull(),
		Labels:           mapValue(map[string]string{"team": "web"}),
		TCP:              &tcpModel{Host: types.StringValue("shop.internal"), Port: types.Int64Value(443), Send: types.StringNull(), Expect: types.StringNull()},
		Interval:         NewDurationValue("60s"),
		Timeout:          NewDurationValue("1500ms"),
		Retries:          types.Int64Value(1),
		Assertions:       listValue([]string{"status == 200"}),
		DegradedAfter:    NewDurationValue("0.5s"),
		FailureThreshold: types.Int64Value(2),
		SuccessThreshold: types.Int64Value(1),
		Paused:           types.BoolValue(true),
		PushURL:          types.StringUnknown(),
		Version:          types.Int64Unknown(),
	}
	body, diags := m.toAPI(ctx)
	if diags.HasError() {
		t.Fatal(diags)
	}
	got := asJSON(t, body)
	want := map[string]any{
		"labels": map[string]any{"team": "web"},
		"spec": map[string]any{
			"tcp":      map[string]any{"host": "shop.internal", "port": 443.0},
			"interval": "1m", "timeout": "1500ms", "retries": 1.0, "assertions": []any{"status == 200"},
			"degraded_after": "500ms", "failure_threshold": 2.0, "success_threshold": 1.0, "paused": true,
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("body\n got %v\nwant %v", got, want)
	}
}

func TestKindOfAndSummaries(t *testing.T) {
	items, ids := summarise([]client.Monitor{*decodeMonitor(t, apiHTTP), *decodeMonitor(t, apiHeartbeat)})
	if len(items) != 2 || items[0].Kind.ValueString() != "http" || items[1].Kind.ValueString() != "heartbeat" {
		t.Fatalf("summaries %+v", items)
	}
	if items[1].State.ValueString() != "paused" || items[0].ManagedBy.ValueString() != "api" {
		t.Errorf("summaries %+v", items)
	}
	if len(ids.Elements()) != 2 {
		t.Errorf("ids %v", ids)
	}
}
