package plugin

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// tableMeta marks a frame as a table.
func tableMeta() *data.FrameMeta {
	return &data.FrameMeta{Type: data.FrameTypeTable, PreferredVisualization: data.VisTypeTable}
}

// state is one table row per picked monitor: its current state and newest result.
func (d *Datasource) state(ctx context.Context, q Query) (data.Frames, error) {
	monitors, err := d.pickMonitors(ctx, q)
	if err != nil {
		return nil, err
	}
	n := len(monitors)
	ids, names, states, labels := make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	since, lastAt := make([]time.Time, n), make([]*time.Time, n)
	outcomes, messages, incidents := make([]*string, n), make([]*string, n), make([]*string, n)
	latency := make([]*float64, n)
	for i := range monitors {
		m := &monitors[i]
		ids[i], names[i], states[i] = m.ID, m.Name(), m.Status.State
		labels[i] = labelText(m.Labels)
		since[i] = m.Status.Since
		if r := m.Status.LastResult; r != nil {
			at := r.At
			lastAt[i], outcomes[i], messages[i], latency[i] = &at, r.Outcome, r.Message, r.LatencyMS
		}
		incidents[i] = m.Status.OpenIncident
	}
	frame := data.NewFrame("state",
		data.NewField("id", nil, ids),
		data.NewField("name", nil, names),
		data.NewField("state", nil, states),
		data.NewField("since", nil, since),
		data.NewField("last_result_at", nil, lastAt),
		data.NewField("last_outcome", nil, outcomes),
		data.NewField("message", nil, messages),
		data.NewField("latency_ms", nil, latency).SetConfig(&data.FieldConfig{Unit: "ms"}),
		data.NewField("open_incident", nil, incidents),
		data.NewField("labels", nil, labels),
	)
	frame.Meta = tableMeta()
	return data.Frames{frame}, nil
}

// labelText writes labels as a selector would: `env=prod,team=payments`.
func labelText(labels map[string]string) string {
	keys := make([]string, 0, len(labels))
	for k := range labels {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + labels[k]
	}
	return strings.Join(parts, ",")
}

// pickedIncidents are the incidents opened in the range of the picked monitors, newest first,
// at most the query's limit. Vedette filters incidents by one monitor at most, so the list
// is read for every monitor and narrowed here.
func (d *Datasource) pickedIncidents(ctx context.Context, q Query, tr backend.TimeRange) ([]vedette.Incident, map[string]*vedette.Monitor, error) {
	monitors, err := d.pickMonitors(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	byID := make(map[string]*vedette.Monitor, len(monitors))
	for i := range monitors {
		byID[monitors[i].ID] = &monitors[i]
	}
	all, err := d.client.Incidents(ctx, tr.From, tr.To, 0)
	if err != nil {
		return nil, nil, err
	}
	picked := make([]vedette.Incident, 0, min(len(all), int(q.Limit)))
	for _, inc := range all {
		if _, ok := byID[inc.MonitorID]; ok && len(picked) < int(q.Limit) {
			picked = append(picked, inc)
		}
	}
	return picked, byID, nil
}

// incidents is one table of the picked monitors' incidents opened in the range.
func (d *Datasource) incidents(ctx context.Context, q Query, tr backend.TimeRange) (data.Frames, error) {
	incidents, byID, err := d.pickedIncidents(ctx, q, tr)
	if err != nil {
		return nil, err
	}
	n := len(incidents)
	ids, monitorIDs, names, states, messages := make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
	causes := make([]*string, n)
	opened, resolved := make([]time.Time, n), make([]*time.Time, n)
	durations := make([]*float64, n)
	for i, inc := range incidents {
		ids[i], monitorIDs[i], states[i], messages[i] = inc.ID, inc.MonitorID, inc.State, inc.Message
		names[i] = byID[inc.MonitorID].Name()
		causes[i], opened[i], resolved[i] = inc.Cause, inc.OpenedAt, inc.ResolvedAt
		if inc.ResolvedAt != nil {
			s := inc.ResolvedAt.Sub(inc.OpenedAt).Seconds()
			durations[i] = &s
		}
	}
	frame := data.NewFrame("incidents",
		data.NewField("opened_at", nil, opened),
		data.NewField("resolved_at", nil, resolved),
		data.NewField("id", nil, ids),
		data.NewField("monitor_id", nil, monitorIDs),
		data.NewField("name", nil, names),
		data.NewField("state", nil, states),
		data.NewField("cause", nil, causes),
		data.NewField("message", nil, messages),
		data.NewField("duration", nil, durations).SetConfig(&data.FieldConfig{Unit: "s"}),
	)
	frame.Meta = tableMeta()
	return data.Frames{frame}, nil
}

// results is one table of the picked monitors' results in the range, newest first, at most
// the query's limit over all of them.
func (d *Datasource) results(ctx context.Context, q Query, tr backend.TimeRange) (data.Frames, error) {
	monitors, err := d.pickMonitors(ctx, q)
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(monitors))
	for i := range monitors {
		ids[i] = monitors[i].ID
	}
	all, err := d.client.Results(ctx, ids, tr.From, tr.To, int(q.Limit))
	if err != nil {
		return nil, err
	}
	n := len(all)
	at, monitorIDs, outcomes, messages := make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n)
	reasons := make([]*string, n)
	codes := make([]*int64, n)
	latency := make([]float64, n)
	maintenance := make([]bool, n)
	for i, r := range all {
		at[i], monitorIDs[i], outcomes[i], messages[i] = r.StartedAt, r.MonitorID, r.Outcome, r.Message
		reasons[i], codes[i], latency[i], maintenance[i] = r.Reason, r.StatusCode, r.Phases.TotalMS, r.InMaintenance
	}
	frame := data.NewFrame("results",
		data.NewField("time", nil, at),
		data.NewField("monitor_id", nil, monitorIDs),
		data.NewField("outcome", nil, outcomes),
		data.NewField("reason", nil, reasons),
		data.NewField("status_code", nil, codes),
		data.NewField("latency_ms", nil, latency).SetConfig(&data.FieldConfig{Unit: "ms"}),
		data.NewField("in_maintenance", nil, maintenance),
		data.NewField("message", nil, messages),
	)
	frame.Meta = tableMeta()
	return data.Frames{frame}, nil
}
