// Package testenv runs what the backend's tests and benchmark talk to: a real `vedette serve`
// (the workspace's target/debug/vedette, or VEDETTE_BIN) on a temporary SQLite database and
// an HTTP target on 127.0.0.1 whose health can be switched.
package testenv

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// AdminToken is the bootstrap token of every test server.
const AdminToken = "vdt_grafana_test_admin_token_0123456789abcdef"

// Env is a running server and target.
type Env struct {
	// URL is the server's base URL.
	URL string
	// ReadToken has the read scope only.
	ReadToken string
	// WriteToken has the write scope (it can run checks, not manage tokens).
	WriteToken string
	// Target answers /ok with 200 and /switch with 200 or 503 as SetUp says.
	Target *httptest.Server

	up      atomic.Bool
	cmd     *exec.Cmd
	dir     string
	logPath string
	http    *http.Client
}

// Binary is the vedette binary: VEDETTE_BIN, else target/debug/vedette of the workspace.
func Binary() string {
	if bin := os.Getenv("VEDETTE_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "..", "target", "debug", "vedette")
}

var listening = regexp.MustCompile(`vedette listening on (http://\S+)`)

// Start starts the target and the server (with extra `vedette serve` flags) and makes the
// read and write tokens.
func Start(serveFlags ...string) (*Env, error) {
	bin := Binary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no vedette binary at %s (build it with `cargo build -p vedette-cli` or set VEDETTE_BIN): %w", bin, err)
	}
	e := &Env{http: &http.Client{Timeout: 30 * time.Second}}
	e.up.Store(true)
	e.Target = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/switch" && !e.up.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, `{"status":"DOWN"}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"UP"}`)
	}))
	dir, err := os.MkdirTemp("", "vedette-grafana-")
	if err != nil {
		return nil, err
	}
	e.dir = dir
	e.logPath = filepath.Join(dir, "server.log")
	logFile, err := os.Create(e.logPath)
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data")}, serveFlags...)
	e.cmd = exec.Command(bin, args...)
	e.cmd.Env = append(os.Environ(), "VEDETTE_BOOTSTRAP_TOKEN="+AdminToken, "VEDETTE_LOG_FORMAT=text", "NO_COLOR=1")
	e.cmd.Stdout = logFile
	stderr, err := e.cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := e.cmd.Start(); err != nil {
		return nil, err
	}
	found := make(chan string, 1)
	ended := make(chan struct{})
	var once sync.Once
	go func() {
		defer close(ended)
		scanner := bufio.NewScanner(stderr)
		scanner.Buffer(make([]byte, 64*1024), 1024*1024)
		for scanner.Scan() {
			line := scanner.Text()
			fmt.Fprintln(logFile, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				once.Do(func() { found <- m[1] })
			}
		}
	}()
	select {
	case e.URL = <-found:
	case <-ended:
		e.Stop()
		return nil, fmt.Errorf("vedette exited before listening; its log:\n%s", e.Log())
	case <-time.After(60 * time.Second):
		e.Stop()
		return nil, fmt.Errorf("vedette printed no 'listening on' line within 60 s; its log:\n%s", e.Log())
	}
	for _, scope := range []string{"read", "write"} {
		var created struct {
			Token string `json:"token"`
		}
		if err := e.Call("POST", "/api/v1/tokens", AdminToken, map[string]any{"name": "grafana-" + scope, "scopes": []string{scope}}, 201, &created); err != nil {
			e.Stop()
			return nil, err
		}
		if scope == "read" {
			e.ReadToken = created.Token
		} else {
			e.WriteToken = created.Token
		}
	}
	return e, nil
}

// Database is the path of the server's SQLite database.
func (e *Env) Database() string { return filepath.Join(e.dir, "data", "vedette.db") }

// Log is the server's log so far.
func (e *Env) Log() string {
	raw, _ := os.ReadFile(e.logPath)
	return string(raw)
}

// SetUp switches the target's /switch between healthy and failing.
func (e *Env) SetUp(up bool) { e.up.Store(up) }

// Call sends method path with a JSON body (nil for none) and token, wants status and decodes
// the answer into out (when not nil).
func (e *Env) Call(method, path, token string, body any, want int, out any) error {
	var reader io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		reader = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.URL+path, reader)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.http.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return fmt.Errorf("%s %s: HTTP %d, want %d: %s", method, path, resp.StatusCode, want, raw)
	}
	if out != nil {
		return json.Unmarshal(raw, out)
	}
	return nil
}

// PutMonitor creates an HTTP monitor of the target's path with labels, checked once a day
// (so only its check at creation and Run add results), failing at the first failed check.
func (e *Env) PutMonitor(id, name, path string, labels map[string]string) error {
	body := map[string]any{
		"labels": labels,
		"spec": map[string]any{
			"name":              name,
			"http":              map[string]any{"url": e.Target.URL + path},
			"interval":          "1d",
			"timeout":           "2s",
			"failure_threshold": 1,
			"assertions":        []string{"status == 200"},
		},
	}
	return e.Call("PUT", "/api/v1/monitors/"+id, AdminToken, body, 201, nil)
}

// WaitResults waits (at most 10 s) until monitor id has n results recorded: the check at
// creation runs in the background, and a test that flips the target before it lands would
// record the flipped state instead.
func (e *Env) WaitResults(id string, n int) error {
	deadline := time.Now().Add(10 * time.Second)
	for {
		var page struct {
			Items []json.RawMessage `json:"items"`
		}
		if err := e.Call("GET", "/api/v1/monitors/"+id+"/results", AdminToken, nil, 200, &page); err != nil {
			return err
		}
		if len(page.Items) >= n {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("monitor %s has %d results after 10 s, want %d", id, len(page.Items), n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Run runs a monitor's check now and records it.
func (e *Env) Run(id string) error {
	return e.Call("POST", "/api/v1/monitors/"+id+"/run", e.WriteToken, nil, 200, nil)
}

// ServerCPU is the CPU time (user and system, every thread) the server process has used so
// far, read from /proc (Linux only; 10 ms steps): a figure that, unlike wall time, does not
// grow when other work shares the machine.
func (e *Env) ServerCPU() (time.Duration, error) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", e.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("server CPU time: %w", err)
	}
	// The fields after the command name, which is in parentheses and may hold spaces:
	// utime and stime are the 12th and 13th, in clock ticks of 1/100 s.
	text := string(raw)
	fields := strings.Fields(text[strings.LastIndexByte(text, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("server CPU time: unexpected /proc stat line %q", text)
	}
	var ticks int64
	for _, field := range fields[11:13] {
		n, err := strconv.ParseInt(field, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("server CPU time: %q is not a number of ticks", field)
		}
		ticks += n
	}
	return time.Duration(ticks) * 10 * time.Millisecond, nil
}

// Stop stops the server and the target and removes the data directory (kept, with the log,
// when VEDETTE_KEEP is set).
func (e *Env) Stop() {
	if e.cmd != nil && e.cmd.Process != nil {
		_ = e.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = e.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = e.cmd.Process.Kill()
			<-done
		}
	}
	if e.Target != nil {
		e.Target.Close()
	}
	if os.Getenv("VEDETTE_KEEP") == "" {
		_ = os.RemoveAll(e.dir)
	} else {
		fmt.Fprintf(os.Stderr, "server data and log kept in %s\n", e.dir)
	}
}
