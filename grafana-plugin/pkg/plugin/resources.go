package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// monitorRef is a monitor as the editors list it.
type monitorRef struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Labels map[string]string `json:"labels"`
}

// CallResource serves the editors: `monitors?selector=`, `labels`, `labels/<key>/values`
// (both with an optional `selector`) and `metrics`.
func (d *Datasource) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	status, body := d.resource(ctx, req)
	raw, err := json.Marshal(body)
	if err != nil {
		status, raw = http.StatusInternalServerError, []byte(`{"message":"cannot encode the answer"}`)
	}
	return sender.Send(&backend.CallResourceResponse{
		Status:  status,
		Headers: map[string][]string{"Content-Type": {"application/json"}},
		Body:    raw,
	})
}

// message is an error answer of a resource call.
type message struct {
	Message string `json:"message"`
}

func (d *Datasource) resource(ctx context.Context, req *backend.CallResourceRequest) (int, any) {
	if req.Method != "" && req.Method != http.MethodGet {
		return http.StatusMethodNotAllowed, message{"resources answer GET only"}
	}
	path := strings.Trim(req.Path, "/")
	if path == "metrics" {
		names := make([]string, len(Metrics))
		for i, m := range Metrics {
			names[i] = m.Name
		}
		return http.StatusOK, names
	}
	if d.configErr != nil {
		return http.StatusBadRequest, message{d.configErr.Error()}
	}
	var selector string
	if u, err := url.Parse(req.URL); err == nil {
		selector = strings.TrimSpace(u.Query().Get("selector"))
	}
	switch {
	case path == "monitors":
		monitors, err := d.client.Monitors(ctx, selector)
		if err != nil {
			return resourceError(err)
		}
		out := make([]monitorRef, len(monitors))
		for i := range monitors {
			labels := monitors[i].Labels
			if labels == nil {
				labels = map[string]string{}
			}
			out[i] = monitorRef{ID: monitors[i].ID, Name: monitors[i].Name(), Labels: labels}
		}
		return http.StatusOK, out
	case path == "labels":
		keys, err := d.client.LabelKeys(ctx, selector)
		if err != nil {
			return resourceError(err)
		}
		return http.StatusOK, keys
	case strings.HasPrefix(path, "labels/") && strings.HasSuffix(path, "/values"):
		key, err := url.PathUnescape(strings.TrimSuffix(strings.TrimPrefix(path, "labels/"), "/values"))
		if err != nil || key == "" {
			return http.StatusBadRequest, message{"expected labels/<key>/values with a label key"}
		}
		values, err := d.client.LabelValues(ctx, key, selector)
		if err != nil {
			return resourceError(err)
		}
		return http.StatusOK, values
	}
	return http.StatusNotFound, message{"no resource " + path + ": expected monitors, labels, labels/<key>/values or metrics"}
}

// resourceError is the status and message of a failed Vedette call.
func resourceError(err error) (int, any) {
	resp := errorResponse(err)
	var api *vedette.APIError
	status := http.StatusBadGateway
	if errors.As(err, &api) {
		status = api.Status
	}
	return status, message{resp.Error.Error()}
}
