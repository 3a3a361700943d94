package client

import (
	"context"
	"net/http"
	"net/url"
)

// Collection is one collection of the API whose objects (T) are replaced with a PUT of a body W,
// read and deleted by id, with their version as ETag. The provider's resources share their REST
// calls through it.
type Collection[T, W any] struct {
	path string
}

// The collections the provider manages.
var (
	Monitors           = Collection[Monitor, MonitorWrite]{path: "/api/v1/monitors"}
	MaintenanceWindows = Collection[MaintenanceWindow, MaintenanceWrite]{path: "/api/v1/maintenance"}
	Webhooks           = Collection[Webhook, WebhookWrite]{path: "/api/v1/webhooks"}
)

func (k Collection[T, W]) object(id string) string { return k.path + "/" + url.PathEscape(id) }

// Get reads the object id.
func (k Collection[T, W]) Get(ctx context.Context, c *Client, id string) (*T, error) {
	var out T
	if err := c.do(ctx, http.MethodGet, k.object(id), nil, nil, Precondition{}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Put creates or replaces the object id under the precondition pre and returns it as stored.
func (k Collection[T, W]) Put(ctx context.Context, c *Client, id string, body W, pre Precondition) (*T, error) {
	var out T
	if err := c.do(ctx, http.MethodPut, k.object(id), nil, body, pre, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Delete deletes the object id under the precondition pre.
func (k Collection[T, W]) Delete(ctx context.Context, c *Client, id string, pre Precondition) error {
	return c.do(ctx, http.MethodDelete, k.object(id), nil, nil, pre, nil)
}

// page is one page of a list.
type page[T any] struct {
	Items      []T     `json:"items"`
	NextCursor *string `json:"next_cursor"`
}

// List lists every object matching selector (all when empty), ordered by id, following the
// pages' cursors.
func (k Collection[T, W]) List(ctx context.Context, c *Client, selector string) ([]T, error) {
	var all []T
	cursor := ""
	for {
		q := url.Values{"limit": {"1000"}}
		if selector != "" {
			q.Set("selector", selector)
		}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		var p page[T]
		if err := c.do(ctx, http.MethodGet, k.path, q, nil, Precondition{}, &p); err != nil {
			return nil, err
		}
		all = append(all, p.Items...)
		if p.NextCursor == nil || *p.NextCursor == "" {
			return all, nil
		}
		cursor = *p.NextCursor
	}
}
