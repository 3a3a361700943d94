package client

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestDecodeProblem(t *testing.T) {
	e := DecodeProblem(422, []byte(`{"type":"https://vedette.dev/problems/validation","title":"Validation failed",
		"status":422,"detail":"1 problem","errors":[{"field":"spec.http.url","message":"expected an absolute URL"}]}`))
	if e.StatusCode != 422 || e.Title != "Validation failed" || len(e.Errors) != 1 || e.Errors[0].Field != "spec.http.url" {
		t.Fatalf("decoded %+v", e)
	}
	if msg := e.Error(); !strings.Contains(msg, "422 Validation failed: 1 problem") || !strings.Contains(msg, "spec.http.url: expected an absolute URL") {
		t.Errorf("message %q", msg)
	}
	plain := DecodeProblem(502, []byte("<html>bad gateway</html>"))
	if plain.Body != "<html>bad gateway</html>" || !strings.Contains(plain.Error(), "502 Bad Gateway: <html>") {
		t.Errorf("non-problem body: %+v %q", plain, plain.Error())
	}
	if !IsNotFound(DecodeProblem(404, nil)) || !IsPreconditionFailed(DecodeProblem(412, nil)) || IsNotFound(nil) {
		t.Error("status helpers")
	}
}

func TestPreconditions(t *testing.T) {
	h := http.Header{}
	IfMatch(7).apply(h)
	if h.Get("If-Match") != `"7"` || h.Get("If-None-Match") != "" {
		t.Errorf("If-Match: %v", h)
	}
	h = http.Header{}
	IfAbsent().apply(h)
	if h.Get("If-None-Match") != "*" || h.Get("If-Match") != "" {
		t.Errorf("If-None-Match: %v", h)
	}
	h = http.Header{}
	Precondition{}.apply(h)
	if len(h) != 0 {
		t.Errorf("no precondition: %v", h)
	}
}

func TestNewAndResolveURL(t *testing.T) {
	for _, bad := range []string{"", "vedette.example.com", "ftp://x", "http://"} {
		if _, err := New(Config{Endpoint: bad}); err == nil {
			t.Errorf("New(%q) accepted", bad)
		}
	}
	if _, err := New(Config{Endpoint: "https://x", CACertPEM: "not a pem"}); err == nil {
		t.Error("bad PEM accepted")
	}
	c, err := New(Config{Endpoint: "https://vedette.example.com/base/"})
	if err != nil {
		t.Fatal(err)
	}
	if got := c.ResolveURL("/push/abc"); got != "https://vedette.example.com/push/abc" {
		t.Errorf("ResolveURL = %q", got)
	}
	if got := c.ResolveURL("https://elsewhere/push/abc"); got != "https://elsewhere/push/abc" {
		t.Errorf("absolute URL changed: %q", got)
	}
	if c.Endpoint() != "https://vedette.example.com/base" {
		t.Errorf("Endpoint = %q", c.Endpoint())
	}
}

func TestRetryAfter(t *testing.T) {
	if d := retryAfter("2", 0); d != 2*time.Second {
		t.Errorf("Retry-After: 2 gave %v", d)
	}
	if d := retryAfter("3600", 0); d != 30*time.Second {
		t.Errorf("Retry-After is capped: %v", d)
	}
	if d := retryAfter("", 2); d != time.Second {
		t.Errorf("backoff gave %v", d)
	}
}
