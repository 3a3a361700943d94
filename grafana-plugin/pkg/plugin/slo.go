package plugin

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/data"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// Defaults of an SLO query.
const (
	defaultSLOTarget = 99.9
	defaultSLOWindow = "30d"
	// defaultBurnWindow is the recent span the burn rate is measured over, Vedette's own
	// default: the short window of a multi-window burn-rate alert.
	defaultBurnWindow = "1h"
)

// sloWindow checks the window named field, such as `30d`, `12h` or `90m` (fallback when
// empty); Vedette checks its range.
func sloWindow(field, text, fallback string) (string, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return fallback, nil
	}
	unit := text[len(text)-1]
	if n, err := strconv.Atoi(text[:len(text)-1]); err != nil || n < 1 || !strings.ContainsRune("mhd", rune(unit)) {
		return "", badQuery("%s %q: expected a whole number of minutes, hours or days, such as %s", field, text, fallback)
	}
	return text, nil
}

// slo is one frame per picked monitor: the budget spent at the end of each step of the
// window ending at the range's end, and beside it (the same on every row, for stat panels and
// alert rules reducing to the last value) uptime, target, budget_remaining and burn_rate.
func (d *Datasource) slo(ctx context.Context, q Query, dq backend.DataQuery) (data.Frames, error) {
	target := float64(q.SLOTarget)
	if target == 0 {
		target = defaultSLOTarget
	}
	if target <= 0 || target >= 100 {
		return nil, badQuery("sloTarget must be a percentage above 0 and below 100, such as 99.9; got %v", q.SLOTarget)
	}
	window, err := sloWindow("sloWindow", q.SLOWindow, defaultSLOWindow)
	if err != nil {
		return nil, err
	}
	burnWindow, err := sloWindow("sloBurnWindow", q.SLOBurnWindow, defaultBurnWindow)
	if err != nil {
		return nil, err
	}
	if windowDuration(burnWindow) > windowDuration(window) {
		return nil, badQuery("sloBurnWindow %s is longer than sloWindow %s: the burn rate is measured within the SLO window", burnWindow, window)
	}
	monitors, err := d.pickMonitors(ctx, q)
	if err != nil {
		return nil, err
	}
	if len(monitors) == 0 {
		return data.Frames{}, nil
	}
	windowRange := backend.TimeRange{From: dq.TimeRange.To.Add(-windowDuration(window)), To: dq.TimeRange.To}
	s := step(windowRange, dq.Interval, dq.MaxDataPoints)
	perCall := max(1, int(maxPoints/max(buckets(windowRange, s), 1)))
	byID := make(map[string]vedette.SLOMonitor, len(monitors))
	ids := make([]string, len(monitors))
	for i := range monitors {
		ids[i] = monitors[i].ID
	}
	for _, group := range chunks(ids, perCall) {
		got, err := d.client.SLO(ctx, vedette.SLOQuery{IDs: group, Target: target, Window: window, BurnWindow: burnWindow, To: dq.TimeRange.To, Step: s})
		if err != nil {
			return nil, err
		}
		for _, m := range got.Monitors {
			byID[m.MonitorID] = m
		}
	}
	frames := make(data.Frames, 0, len(monitors))
	for i := range monitors {
		frames = append(frames, sloFrame(&monitors[i], byID[monitors[i].ID], target/100))
	}
	return frames, nil
}

// windowDuration is a checked window's length.
func windowDuration(window string) time.Duration {
	n, _ := strconv.Atoi(window[:len(window)-1])
	unit := map[byte]time.Duration{'m': time.Minute, 'h': time.Hour, 'd': 24 * time.Hour}
	return time.Duration(n) * unit[window[len(window)-1]]
}

func sloFrame(mon *vedette.Monitor, s vedette.SLOMonitor, target float64) *data.Frame {
	n := len(s.BudgetSpent)
	times := make([]time.Time, n)
	spent := make([]*float64, n)
	uptime, targets, remaining, burn := make([]*float64, n), make([]float64, n), make([]*float64, n), make([]*float64, n)
	for i, p := range s.BudgetSpent {
		times[i], spent[i] = p.Start, p.Spent
		uptime[i], targets[i], remaining[i], burn[i] = s.Uptime, target, s.BudgetRemaining, s.BurnRate
	}
	labels := monitorLabels(mon)
	percent := &data.FieldConfig{Unit: "percentunit"}
	frame := data.NewFrame(mon.ID,
		data.NewField("time", nil, times),
		data.NewField("budget_spent", labels, spent).SetConfig(&data.FieldConfig{Unit: "percentunit", DisplayNameFromDS: mon.Name() + " budget spent"}),
		data.NewField("uptime", labels, uptime).SetConfig(percent),
		data.NewField("target", labels, targets).SetConfig(percent),
		data.NewField("budget_remaining", labels, remaining).SetConfig(percent),
		data.NewField("burn_rate", labels, burn).SetConfig(&data.FieldConfig{Unit: "none"}),
	)
	frame.Meta = &data.FrameMeta{Type: data.FrameTypeTimeSeriesWide, TypeVersion: data.FrameTypeVersion{0, 1}}
	return frame
}
