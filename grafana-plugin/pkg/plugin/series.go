package plugin

import (
	"context"
	"errors"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// metric is one series metric: its name in the query and in Vedette's `/series`, and its unit.
type metric struct {
	Name, Server, Unit string
}

// Metrics lists what a series query can ask for, in editor order. `uptime` counts every
// check, maintenance included (Vedette's `uptime_all`); `availability` leaves checks made
// during maintenance out (Vedette's `uptime`).
var Metrics = []metric{
	{"uptime", "uptime_all", "percentunit"},
	{"availability", "uptime", "percentunit"},
	{"latency_p50", "latency_p50", "ms"},
	{"latency_p90", "latency_p90", "ms"},
	{"latency_p95", "latency_p95", "ms"},
	{"latency_p99", "latency_p99", "ms"},
	{"latency_avg", "latency_avg", "ms"},
	{"checks", "checks", "short"},
	{"failures", "failures", "short"},
}

func findMetric(name string) (metric, bool) {
	if name == "" {
		name = "uptime"
	}
	for _, m := range Metrics {
		if m.Name == name {
			return m, true
		}
	}
	return metric{}, false
}

// maxPoints is the most points (buckets × monitors) Vedette answers in one `/series` call.
const maxPoints = 10_000

// seriesConcurrency bounds the `/series` calls one query makes at once.
const seriesConcurrency = 4

// step is Grafana's interval rounded up to whole minutes, widened until the range holds at
// most maxDataPoints buckets and one monitor's buckets fit in one Vedette call.
func step(tr backend.TimeRange, interval time.Duration, maxDataPoints int64) time.Duration {
	limit := int64(maxPoints)
	if maxDataPoints > 0 && maxDataPoints < limit {
		limit = maxDataPoints
	}
	s := roundUpMinute(max(interval, time.Minute, tr.To.Sub(tr.From)/time.Duration(limit)))
	for buckets(tr, s) > limit {
		s += time.Minute
	}
	return s
}

func roundUpMinute(d time.Duration) time.Duration {
	if rem := d % time.Minute; rem != 0 {
		d += time.Minute - rem
	}
	return d
}

// buckets is how many buckets of s Vedette answers for the range: they start at multiples
// of s since the Unix epoch, the first at or before the range's start.
func buckets(tr backend.TimeRange, s time.Duration) int64 {
	ms := s.Milliseconds()
	from := tr.From.UnixMilli()
	start := from - ((from%ms)+ms)%ms
	span := tr.To.UnixMilli() - start
	if span <= 0 {
		return 0
	}
	return (span + ms - 1) / ms
}

// chunks splits ids into groups of at most n.
func chunks(ids []string, n int) [][]string {
	var out [][]string
	for len(ids) > n {
		out = append(out, ids[:n])
		ids = ids[n:]
	}
	if len(ids) > 0 {
		out = append(out, ids)
	}
	return out
}

// fetchSeries reads the monitors' buckets from `/series/columns` (or, from a server without
// it, `/series`) in groups that stay under the call's point limit, a few calls at once, and
// returns every monitor's buckets by id.
func (d *Datasource) fetchSeries(ctx context.Context, ids []string, tr backend.TimeRange, s time.Duration, metric string) (map[string]vedette.MonitorSeries, error) {
	if !d.rowsOnly.Load() {
		out, err := d.fetchGroups(ctx, ids, tr, s, metric, vedette.MaxColumnPoints, d.client.SeriesColumns)
		var apiErr *vedette.APIError
		if !errors.As(err, &apiErr) || apiErr.Status != http.StatusNotFound {
			return out, err
		}
		d.rowsOnly.Store(true)
	}
	return d.fetchGroups(ctx, ids, tr, s, metric, maxPoints, d.client.Series)
}

// fetchGroups calls read for groups of ids of at most limit points, seriesConcurrency at once.
func (d *Datasource) fetchGroups(ctx context.Context, ids []string, tr backend.TimeRange, s time.Duration, metric string, limit int,
	read func(context.Context, vedette.SeriesQuery) (*vedette.Series, error)) (map[string]vedette.MonitorSeries, error) {
	perCall := max(1, int(int64(limit)/max(buckets(tr, s), 1)))
	groups := chunks(ids, perCall)
	out := make(map[string]vedette.MonitorSeries, len(ids))
	var mu sync.Mutex
	var firstErr error
	sem := make(chan struct{}, seriesConcurrency)
	var wg sync.WaitGroup
	for _, group := range groups {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			got, err := read(ctx, vedette.SeriesQuery{IDs: group, From: tr.From, To: tr.To, Step: s, Metric: metric})
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if firstErr == nil {
					firstErr = err
				}
				return
			}
			for _, series := range got.Series {
				out[series.MonitorID] = series
			}
		}()
	}
	wg.Wait()
	return out, firstErr
}

func (d *Datasource) series(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error) {
	m, ok := findMetric(q.Metric)
	if !ok {
		names := make([]string, len(Metrics))
		for i, m := range Metrics {
			names[i] = m.Name
		}
		return nil, badQuery("unknown metric %q: expected one of %s", q.Metric, strings.Join(names, ", "))
	}
	monitors, err := d.pickMonitors(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(monitors) == 0 {
		return data.Frames{}, nil
	}
	s := step(dq.TimeRange, dq.Interval, dq.MaxDataPoints)
	ids := make([]string, len(monitors))
	for i, mon := range monitors {
		ids[i] = mon.ID
	}
	byID, err := d.fetchSeries(ctx, ids, dq.TimeRange, s, m.Server)
	if err != nil {
		return nil, err
	}
	frames := make(data.Frames, 0, len(monitors))
	for i := range monitors {
		frames = append(frames, seriesFrame(&monitors[i], m, byID[monitors[i].ID], q.LegendFormat))
	}
	return frames, nil
}

// seriesFrame is one monitor's frame: `time` and `value`, the value labelled with the
// monitor's id, name and labels so alert rules fire per monitor.
func seriesFrame(mon *vedette.Monitor, m metric, series vedette.MonitorSeries, legend string) *data.Frame {
	times, values := series.Times, series.Values
	if times == nil {
		times, values = []time.Time{}, []*float64{}
	}
	labels := monitorLabels(mon)
	value := data.NewField("value", labels, values)
	value.Config = &data.FieldConfig{
		DisplayNameFromDS: legendName(legend, mon, m.Name),
		Unit:              m.Unit,
	}
	frame := data.NewFrame(mon.ID, data.NewField("time", nil, times), value)
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesMulti, TypeVersion: data.FrameTypeVersion{0, 1}}
	return frame
}

// monitorLabels are a monitor's labels with `id` and `name` (which win over labels of
// those names).
func monitorLabels(mon *vedette.Monitor) data.Labels {
	labels := data.Labels{}
	for k, v := range mon.Labels {
		labels[k] = v
	}
	labels["id"] = mon.ID
	labels["name"] = mon.Name()
	return labels
}

var legendVar = regexp.MustCompile(`\{\{\s*([a-zA-Z0-9_./-]+)\s*\}\}`)

// legendName fills `{{name}}`, `{{id}}`, `{{metric}}` and `{{label.KEY}}` (or `{{KEY}}`)
// into the legend format; the monitor's name without one.
func legendName(format string, mon *vedette.Monitor, metricName string) string {
	if strings.TrimSpace(format) == "" {
		return mon.Name()
	}
	return legendVar.ReplaceAllStringFunc(format, func(match string) string {
		key := legendVar.FindStringSubmatch(match)[1]
		switch key {
		case "name":
			return mon.Name()
		case "id":
			return mon.ID
		case "metric":
			return metricName
		}
		return mon.Labels[strings.TrimPrefix(key, "label.")]
	})
}
