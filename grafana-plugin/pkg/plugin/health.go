package plugin

import (
	"context"
	"errors"
	"fmt"
	"net/url"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// CheckHealth checks, in order, the settings, that the server answers `/healthz`, that it
// is Vedette (its version, from the public OpenAPI document) and that the token is valid
// with the read scope; each failure says which step failed. The token is never shown.
func (d *Datasource) CheckHealth(ctx context.Context, _ *backend.CheckHealthRequest) (*backend.CheckHealthResult, error) {
	fail := func(format string, args ...any) (*backend.CheckHealthResult, error) {
		return &backend.CheckHealthResult{Status: backend.HealthStatusError, Message: fmt.Sprintf(format, args...)}, nil
	}
	if d.configErr != nil {
		return fail("%s", d.configErr.Error())
	}
	if !d.token {
		return fail("the API token is not set: create one with `vedette token create --name grafana --scope read` and paste it into the token field")
	}
	base := d.client.URL()
	status, body, err := d.client.Raw(ctx, "/healthz", url.Values{}, false)
	if err != nil {
		return fail("%s", err.Error())
	}
	if status != 200 {
		return fail("%s/healthz answered HTTP %d (%s): is this the address of a Vedette server?", base, status, short(body))
	}
	version, err := d.client.Version(ctx)
	if err != nil {
		return fail("%s answers /healthz but %s/api/v1/openapi.json is not Vedette's API document (%s): check the URL", base, base, err.Error())
	}
	summary, err := d.client.Status(ctx)
	var api *vedette.APIError
	switch {
	case errors.As(err, &api) && api.Status == 401:
		return fail("Vedette %s at %s rejected the API token: it is unknown, expired or revoked; create a new one with `vedette token create --name grafana --scope read`", version, base)
	case errors.As(err, &api) && api.Status == 403:
		return fail("Vedette %s at %s accepted the API token but it lacks the read scope", version, base)
	case errors.As(err, &api) && api.Status == 429:
		return fail("Vedette %s at %s is rate limiting this address after failed logins: wait a minute and check the token", version, base)
	case err != nil:
		return fail("Vedette %s at %s: reading /api/v1/status failed: %s", version, base, err.Error())
	}
	return &backend.CheckHealthResult{
		Status:  backend.HealthStatusOk,
		Message: fmt.Sprintf("Vedette %s at %s: token valid with read scope, %d monitors", version, base, summary.Monitors.Total),
	}, nil
}

// short is the start of an answer body for a message.
func short(body []byte) string {
	const n = 80
	text := string(body)
	if len(text) > n {
		text = text[:n] + "…"
	}
	if text == "" {
		return "empty body"
	}
	return text
}
