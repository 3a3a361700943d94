package main

import (
	"archive/zip"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// backendBinary is the built backend: GPX_VEDETTE_BIN, else dist/gpx_vedette_linux_amd64
// (scripts/build-backend), else one built here.
func backendBinary(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("GPX_VEDETTE_BIN"); bin != "" {
		return bin
	}
	_, file, _, _ := runtime.Caller(0)
	module := filepath.Join(filepath.Dir(file), "..", "..")
	if bin := filepath.Join(module, "dist", "gpx_vedette_linux_amd64"); fileExists(bin) {
		return bin
	}
	bin := filepath.Join(t.TempDir(), "gpx_vedette_linux_amd64")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, "./pkg")
	cmd.Dir = module
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the backend: %v\n%s", err, out)
	}
	return bin
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func manifest() map[string]any {
	return map[string]any{
		"type": "datasource", "id": "vedette-uptime-datasource", "name": "Vedette",
		"backend": true, "executable": "gpx_vedette",
		"info": map[string]any{
			"description": "Uptime from Vedette", "author": map[string]any{"name": "Vedette"},
			"keywords": []string{"uptime"}, "logos": map[string]any{"small": "img/logo.svg", "large": "img/logo.svg"},
			"links":       []map[string]string{{"name": "Docs", "url": "https://github.com/vedette-dev/vedette"}},
			"screenshots": []map[string]string{{"name": "Timeline", "path": "img/shot.png"}},
			"version":     "0.1.0", "updated": "2026-11-28",
		},
		"dependencies": map[string]any{"grafanaDependency": ">=12.0.0"},
	}
}

// plugin writes a plugin directory from m, with the backend copied in.
func plugin(t *testing.T, m map[string]any, readme string) string {
	t.Helper()
	dir := t.TempDir()
	raw, _ := json.Marshal(m)
	bin, err := os.ReadFile(backendBinary(t))
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string][]byte{
		"plugin.json": raw, "img/logo.svg": []byte("<svg/>"), "img/shot.png": []byte("png"),
		"module.js": []byte("define()"), "module.js.map": []byte("{}"), "README.md": []byte(readme),
		"CHANGELOG.md": []byte("# Changelog"), "LICENSE": []byte("Apache"), "gpx_vedette_linux_amd64": bin,
	} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, body, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

var goodReadme = "# Vedette for Grafana\n\n" + strings.Repeat("Uptime, latency and incidents from a Vedette server. ", 8)

func TestValidPluginAndZip(t *testing.T) {
	dir := plugin(t, manifest(), goodReadme)
	if problems := ValidateDir(dir); len(problems) > 0 {
		t.Fatalf("%v", problems)
	}
	zipPath, err := Package(dir, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(zipPath) != "vedette-uptime-datasource-0.1.0.zip" {
		t.Errorf("zip named %s", zipPath)
	}
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	for _, f := range r.File {
		if !strings.HasPrefix(f.Name, "vedette-uptime-datasource/") {
			t.Errorf("entry %s outside <id>/", f.Name)
		}
	}
}

func TestRulesRefuse(t *testing.T) {
	cases := []struct {
		name   string
		edit   func(m map[string]any)
		readme string
		remove string
		want   string
	}{
		{"id format", func(m map[string]any) { m["id"] = "Vedette_Uptime" }, goodReadme, "", "does not match <org>-<name>-<type>"},
		{"id type", func(m map[string]any) { m["id"] = "vedette-uptime-panel" }, goodReadme, "", "must end with its type"},
		{"version placeholder", func(m map[string]any) { m["info"].(map[string]any)["version"] = "%VERSION%" }, goodReadme, "", "not a semantic version"},
		{"no keywords", func(m map[string]any) { m["info"].(map[string]any)["keywords"] = []string{} }, goodReadme, "", "info.keywords"},
		{"no grafana dependency", func(m map[string]any) { m["dependencies"] = map[string]any{} }, goodReadme, "", "grafanaDependency is required"},
		{"template readme", func(map[string]any) {}, goodReadme + "\nThis template is a starting point for a plugin", "", "create-plugin template"},
		{"placeholder link", func(m map[string]any) {
			m["info"].(map[string]any)["links"] = []map[string]string{{"name": "Docs", "url": "https://example.invalid/vedette"}}
		}, goodReadme, "", "placeholder domain invalid"},
		{"example.com link", func(m map[string]any) {
			m["info"].(map[string]any)["links"] = []map[string]string{{"name": "Issues", "url": "https://www.example.com/issues"}}
		}, goodReadme, "", "placeholder domain example.com"},
		{"placeholder author url", func(m map[string]any) {
			m["info"].(map[string]any)["author"] = map[string]any{"name": "Vedette", "url": "https://example.org"}
		}, goodReadme, "", "info.author.url"},
		{"plain http link", func(m map[string]any) {
			m["info"].(map[string]any)["links"] = []map[string]string{{"name": "Docs", "url": "http://github.com/vedette-dev/vedette"}}
		}, goodReadme, "", "absolute https URL"},
		{"no source map", func(map[string]any) {}, goodReadme, "module.js.map", "module.js.map is missing"},
		{"no screenshot", func(map[string]any) {}, goodReadme, "img/shot.png", "screenshot img/shot.png is missing"},
		{"no binary", func(map[string]any) {}, goodReadme, "gpx_vedette_linux_amd64", "linux/amd64 backend binary"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m := manifest()
			c.edit(m)
			dir := plugin(t, m, c.readme)
			if c.remove != "" {
				os.Remove(filepath.Join(dir, c.remove))
			}
			problems := strings.Join(ValidateDir(dir), "\n")
			if !strings.Contains(problems, c.want) {
				t.Errorf("want %q among:\n%s", c.want, problems)
			}
		})
	}
}

// TestNotAStaticGoPluginBinary: a binary without the SDK in its build info (here the go
// tool itself) is refused.
func TestNotAStaticGoPluginBinary(t *testing.T) {
	dir := plugin(t, manifest(), goodReadme)
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(goTool)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "gpx_vedette_linux_amd64"), raw, 0o755); err != nil {
		t.Fatal(err)
	}
	if problems := strings.Join(ValidateDir(dir), "\n"); !strings.Contains(problems, "grafana-plugin-sdk-go") {
		t.Errorf("go tool accepted as the backend:\n%s", problems)
	}
}

func TestZipLayoutRefused(t *testing.T) {
	zipPath := filepath.Join(t.TempDir(), "flat.zip")
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	w := zip.NewWriter(f)
	for _, name := range []string{"plugin.json", "module.js"} {
		entry, _ := w.Create(name)
		_, _ = entry.Write([]byte("{}"))
	}
	w.Close()
	f.Close()
	if problems := strings.Join(ValidateZip(zipPath), "\n"); !strings.Contains(problems, "must sit in <id>/") && !strings.Contains(problems, "exactly one top folder") {
		t.Errorf("flat zip accepted:\n%s", problems)
	}
}
