package main

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"strings"
)

// idPattern is the catalog's plugin id rule: `<org>-<name>-<type>`, lower-case letters and
// digits, the type one of app, panel, datasource (and matching plugin.json's `type`).
var idPattern = regexp.MustCompile(`^[0-9a-z]+-([0-9a-z]+-)?(app|panel|datasource)$`)

var semver = regexp.MustCompile(`^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$`)

// templateMarkers are phrases of the README that @grafana/create-plugin scaffolds; the
// validator refuses a README still holding them.
var templateMarkers = []string{
	"This template is a starting point",
	"Grafana data source plugin template",
	"Grafana Panel Plugin Template",
	"<!-- This README file is going to be the one displayed",
	"What are Grafana data source plugins?",
}

// Manifest is the part of plugin.json the rules look at.
type Manifest struct {
	ID         string `json:"id"`
	Type       string `json:"type"`
	Name       string `json:"name"`
	Backend    bool   `json:"backend"`
	Executable string `json:"executable"`
	Info       struct {
		Description string `json:"description"`
		Author      struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"author"`
		Keywords []string `json:"keywords"`
		Logos    struct {
			Small string `json:"small"`
			Large string `json:"large"`
		} `json:"logos"`
		Links []struct {
			Name string `json:"name"`
			URL  string `json:"url"`
		} `json:"links"`
		Screenshots []struct {
			Name string `json:"name"`
			Path string `json:"path"`
		} `json:"screenshots"`
		Version string `json:"version"`
		Updated string `json:"updated"`
	} `json:"info"`
	Dependencies struct {
		GrafanaDependency string `json:"grafanaDependency"`
	} `json:"dependencies"`
}

// files is a plugin's file tree: a directory or a zip's entries under one top folder.
type files interface {
	read(name string) ([]byte, bool)
	exists(name string) bool
	// local is a path on disk for name, for `go version -m`, and a cleanup.
	local(name string) (string, func(), error)
}

type dirFiles string

func (d dirFiles) read(name string) ([]byte, bool) {
	raw, err := os.ReadFile(filepath.Join(string(d), filepath.FromSlash(name)))
	return raw, err == nil
}

func (d dirFiles) exists(name string) bool {
	_, err := os.Stat(filepath.Join(string(d), filepath.FromSlash(name)))
	return err == nil
}

func (d dirFiles) local(name string) (string, func(), error) {
	return filepath.Join(string(d), filepath.FromSlash(name)), func() {}, nil
}

type zipFiles struct {
	root    string
	entries map[string]*zip.File
}

func (z zipFiles) read(name string) ([]byte, bool) {
	f, ok := z.entries[z.root+"/"+name]
	if !ok {
		return nil, false
	}
	r, err := f.Open()
	if err != nil {
		return nil, false
	}
	defer r.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		return nil, false
	}
	return buf.Bytes(), true
}

func (z zipFiles) exists(name string) bool {
	_, ok := z.entries[z.root+"/"+name]
	return ok
}

func (z zipFiles) local(name string) (string, func(), error) {
	raw, ok := z.read(name)
	if !ok {
		return "", nil, fmt.Errorf("%s is missing", name)
	}
	tmp, err := os.CreateTemp("", "plugintool-*")
	if err != nil {
		return "", nil, err
	}
	_, err = tmp.Write(raw)
	tmp.Close()
	return tmp.Name(), func() { os.Remove(tmp.Name()) }, err
}

// ValidateDir checks a built plugin directory (the one holding plugin.json).
func ValidateDir(dir string) []string {
	return validate(dirFiles(dir), "")
}

// ValidateZip checks a plugin zip: every entry under one folder named for the plugin id,
// the binaries executable, then the plugin inside as ValidateDir does.
func ValidateZip(zipPath string) []string {
	r, err := zip.OpenReader(zipPath)
	if err != nil {
		return []string{"cannot open the zip: " + err.Error()}
	}
	defer r.Close()
	var problems []string
	entries := map[string]*zip.File{}
	roots := map[string]bool{}
	for _, f := range r.File {
		name := f.Name
		if strings.HasPrefix(name, "/") || strings.Contains(name, "..") || strings.Contains(name, "\\") {
			problems = append(problems, fmt.Sprintf("entry %q is not a relative path", name))
			continue
		}
		roots[strings.SplitN(name, "/", 2)[0]] = true
		entries[name] = f
	}
	if len(roots) != 1 {
		return append(problems, fmt.Sprintf("the zip must hold exactly one top folder named for the plugin id, found %d", len(roots)))
	}
	var root string
	for r := range roots {
		root = r
	}
	if _, ok := entries[root+"/plugin.json"]; !ok {
		return append(problems, fmt.Sprintf("%s/plugin.json is missing: the plugin must sit in <id>/", root))
	}
	for name, f := range entries {
		if strings.HasPrefix(path.Base(name), "gpx_") && !strings.HasSuffix(name, ".exe") && f.Mode()&0o111 == 0 {
			problems = append(problems, fmt.Sprintf("%s is not executable in the zip", name))
		}
	}
	return append(problems, validate(zipFiles{root: root, entries: entries}, root)...)
}

// validate applies the manifest and file rules; root, when not empty, must equal the id.
func validate(fs files, root string) []string {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	raw, ok := fs.read("plugin.json")
	if !ok {
		return []string{"plugin.json is missing"}
	}
	var m Manifest
	if err := json.Unmarshal(raw, &m); err != nil {
		return []string{"plugin.json is not valid JSON: " + err.Error()}
	}
	if !idPattern.MatchString(m.ID) {
		bad("id %q does not match <org>-<name>-<type> (lower-case letters and digits; type app, panel or datasource)", m.ID)
	} else if !strings.HasSuffix(m.ID, "-"+m.Type) {
		bad("id %q must end with its type %q", m.ID, m.Type)
	}
	if root != "" && root != m.ID {
		bad("the zip's top folder %q must be the plugin id %q", root, m.ID)
	}
	required := map[string]string{
		"name": m.Name, "info.description": m.Info.Description, "info.author.name": m.Info.Author.Name,
		"info.version": m.Info.Version, "info.updated": m.Info.Updated,
		"dependencies.grafanaDependency": m.Dependencies.GrafanaDependency,
		"info.logos.small":               m.Info.Logos.Small, "info.logos.large": m.Info.Logos.Large,
	}
	for _, field := range []string{"name", "info.description", "info.author.name", "info.version", "info.updated",
		"dependencies.grafanaDependency", "info.logos.small", "info.logos.large"} {
		if strings.TrimSpace(required[field]) == "" {
			bad("plugin.json: %s is required", field)
		}
	}
	if m.Info.Version != "" && !semver.MatchString(m.Info.Version) {
		bad("plugin.json: info.version %q is not a semantic version (was %%VERSION%% replaced by the build?)", m.Info.Version)
	}
	if strings.Contains(m.Info.Updated, "%") {
		bad("plugin.json: info.updated %q was not filled in by the build", m.Info.Updated)
	}
	if g := m.Dependencies.GrafanaDependency; g != "" && !strings.HasPrefix(g, ">=") {
		bad("plugin.json: dependencies.grafanaDependency %q should be a lower bound such as >=12.0.0", g)
	}
	if len(m.Info.Keywords) == 0 {
		bad("plugin.json: info.keywords must list at least one keyword")
	}
	if len(m.Info.Links) == 0 {
		bad("plugin.json: info.links must list at least one link (documentation, issues)")
	}
	if m.Info.Author.URL != "" {
		if why := badLink(m.Info.Author.URL); why != "" {
			bad("plugin.json: info.author.url %q %s", m.Info.Author.URL, why)
		}
	}
	for i, link := range m.Info.Links {
		if why := badLink(link.URL); why != "" {
			bad("plugin.json: info.links[%d] (%s) url %q %s", i, link.Name, link.URL, why)
		}
	}
	for _, logo := range []string{m.Info.Logos.Small, m.Info.Logos.Large} {
		if logo != "" && !fs.exists(logo) {
			bad("logo %s is missing", logo)
		}
	}
	if len(m.Info.Screenshots) == 0 {
		bad("plugin.json: info.screenshots must list at least one screenshot")
	}
	for _, s := range m.Info.Screenshots {
		if !fs.exists(s.Path) {
			bad("screenshot %s is missing", s.Path)
		}
	}
	for _, name := range []string{"module.js", "module.js.map", "README.md", "CHANGELOG.md", "LICENSE"} {
		if !fs.exists(name) {
			bad("%s is missing", name)
		}
	}
	if readme, ok := fs.read("README.md"); ok {
		for _, marker := range templateMarkers {
			if bytes.Contains(readme, []byte(marker)) {
				bad("README.md is still the create-plugin template (%q)", marker)
			}
		}
		if len(bytes.TrimSpace(readme)) < 200 {
			bad("README.md is too short to describe the plugin on its catalog page")
		}
	}
	if m.Backend {
		problems = append(problems, checkBackend(fs, m.Executable)...)
	}
	return problems
}

// placeholderDomains are the names reserved for examples and tests (RFC 2606, RFC 6761): a
// link to one is a placeholder left in, never the plugin's real home.
var placeholderDomains = []string{"example", "example.com", "example.net", "example.org", "invalid", "test", "localhost"}

// badLink says why a catalog link is unfit (empty when it is fit): it must be an absolute
// https URL whose host is not a reserved example or test name.
func badLink(raw string) string {
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Scheme != "https" || u.Hostname() == "" {
		return "must be an absolute https URL"
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	for _, d := range placeholderDomains {
		if host == d || strings.HasSuffix(host, "."+d) {
			return fmt.Sprintf("points at the placeholder domain %s: use the project's real address", d)
		}
	}
	return ""
}

// checkBackend checks the linux/amd64 binary the catalog needs: present, a static Go binary
// (CGO_ENABLED=0) for linux/amd64 with its Go build info, read with `go version -m`.
func checkBackend(fs files, executable string) []string {
	if executable == "" {
		return []string{"plugin.json: backend plugins must name their executable"}
	}
	name := executable + "_linux_amd64"
	if !fs.exists(name) {
		return []string{name + " is missing: the catalog needs a linux/amd64 backend binary"}
	}
	local, cleanup, err := fs.local(name)
	if err != nil {
		return []string{err.Error()}
	}
	defer cleanup()
	out, err := exec.Command("go", "version", "-m", local).CombinedOutput()
	if err != nil {
		return []string{fmt.Sprintf("%s has no Go build info (`go version -m`: %s)", name, strings.TrimSpace(string(out)))}
	}
	info := string(out)
	var problems []string
	for _, want := range []string{"build\tCGO_ENABLED=0", "build\tGOOS=linux", "build\tGOARCH=amd64", "dep\tgithub.com/grafana/grafana-plugin-sdk-go"} {
		if !strings.Contains(info, want) {
			problems = append(problems, fmt.Sprintf("%s: `go version -m` lacks %q (static linux/amd64 build with grafana-plugin-sdk-go expected)", name, strings.ReplaceAll(want, "\t", " ")))
		}
	}
	return problems
}
