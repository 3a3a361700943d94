// Command bench measures the data source backend on a real `vedette serve`: a 30-day, 1-hour
// step series query over 500 monitors (360,000 points), from the QueryData call to the frames
// encoded as Grafana receives them (Arrow, over gRPC), and prints the figures: once against
// the server, and once against the server's answers replayed from memory by a loopback proxy,
// which leaves out the time Vedette takes to compute them (the backend's own share). The
// server's CPU time per query is printed too: on a busy machine it moves less than wall time.
//
// With -history (the default) every monitor gets an hourly rollup row for each hour of the
// range, written straight into the server's SQLite database with the sqlite3 command-line
// tool (checks every 5 minutes, a failure now and then), so the server reads 30 days of
// history as it would after a month of checks; without it each monitor has only its check at
// creation and most buckets are empty.
//
//	go run ./pkg/bench [-monitors 500] [-days 30] [-runs 10] [-history=false] [-metric latency_p95]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/internal/testenv"
	"github.com/vedette-dev/vedette/grafana-plugin/pkg/plugin"
)

func main() {
	monitors := flag.Int("monitors", 500, "monitors to create")
	days := flag.Int("days", 30, "length of the queried range in days")
	runs := flag.Int("runs", 10, "measured queries (after one warm-up)")
	history := flag.Bool("history", true, "give every monitor an hourly rollup row for each hour of the range (needs sqlite3)")
	metric := flag.String("metric", "availability", "the series metric queried, as the query editor names it")
	flag.Parse()
	if err := run(*monitors, *days, *runs, *history, *metric); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(monitors, days, runs int, history bool, metric string) error {
	env, err := testenv.Start("--writes-per-second", "0")
	if err != nil {
		return err
	}
	defer env.Stop()

	began := time.Now()
	ids := make(chan int)
	errs := make(chan error, monitors)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i := range ids {
				team := []string{"payments", "search", "identity", "storage"}[i%4]
				id := fmt.Sprintf("mon-%03d", i)
				if err := env.PutMonitor(id, "Monitor "+id, "/ok", map[string]string{"team": team, "env": "prod"}); err != nil {
					errs <- err
				}
			}
		})
	}
	for i := range monitors {
		ids <- i
	}
	close(ids)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return err
	}
	fmt.Printf("seeded %d monitors (each checked once at creation) in %s\n", monitors, time.Since(began).Round(time.Millisecond))
	if history {
		began = time.Now()
		if err := seedHistory(env.Database(), monitors, days); err != nil {
			return err
		}
		fmt.Printf("seeded %d days of hourly rollups per monitor in %s\n", days, time.Since(began).Round(time.Millisecond))
	}

	model, _ := json.Marshal(map[string]any{"queryType": "series", "metric": metric})
	now := time.Now().UTC()
	req := &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", JSON: model, Interval: time.Hour, MaxDataPoints: 100_000,
		TimeRange: backend.TimeRange{From: now.Add(-time.Duration(days) * 24 * time.Hour), To: now},
	}}}
	fmt.Printf("series query of %s, %d days at 1h over %d monitors\n", metric, days, monitors)
	if err := measure("against vedette serve", env.URL, env.ReadToken, req, runs, env.ServerCPU); err != nil {
		return err
	}
	replay := newReplay(env.URL)
	defer replay.Close()
	return measure("answers replayed (backend only)", replay.URL, env.ReadToken, req, runs, nil)
}

// seedHistory writes an hourly rollup row for each of the last days+1 days' hours and each
// monitor mon-000… into the database at path: 12 checks, a failure in about one hour of 97,
// latencies of 20–50 ms in the histogram's buckets for them.
func seedHistory(path string, monitors, days int) error {
	if _, err := exec.LookPath("sqlite3"); err != nil {
		return fmt.Errorf("-history needs the sqlite3 command-line tool (apt-get install sqlite3), or run with -history=false: %w", err)
	}
	hours := (days + 1) * 24
	first := (time.Now().Unix()/3600 - int64(hours) + 1) * 3_600_000
	sql := fmt.Sprintf(`PRAGMA busy_timeout = 10000;
WITH RECURSIVE m(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM m WHERE i < %d),
h(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM h WHERE j < %d)
INSERT OR REPLACE INTO rollups (monitor_id, resolution_ms, bucket_start, checks, failures, degraded, maintenance,
  latency_sum_ms, latency_min_ms, latency_max_ms, histogram)
SELECT printf('mon-%%03d', i), 3600000, %d + j * 3600000, 12, CASE WHEN (i + j) %% 97 = 0 THEN 1 ELSE 0 END, 0, 0,
  11 * (20.0 + (i + j) %% 30), 20.0 + (i + j) %% 30, 25.0 + (i + j) %% 30,
  printf('[%%d,3,%%d,5,%%d,3]', 132 + (i + j) %% 20, 133 + (i + j) %% 20, 135 + (i + j) %% 20)
FROM m, h;`, monitors-1, hours-1, first)
	out, err := exec.Command("sqlite3", path, sql).CombinedOutput()
	if err != nil {
		return fmt.Errorf("seeding rollups with sqlite3: %v: %s", err, out)
	}
	return nil
}

// replay is a loopback proxy to the server that answers each URL from memory after its
// first answer.
type replay struct {
	*httptest.Server
	mu      sync.Mutex
	answers map[string][]byte
}

func newReplay(target string) *replay {
	r := &replay{answers: map[string][]byte{}}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key := req.URL.RequestURI()
		r.mu.Lock()
		body, ok := r.answers[key]
		r.mu.Unlock()
		if !ok {
			out, err := http.NewRequest(req.Method, target+key, nil)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			out.Header = req.Header.Clone()
			resp, err := http.DefaultClient.Do(out)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			body, err = io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				http.Error(w, string(body), resp.StatusCode)
				return
			}
			r.mu.Lock()
			r.answers[key] = body
			r.mu.Unlock()
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}))
	return r
}

// measure runs req runs times (after a warm-up) on a data source of url and prints the figures,
// with the server's CPU time per query when serverCPU (its total so far) is given.
func measure(what, url, token string, req *backend.QueryDataRequest, runs int, serverCPU func() (time.Duration, error)) error {
	inst, err := plugin.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData:                json.RawMessage(fmt.Sprintf(`{"url": %q}`, url)),
		DecryptedSecureJSONData: map[string]string{"token": token},
	})
	if err != nil {
		return err
	}
	ds := inst.(*plugin.Datasource)
	defer ds.Dispose()
	var total, query, cpu, server []time.Duration
	var points, frames int
	for i := range runs + 1 {
		var serverStart time.Duration
		if serverCPU != nil {
			if serverStart, err = serverCPU(); err != nil {
				return err
			}
		}
		cpuStart := cpuTime()
		start := time.Now()
		resp, err := ds.QueryData(context.Background(), req)
		if err != nil {
			return err
		}
		queried := time.Since(start)
		a := resp.Responses["A"]
		if a.Error != nil {
			return a.Error
		}
		if _, err := backend.ToProto().QueryDataResponse(backend.DataFrameFormat_ARROW, resp); err != nil {
			return err
		}
		elapsed := time.Since(start)
		frames, points = len(a.Frames), 0
		for _, f := range a.Frames {
			points += f.Fields[0].Len()
		}
		if i > 0 {
			total = append(total, elapsed)
			query = append(query, queried)
			cpu = append(cpu, cpuTime()-cpuStart)
			if serverCPU != nil {
				serverEnd, err := serverCPU()
				if err != nil {
					return err
				}
				server = append(server, serverEnd-serverStart)
			}
		}
	}
	fmt.Printf("%s: %d frames, %d points\n", what, frames, points)
	fmt.Printf("  QueryData (Vedette calls + frames):  median %s, max %s over %d runs\n", median(query), slices.Max(query).Round(time.Millisecond), runs)
	fmt.Printf("  QueryData + Arrow encoding (gRPC):   median %s, max %s over %d runs\n", median(total), slices.Max(total).Round(time.Millisecond), runs)
	fmt.Printf("  CPU time of this process per query:  median %s (the replay proxy, when used, included)\n", median(cpu))
	if server != nil {
		fmt.Printf("  CPU time of the server per query:    median %s, max %s\n", median(server), slices.Max(server).Round(time.Millisecond))
	}
	return nil
}

// cpuTime is the CPU time (user and system) this process has used.
func cpuTime() time.Duration {
	var u syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &u); err != nil {
		return 0
	}
	return time.Duration(u.Utime.Nano() + u.Stime.Nano())
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2].Round(time.Millisecond)
}
