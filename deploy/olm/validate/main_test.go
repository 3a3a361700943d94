package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

const bundleDir = ".."

func TestBundleIsValid(t *testing.T) {
	errs, warnings, err := Validate(bundleDir)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range warnings {
		t.Log("warning:", w)
	}
	if len(errs) > 0 {
		t.Fatalf("the bundle is refused:\n%s", strings.Join(errs, "\n"))
	}
}

// The bundle's cluster permissions, the chart's ClusterRole and the role the operator's
// end-to-end test binds are one list of rules.
func TestClusterPermissionsAreTheOperatorsRole(t *testing.T) {
	var role struct {
		Rules []map[string]any `json:"rules"`
	}
	readYAML(t, "../../../k8s-operator/rbac/clusterrole.yaml", &role)
	var chartRules []map[string]any
	readYAML(t, "../../helm/vedette/files/operator-rules.yaml", &chartRules)
	var csv struct {
		Spec struct {
			Install struct {
				Spec struct {
					ClusterPermissions []struct {
						Rules []map[string]any `json:"rules"`
					} `json:"clusterPermissions"`
				} `json:"spec"`
			} `json:"install"`
		} `json:"spec"`
	}
	readYAML(t, "../manifests/vedette-operator.clusterserviceversion.yaml", &csv)
	perms := csv.Spec.Install.Spec.ClusterPermissions
	if len(perms) != 1 {
		t.Fatalf("want one clusterPermissions entry, got %d", len(perms))
	}
	if !reflect.DeepEqual(chartRules, role.Rules) {
		t.Errorf("the chart's files/operator-rules.yaml differs from k8s-operator/rbac/clusterrole.yaml:\nchart: %v\nrole:  %v", chartRules, role.Rules)
	}
	if !reflect.DeepEqual(perms[0].Rules, role.Rules) {
		t.Errorf("the CSV's clusterPermissions differ from k8s-operator/rbac/clusterrole.yaml:\nCSV:  %v\nrole: %v", perms[0].Rules, role.Rules)
	}
}

// A bundle whose CSV owns a CRD the bundle does not ship is refused: the validators really run.
func TestBundleMissingAnOwnedCRDIsRefused(t *testing.T) {
	dir := t.TempDir()
	copyDir(t, bundleDir, dir)
	crds, err := filepath.Glob(filepath.Join(dir, "manifests", "*.vedette.dev.yaml"))
	if err != nil || len(crds) == 0 {
		t.Fatalf("no CRDs in the bundle copy (%v)", err)
	}
	if err := os.Remove(crds[0]); err != nil {
		t.Fatal(err)
	}
	errs, _, err := Validate(dir)
	if err == nil && len(errs) == 0 {
		t.Fatalf("a bundle without %s was accepted", filepath.Base(crds[0]))
	}
}

func readYAML(t *testing.T, path string, into any) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := yaml.Unmarshal(data, into); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
}

func copyDir(t *testing.T, from, to string) {
	t.Helper()
	for _, sub := range []string{"manifests", "metadata"} {
		if err := os.MkdirAll(filepath.Join(to, sub), 0o755); err != nil {
			t.Fatal(err)
		}
		entries, err := os.ReadDir(filepath.Join(from, sub))
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			data, err := os.ReadFile(filepath.Join(from, sub, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(to, sub, e.Name()), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	data, err := os.ReadFile(filepath.Join(from, "bundle.Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(to, "bundle.Dockerfile"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}
