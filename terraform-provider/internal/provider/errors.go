package provider

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/hashicorp/terraform-plugin-framework/diag"
	"github.com/hashicorp/terraform-plugin-framework/path"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// fieldRenames maps API field names to attribute names where the two differ (the rest are equal).
// Keys are dotted API paths relative to `spec`, with map keys and list indexes removed.
var fieldRenames = map[string][]string{
	"http.auth":                {"http"},
	"http.auth.basic":          {"http", "basic_auth"},
	"http.auth.basic.username": {"http", "basic_auth", "username"},
	"http.auth.basic.password": {"http", "basic_auth", "password"},
	"http.auth.bearer":         {"http", "bearer_token"},
	"http.auth.bearer.token":   {"http", "bearer_token"},
	// vedette_webhook_endpoint
	"auth.password":  {"auth", "secret"},
	"auth.token":     {"auth", "secret"},
	"auth.value":     {"auth", "secret"},
	"secrets":        {"signing_secret"},
	"secrets.secret": {"signing_secret"},
	// vedette_discovery_source (`connection` is reserved by Terraform)
	"connection":             {"endpoint"},
	"connection.tls":         {"endpoint"},
	"connection.tls.ca_cert": {"endpoint", "ca_cert"},
}

// leafAttributes are attributes holding a whole JSON document: a field inside one names the
// attribute itself.
var leafAttributes = map[string]bool{"integration.params": true}

// mapAttributes are the attributes whose next path segment is a map key, not a field name.
var mapAttributes = map[string]bool{"labels": true, "http.headers": true, "headers": true}

// AttributePath turns an API field path (`spec.http.url`, `spec.assertions[2]`,
// `spec.http.headers.X-Token`, `labels.team`) into the attribute path of the resource. The
// boolean is false when the field names the whole resource or is not understood.
func AttributePath(field string) (path.Path, bool) {
	f := strings.TrimSpace(field)
	switch {
	case f == "spec" || f == "":
		return path.Empty(), false
	case strings.HasPrefix(f, "spec."):
		f = strings.TrimPrefix(f, "spec.")
	case strings.HasPrefix(f, "metadata."):
		f = strings.TrimPrefix(f, "metadata.")
	}
	var p path.Path
	started := false
	names := []string{}
	for f != "" {
		// Map keys: everything after `<map>.` is the key (keys may hold dots).
		if mapAttributes[strings.Join(names, ".")] && started {
			p = p.AtMapKey(f)
			return p, true
		}
		if leafAttributes[strings.Join(names, ".")] && started {
			return p, true
		}
		end := strings.IndexAny(f, ".[")
		var seg string
		if end < 0 {
			seg, f = f, ""
		} else {
			seg, f = f[:end], f[end:]
		}
		if seg != "" {
			names = append(names, seg)
			key := strings.Join(names, ".")
			if renamed, ok := fieldRenames[key]; ok && renamed != nil {
				p = pathOf(renamed)
				started = len(renamed) > 0
			} else if !started {
				p, started = path.Root(seg), true
			} else {
				p = p.AtName(seg)
			}
		}
		// List indexes.
		for strings.HasPrefix(f, "[") {
			close := strings.IndexByte(f, ']')
			if close < 0 {
				return p, started
			}
			i, err := strconv.Atoi(f[1:close])
			if err != nil || !started {
				return p, started
			}
			p = p.AtListIndex(i)
			f = f[close+1:]
		}
		f = strings.TrimPrefix(f, ".")
	}
	return p, started
}

func pathOf(names []string) path.Path {
	if len(names) == 0 {
		return path.Empty()
	}
	p := path.Root(names[0])
	for _, n := range names[1:] {
		p = p.AtName(n)
	}
	return p
}

// addAPIError reports err as diagnostics: each field of a 422 on its attribute, anything else as
// one error whose summary says what was being done.
func addAPIError(diags *diag.Diagnostics, action string, err error) {
	var apiErr *client.Error
	if !errors.As(err, &apiErr) {
		diags.AddError(action, err.Error())
		return
	}
	summary := action
	switch apiErr.StatusCode {
	case http.StatusPreconditionFailed:
		diags.AddError(action+": changed outside Terraform",
			"The object was changed by someone else since Terraform last read it (the API answered 412 to "+
				"If-Match). Run `terraform plan` again to see the current state, then apply.\n\n"+apiErr.Error())
		return
	case http.StatusConflict:
		diags.AddError(action+": conflict",
			"The API refused the write with 409 Conflict: objects loaded from `vedette serve --config` files "+
				"(managed_by = file) can only be changed in those files, objects labelled `managed-by` are written only "+
				"by that manager, and a status page's slug and custom domain are unique. The API's reason:\n\n"+apiErr.Error())
		return
	case http.StatusUnauthorized:
		diags.AddError(action+": unauthorized", "Check the provider's token (VEDETTE_TOKEN).\n\n"+apiErr.Error())
		return
	case http.StatusForbidden:
		diags.AddError(action+": forbidden", "The token lacks the scope for this call (writes need the write scope).\n\n"+apiErr.Error())
		return
	}
	if len(apiErr.Errors) == 0 {
		diags.AddError(summary, apiErr.Error())
		return
	}
	for _, fe := range apiErr.Errors {
		detail := fmt.Sprintf("%s (API field %s)", fe.Message, fe.Field)
		if p, ok := AttributePath(fe.Field); ok {
			diags.AddAttributeError(p, summary+": invalid value", detail)
		} else {
			diags.AddError(summary+": invalid value", detail)
		}
	}
}
