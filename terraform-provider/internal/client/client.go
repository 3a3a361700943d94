// Package client is a small client for the Vedette REST API (/api/v1) as the Terraform provider
// uses it: monitors, maintenance windows and webhook endpoints with optimistic concurrency
// (ETag / If-Match) and RFC 9457 problem+json errors.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Config says where the server is and how to reach it.
type Config struct {
	// Endpoint is the server's base URL, e.g. https://vedette.example.com (without /api/v1).
	Endpoint string
	// Token is the API bearer token.
	Token string
	// Timeout bounds one HTTP request (0 means 30 s).
	Timeout time.Duration
	// InsecureSkipVerify turns off TLS certificate verification.
	InsecureSkipVerify bool
	// CACertPEM holds extra trusted CA certificates.
	CACertPEM string
	// UserAgent is sent with every request.
	UserAgent string
	// MaxRetries is how often a 429 or 503 answer is retried (default 3; negative for none).
	MaxRetries int
}

// Client talks to one Vedette server.
type Client struct {
	base       *url.URL
	token      string
	http       *http.Client
	userAgent  string
	maxRetries int
}

// New builds a client from cfg.
func New(cfg Config) (*Client, error) {
	if cfg.Endpoint == "" {
		return nil, errors.New("no endpoint given")
	}
	base, err := url.Parse(strings.TrimRight(cfg.Endpoint, "/"))
	if err != nil {
		return nil, fmt.Errorf("invalid endpoint %q: %w", cfg.Endpoint, err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("invalid endpoint %q: expected an absolute http:// or https:// URL", cfg.Endpoint)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: cfg.InsecureSkipVerify} //nolint:gosec // opt-in
	if cfg.CACertPEM != "" {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM([]byte(cfg.CACertPEM)) {
			return nil, errors.New("ca_cert_pem holds no PEM certificate")
		}
		tlsConfig.RootCAs = pool
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	transport.MaxIdleConnsPerHost = 16
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	retries := cfg.MaxRetries
	if retries == 0 {
		retries = 3
	}
	if retries < 0 {
		retries = 0
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "terraform-provider-vedette"
	}
	return &Client{
		base:       base,
		token:      cfg.Token,
		http:       &http.Client{Timeout: timeout, Transport: countingTransport{transport}},
		userAgent:  ua,
		maxRetries: retries,
	}, nil
}

// Endpoint is the base URL the client talks to, without a trailing slash.
func (c *Client) Endpoint() string { return c.base.String() }

// ResolveURL makes a server-relative path such as /push/abc absolute.
func (c *Client) ResolveURL(p string) string {
	if p == "" {
		return ""
	}
	u, err := url.Parse(p)
	if err != nil || u.IsAbs() {
		return p
	}
	return c.base.ResolveReference(u).String()
}

// Requests counts the HTTP requests made by every client in this process, by method; the
// acceptance tests and the 200-monitor benchmark read it.
var requests = struct {
	sync.Mutex
	byMethod map[string]*atomic.Int64
}{byMethod: map[string]*atomic.Int64{}}

type countingTransport struct{ next http.RoundTripper }

func (t countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	requests.Lock()
	n, ok := requests.byMethod[r.Method]
	if !ok {
		n = new(atomic.Int64)
		requests.byMethod[r.Method] = n
	}
	requests.Unlock()
	n.Add(1)
	return t.next.RoundTrip(r)
}

// RequestCounts returns how many requests each HTTP method has seen in this process.
func RequestCounts() map[string]int64 {
	requests.Lock()
	defer requests.Unlock()
	out := make(map[string]int64, len(requests.byMethod))
	for m, n := range requests.byMethod {
		out[m] = n.Load()
	}
	return out
}

// Precondition is the version condition of a write.
type Precondition struct {
	// Version, when non-zero, sends If-Match: "<version>".
	Version int64
	// Absent sends If-None-Match: * (create only).
	Absent bool
}

// IfMatch is a precondition on the stored version.
func IfMatch(version int64) Precondition { return Precondition{Version: version} }

// IfAbsent is the create-only precondition.
func IfAbsent() Precondition { return Precondition{Absent: true} }

func (p Precondition) apply(h http.Header) {
	if p.Version > 0 {
		h.Set("If-Match", strconv.Quote(strconv.FormatInt(p.Version, 10)))
	}
	if p.Absent {
		h.Set("If-None-Match", "*")
	}
}

// do sends one request and decodes a JSON answer into out (when non-nil). Errors from the server
// are *Error.
func (c *Client) do(ctx context.Context, method, path string, query url.Values, body any, pre Precondition, out any) error {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return fmt.Errorf("encoding request: %w", err)
		}
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + path
	u.RawQuery = query.Encode()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(payload))
		if err != nil {
			return err
		}
		req.Header.Set("Accept", "application/json, application/problem+json")
		req.Header.Set("User-Agent", c.userAgent)
		if c.token != "" {
			req.Header.Set("Authorization", "Bearer "+c.token)
		}
		if body != nil {
			req.Header.Set("Content-Type", "application/json")
		}
		pre.apply(req.Header)
		resp, err := c.http.Do(req)
		if err != nil {
			return fmt.Errorf("%s %s: %w", method, u.Path, err)
		}
		data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
		resp.Body.Close()
		if err != nil {
			return fmt.Errorf("%s %s: reading the answer: %w", method, u.Path, err)
		}
		if (resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable) && attempt < c.maxRetries {
			wait := retryAfter(resp.Header.Get("Retry-After"), attempt)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(wait):
			}
			continue
		}
		if resp.StatusCode >= 300 {
			return decodeError(method, u.Path, resp.StatusCode, data)
		}
		if out != nil && len(data) > 0 {
			if err := json.Unmarshal(data, out); err != nil {
				return fmt.Errorf("%s %s: decoding the answer: %w", method, u.Path, err)
			}
		}
		return nil
	}
}

func retryAfter(h string, attempt int) time.Duration {
	if secs, err := strconv.Atoi(strings.TrimSpace(h)); err == nil && secs >= 0 {
		return min(time.Duration(secs)*time.Second, 30*time.Second)
	}
	return time.Duration(250<<attempt) * time.Millisecond
}
