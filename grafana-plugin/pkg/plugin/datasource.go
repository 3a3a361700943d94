// Package plugin is the Vedette data source backend: query data, resources for the editors
// and the health check, each a thin adapter over Vedette's REST API.
package plugin

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/instancemgmt"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/vedette"
)

// ID is the data source's plugin id.
const ID = "vedette-uptime-datasource"

// requestTimeout bounds every call to the Vedette server.
const requestTimeout = 30 * time.Second

var (
	_ backend.QueryDataHandler      = (*Datasource)(nil)
	_ backend.CheckHealthHandler    = (*Datasource)(nil)
	_ backend.CallResourceHandler   = (*Datasource)(nil)
	_ instancemgmt.InstanceDisposer = (*Datasource)(nil)
)

// Settings are a data source instance's settings: `jsonData.url` (or the instance URL) and
// the token in `secureJsonData.token`.
type Settings struct {
	URL   string `json:"url"`
	Token string `json:"-"`
}

// LoadSettings reads an instance's settings.
func LoadSettings(s backend.DataSourceInstanceSettings) (Settings, error) {
	var out Settings
	if len(s.JSONData) > 0 {
		if err := json.Unmarshal(s.JSONData, &out); err != nil {
			return out, fmt.Errorf("the data source settings are not valid JSON: %w", err)
		}
	}
	if out.URL == "" {
		out.URL = s.URL
	}
	out.Token = s.DecryptedSecureJSONData["token"]
	return out, nil
}

// Datasource is one data source instance: a Vedette client, or why there is none.
type Datasource struct {
	http      *http.Client
	client    *vedette.Client
	configErr error
	token     bool
	// rowsOnly is set once the server answered 404 to `/series/columns` (a server older than
	// it): series are then read from `/series`.
	rowsOnly atomic.Bool
}

// NewDatasource makes an instance from its settings; bad settings are kept and reported by
// every query and the health check rather than failing the instance.
func NewDatasource(_ context.Context, s backend.DataSourceInstanceSettings) (instancemgmt.Instance, error) {
	settings, err := LoadSettings(s)
	if err != nil {
		return &Datasource{configErr: err}, nil
	}
	hc := &http.Client{Timeout: requestTimeout}
	client, err := vedette.New(settings.URL, settings.Token, hc)
	if err != nil {
		return &Datasource{configErr: err}, nil
	}
	return &Datasource{http: hc, client: client, token: settings.Token != ""}, nil
}

// Dispose releases the instance's idle connections.
func (d *Datasource) Dispose() {
	if d.http != nil {
		d.http.CloseIdleConnections()
	}
}
