package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"
)

// annotation is one region or point on a graph.
type annotation struct {
	at, end time.Time
	title   string
	text    string
	tags    []string
}

// annotations is one frame of `time`, `timeEnd`, `title`, `text` and `tags` from incidents,
// maintenance windows or deployments overlapping the range.
func (d *Datasource) annotations(ctx context.Context, q Query, tr backend.TimeRange) (data.Frames, error) {
	var list []annotation
	var err error
	var notices []data.Notice
	switch q.AnnotationSource {
	case "", "incidents":
		list, err = d.incidentAnnotations(ctx, q, tr)
	case "maintenance":
		var truncated bool
		list, truncated, err = d.maintenanceAnnotations(ctx, q, tr)
		if truncated {
			notices = append(notices, data.Notice{Severity: data.NoticeSeverityWarning, Text: "Vedette left out some maintenance occurrences: the range holds more than it answers at once; narrow the time range"})
		}
	case "deployments":
		list, err = d.deploymentAnnotations(ctx, tr)
	default:
		err = badQuery("unknown annotationSource %q: expected incidents, maintenance or deployments", q.AnnotationSource)
	}
	if err != nil {
		return nil, err
	}
	slices.SortStableFunc(list, func(a, b annotation) int { return a.at.Compare(b.at) })
	n := len(list)
	at, end := make([]time.Time, n), make([]time.Time, n)
	titles, texts := make([]string, n), make([]string, n)
	tags := make([]json.RawMessage, n)
	for i, a := range list {
		at[i], end[i], titles[i], texts[i] = a.at, a.end, a.title, a.text
		raw, _ := json.Marshal(a.tags)
		tags[i] = raw
	}
	frame := data.NewFrame("annotations",
		data.NewField("time", nil, at),
		data.NewField("timeEnd", nil, end),
		data.NewField("title", nil, titles),
		data.NewField("text", nil, texts),
		data.NewField("tags", nil, tags),
	)
	if len(notices) > 0 {
		frame.AppendNotices(notices...)
	}
	return data.Frames{frame}, nil
}

// incidentAnnotations are the picked monitors' incidents as regions; an open one reaches the
// range's end.
func (d *Datasource) incidentAnnotations(ctx context.Context, q Query, tr backend.TimeRange) ([]annotation, error) {
	incidents, byID, err := d.pickedIncidents(ctx, q, tr)
	if err != nil {
		return nil, err
	}
	out := make([]annotation, 0, len(incidents))
	for _, inc := range incidents {
		end := tr.To
		if inc.ResolvedAt != nil {
			end = *inc.ResolvedAt
		}
		cause := "unknown cause"
		if inc.Cause != nil {
			cause = *inc.Cause
		}
		out = append(out, annotation{
			at: inc.OpenedAt, end: end,
			title: fmt.Sprintf("%s %s (%s)", byID[inc.MonitorID].Name(), inc.State, cause),
			text:  inc.Message,
			tags:  []string{"vedette", "incident", inc.State, inc.MonitorID},
		})
	}
	return out, nil
}

// maintenanceAnnotations are the occurrences of maintenance windows (one-off, cron and
// rrule, expanded by Vedette) overlapping the range whose monitors include a picked one, or
// of any window when the query picks none or the window selects by label only.
// The flag tells whether Vedette left some occurrences out.
func (d *Datasource) maintenanceAnnotations(ctx context.Context, q Query, tr backend.TimeRange) ([]annotation, bool, error) {
	occurrences, truncated, err := d.client.MaintenanceOccurrences(ctx, tr.From, tr.To)
	if err != nil {
		return nil, false, err
	}
	ids := cleanIDs(q.MonitorIDs)
	var out []annotation
	for _, o := range occurrences {
		if len(ids) > 0 && len(o.Monitors) > 0 && !slices.ContainsFunc(o.Monitors, func(m string) bool { return slices.Contains(ids, m) }) {
			continue
		}
		title := o.WindowID
		if o.Name != nil && *o.Name != "" {
			title = *o.Name
		}
		text := ""
		if o.Description != nil {
			text = *o.Description
		}
		scope := strings.Join(o.Monitors, ", ")
		if o.Selector != nil && *o.Selector != "" {
			scope = strings.TrimPrefix(scope+", "+*o.Selector, ", ")
		}
		if scope != "" {
			text = strings.TrimSpace(text + "\nMonitors: " + scope)
		}
		out = append(out, annotation{at: o.Start, end: o.End, title: "Maintenance: " + title, text: text, tags: []string{"vedette", "maintenance", o.WindowID}})
	}
	return out, truncated, nil
}

// deploymentAnnotations are the deployments started in the range, as regions to their finish
// (a point while they run).
func (d *Datasource) deploymentAnnotations(ctx context.Context, tr backend.TimeRange) ([]annotation, error) {
	deployments, err := d.client.Deployments(ctx)
	if err != nil {
		return nil, err
	}
	var out []annotation
	for _, dep := range deployments {
		s := dep.Spec
		start := dep.CreatedAt
		if s.StartedAt != nil {
			start = *s.StartedAt
		}
		if start.Before(tr.From) || start.After(tr.To) {
			continue
		}
		end := start
		if s.FinishedAt != nil {
			end = *s.FinishedAt
		}
		text := fmt.Sprintf("%s %s to %s: %s", s.Service, s.Version, s.Environment, s.Status)
		if s.Commit != nil {
			text += "\ncommit " + *s.Commit
		}
		out = append(out, annotation{
			at: start, end: end,
			title: fmt.Sprintf("Deploy %s %s", s.Service, s.Version),
			text:  text,
			tags:  []string{"vedette", "deployment", s.Service, s.Environment},
		})
	}
	return out, nil
}

// variable is one frame of `text` and `value`: monitors (name, id), label keys or values.
func (d *Datasource) variable(ctx context.Context, q Query) (data.Frames, error) {
	var text, value []string
	switch q.VariableKind {
	case "", "monitors":
		monitors, err := d.pickMonitors(ctx, q)
		if err != nil {
			return nil, err
		}
		for i := range monitors {
			text = append(text, monitors[i].Name())
			value = append(value, monitors[i].ID)
		}
	case "labelKeys":
		keys, err := d.client.LabelKeys(ctx, strings.TrimSpace(q.Selector))
		if err != nil {
			return nil, selectorError(q, err)
		}
		text, value = keys, keys
	case "labelValues":
		if strings.TrimSpace(q.VariableLabel) == "" {
			return nil, badQuery("variableLabel is empty: name the label whose values to list")
		}
		values, err := d.client.LabelValues(ctx, strings.TrimSpace(q.VariableLabel), strings.TrimSpace(q.Selector))
		if err != nil {
			return nil, selectorError(q, err)
		}
		text, value = values, values
	default:
		return nil, badQuery("unknown variableKind %q: expected monitors, labelKeys or labelValues", q.VariableKind)
	}
	if text == nil {
		text, value = []string{}, []string{}
	}
	return data.Frames{data.NewFrame("variable", data.NewField("text", nil, text), data.NewField("value", nil, value))}, nil
}
