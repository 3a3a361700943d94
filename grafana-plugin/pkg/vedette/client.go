// Package vedette is a small client of Vedette's REST API (docs/api.md): the calls the
// Grafana data source needs, with RFC 9457 problems turned into errors that name the field.
package vedette

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
)

// maxBody bounds every answer read from the server.
const maxBody = 64 << 20

// Client calls one Vedette server with one token.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
}

// New checks rawURL (absolute http or https, without credentials) and returns a client.
func New(rawURL, token string, hc *http.Client) (*Client, error) {
	rawURL = strings.TrimSpace(rawURL)
	if rawURL == "" {
		return nil, errors.New("the Vedette URL is not set: enter the server's base URL, such as http://vedette:8080")
	}
	base, err := url.Parse(rawURL)
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, errors.New("the Vedette URL must be an absolute http or https URL, such as http://vedette:8080")
	}
	if base.User != nil {
		return nil, errors.New("the Vedette URL must not hold credentials: put the API token in the token field")
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	return &Client{base: base, token: token, http: hc}, nil
}

// URL is the server's base URL, for messages.
func (c *Client) URL() string { return c.base.String() }

// FieldError is one entry of a problem's `errors`.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// APIError is an answer other than 2xx: the status and, for problem+json, its fields.
type APIError struct {
	Status int
	Title  string
	Detail string
	Errors []FieldError
}

func (e *APIError) Error() string {
	if len(e.Errors) > 0 {
		parts := make([]string, 0, len(e.Errors))
		for _, fe := range e.Errors {
			if fe.Field == "" {
				parts = append(parts, fe.Message)
			} else {
				parts = append(parts, fe.Field+": "+fe.Message)
			}
		}
		return strings.Join(parts, "; ")
	}
	if e.Detail != "" {
		return e.Detail
	}
	if e.Title != "" {
		return fmt.Sprintf("%s (HTTP %d)", e.Title, e.Status)
	}
	return fmt.Sprintf("HTTP %d", e.Status)
}

// UnreachableError is a request that got no answer (connection refused, timeout, DNS).
type UnreachableError struct {
	URL string
	Err error
}

func (e *UnreachableError) Error() string {
	return fmt.Sprintf("cannot reach Vedette at %s: %s", e.URL, describe(e.Err))
}

func (e *UnreachableError) Unwrap() error { return e.Err }

// describe is the cause of a transport error without the URL net/http repeats.
func describe(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// Raw sends GET path?query (with the token when auth is true) and returns the status and
// body, reading at most maxBody bytes.
func (c *Client) Raw(ctx context.Context, path string, query url.Values, auth bool) (int, []byte, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Accept", "application/json")
	if auth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, &UnreachableError{URL: c.base.Redacted(), Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		return 0, nil, &UnreachableError{URL: c.base.Redacted(), Err: err}
	}
	if len(body) > maxBody {
		return 0, nil, fmt.Errorf("the answer of %s is over %d MiB", path, maxBody>>20)
	}
	return resp.StatusCode, body, nil
}

// get sends an authenticated GET under /api/v1 and decodes a 2xx JSON answer into out.
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	body, err := c.getBody(ctx, path, query)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("the answer of %s is not what Vedette sends: %w", path, err)
	}
	return nil
}

// getBody sends an authenticated GET under /api/v1 and returns a 2xx answer's body as it
// came (for the decoders of large answers); any other status is an [APIError].
func (c *Client) getBody(ctx context.Context, path string, query url.Values) ([]byte, error) {
	status, body, err := c.Raw(ctx, "/api/v1"+path, query, true)
	if err != nil {
		return nil, err
	}
	if status < 200 || status > 299 {
		apiErr := &APIError{Status: status}
		var problem struct {
			Title  string       `json:"title"`
			Detail string       `json:"detail"`
			Errors []FieldError `json:"errors"`
		}
		if json.Unmarshal(body, &problem) == nil {
			apiErr.Title, apiErr.Detail, apiErr.Errors = problem.Title, problem.Detail, problem.Errors
		}
		return nil, apiErr
	}
	return body, nil
}
