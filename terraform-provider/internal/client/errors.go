package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// FieldError is one entry of a problem's `errors` list: a dotted field path such as
// `spec.http.url` or `spec.assertions[2]`, and what is wrong with it.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an answer of the server with a status of 300 or more, decoded from RFC 9457
// problem+json when the body is one.
type Error struct {
	Method     string
	Path       string
	StatusCode int
	Type       string       `json:"type"`
	Title      string       `json:"title"`
	Detail     string       `json:"detail"`
	Errors     []FieldError `json:"errors"`
	// Body is the raw answer when it was not problem+json.
	Body string `json:"-"`
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s %s: %d", e.Method, e.Path, e.StatusCode)
	switch {
	case e.Title != "":
		fmt.Fprintf(&b, " %s", e.Title)
	default:
		fmt.Fprintf(&b, " %s", http.StatusText(e.StatusCode))
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	for _, fe := range e.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", fe.Field, fe.Message)
	}
	return b.String()
}

// DecodeError builds the error for an answer with the given status and body.
func decodeError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: status}
	trimmed := strings.TrimSpace(string(body))
	if err := json.Unmarshal(body, e); err != nil || (e.Title == "" && e.Detail == "" && len(e.Errors) == 0) {
		if len(trimmed) > 512 {
			trimmed = trimmed[:512] + "…"
		}
		e.Body = trimmed
	}
	e.Method, e.Path, e.StatusCode = method, path, status
	return e
}

// DecodeProblem decodes a problem+json body; exported for tests and tools.
func DecodeProblem(status int, body []byte) *Error { return decodeError("", "", status, body) }

// StatusOf returns the HTTP status of an API error, or 0 for any other error.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.StatusCode
	}
	return 0
}

// IsNotFound reports a 404 answer.
func IsNotFound(err error) bool { return StatusOf(err) == http.StatusNotFound }

// IsPreconditionFailed reports a 412 answer: the stored version is not the one expected.
func IsPreconditionFailed(err error) bool { return StatusOf(err) == http.StatusPreconditionFailed }
