package plugin

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// Query is the JSON every query carries (the frontend's VedetteQuery type, field for field).
type Query struct {
	QueryType        string   `json:"queryType"`
	Metric           string   `json:"metric"`
	Selector         string   `json:"selector"`
	MonitorIDs       []string `json:"monitorIds"`
	LegendFormat     string   `json:"legendFormat"`
	SLOTarget        Number   `json:"sloTarget"`
	SLOWindow        string   `json:"sloWindow"`
	SLOBurnWindow    string   `json:"sloBurnWindow"`
	AnnotationSource string   `json:"annotationSource"`
	VariableKind     string   `json:"variableKind"`
	VariableLabel    string   `json:"variableLabel"`
	Limit            Number   `json:"limit"`
}

// Number is a JSON number, or a string holding one (what a template variable interpolated
// into a numeric field becomes); an empty string is 0.
type Number float64

// UnmarshalJSON reads a number or a numeric string.
func (n *Number) UnmarshalJSON(raw []byte) error {
	var f float64
	if err := json.Unmarshal(raw, &f); err == nil {
		*n = Number(f)
		return nil
	}
	var text string
	if err := json.Unmarshal(raw, &text); err != nil {
		return fmt.Errorf("expected a number, got %s", raw)
	}
	text = strings.TrimSpace(text)
	if text == "" {
		*n = 0
		return nil
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return fmt.Errorf("expected a number, got %q", text)
	}
	*n = Number(f)
	return nil
}

// Query types.
const (
	TypeSeries      = "series"
	TypeState       = "state"
	TypeIncidents   = "incidents"
	TypeResults     = "results"
	TypeSLO         = "slo"
	TypeAnnotations = "annotations"
	TypeVariable    = "variable"
)

// defaultLimit is the row limit of incidents and results when the query sets none.
const defaultLimit = 100

// maxLimit bounds a query's `limit`.
const maxLimit = 10_000

// queryError is a problem with the query itself, answered as a 400 on that query.
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func badQuery(format string, args ...any) error {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

// parseQuery decodes a query's JSON; the query type also comes from Grafana's own field.
func parseQuery(q backend.DataQuery) (Query, error) {
	var out Query
	if err := json.Unmarshal(q.JSON, &out); err != nil {
		return out, badQuery("the query is not valid JSON: %s", err)
	}
	if out.QueryType == "" {
		out.QueryType = q.QueryType
	}
	if out.QueryType == "" {
		out.QueryType = TypeSeries
	}
	switch {
	case out.Limit < 0 || out.Limit > maxLimit || out.Limit != Number(int(out.Limit)):
		return out, badQuery("limit must be a whole number between 1 and %d, got %v", maxLimit, float64(out.Limit))
	case out.Limit == 0:
		out.Limit = defaultLimit
	}
	return out, nil
}

// QueryData answers each query on its own: one query's error does not fail the others.
func (d *Datasource) QueryData(ctx context.Context, req *backend.QueryDataRequest) (*backend.QueryDataResponse, error) {
	resp := backend.NewQueryDataResponse()
	for _, q := range req.Queries {
		resp.Responses[q.RefID] = d.query(ctx, q)
	}
	return resp, nil
}

func (d *Datasource) query(ctx context.Context, dq backend.DataQuery) backend.DataResponse {
	if d.configErr != nil {
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, d.configErr.Error())
	}
	q, err := parseQuery(dq)
	if err != nil {
		return errorResponse(err)
	}
	var frames data.Frames
	switch q.QueryType {
	case TypeSeries:
		frames, err = d.series(ctx, q, dq)
	case TypeState:
		frames, err = d.state(ctx, q)
	case TypeIncidents:
		frames, err = d.incidents(ctx, q, dq.TimeRange)
	case TypeResults:
		frames, err = d.results(ctx, q, dq.TimeRange)
	case TypeSLO:
		frames, err = d.slo(ctx, q, dq)
	case TypeAnnotations:
		frames, err = d.annotations(ctx, q, dq.TimeRange)
	case TypeVariable:
		frames, err = d.variable(ctx, q)
	default:
		err = badQuery("unknown queryType %q: expected one of series, state, incidents, results, slo, annotations, variable", q.QueryType)
	}
	if err != nil {
		return errorResponse(err)
	}
	for _, f := range frames {
		f.RefID = dq.RefID
	}
	return backend.DataResponse{Frames: frames}
}

// errorResponse turns an error into a query's error: the query's own problems and the
// server's 4xx answers are the user's to fix, the rest the server's.
func errorResponse(err error) backend.DataResponse {
	var qe *queryError
	var api *vedette.APIError
	var down *vedette.UnreachableError
	switch {
	case errors.As(err, &qe):
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourcePlugin, qe.msg)
	case errors.As(err, &api) && api.Status == 401:
		return backend.ErrDataResponseWithSource(backend.StatusUnauthorized, backend.ErrorSourceDownstream,
			"Vedette rejected the API token (unknown, expired or revoked): set a valid token in the data source settings")
	case errors.As(err, &api) && api.Status == 403:
		return backend.ErrDataResponseWithSource(backend.StatusForbidden, backend.ErrorSourceDownstream,
			"the API token lacks the read scope: create one with `vedette token create --scope read`")
	case errors.As(err, &api) && api.Status >= 400 && api.Status < 500:
		return backend.ErrDataResponseWithSource(backend.StatusBadRequest, backend.ErrorSourceDownstream, api.Error())
	case errors.As(err, &down):
		return backend.ErrDataResponseWithSource(backend.StatusBadGateway, backend.ErrorSourceDownstream, down.Error())
	case errors.Is(err, context.DeadlineExceeded):
		return backend.ErrDataResponseWithSource(backend.StatusTimeout, backend.ErrorSourceDownstream, "Vedette did not answer in time")
	default:
		return backend.ErrDataResponseWithSource(backend.StatusInternal, backend.ErrorSourceDownstream, err.Error())
	}
}

// pickMonitors lists the monitors the query's selector picks, narrowed to its monitorIds when
// it names some (an id of no picked monitor picks nothing), by id.
func (d *Datasource) pickMonitors(ctx context.Context, q Query) ([]vedette.Monitor, error) {
	monitors, err := d.client.Monitors(ctx, strings.TrimSpace(q.Selector))
	if err != nil {
		return nil, selectorError(q, err)
	}
	ids := cleanIDs(q.MonitorIDs)
	if len(ids) == 0 {
		return monitors, nil
	}
	picked := monitors[:0]
	for _, m := range monitors {
		if slices.Contains(ids, m.ID) {
			picked = append(picked, m)
		}
	}
	return picked, nil
}

// cleanIDs drops empty ids and the `All` marker Grafana sends for an unconstrained variable.
func cleanIDs(ids []string) []string {
	out := make([]string, 0, len(ids))
	for _, id := range ids {
		id = strings.TrimSpace(id)
		if id != "" && id != "$__all" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// selectorError names the selector when Vedette refused it (400 on `selector`).
func selectorError(q Query, err error) error {
	var api *vedette.APIError
	if errors.As(err, &api) && api.Status == 400 {
		return badQuery("selector %q: %s", q.Selector, api.Error())
	}
	return err
}
