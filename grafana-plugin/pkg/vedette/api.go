package vedette

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// pageSize is the page size of list calls (the server's maximum).
const pageSize = 1000

// maxPages bounds the pages one list call reads.
const maxPages = 100

// Monitor is a monitor as listed, with the fields the data source shows.
type Monitor struct {
	ID     string            `json:"id"`
	Labels map[string]string `json:"labels"`
	Spec   struct {
		Name *string `json:"name"`
	} `json:"spec"`
	Status MonitorStatus `json:"status"`
}

// Name is the monitor's spec name, else its id.
func (m *Monitor) Name() string {
	if m.Spec.Name != nil && *m.Spec.Name != "" {
		return *m.Spec.Name
	}
	return m.ID
}

// MonitorStatus is a monitor's current state.
type MonitorStatus struct {
	State        string      `json:"state"`
	Since        time.Time   `json:"since"`
	LastResult   *LastResult `json:"last_result"`
	OpenIncident *string     `json:"open_incident"`
}

// LastResult is the newest check of a monitor.
type LastResult struct {
	At        time.Time `json:"at"`
	Outcome   *string   `json:"outcome"`
	Message   *string   `json:"message"`
	LatencyMS *float64  `json:"latency_ms"`
}

type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// list reads pages of path until `limit` items (0: all) or the last page.
func list[T any](ctx context.Context, c *Client, path string, query url.Values, limit int) ([]T, error) {
	var out []T
	for range maxPages {
		size := pageSize
		if limit > 0 && limit-len(out) < size {
			size = limit - len(out)
		}
		query.Set("limit", strconv.Itoa(size))
		var p page[T]
		if err := c.get(ctx, path, query, &p); err != nil {
			return nil, err
		}
		out = append(out, p.Items...)
		if p.NextCursor == nil || (limit > 0 && len(out) >= limit) {
			return out, nil
		}
		query.Set("cursor", *p.NextCursor)
	}
	return out, nil
}

// Monitors lists the monitors `selector` picks (every one when empty), by id.
func (c *Client) Monitors(ctx context.Context, selector string) ([]Monitor, error) {
	q := url.Values{}
	if selector != "" {
		q.Set("selector", selector)
	}
	return list[Monitor](ctx, c, "/monitors", q, 0)
}

// Series is `GET /series` for one metric.
type Series struct {
	From   time.Time
	To     time.Time
	Step   string
	Series []MonitorSeries
}

// MonitorSeries is one monitor's buckets: their starts, oldest first, and the metric's value
// in each (nil when no check made one).
type MonitorSeries struct {
	MonitorID string
	Times     []time.Time
	Values    []*float64
}

// SeriesQuery is what `GET /series` takes.
type SeriesQuery struct {
	IDs      []string
	From, To time.Time
	Step     time.Duration
	// Metric is the one metric asked for, as `/series` names it.
	Metric string
}

// values are the query parameters `/series` and `/series/columns` both take.
func (q SeriesQuery) values() url.Values {
	v := url.Values{}
	v.Set("ids", strings.Join(q.IDs, ","))
	v.Set("from", q.From.UTC().Format(time.RFC3339Nano))
	v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	v.Set("step", Minutes(q.Step))
	v.Set("metrics", q.Metric)
	return v
}

// Series is `GET /series` for the given monitors and one metric.
func (c *Client) Series(ctx context.Context, q SeriesQuery) (*Series, error) {
	body, err := c.getBody(ctx, "/series", q.values())
	if err != nil {
		return nil, err
	}
	out, err := decodeSeries(body, q.Metric)
	if err != nil {
		return nil, fmt.Errorf("the answer of /series is not what Vedette sends: %w", err)
	}
	return out, nil
}

// SeriesColumns is `GET /series/columns` for the given monitors and one metric: the figures
// of [Client.Series] as one array per monitor, about a tenth of the answer's size, with up to
// [MaxColumnPoints] points per call. A server older than that endpoint answers 404.
func (c *Client) SeriesColumns(ctx context.Context, q SeriesQuery) (*Series, error) {
	body, err := c.getBody(ctx, "/series/columns", q.values())
	if err != nil {
		return nil, err
	}
	out, err := decodeColumns(body, q.Metric, q.Step)
	if err != nil {
		return nil, fmt.Errorf("the answer of /series/columns is not what Vedette sends: %w", err)
	}
	return out, nil
}

// MaxColumnPoints is the most points (buckets × monitors) one `/series/columns` call answers.
const MaxColumnPoints = 50_000

// Minutes writes a whole number of minutes as Vedette reads a step (`90m`).
func Minutes(d time.Duration) string {
	return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
}

// SLO is `GET /slo`.
type SLO struct {
	Target     float64      `json:"target"`
	Window     string       `json:"window"`
	From       time.Time    `json:"from"`
	To         time.Time    `json:"to"`
	Step       string       `json:"step"`
	BurnWindow string       `json:"burn_window"`
	Monitors   []SLOMonitor `json:"monitors"`
}

// SLOMonitor is one monitor's error budget.
type SLOMonitor struct {
	MonitorID       string   `json:"monitor_id"`
	Checks          uint64   `json:"checks"`
	Failures        uint64   `json:"failures"`
	Uptime          *float64 `json:"uptime"`
	BudgetRemaining *float64 `json:"budget_remaining"`
	BurnRate        *float64 `json:"burn_rate"`
	BudgetSpent     []struct {
		Start time.Time `json:"start"`
		Spent *float64  `json:"spent"`
	} `json:"budget_spent"`
}

// SLOQuery is what `GET /slo` takes.
type SLOQuery struct {
	IDs        []string
	Target     float64
	Window     string
	BurnWindow string
	To         time.Time
	Step       time.Duration
}

// SLO is `GET /slo` for the given monitors.
func (c *Client) SLO(ctx context.Context, q SLOQuery) (*SLO, error) {
	v := url.Values{}
	v.Set("ids", strings.Join(q.IDs, ","))
	v.Set("target", strconv.FormatFloat(q.Target, 'f', -1, 64))
	v.Set("window", q.Window)
	v.Set("burn_window", q.BurnWindow)
	v.Set("to", q.To.UTC().Format(time.RFC3339Nano))
	v.Set("step", Minutes(q.Step))
	var out SLO
	if err := c.get(ctx, "/slo", v, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// LabelKeys is `GET /labels`.
func (c *Client) LabelKeys(ctx context.Context, selector string) ([]string, error) {
	var out struct {
		Keys []string `json:"keys"`
	}
	if err := c.get(ctx, "/labels", selectorQuery(selector), &out); err != nil {
		return nil, err
	}
	return out.Keys, nil
}

// LabelValues is `GET /labels/{key}/values`.
func (c *Client) LabelValues(ctx context.Context, key, selector string) ([]string, error) {
	var out struct {
		Values []string `json:"values"`
	}
	if err := c.get(ctx, "/labels/"+url.PathEscape(key)+"/values", selectorQuery(selector), &out); err != nil {
		return nil, err
	}
	return out.Values, nil
}

func selectorQuery(selector string) url.Values {
	v := url.Values{}
	if selector != "" {
		v.Set("selector", selector)
	}
	return v
}

// Incident is an incident as listed.
type Incident struct {
	ID         string     `json:"id"`
	MonitorID  string     `json:"monitor_id"`
	State      string     `json:"state"`
	Cause      *string    `json:"cause"`
	Message    string     `json:"message"`
	OpenedAt   time.Time  `json:"opened_at"`
	ResolvedAt *time.Time `json:"resolved_at"`
}

// Incidents lists the incidents in progress at some time of [from, to) (including those opened
// before it and still open or resolved inside it), newest first, at most limit.
func (c *Client) Incidents(ctx context.Context, from, to time.Time, limit int) ([]Incident, error) {
	v := url.Values{}
	v.Set("overlaps_from", from.UTC().Format(time.RFC3339Nano))
	v.Set("overlaps_to", to.UTC().Format(time.RFC3339Nano))
	return list[Incident](ctx, c, "/incidents", v, limit)
}

// Result is a stored check result.
type Result struct {
	ID            int64     `json:"id"`
	MonitorID     string    `json:"monitor_id"`
	StartedAt     time.Time `json:"started_at"`
	Outcome       string    `json:"outcome"`
	Reason        *string   `json:"reason"`
	Message       string    `json:"message"`
	StatusCode    *int64    `json:"status_code"`
	InMaintenance bool      `json:"in_maintenance"`
	Phases        struct {
		TotalMS float64 `json:"total_ms"`
	} `json:"phases"`
}

// resultIDsPerCall is how many monitor ids one `GET /results` names, keeping its URL short.
const resultIDsPerCall = 200

// Results lists the results of monitorIDs in [from, to] in one table, newest first (then by
// monitor id), at most limit over all of them: one `GET /results?ids=` per 200 monitors
// rather than one call per monitor.
func (c *Client) Results(ctx context.Context, monitorIDs []string, from, to time.Time, limit int) ([]Result, error) {
	var all []Result
	for chunk := range slices.Chunk(monitorIDs, resultIDsPerCall) {
		v := url.Values{}
		v.Set("ids", strings.Join(chunk, ","))
		v.Set("from", from.UTC().Format(time.RFC3339Nano))
		v.Set("to", to.UTC().Format(time.RFC3339Nano))
		got, err := list[Result](ctx, c, "/results", v, limit)
		if err != nil {
			return nil, err
		}
		all = append(all, got...)
	}
	slices.SortStableFunc(all, func(a, b Result) int {
		if c := b.StartedAt.Compare(a.StartedAt); c != 0 {
			return c
		}
		return strings.Compare(a.MonitorID, b.MonitorID)
	})
	if limit > 0 && len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// MaintenanceOccurrence is one occurrence of a maintenance window (one-off, cron or rrule),
// expanded by the server.
type MaintenanceOccurrence struct {
	WindowID    string    `json:"window_id"`
	Name        *string   `json:"name"`
	Description *string   `json:"description"`
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
	Monitors    []string  `json:"monitors"`
	Selector    *string   `json:"selector"`
}

// maxOccurrences is how many occurrences one call asks for (the server's maximum).
const maxOccurrences = 10000

// MaintenanceOccurrences lists the occurrences of every maintenance window overlapping
// [from, to), by start time, and whether the server left some out (a range too dense for
// its bound).
func (c *Client) MaintenanceOccurrences(ctx context.Context, from, to time.Time) ([]MaintenanceOccurrence, bool, error) {
	v := url.Values{}
	v.Set("from", from.UTC().Format(time.RFC3339Nano))
	v.Set("to", to.UTC().Format(time.RFC3339Nano))
	v.Set("limit", strconv.Itoa(maxOccurrences))
	var out struct {
		Items     []MaintenanceOccurrence `json:"items"`
		Truncated bool                    `json:"truncated"`
	}
	if err := c.get(ctx, "/maintenance/occurrences", v, &out); err != nil {
		return nil, false, err
	}
	return out.Items, out.Truncated, nil
}

// Deployment is a deployment as listed.
type Deployment struct {
	ID   string `json:"id"`
	Spec struct {
		Service     string     `json:"service"`
		Version     string     `json:"version"`
		Environment string     `json:"environment"`
		Status      string     `json:"status"`
		Commit      *string    `json:"commit"`
		URL         *string    `json:"url"`
		StartedAt   *time.Time `json:"started_at"`
		FinishedAt  *time.Time `json:"finished_at"`
	} `json:"spec"`
	CreatedAt time.Time `json:"created_at"`
}

// Deployments lists every deployment.
func (c *Client) Deployments(ctx context.Context) ([]Deployment, error) {
	return list[Deployment](ctx, c, "/deployments", url.Values{}, 0)
}

// Status is `GET /status`, reduced to the monitor total.
type Status struct {
	Monitors struct {
		Total int `json:"total"`
	} `json:"monitors"`
}

// Status is `GET /status`: the cheapest call that needs the read scope.
func (c *Client) Status(ctx context.Context) (*Status, error) {
	var out Status
	if err := c.get(ctx, "/status", url.Values{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Version is the server version from its OpenAPI document (public, no token).
func (c *Client) Version(ctx context.Context) (string, error) {
	status, body, err := c.Raw(ctx, "/api/v1/openapi.json", url.Values{}, false)
	if err != nil {
		return "", err
	}
	if status != 200 {
		return "", &APIError{Status: status}
	}
	var doc struct {
		Info struct {
			Title   string `json:"title"`
			Version string `json:"version"`
		} `json:"info"`
	}
	if err := json.Unmarshal(body, &doc); err != nil || doc.Info.Version == "" {
		return "", &APIError{Status: status, Detail: "/api/v1/openapi.json is not a Vedette API document"}
	}
	return doc.Info.Version, nil
}
