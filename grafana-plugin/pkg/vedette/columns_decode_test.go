package vedette

import (
	"strings"
	"testing"
	"time"
)

const columnsBody = `{"from":"2026-11-27T22:00:00Z","to":"2026-11-28T00:30:00Z","step":"1h","maintenance_excluded":true,"buckets":3,
"series":[{"monitor_id":"a","values":{"uptime":[1.0,null,0.5]}},{"monitor_id":"b","values":{"uptime":[null,null,1e0]}}]}`

// TestDecodeColumns: starts are computed from `from` and the step and shared by every
// monitor; null stays nil; the fixed-shape scanner and encoding/json agree.
func TestDecodeColumns(t *testing.T) {
	scanner := seriesScanner{b: []byte(columnsBody), metric: "uptime"}
	if _, buckets, err := scanner.columns(); err != nil || buckets != 3 {
		t.Fatalf("the scanner reads %d buckets: %v", buckets, err)
	}
	// The same answer with an escaped id makes the scanner hand over to encoding/json.
	escaped := strings.Replace(columnsBody, `"monitor_id":"b"`, `"monitor_id":"\u0062"`, 1)
	for _, body := range []string{columnsBody, escaped} {
		got, err := decodeColumns([]byte(body), "uptime", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Series) != 2 || got.Series[0].MonitorID != "a" || got.Series[1].MonitorID != "b" {
			t.Fatalf("series %+v", got.Series)
		}
		from := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
		for _, ms := range got.Series {
			if len(ms.Times) != 3 || !ms.Times[0].Equal(from) || !ms.Times[2].Equal(from.Add(2*time.Hour)) {
				t.Errorf("%s times %v", ms.MonitorID, ms.Times)
			}
		}
		a := got.Series[0].Values
		if *a[0] != 1 || a[1] != nil || *a[2] != 0.5 {
			t.Errorf("a values %v", a)
		}
		if b := got.Series[1].Values; b[0] != nil || *b[2] != 1 {
			t.Errorf("b values %v", b)
		}
	}
}

// TestDecodeColumnsRefuses: an array of the wrong length, a missing metric or a body that
// is not JSON is an error, not frames of the wrong shape.
func TestDecodeColumnsRefuses(t *testing.T) {
	for name, body := range map[string]string{
		"short array":    strings.Replace(columnsBody, `[1.0,null,0.5]`, `[1.0,null]`, 1),
		"other metric":   strings.ReplaceAll(columnsBody, `"uptime"`, `"checks"`),
		"not json":       `{"from":`,
		"no bucket size": strings.Replace(columnsBody, `"buckets":3,`, ``, 1),
	} {
		if _, err := decodeColumns([]byte(body), "uptime", time.Hour); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
