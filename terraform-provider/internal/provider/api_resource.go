package provider

import (
	"context"
	"fmt"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"
	"github.com/hashicorp/terraform-plugin-framework/resource"
	"github.com/hashicorp/terraform-plugin-framework/tfsdk"
	"github.com/hashicorp/terraform-plugin-framework/types"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// apiResource is the CRUD plumbing every resource shares: its object is put (If-None-Match on
// create, If-Match with the stored version on update), read and deleted by id through a
// collection of the API, a 404 on read drops it from the state, and import takes the id. M is
// the Terraform model, T the API object, W its write body. A resource embeds it and adds its
// schema; its schema has the attributes `id` and `version` (idAttribute, versionAttribute).
type apiResource[M, T, W any] struct {
	client *client.Client
	api    client.Collection[T, W]
	// what names one object in messages ("maintenance window"); with spaces as underscores it is
	// the type name after `vedette_`.
	what string
	// example is an id shown in the error of an invalid import id.
	example string
	// importAdvice leads the import block in the error of a create whose id is taken;
	// importFollowUp, when set, follows the block.
	importAdvice, importFollowUp string
	// writeOnly says the schema has write-only attributes: create and update then also read the
	// configuration, the only place their values are, and pass it to toAPI (else cfg is nil).
	writeOnly bool
	// toAPI is the write body of a plan.
	toAPI func(ctx context.Context, plan, cfg *M) (W, diag.Diagnostics)
	// fromAPI is the state of an object of the API; prior is the plan or the state before, which
	// supplies what the API does not return (secrets).
	fromAPI func(c *client.Client, obj *T, prior *M) M
	// afterUpdate, when set, adjusts the state of an update from the state before it.
	afterUpdate func(state, prior *M)
}

// managedResource is what every resource of the provider is; apiResource supplies all of it but
// the schema.
type managedResource interface {
	resource.ResourceWithConfigure
	resource.ResourceWithImportState
	resource.ResourceWithModifyPlan
}

func (r *apiResource[M, T, W]) typeName() string { return strings.ReplaceAll(r.what, " ", "_") }

func (r *apiResource[M, T, W]) Metadata(_ context.Context, req resource.MetadataRequest, resp *resource.MetadataResponse) {
	resp.TypeName = req.ProviderTypeName + "_" + r.typeName()
}

func (r *apiResource[M, T, W]) Configure(_ context.Context, req resource.ConfigureRequest, resp *resource.ConfigureResponse) {
	r.client = configuredClient(req.ProviderData, &resp.Diagnostics)
}

// identity is the id and stored version (0 when there is none) of a plan or state, read with its
// GetAttribute.
func identity(ctx context.Context, get func(context.Context, path.Path, any) diag.Diagnostics, diags *diag.Diagnostics) (string, int64) {
	var id types.String
	var version types.Int64
	diags.Append(get(ctx, path.Root("id"), &id)...)
	diags.Append(get(ctx, path.Root("version"), &version)...)
	return id.ValueString(), version.ValueInt64()
}

// planned reads the plan, and the configuration when the schema has write-only attributes, and
// builds the write body of the plan.
func (r *apiResource[M, T, W]) planned(ctx context.Context, p tfsdk.Plan, c tfsdk.Config, diags *diag.Diagnostics) (plan M, body W, id string) {
	diags.Append(p.Get(ctx, &plan)...)
	var cfg *M
	if r.writeOnly {
		cfg = new(M)
		diags.Append(c.Get(ctx, cfg)...)
	}
	id, _ = identity(ctx, p.GetAttribute, diags)
	if diags.HasError() {
		return plan, body, id
	}
	body, d := r.toAPI(ctx, &plan, cfg)
	diags.Append(d...)
	return plan, body, id
}

func (r *apiResource[M, T, W]) Create(ctx context.Context, req resource.CreateRequest, resp *resource.CreateResponse) {
	plan, body, id := r.planned(ctx, req.Plan, req.Config, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	created, err := r.api.Put(ctx, r.client, id, body, client.IfAbsent())
	if client.IsPreconditionFailed(err) {
		resp.Diagnostics.AddAttributeError(path.Root("id"), strings.ToUpper(r.what[:1])+r.what[1:]+" already exists",
			fmt.Sprintf("A %s with id %q already exists on the server. %s:\n\nimport {\n  to = vedette_%s.<name>\n  id = %q\n}%s",
				r.what, id, r.importAdvice, r.typeName(), id, r.importFollowUp))
		return
	}
	if state := r.stateOf("Creating", id, created, err, &plan, &resp.Diagnostics); state != nil {
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	}
}

// stateOf is the state of obj, what the API answered to op ("Creating") on the object id, or nil
// when it answered err, which it reports. prior, the plan or the state before, supplies what the
// API does not return.
func (r *apiResource[M, T, W]) stateOf(op, id string, obj *T, err error, prior *M, diags *diag.Diagnostics) *M {
	if err != nil {
		addAPIError(diags, op+" "+r.what+" "+id, err)
		return nil
	}
	state := r.fromAPI(r.client, obj, prior)
	return &state
}

// Read refreshes the state from the API; an object deleted outside Terraform leaves the state,
// so that the next apply creates it again.
func (r *apiResource[M, T, W]) Read(ctx context.Context, req resource.ReadRequest, resp *resource.ReadResponse) {
	var prior M
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	id, _ := identity(ctx, req.State.GetAttribute, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	got, err := r.api.Get(ctx, r.client, id)
	if client.IsNotFound(err) {
		resp.State.RemoveResource(ctx)
		return
	}
	if state := r.stateOf("Reading", id, got, err, &prior, &resp.Diagnostics); state != nil {
		resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
	}
}

// Update replaces the object if its version is still the one in the state.
func (r *apiResource[M, T, W]) Update(ctx context.Context, req resource.UpdateRequest, resp *resource.UpdateResponse) {
	plan, body, id := r.planned(ctx, req.Plan, req.Config, &resp.Diagnostics)
	var prior M
	resp.Diagnostics.Append(req.State.Get(ctx, &prior)...)
	_, version := identity(ctx, req.State.GetAttribute, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	updated, err := r.api.Put(ctx, r.client, id, body, client.IfMatch(version))
	state := r.stateOf("Updating", id, updated, err, &plan, &resp.Diagnostics)
	if state == nil {
		return
	}
	if r.afterUpdate != nil {
		r.afterUpdate(state, &prior)
	}
	resp.Diagnostics.Append(resp.State.Set(ctx, state)...)
}

// Delete deletes the object if its version is still the one in the state; one that is gone
// already is what was wanted.
func (r *apiResource[M, T, W]) Delete(ctx context.Context, req resource.DeleteRequest, resp *resource.DeleteResponse) {
	id, version := identity(ctx, req.State.GetAttribute, &resp.Diagnostics)
	if resp.Diagnostics.HasError() {
		return
	}
	err := r.api.Delete(ctx, r.client, id, client.IfMatch(version))
	if client.IsPreconditionFailed(err) {
		// If-Match on an object that is gone is also a 412: gone is what we wanted.
		if _, getErr := r.api.Get(ctx, r.client, id); client.IsNotFound(getErr) {
			err = nil
		}
	}
	if err != nil && !client.IsNotFound(err) {
		addAPIError(&resp.Diagnostics, "Deleting "+r.what+" "+id, err)
	}
}

// ModifyPlan keeps the version when nothing else changes.
func (r *apiResource[M, T, W]) ModifyPlan(ctx context.Context, req resource.ModifyPlanRequest, resp *resource.ModifyPlanResponse) {
	keepVersionWhenUnchanged(ctx, req, resp)
}

// ImportState takes the id of the object to import; the Read that follows fills in the rest.
func (r *apiResource[M, T, W]) ImportState(ctx context.Context, req resource.ImportStateRequest, resp *resource.ImportStateResponse) {
	if !slugPattern.MatchString(req.ID) {
		resp.Diagnostics.AddError("Invalid import id",
			fmt.Sprintf("%q is not a %s id: expected a slug such as %s", req.ID, r.what, r.example))
		return
	}
	resp.Diagnostics.Append(resp.State.SetAttribute(ctx, path.Root("id"), req.ID)...)
}
