package provider

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-go/tftypes"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// fakeAPI answers each method with a fixed status (200 with window when absent) and records the
// requests as "METHOD path precondition".
type fakeAPI struct {
	status   map[string]int
	window   string
	requests []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.requests = append(f.requests, strings.TrimSpace(r.Method+" "+r.URL.Path+" "+r.Header.Get("If-Match")+r.Header.Get("If-None-Match")))
	if status := f.status[r.Method]; status != 0 {
		w.WriteHeader(status)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(f.window))
}

// testWindowResource is the maintenance window resource talking to api, with the state of the
// window `w` at version 7.
func testWindowResource(t *testing.T, api *fakeAPI) (*maintenanceWindowResource, tfsdk.State) {
	t.Helper()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	c, err := client.New(client.Config{Endpoint: srv.URL, MaxRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	r := NewMaintenanceWindowResource().(*maintenanceWindowResource)
	r.Configure(context.Background(), resource.ConfigureRequest{ProviderData: c}, &resource.ConfigureResponse{})
	var schema resource.SchemaResponse
	r.Schema(context.Background(), resource.SchemaRequest{}, &schema)
	cron, duration := "0 2 * * 0", "1h"
	model := maintenanceFromAPI(&client.MaintenanceWindow{ID: "w", Version: 7,
		Spec: client.MaintenanceSpec{Cron: &cron, Duration: &duration, Monitors: []string{"db"}}})
	state := tfsdk.State{Schema: schema.Schema, Raw: tftypes.NewValue(schema.Schema.Type().TerraformType(context.Background()), nil)}
	if diags := state.Set(context.Background(), &model); diags.HasError() {
		t.Fatal(diags)
	}
	return r, state
}

func summaries(diags diag.Diagnostics) string {
	var out []string
	for _, d := range diags {
		out = append(out, d.Summary()+": "+d.Detail())
	}
	return strings.Join(out, "\n")
}

// A delete refused with 412 because the object is gone succeeds; one refused because it changed
// reports the change.
func TestAPIResourceDelete(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status map[string]int
		want   string
	}{
		{"deleted", map[string]int{http.MethodDelete: http.StatusNoContent}, ""},
		{"gone before", map[string]int{http.MethodDelete: http.StatusNotFound}, ""},
		{"gone since the refresh", map[string]int{http.MethodDelete: http.StatusPreconditionFailed, http.MethodGet: http.StatusNotFound}, ""},
		{"changed since the refresh", map[string]int{http.MethodDelete: http.StatusPreconditionFailed}, "Deleting maintenance window w: changed outside Terraform"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{status: tc.status, window: `{"id":"w","version":8}`}
			r, state := testWindowResource(t, api)
			resp := resource.DeleteResponse{State: state}
			r.Delete(context.Background(), resource.DeleteRequest{State: state}, &resp)
			if got := summaries(resp.Diagnostics); (tc.want == "" && got != "") || !strings.HasPrefix(got, tc.want) {
				t.Errorf("diagnostics %q, want %q", got, tc.want)
			}
			if api.requests[0] != `DELETE /api/v1/maintenance/w "7"` {
				t.Errorf("requests %q", api.requests)
			}
		})
	}
}

// A read of an object deleted outside Terraform removes it from the state.
func TestAPIResourceReadGone(t *testing.T) {
	r, state := testWindowResource(t, &fakeAPI{status: map[string]int{http.MethodGet: http.StatusNotFound}})
	resp := resource.ReadResponse{State: state}
	r.Read(context.Background(), resource.ReadRequest{State: state}, &resp)
	if resp.Diagnostics.HasError() || !resp.State.Raw.IsNull() {
		t.Errorf("state %v, diagnostics %v", resp.State.Raw, resp.Diagnostics)
	}
}

// A create whose id is taken says how to import the object instead.
func TestAPIResourceCreateExisting(t *testing.T) {
	api := &fakeAPI{status: map[string]int{http.MethodPut: http.StatusPreconditionFailed}}
	r, state := testWindowResource(t, api)
	plan := tfsdk.Plan{Schema: state.Schema, Raw: state.Raw}
	resp := resource.CreateResponse{State: tfsdk.State{Schema: state.Schema, Raw: tftypes.NewValue(state.Raw.Type(), nil)}}
	r.Create(context.Background(), resource.CreateRequest{Plan: plan, Config: tfsdk.Config{Schema: state.Schema, Raw: state.Raw}}, &resp)
	want := "Maintenance window already exists: A maintenance window with id \"w\" already exists on the server. " +
		"Import it instead:\n\nimport {\n  to = vedette_maintenance_window.<name>\n  id = \"w\"\n}"
	if got := summaries(resp.Diagnostics); got != want {
		t.Errorf("diagnostics %q, want %q", got, want)
	}
	if strings.Join(api.requests, "\n") != "PUT /api/v1/maintenance/w *" {
		t.Errorf("requests %q", api.requests)
	}
}

// Import takes a slug and refuses anything else.
func TestAPIResourceImportState(t *testing.T) {
	r, state := testWindowResource(t, &fakeAPI{})
	for id, want := range map[string]string{
		"weekly-db":  "",
		"Not A Slug": `Invalid import id: "Not A Slug" is not a maintenance window id: expected a slug such as weekly-db-patching`,
	} {
		resp := resource.ImportStateResponse{State: tfsdk.State{Schema: state.Schema, Raw: tftypes.NewValue(state.Raw.Type(), nil)}}
		r.ImportState(context.Background(), resource.ImportStateRequest{ID: id}, &resp)
		if got := summaries(resp.Diagnostics); got != want {
			t.Errorf("import %q: diagnostics %q, want %q", id, got, want)
		}
		var got *string
		resp.State.GetAttribute(context.Background(), path.Root("id"), &got)
		if want == "" && (got == nil || *got != id) {
			t.Errorf("import %q: state id %v", id, got)
		}
	}
}

// An update sends the stored version as If-Match and stores the answer's.
func TestAPIResourceUpdate(t *testing.T) {
	api := &fakeAPI{window: `{"id":"w","version":8,"spec":{"cron":"0 2 * * 0","duration":"1h","monitors":["db"]}}`}
	r, state := testWindowResource(t, api)
	plan := tfsdk.Plan{Schema: state.Schema, Raw: state.Raw}
	resp := resource.UpdateResponse{State: state}
	r.Update(context.Background(), resource.UpdateRequest{Plan: plan, State: state, Config: tfsdk.Config{Schema: state.Schema, Raw: state.Raw}}, &resp)
	var version int64
	resp.Diagnostics.Append(resp.State.GetAttribute(context.Background(), path.Root("version"), &version)...)
	if resp.Diagnostics.HasError() || version != 8 {
		t.Errorf("version %d, diagnostics %v", version, resp.Diagnostics)
	}
	if strings.Join(api.requests, "\n") != `PUT /api/v1/maintenance/w "7"` {
		t.Errorf("requests %q", api.requests)
	}
}
