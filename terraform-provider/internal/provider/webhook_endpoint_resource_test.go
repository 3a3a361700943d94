package provider

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/terraform-plugin-framework/types"
	"github.com/hashicorp/terraform-plugin-testing/helper/resource"
	"github.com/hashicorp/terraform-plugin-testing/plancheck"
	"github.com/hashicorp/terraform-plugin-testing/terraform"
	"github.com/hashicorp/terraform-plugin-testing/tfversion"

	"github.com/vedette-dev/terraform-provider-vedette/internal/client"
)

func TestJSONEqual(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{`{"a":1,"b":"x"}`, `{ "b": "x", "a": 1 }`, true},
		{`{"a":1}`, `{"a":2}`, false},
		{`{"a":[1,2]}`, `{"a":[2,1]}`, false},
		{`{"a":1}`, `not json`, false},
	} {
		if got := JSONEqual(tc.a, tc.b); got != tc.want {
			t.Errorf("JSONEqual(%s, %s) = %v", tc.a, tc.b, got)
		}
	}
}

// Secrets the API hides come from the prior state; headers added outside Terraform show up.
func TestWebhookFromAPISecrets(t *testing.T) {
	url := "http://127.0.0.1:1/hook"
	api := &client.Webhook{ID: "w", Version: 2, Spec: client.WebhookSpec{
		URL: &url, EventTypes: []string{"*"}, Timeout: "15s", Enabled: true,
		Headers: map[string]client.WebhookHeader{
			"X-Plain": {Value: "a"},
			"X-Key":   {Value: client.Redacted, Secret: true},
			"X-New":   {Value: client.Redacted, Secret: true},
		},
		Auth: &client.WebhookAuth{Type: "bearer", Token: client.Redacted},
	}}
	prior := webhookFromAPI(api, nil)
	prior.SecretHeaders = mapValue(map[string]string{"X-Key": "s3cret"})
	prior.Auth.Secret = types.StringValue("tok")
	got := webhookFromAPI(api, &prior)
	var secrets map[string]string
	got.SecretHeaders.ElementsAs(context.Background(), &secrets, false)
	if secrets["X-Key"] != "s3cret" || secrets["X-New"] != client.Redacted || len(secrets) != 2 {
		t.Errorf("secret_headers = %v", secrets)
	}
	if got.Auth.Secret.ValueString() != "tok" {
		t.Errorf("auth.secret = %v", got.Auth.Secret)
	}
	if got.Headers.Elements()["X-Plain"].String() != `"a"` {
		t.Errorf("headers = %v", got.Headers)
	}
}

// receiver is a local webhook receiver recording the headers of what it gets.
type receiver struct {
	*httptest.Server
	mu  sync.Mutex
	got []http.Header
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{}
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.mu.Lock()
		r.got = append(r.got, req.Header.Clone())
		r.mu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// sendTest queues a test delivery to the endpoint and waits for a request carrying header=value.
func (r *receiver) expect(t *testing.T, id, header, value string) error {
	req, _ := http.NewRequest(http.MethodPost, os.Getenv("VEDETTE_URL")+"/api/v1/webhooks/"+id+"/test", nil)
	req.Header.Set("Authorization", "Bearer "+os.Getenv("VEDETTE_TOKEN"))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		return fmt.Errorf("POST /webhooks/%s/test: %s", id, resp.Status)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		r.mu.Lock()
		for _, h := range r.got {
			if h.Get(header) == value {
				r.mu.Unlock()
				return nil
			}
		}
		r.mu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
	return fmt.Errorf("no delivery with %s: %q reached the receiver", header, value)
}

func webhookConfig(url, description string) string {
	return fmt.Sprintf(`
resource "vedette_webhook_endpoint" "w" {
  id             = "acc-hook"
  url            = %q
  description    = %q
  labels         = { team = "ops" }
  event_types    = ["monitor.*", "incident.opened"]
  selector       = "team=payments"
  headers        = { X-Tenant = "acme" }
  secret_headers = { X-Key = "header-secret-1" }
  timeout        = "30s"
  auth = {
    type   = "bearer"
    secret = "bearer-token-1"
  }
  template = {
    body = "{\"text\": {{ summary | json }}}"
  }
}
`, url, description)
}

func TestAccWebhookEndpointResource(t *testing.T) {
	const addr = "vedette_webhook_endpoint.w"
	recv := newReceiver(t)
	url := recv.URL + "/hook"
	create := webhookConfig(url, "ops receiver")
	updated := webhookConfig(url, "ops receiver, v2")
	var signingSecret string
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{
			{
				Config: create,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "timeout", "30s"),
					resource.TestCheckResourceAttr(addr, "enabled", "true"),
					resource.TestCheckResourceAttr(addr, "secret_headers.X-Key", "header-secret-1"),
					resource.TestCheckResourceAttr(addr, "auth.secret", "bearer-token-1"),
					resource.TestCheckResourceAttr(addr, "template.content_type", "application/json"),
					resource.TestCheckResourceAttrWith(addr, "signing_secret", func(v string) error {
						if !strings.HasPrefix(v, "whsec_") {
							return fmt.Errorf("signing_secret %q is not a whsec_ secret", v)
						}
						signingSecret = v
						return nil
					}),
					checkOnServer(t, client.Webhooks, "acc-hook", func(w *client.Webhook) error {
						if h := w.Spec.Headers["X-Key"]; !h.Secret || h.Value != client.Redacted {
							return fmt.Errorf("server shows X-Key as %+v", h)
						}
						return recv.expect(t, "acc-hook", "Authorization", "Bearer bearer-token-1")
					}),
				),
			},
			{Config: create, PlanOnly: true},
			{
				Config:           updated,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "description", "ops receiver, v2"),
					resource.TestCheckResourceAttrWith(addr, "signing_secret", func(v string) error {
						if v != signingSecret {
							return fmt.Errorf("signing_secret changed on update")
						}
						return nil
					}),
					func(*terraform.State) error { return recv.expect(t, "acc-hook", "X-Key", "header-secret-1") },
				),
			},
			{Config: updated, PlanOnly: true},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				// The API never shows secrets: after an import they are unknown until the next apply.
				ImportStateVerifyIgnore: []string{"signing_secret", "secret_headers", "auth.secret"},
			},
			driftStep(t, client.Webhooks, "acc-hook", func(w *client.Webhook) (client.WebhookWrite, int64) {
				w.Spec.Description = "changed by hand"
				w.Spec.Timeout = "10s"
				return client.WebhookWrite{Labels: w.Labels, Spec: w.Spec}, w.Version
			}, resource.TestStep{Config: updated}),
			{
				Config:           updated,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckResourceAttr(addr, "description", "ops receiver, v2"),
					// The secrets written back by hand as ******** kept their values.
					func(*terraform.State) error { return recv.expect(t, "acc-hook", "X-Key", "header-secret-1") },
				),
			},
			deletedStep(t, client.Webhooks, "acc-hook", addr, resource.TestStep{
				Config: updated,
				Check: resource.TestCheckResourceAttrWith(addr, "signing_secret", func(v string) error {
					if v == signingSecret || !strings.HasPrefix(v, "whsec_") {
						return fmt.Errorf("recreated endpoint has signing_secret %q", v)
					}
					return nil
				}),
			}),
			{Config: updated, PlanOnly: true},
		},
	})
}

func webhookWOConfig(server, token string, version int) string {
	return fmt.Sprintf(`
resource "vedette_webhook_endpoint" "w" {
  id          = "acc-hook-wo"
  event_types = ["monitor.down"]
  integration = {
    name                     = "ntfy"
    params                   = jsonencode({ topic = "vedette-acc", server = %q })
    secret_params_wo         = { token = %q }
    secret_params_wo_version = %d
  }
  secret_headers_wo         = { X-Key = "wo-header-%d" }
  secret_headers_wo_version = %d
  auth = {
    type              = "api_key"
    header            = "X-Api-Key"
    secret_wo         = "wo-key-%d"
    secret_wo_version = %d
  }
}
`, server, token, version, version, version, version, version)
}

// Write-only secrets (Terraform 1.11+) reach the server but never the state; bumping their
// version writes a new value.
func TestAccWebhookEndpointResource_writeOnly(t *testing.T) {
	const addr = "vedette_webhook_endpoint.w"
	recv := newReceiver(t)
	v1 := webhookWOConfig(recv.URL, "tk_one", 1)
	v2 := webhookWOConfig(recv.URL, "tk_two", 2)
	accTest(t, resource.TestCase{
		TerraformVersionChecks: []tfversion.TerraformVersionCheck{tfversion.SkipBelow(tfversion.Version1_11_0)},
		Steps: []resource.TestStep{
			{
				Config: v1,
				Check: resource.ComposeAggregateTestCheckFunc(
					resource.TestCheckNoResourceAttr(addr, "secret_headers_wo"),
					resource.TestCheckNoResourceAttr(addr, "secret_headers"),
					resource.TestCheckNoResourceAttr(addr, "auth.secret_wo"),
					resource.TestCheckNoResourceAttr(addr, "auth.secret"),
					resource.TestCheckNoResourceAttr(addr, "integration.secret_params_wo"),
					resource.TestCheckResourceAttr(addr, "integration.name", "ntfy"),
					resource.TestCheckResourceAttrSet(addr, "signing_secret"),
					func(*terraform.State) error {
						if err := recv.expect(t, "acc-hook-wo", "Authorization", "Bearer tk_one"); err != nil {
							return err
						}
						return recv.expect(t, "acc-hook-wo", "X-Api-Key", "wo-key-1")
					},
				),
			},
			{Config: v1, PlanOnly: true},
			{
				Config:           v2,
				ConfigPlanChecks: plannedAs(addr, plancheck.ResourceActionUpdate),
				Check: func(*terraform.State) error {
					if err := recv.expect(t, "acc-hook-wo", "Authorization", "Bearer tk_two"); err != nil {
						return err
					}
					if err := recv.expect(t, "acc-hook-wo", "X-Key", "wo-header-2"); err != nil {
						return err
					}
					return recv.expect(t, "acc-hook-wo", "X-Api-Key", "wo-key-2")
				},
			},
			{Config: v2, PlanOnly: true},
			{
				ResourceName:      addr,
				ImportState:       true,
				ImportStateVerify: true,
				ImportStateVerifyIgnore: []string{"signing_secret", "secret_headers", "secret_headers_wo_version",
					"auth.secret_wo_version", "integration.params", "integration.secret_params_wo_version"},
			},
		},
	})
}

// A template the server cannot compile is reported on the attribute, and nothing is stored.
func TestAccWebhookEndpointServerValidation(t *testing.T) {
	accTest(t, resource.TestCase{
		Steps: []resource.TestStep{{
			Config: `
resource "vedette_webhook_endpoint" "w" {
  id       = "acc-hook-bad"
  url      = "http://127.0.0.1:9/hook"
  template = { body = "{{ summary | json " }
}
`,
			ExpectError: regexp.MustCompile(`(?s)invalid value.*spec\.template\.body`),
		}},
	})
}
