package provider

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"
	"github.com/hashicorp/terraform-plugin-go/tfprotov6"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/terraform"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

// testAccProtoV6ProviderFactories serve the provider in this process: terraform reattaches to it,
// so no provider is downloaded or installed.
var testAccProtoV6ProviderFactories = map[string]func() (tfprotov6.ProviderServer, error){
	"vedette": providerserver.NewProtocol6WithError(New("test")()),
}

// bootstrapToken is the admin token the test server creates on first start (the server wants
// `vdt_` and at least 32 URL-safe characters).
const bootstrapToken = "vdt_tf-acc-admin-token-0123456789abcdefghij"

// TestMain starts a real `vedette serve` with a temporary database for the acceptance tests
// (TF_ACC=1) and stops it at the end. VEDETTE_BIN names the binary (default
// ../target/debug/vedette next to this module); VEDETTE_ACC_URL and VEDETTE_ACC_TOKEN use a
// server that is already running instead.
func TestMain(m *testing.M) {
	os.Setenv("CHECKPOINT_DISABLE", "1")
	// The provider's registry address is vedette-dev/vedette: configurations that declare it in
	// required_providers (as `vedette export --format terraform` does) reach the in-process server.
	if os.Getenv("TF_ACC_PROVIDER_NAMESPACE") == "" {
		os.Setenv("TF_ACC_PROVIDER_NAMESPACE", "vedette-dev")
	}
	var cleanup []func()
	if os.Getenv("TF_CLI_CONFIG_FILE") == "" {
		// An empty CLI configuration: no provider installation rules or credentials of the
		// machine's user leak into the tests, and terraform does not warn about a missing file.
		if f, err := os.CreateTemp("", "vedette-tf-cli-*.tfrc"); err == nil {
			f.Close()
			os.Setenv("TF_CLI_CONFIG_FILE", f.Name())
			cleanup = append(cleanup, func() { os.Remove(f.Name()) })
		}
	}
	stop := func() {}
	if os.Getenv("TF_ACC") != "" {
		if url := os.Getenv("VEDETTE_ACC_URL"); url != "" {
			os.Setenv("VEDETTE_URL", url)
			os.Setenv("VEDETTE_TOKEN", os.Getenv("VEDETTE_ACC_TOKEN"))
		} else {
			var err error
			stop, err = startServer()
			if err != nil {
				fmt.Fprintf(os.Stderr, "cannot start vedette serve for the acceptance tests: %v\n", err)
				os.Exit(1)
			}
		}
	}
	code := m.Run()
	stop()
	for _, f := range cleanup {
		f()
	}
	os.Exit(code)
}

// moduleRoot is the directory of go.mod.
func moduleRoot() string {
	dir, _ := os.Getwd()
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d
		}
		if filepath.Dir(d) == d {
			return dir
		}
	}
}

// vedetteBinary is the vedette binary the tests use.
func vedetteBinary() string {
	if bin := os.Getenv("VEDETTE_BIN"); bin != "" {
		return bin
	}
	return filepath.Join(moduleRoot(), "..", "target", "debug", "vedette")
}

var listening = regexp.MustCompile(`vedette listening on (http://\S+)`)

func startServer() (func(), error) {
	bin := vedetteBinary()
	if _, err := os.Stat(bin); err != nil {
		return nil, fmt.Errorf("no vedette binary at %s (build it with `cargo build -p vedette-cli` or set VEDETTE_BIN): %w", bin, err)
	}
	dir, err := os.MkdirTemp("", "vedette-tf-acc-")
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(dir, "server.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	// --webhook-allow-private: the webhook endpoint tests deliver to a receiver on 127.0.0.1.
	cmd := exec.Command(bin, "serve", "--listen", "127.0.0.1:0", "--data-dir", filepath.Join(dir, "data"),
		"--webhook-allow-private")
	cmd.Env = append(os.Environ(), "VEDETTE_BOOTSTRAP_TOKEN="+bootstrapToken, "VEDETTE_LOG_FORMAT=text", "NO_COLOR=1")
	cmd.Stdout = logFile
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
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
		_, _ = io.Copy(logFile, stderr)
	}()
	stop := func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		logFile.Close()
		if os.Getenv("VEDETTE_ACC_KEEP") == "" {
			os.RemoveAll(dir)
		} else {
			fmt.Fprintf(os.Stderr, "server data and log kept in %s\n", dir)
		}
	}
	select {
	case url := <-found:
		os.Setenv("VEDETTE_URL", url)
		os.Setenv("VEDETTE_TOKEN", bootstrapToken)
		fmt.Fprintf(os.Stderr, "acceptance tests against %s (log %s)\n", url, logPath)
		return stop, nil
	case <-ended:
		os.Setenv("VEDETTE_ACC_KEEP", "1")
		stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("the server exited before listening; its log:\n%s", log)
	case <-time.After(60 * time.Second):
		os.Setenv("VEDETTE_ACC_KEEP", "1")
		stop()
		log, _ := os.ReadFile(logPath)
		return nil, fmt.Errorf("the server printed no 'vedette listening on' line within 60 s; its log:\n%s", log)
	}
}

// skipUnlessAcc skips a test that needs the server unless TF_ACC is set, as resource.Test does.
func skipUnlessAcc(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC") == "" {
		t.Skip("acceptance test: set TF_ACC=1")
	}
}

// testAccPreCheck fails the test early when there is no server to test against.
func testAccPreCheck(t *testing.T) {
	t.Helper()
	if os.Getenv("VEDETTE_URL") == "" || os.Getenv("VEDETTE_TOKEN") == "" {
		t.Fatal("VEDETTE_URL and VEDETTE_TOKEN must be set for acceptance tests (TestMain sets them)")
	}
}

// testClient is an API client for checks and out-of-band changes.
func testClient(t *testing.T) *client.Client {
	t.Helper()
	c, err := client.New(client.Config{Endpoint: os.Getenv("VEDETTE_URL"), Token: os.Getenv("VEDETTE_TOKEN")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// accTest runs an acceptance test case against the test server, with the provider served in this
// process, and checks at the end that the objects of its resources are gone.
func accTest(t *testing.T, tc resource.TestCase) {
	t.Helper()
	tc.PreCheck = func() { testAccPreCheck(t) }
	tc.ProtoV6ProviderFactories = testAccProtoV6ProviderFactories
	tc.CheckDestroy = checkDestroyed(t)
	resource.Test(t, tc)
}

// checkDestroyed verifies through the API that the objects of the state's resources are gone.
func checkDestroyed(t *testing.T) resource.TestCheckFunc {
	read := map[string]func(context.Context, *client.Client, string) error{
		"vedette_monitor":            readObject(client.Monitors),
		"vedette_maintenance_window": readObject(client.MaintenanceWindows),
		"vedette_webhook_endpoint":   readObject(client.Webhooks),
		"vedette_status_page":        readObject(client.StatusPages),
		"vedette_discovery_source":   readObject(client.DiscoverySources),
	}
	return func(s *terraform.State) error {
		c := testClient(t)
		for _, rs := range s.RootModule().Resources {
			get, ok := read[rs.Type]
			if !ok {
				continue
			}
			err := get(context.Background(), c, rs.Primary.ID)
			if err == nil {
				return fmt.Errorf("%s %s still exists", rs.Type, rs.Primary.ID)
			}
			if !client.IsNotFound(err) {
				return err
			}
		}
		return nil
	}
}

// readObject reads an object of a collection for its error alone.
func readObject[T, W any](objects client.Collection[T, W]) func(context.Context, *client.Client, string) error {
	return func(ctx context.Context, c *client.Client, id string) error {
		_, err := objects.Get(ctx, c, id)
		return err
	}
}

// requireTerraform skips a test that drives terraform when there is none: terraform-plugin-testing
// would otherwise try to download one.
func requireTerraform(t *testing.T) {
	t.Helper()
	if os.Getenv("TF_ACC_TERRAFORM_PATH") != "" {
		return
	}
	if _, err := exec.LookPath("terraform"); err != nil {
		t.Skip("no terraform on PATH and TF_ACC_TERRAFORM_PATH unset")
	}
}

// The provider's schema is valid: the framework checks defaults, validators and nesting here.
func TestProviderSchema(t *testing.T) {
	server, err := testAccProtoV6ProviderFactories["vedette"]()
	if err != nil {
		t.Fatal(err)
	}
	resp, err := server.GetProviderSchema(context.Background(), &tfprotov6.GetProviderSchemaRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range resp.Diagnostics {
		t.Errorf("%s: %s: %s", d.Severity, d.Summary, d.Detail)
	}
	for _, name := range []string{"vedette_monitor", "vedette_maintenance_window", "vedette_webhook_endpoint",
		"vedette_status_page", "vedette_discovery_source"} {
		if _, ok := resp.ResourceSchemas[name]; !ok {
			t.Errorf("resource %s missing", name)
		}
	}
	for _, name := range []string{"vedette_monitor", "vedette_monitors", "vedette_integrations"} {
		if _, ok := resp.DataSourceSchemas[name]; !ok {
			t.Errorf("data source %s missing", name)
		}
	}
	// Secrets are sensitive.
	monitor := resp.ResourceSchemas["vedette_monitor"].Block
	sensitive := map[string]bool{}
	for _, a := range monitor.Attributes {
		if a.Sensitive {
			sensitive[a.Name] = true
		}
		if a.NestedType != nil {
			for _, n := range a.NestedType.Attributes {
				if n.Sensitive {
					sensitive[a.Name+"."+n.Name] = true
				}
				if n.NestedType != nil {
					for _, nn := range n.NestedType.Attributes {
						if nn.Sensitive {
							sensitive[a.Name+"."+n.Name+"."+nn.Name] = true
						}
					}
				}
			}
		}
	}
	for _, name := range []string{"push_url", "heartbeat.token", "http.bearer_token", "http.basic_auth.password"} {
		if !sensitive[name] {
			t.Errorf("%s must be sensitive (sensitive: %v)", name, sensitive)
		}
	}
	// Webhook secrets are sensitive; their *_wo variants are write-only as well.
	writeOnly := map[string]bool{}
	for _, a := range resp.ResourceSchemas["vedette_webhook_endpoint"].Block.Attributes {
		sensitive["webhook."+a.Name] = a.Sensitive
		writeOnly["webhook."+a.Name] = a.WriteOnly
		if a.NestedType != nil {
			for _, n := range a.NestedType.Attributes {
				sensitive["webhook."+a.Name+"."+n.Name] = n.Sensitive
				writeOnly["webhook."+a.Name+"."+n.Name] = n.WriteOnly
			}
		}
	}
	for _, name := range []string{"signing_secret", "secret_headers", "secret_headers_wo", "auth.secret", "auth.secret_wo",
		"integration.secret_params", "integration.secret_params_wo"} {
		if !sensitive["webhook."+name] {
			t.Errorf("vedette_webhook_endpoint %s must be sensitive", name)
		}
		if strings.HasSuffix(name, "_wo") != writeOnly["webhook."+name] {
			t.Errorf("vedette_webhook_endpoint %s: write-only is %v", name, writeOnly["webhook."+name])
		}
	}
}

// Configuration mistakes are caught by terraform validate, before any API call.
func TestValidation(t *testing.T) {
	requireTerraform(t)
	t.Setenv("VEDETTE_URL", "http://127.0.0.1:9")
	t.Setenv("VEDETTE_TOKEN", "unused")
	for _, tc := range []struct {
		name, config string
		err          string
	}{
		{"two kinds", `resource "vedette_monitor" "m" {
  id   = "two"
  http = { url = "https://example.com" }
  tcp  = { host = "example.com", port = 443 }
}`, `(?s)Invalid Attribute Combination.*http.*tcp`},
		{"no kind", `resource "vedette_monitor" "m" {
  id = "none"
}`, `(?s)Missing Attribute Configuration.*http,tcp,dns,tls,heartbeat`},
		{"bad duration", `resource "vedette_monitor" "m" {
  id       = "dur"
  interval = "thirty seconds"
  tcp      = { host = "example.com", port = 443 }
}`, `(?s)Invalid duration.*thirty seconds`},
		{"bad id", `resource "vedette_monitor" "m" {
  id  = "Payments API"
  tcp = { host = "example.com", port = 443 }
}`, `(?s)must be 1 to 128 characters`},
		{"bad method", `resource "vedette_monitor" "m" {
  id   = "method"
  http = { url = "https://example.com", method = "FETCH" }
}`, `(?s)value must be one of`},
		{"relative url", `resource "vedette_monitor" "m" {
  id   = "url"
  http = { url = "/healthz" }
}`, `(?s)absolute http:// or https:// URL`},
		{"two auths", `resource "vedette_monitor" "m" {
  id   = "auth"
  http = {
    url          = "https://example.com"
    bearer_token = "t"
    basic_auth   = { username = "u", password = "p" }
  }
}`, `(?s)Invalid Attribute Combination`},
		{"threshold", `resource "vedette_monitor" "m" {
  id                = "thr"
  failure_threshold = 0
  tcp               = { host = "example.com", port = 443 }
}`, `(?s)failure_threshold.*between 1 and 100|must be between 1 and 100`},
		{"cron with start", `resource "vedette_maintenance_window" "w" {
  id       = "w"
  cron     = "0 2 * * *"
  duration = "1h"
  start    = "2026-11-26T10:00:00Z"
  monitors = ["a"]
}`, `(?s)Invalid Attribute Combination`},
		{"bad time", `resource "vedette_maintenance_window" "w" {
  id       = "w"
  start    = "tomorrow"
  end      = "2026-11-26T10:00:00Z"
  monitors = ["a"]
}`, `(?s)Invalid timestamp`},
		{"webhook url and integration", `resource "vedette_webhook_endpoint" "w" {
  id          = "w"
  url         = "https://hooks.example.com/x"
  integration = { name = "generic" }
}`, `(?s)Invalid Attribute Combination`},
		{"webhook without destination", `resource "vedette_webhook_endpoint" "w" {
  id = "w"
}`, `(?s)Invalid Attribute Combination|Missing Attribute Configuration`},
		{"webhook auth without secret", `resource "vedette_webhook_endpoint" "w" {
  id   = "w"
  url  = "https://hooks.example.com/x"
  auth = { type = "bearer" }
}`, `(?s)Invalid Attribute Combination`},
		{"webhook wo version without value", `resource "vedette_webhook_endpoint" "w" {
  id                        = "w"
  url                       = "https://hooks.example.com/x"
  secret_headers_wo_version = 1
}`, `(?s)Invalid Attribute Combination`},
		{"page slug", `resource "vedette_status_page" "p" {
  id     = "p"
  title  = "Status"
  slug   = "Our.Status"
  groups = [{ name = "API", selector = "team=api" }]
}`, `(?s)slug.*must be 1 to 64 characters of a-z, 0-9 or '-'`},
		{"page group without monitors", `resource "vedette_status_page" "p" {
  id     = "p"
  title  = "Status"
  slug   = "status"
  groups = [{ name = "API" }]
}`, `(?s)groups\[0\]\.(monitors|selector).*Invalid Attribute Combination|Invalid Attribute Combination.*groups\[0\]`},
		{"page empty monitors", `resource "vedette_status_page" "p" {
  id     = "p"
  title  = "Status"
  slug   = "status"
  groups = [{ name = "API", monitors = [], selector = "team=api" }]
}`, `(?s)groups\[0\]\.monitors.*at least 1`},
		{"page no groups", `resource "vedette_status_page" "p" {
  id     = "p"
  title  = "Status"
  slug   = "status"
  groups = []
}`, `(?s)groups list must contain at least 1 elements and at most 50`},
		{"page domain", `resource "vedette_status_page" "p" {
  id            = "p"
  title         = "Status"
  slug          = "status"
  custom_domain = "https://status.example.com"
  groups        = [{ name = "API", selector = "team=api" }]
}`, `(?s)custom_domain.*lower-case host name`},
		{"page blank title", `resource "vedette_status_page" "p" {
  id     = "p"
  title  = "   "
  slug   = "status"
  groups = [{ name = "API", selector = "team=api" }]
}`, `(?s)title.*must not be blank`},
		{"discovery type", `resource "vedette_discovery_source" "d" {
  id       = "d"
  type     = "haproxy"
  endpoint = { url = "http://127.0.0.1:9901" }
}`, `(?s)type.*value must be one of`},
		{"discovery interval", `resource "vedette_discovery_source" "d" {
  id       = "d"
  type     = "envoy"
  interval = "1s"
  endpoint = { url = "http://127.0.0.1:9901" }
}`, `(?s)Duration out of range.*interval.*between 5s and 1d`},
		{"discovery id length", `resource "vedette_discovery_source" "d" {
  id       = "a-very-long-discovery-source-id-that-does-not-fit-in-a-label-value"
  type     = "envoy"
  endpoint = { url = "http://127.0.0.1:9901" }
}`, `(?s)id.*length must be at most 63`},
		{"discovery secret ref", `resource "vedette_discovery_source" "d" {
  id       = "d"
  type     = "kong"
  endpoint = {
    url         = "http://127.0.0.1:8001"
    credentials = { header = { name = "Kong-Admin-Token", value = { env = "DATABASE_URL" } } }
  }
}`, `(?s)endpoint\.credentials\.header\.value\.env.*VEDETTE_DISCOVERY_`},
		{"discovery env and file", `resource "vedette_discovery_source" "d" {
  id       = "d"
  type     = "traefik"
  endpoint = {
    url         = "http://127.0.0.1:8080"
    credentials = { bearer = { token = { env = "VEDETTE_DISCOVERY_T", file = "/run/secrets/t" } } }
  }
}`, `(?s)Invalid Attribute Combination`},
		{"discovery two credentials", `resource "vedette_discovery_source" "d" {
  id       = "d"
  type     = "traefik"
  endpoint = {
    url         = "http://127.0.0.1:8080"
    credentials = {
      bearer = { token = { env = "VEDETTE_DISCOVERY_T" } }
      basic  = { username = "u", password = { env = "VEDETTE_DISCOVERY_P" } }
    }
  }
}`, `(?s)Invalid Attribute Combination`},
		{"discovery owner label", `resource "vedette_discovery_source" "d" {
  id       = "d"
  type     = "envoy"
  endpoint = { url = "http://127.0.0.1:9901" }
  template = { labels = { "discovered-by" = "me" } }
}`, `(?s)template\.labels.*discovered-by`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			resource.UnitTest(t, resource.TestCase{
				ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
				Steps: []resource.TestStep{{
					Config:      tc.config,
					PlanOnly:    true,
					ExpectError: regexp.MustCompile(tc.err),
				}},
			})
		})
	}
}

// A provider without endpoint or token says which setting is missing.
func TestProviderConfigurationErrors(t *testing.T) {
	requireTerraform(t)
	t.Setenv("VEDETTE_URL", "")
	t.Setenv("VEDETTE_TOKEN", "")
	for _, tc := range []struct{ config, err string }{
		{`provider "vedette" {}`, `(?s)Missing Vedette endpoint.*Missing Vedette token|Missing Vedette token.*Missing Vedette endpoint`},
		{`provider "vedette" {
  endpoint = "vedette.example.com"
  token    = "vdt_x"
}`, `expected an absolute http:// or\s+https:// URL`},
		{`provider "vedette" {
  endpoint        = "https://vedette.example.com"
  token           = "vdt_x"
  request_timeout = "soon"
}`, `Invalid duration`},
	} {
		resource.UnitTest(t, resource.TestCase{
			ProtoV6ProviderFactories: testAccProtoV6ProviderFactories,
			Steps: []resource.TestStep{{
				Config: tc.config + `
data "vedette_monitors" "all" {}
`,
				PlanOnly:    true,
				ExpectError: regexp.MustCompile(tc.err),
			}},
		})
	}
}
