// Command bench measures the data source backend on a real `vedette serve`: a 30-day, 1-hour
// step series query over 500 monitors (360,000 points), from the QueryData call to the frames
// encoded as Grafana receives them (Arrow, over gRPC), and prints the figures: once against
// the server, and once against the server's answers replayed from memory by a loopback proxy,
// which leaves out the time Vedette takes to compute them (the backend's own share).
//
//	go run ./pkg/bench [-monitors 500] [-days 30] [-runs 10]
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
	flag.Parse()
	if err := run(*monitors, *days, *runs); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(monitors, days, runs int) error {
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

	model, _ := json.Marshal(map[string]any{"queryType": "series", "metric": "availability"})
	now := time.Now().UTC()
	req := &backend.QueryDataRequest{Queries: []backend.DataQuery{{
		RefID: "A", JSON: model, Interval: time.Hour, MaxDataPoints: 100_000,
		TimeRange: backend.TimeRange{From: now.Add(-time.Duration(days) * 24 * time.Hour), To: now},
	}}}
	fmt.Printf("series query, %d days at 1h over %d monitors\n", days, monitors)
	if err := measure("against vedette serve", env.URL, env.ReadToken, req, runs); err != nil {
		return err
	}
	replay := newReplay(env.URL)
	defer replay.Close()
	return measure("answers replayed (backend only)", replay.URL, env.ReadToken, req, runs)
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

// measure runs req runs times (after a warm-up) on a data source of url and prints the figures.
func measure(what, url, token string, req *backend.QueryDataRequest, runs int) error {
	inst, err := plugin.NewDatasource(context.Background(), backend.DataSourceInstanceSettings{
		JSONData:                json.RawMessage(fmt.Sprintf(`{"url": %q}`, url)),
		DecryptedSecureJSONData: map[string]string{"token": token},
	})
	if err != nil {
		return err
	}
	ds := inst.(*plugin.Datasource)
	defer ds.Dispose()
	var total, query, cpu []time.Duration
	var points, frames int
	for i := range runs + 1 {
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
		}
	}
	fmt.Printf("%s: %d frames, %d points\n", what, frames, points)
	fmt.Printf("  QueryData (Vedette calls + frames):  median %s, max %s over %d runs\n", median(query), slices.Max(query).Round(time.Millisecond), runs)
	fmt.Printf("  QueryData + Arrow encoding (gRPC):   median %s, max %s over %d runs\n", median(total), slices.Max(total).Round(time.Millisecond), runs)
	fmt.Printf("  CPU time of this process per query:  median %s (the replay proxy, when used, included)\n", median(cpu))
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
