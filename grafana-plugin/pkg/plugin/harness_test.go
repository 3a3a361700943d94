package plugin_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/grafana/grafana-plugin-sdk-go/backend"
	"github.com/grafana/grafana-plugin-sdk-go/backend/grpcplugin"
	"github.com/grafana/grafana-plugin-sdk-go/genproto/pluginv2"
	"github.com/hashicorp/go-hclog"
	goplugin "github.com/hashicorp/go-plugin"
)

// pluginBinary is the built backend: GPX_VEDETTE_BIN (scripts/test-grafana passes the one
// in dist/), else one built here the way scripts/build-backend builds it.
func pluginBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GPX_VEDETTE_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	bin := filepath.Join(t.TempDir(), "gpx_vedette_"+runtime.GOOS+"_"+runtime.GOARCH)
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./pkg")
	cmd.Dir = filepath.Join(filepath.Dir(file), "..", "..")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the plugin: %v\n%s", err, out)
	}
	return bin
}

// grafana is the Grafana side of a plugin started as Grafana starts it: go-plugin's
// handshake over the process's stdout, then gRPC over the unix socket it names.
type grafana struct {
	client      *goplugin.Client
	data        grpcplugin.DataClient
	diagnostics grpcplugin.DiagnosticsClient
	resource    grpcplugin.ResourceClient
	pluginCtx   backend.PluginContext
}

func startPlugin(t *testing.T, bin string, settings backend.DataSourceInstanceSettings) *grafana {
	t.Helper()
	client := goplugin.NewClient(&goplugin.ClientConfig{
		HandshakeConfig: goplugin.HandshakeConfig{
			ProtocolVersion:  grpcplugin.ProtocolVersion,
			MagicCookieKey:   grpcplugin.MagicCookieKey,
			MagicCookieValue: grpcplugin.MagicCookieValue,
		},
		VersionedPlugins: map[int]goplugin.PluginSet{grpcplugin.ProtocolVersion: {
			"data":        &grpcplugin.DataGRPCPlugin{},
			"diagnostics": &grpcplugin.DiagnosticsGRPCPlugin{},
			"resource":    &grpcplugin.ResourceGRPCPlugin{},
		}},
		Cmd:              exec.Command(bin),
		AllowedProtocols: []goplugin.Protocol{goplugin.ProtocolGRPC},
		Logger:           hclog.New(&hclog.LoggerOptions{Name: "gpx_vedette", Output: io.Discard}),
		StartTimeout:     30 * time.Second,
	})
	t.Cleanup(client.Kill)
	rpc, err := client.Client()
	if err != nil {
		t.Fatalf("go-plugin handshake with %s: %v", bin, err)
	}
	if addr := client.ReattachConfig().Addr; addr.Network() != "unix" {
		t.Errorf("the plugin serves on %s %s, want a unix socket", addr.Network(), addr)
	}
	g := &grafana{client: client, pluginCtx: backend.PluginContext{
		OrgID: 1, PluginID: "vedette-uptime-datasource", PluginVersion: "test",
		DataSourceInstanceSettings: &settings,
	}}
	for name, into := range map[string]any{"data": &g.data, "diagnostics": &g.diagnostics, "resource": &g.resource} {
		raw, err := rpc.Dispense(name)
		if err != nil {
			t.Fatalf("dispensing %s: %v", name, err)
		}
		switch p := into.(type) {
		case *grpcplugin.DataClient:
			*p = raw.(grpcplugin.DataClient)
		case *grpcplugin.DiagnosticsClient:
			*p = raw.(grpcplugin.DiagnosticsClient)
		case *grpcplugin.ResourceClient:
			*p = raw.(grpcplugin.ResourceClient)
		}
	}
	return g
}

func (g *grafana) checkHealth(t *testing.T) *backend.CheckHealthResult {
	t.Helper()
	resp, err := g.diagnostics.CheckHealth(context.Background(), &pluginv2.CheckHealthRequest{PluginContext: backend.ToProto().PluginContext(g.pluginCtx)})
	if err != nil {
		t.Fatal(err)
	}
	return backend.FromProto().CheckHealthResponse(resp)
}

// CallResource makes the plugin's resource service a backend.CallResourceHandler.
func (g *grafana) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	req.PluginContext = g.pluginCtx
	stream, err := g.resource.CallResource(ctx, backend.ToProto().CallResourceRequest(req))
	if err != nil {
		return err
	}
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := sender.Send(backend.FromProto().CallResourceResponse(resp)); err != nil {
			return err
		}
	}
}

// TestBuiltPluginOverGRPC starts the built binary as Grafana does and calls CheckHealth,
// QueryData (an alert-style series query and a bad one) and CallResource through the SDK's
// gRPC clients.
func TestBuiltPluginOverGRPC(t *testing.T) {
	bin := pluginBinary(t)
	settings := backend.DataSourceInstanceSettings{
		ID: 1, UID: "vedette", Name: "Vedette", Type: "vedette-uptime-datasource", Updated: time.Now(),
		JSONData:                json.RawMessage(fmt.Sprintf(`{"url": %q}`, env.URL)),
		DecryptedSecureJSONData: map[string]string{"token": env.ReadToken},
	}
	g := startPlugin(t, bin, settings)

	if h := g.checkHealth(t); h.Status != backend.HealthStatusOk || !strings.Contains(h.Message, "read scope") {
		t.Errorf("health: %v %q", h.Status, h.Message)
	}

	series, _ := json.Marshal(map[string]any{"queryType": "series", "metric": "availability", "selector": "team=payments"})
	bad, _ := json.Marshal(map[string]any{"queryType": "series", "selector": "team=payments,"})
	req := &backend.QueryDataRequest{
		PluginContext: g.pluginCtx,
		Headers:       map[string]string{"FromAlert": "true"},
		Queries: []backend.DataQuery{
			{RefID: "A", JSON: series, TimeRange: recentRange(), Interval: 24 * time.Hour, MaxDataPoints: 100},
			{RefID: "B", JSON: bad, TimeRange: recentRange(), Interval: time.Minute, MaxDataPoints: 100},
		},
	}
	raw, err := g.data.QueryData(context.Background(), backend.ToProto().QueryDataRequest(req))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := backend.FromProto().QueryDataResponse(raw)
	if err != nil {
		t.Fatal(err)
	}
	a := resp.Responses["A"]
	if a.Error != nil || len(a.Frames) != 2 {
		t.Fatalf("A: %v, %d frames", a.Error, len(a.Frames))
	}
	for _, f := range a.Frames {
		value, _ := f.FieldByName("value")
		if value == nil || value.Labels["id"] != f.Name || value.Labels["team"] != "payments" {
			t.Errorf("frame %s over gRPC: %+v", f.Name, value)
		}
	}
	if b := resp.Responses["B"]; b.Error == nil || b.Status != backend.StatusBadRequest || !strings.Contains(b.Error.Error(), "selector") {
		t.Errorf("B: %d %v", b.Status, b.Error)
	}

	checkResources(t, g)

	// A second instance with a bad token, in the same process, says so in its health check.
	other := settings
	other.ID, other.UID = 2, "vedette-bad-token"
	other.DecryptedSecureJSONData = map[string]string{"token": "vdt_wrong_token_wrong_token_wrong_token_00"}
	g.pluginCtx.DataSourceInstanceSettings = &other
	if h := g.checkHealth(t); h.Status != backend.HealthStatusError || !strings.Contains(h.Message, "rejected the API token") {
		t.Errorf("bad token health: %v %q", h.Status, h.Message)
	}
	if exited := g.client.Exited(); exited {
		t.Error("the plugin process exited during the calls")
	}
}
