package client

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
)

// Redacted is what the API shows in place of a secret value; writing it back keeps the stored one.
const Redacted = "********"

// WebhookHeader is a custom header value: plain text, or a secret ({"secret": ...}) that reads
// back as ********.
type WebhookHeader struct {
	Value  string
	Secret bool
}

// MarshalJSON writes a plain value as a string and a secret as {"secret": value}.
func (h WebhookHeader) MarshalJSON() ([]byte, error) {
	if h.Secret {
		return json.Marshal(map[string]string{"secret": h.Value})
	}
	return json.Marshal(h.Value)
}

// UnmarshalJSON reads either form.
func (h *WebhookHeader) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*h = WebhookHeader{Value: s}
		return nil
	}
	var o struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(b, &o); err != nil {
		return err
	}
	*h = WebhookHeader{Value: o.Secret, Secret: true}
	return nil
}

// WebhookTemplate is a custom payload template.
type WebhookTemplate struct {
	Body        string `json:"body"`
	ContentType string `json:"content_type,omitempty"`
}

// WebhookIntegration is an integration of the catalog with its parameters.
type WebhookIntegration struct {
	Name   string                     `json:"name"`
	Params map[string]json.RawMessage `json:"params,omitempty"`
}

// WebhookAuth is outbound authentication: basic (username, password), bearer (token) or
// api_key (header, value).
type WebhookAuth struct {
	Type     string `json:"type"`
	Username string `json:"username,omitempty"`
	Password string `json:"password,omitempty"`
	Token    string `json:"token,omitempty"`
	Header   string `json:"header,omitempty"`
	Value    string `json:"value,omitempty"`
}

// SigningSecret is one signing secret of an endpoint.
type SigningSecret struct {
	Secret    string  `json:"secret"`
	ExpiresAt *string `json:"expires_at,omitempty"`
}

// WebhookSpec is a webhook endpoint's spec (crates/webhooks/src/endpoint.rs). Secrets left out
// of a replace (Secrets nil) keep the stored signing secrets.
type WebhookSpec struct {
	URL         *string                  `json:"url,omitempty"`
	Description string                   `json:"description"`
	EventTypes  []string                 `json:"event_types,omitempty"`
	Selector    *string                  `json:"selector,omitempty"`
	Headers     map[string]WebhookHeader `json:"headers,omitempty"`
	Template    *WebhookTemplate         `json:"template,omitempty"`
	Integration *WebhookIntegration      `json:"integration,omitempty"`
	Timeout     string                   `json:"timeout,omitempty"`
	RateLimit   *int64                   `json:"rate_limit,omitempty"`
	Enabled     bool                     `json:"enabled"`
	Auth        *WebhookAuth             `json:"auth,omitempty"`
	Secrets     []SigningSecret          `json:"secrets,omitempty"`
}

// Webhook is a webhook endpoint as the server returns it (secrets as ********). SigningSecret
// and PublicKey are set only in the answer that creates it.
type Webhook struct {
	ID             string            `json:"id"`
	Labels         map[string]string `json:"labels"`
	Spec           WebhookSpec       `json:"spec"`
	Version        int64             `json:"version"`
	DisabledAt     *string           `json:"disabled_at,omitempty"`
	DisabledReason *string           `json:"disabled_reason,omitempty"`
	SigningSecret  string            `json:"signing_secret,omitempty"`
	PublicKey      string            `json:"public_key,omitempty"`
}

// WebhookWrite is the body of a create or replace.
type WebhookWrite struct {
	ID     string            `json:"id,omitempty"`
	Labels map[string]string `json:"labels"`
	Spec   WebhookSpec       `json:"spec"`
}

// Integration is one integration of the catalog.
type Integration struct {
	Name        string          `json:"name"`
	Title       string          `json:"title"`
	Description string          `json:"description"`
	Category    string          `json:"category"`
	EventTypes  []string        `json:"event_types"`
	Parameters  json.RawMessage `json:"parameters"`
}

// ListIntegrations lists the integration catalog, of one category when category is not empty.
func (c *Client) ListIntegrations(ctx context.Context, category string) ([]Integration, error) {
	q := url.Values{}
	if category != "" {
		q.Set("category", category)
	}
	var p page[Integration]
	if err := c.do(ctx, http.MethodGet, "/api/v1/integrations", q, nil, Precondition{}, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}
