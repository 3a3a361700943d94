package vedette

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// seriesBody is a `/series` answer for monitors × buckets hourly buckets with one metric.
func seriesBody(monitors, buckets int) []byte {
	var b strings.Builder
	start := time.Date(2026, 10, 29, 0, 0, 0, 0, time.UTC)
	b.WriteString(`{"from":"2026-10-29T00:00:00Z","to":"2026-11-28T00:00:00Z","step":"1h","maintenance_excluded":true,"series":[`)
	for m := range monitors {
		if m > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"monitor_id":"mon-%03d","buckets":[`, m)
		for i := range buckets {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"start":%q,"uptime":0.9986111111111111}`, start.Add(time.Duration(i)*time.Hour).Format(time.RFC3339))
		}
		b.WriteString(`]}`)
	}
	b.WriteString(`]}`)
	return []byte(b.String())
}

// BenchmarkDecodeSeries500 decodes with encoding/json into a struct the 39 answers of a 30-day hourly query over 500 monitors
// (13 monitors each, under the server's 10,000-point limit).
func BenchmarkDecodeSeries500(b *testing.B) {
	body := seriesBody(13, 720)
	b.SetBytes(int64(len(body)) * 39)
	for b.Loop() {
		for range 39 {
			var s struct {
				Series []struct {
					MonitorID string `json:"monitor_id"`
					Buckets   []struct {
						Start  time.Time `json:"start"`
						Uptime *float64  `json:"uptime"`
					} `json:"buckets"`
				} `json:"series"`
			}
			if err := json.Unmarshal(body, &s); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkScanSeries500 is BenchmarkDecodeSeries500 through the decoder the client uses.
func BenchmarkScanSeries500(b *testing.B) {
	body := seriesBody(13, 720)
	b.SetBytes(int64(len(body)) * 39)
	for b.Loop() {
		for range 39 {
			if _, err := decodeSeries(body, "uptime"); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// TestScannerMatchesFallback: the fast decoder reads what the encoding/json fallback reads,
// which takes over for a shape the scanner does not expect (escapes, unknown keys).
func TestScannerMatchesFallback(t *testing.T) {
	bodies := [][]byte{
		seriesBody(3, 5),
		[]byte(`{"from":"2026-11-28T00:00:00Z","to":"2026-11-28T02:00:00.5Z","step":"1h","maintenance_excluded":true,"series":[{"monitor_id":"a","buckets":[{"start":"2026-11-28T00:00:00Z","uptime":null},{"start":"2026-11-28T01:00:00Z","uptime":1.5e-1}]},{"monitor_id":"b","buckets":[]}]}`),
		[]byte(` { "series" : [ ] , "step" : "1h" , "from" : "2026-11-28T00:00:00Z" , "to" : "2026-11-28T00:00:00Z" , "maintenance_excluded" : false } `),
		[]byte(`{"series":[{"monitor_id":"esc\u0061ped","buckets":[{"start":"2026-11-28T00:00:00Z","uptime":0.5,"checks":3}]}],"extra":{"x":[1,2]}}`),
	}
	for i, body := range bodies {
		fast := seriesScanner{b: body, metric: "uptime"}
		got, fastErr := fast.series()
		// Only the last body (escapes, unknown keys) is left to the fallback.
		if (fastErr == nil) != (i < len(bodies)-1) {
			t.Errorf("scanner on %s: %v", body, fastErr)
		}
		want, err := decodeSeriesGeneric(body, "uptime")
		if err != nil {
			t.Fatal(err)
		}
		if fastErr != nil {
			got = want
		}
		a, _ := json.Marshal(want)
		b, _ := json.Marshal(got)
		if string(a) != string(b) {
			t.Errorf("decoders differ on %s:\n%s\n%s", body, a, b)
		}
	}
	if _, err := decodeSeries([]byte(`{"series":[`), "uptime"); err == nil {
		t.Error("truncated answer accepted")
	}
	got, err := decodeSeries(bodies[3], "uptime")
	if err != nil || got.Series[0].MonitorID != "escaped" || *got.Series[0].Values[0] != 0.5 {
		t.Errorf("fallback: %v %+v", err, got)
	}
}
