// Command validate checks an OLM bundle directory with the operator-framework validators that
// `operator-sdk bundle validate --select-optional suite=operatorframework` runs, and exits 1
// with one line per error when the bundle would be refused.
//
//	go run . ../bundle
package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/operator-framework/api/pkg/manifests"
	"github.com/operator-framework/api/pkg/validation"
	"github.com/operator-framework/api/pkg/validation/errors"
)

// Validate loads the bundle in dir and returns every error and warning the validators report.
func Validate(dir string) (errs []string, warnings []string, err error) {
	bundle, err := manifests.GetBundleFromDir(filepath.Join(dir, "manifests"))
	if err != nil {
		return nil, nil, fmt.Errorf("loading the bundle in %s: %w", dir, err)
	}
	// The community validator reads the bundle image's labels from its Dockerfile.
	optional := map[string]string{
		"k8s-version": "1.37",
		"index-path":  filepath.Join(dir, "bundle.Dockerfile"),
	}
	objects := append(bundle.ObjectsToValidate(), optional)
	validators := validation.DefaultBundleValidators.WithValidators(
		validation.OperatorHubV2Validator,
		validation.StandardCapabilitiesValidator,
		validation.StandardCategoriesValidator,
		validation.GoodPracticesValidator,
		validation.AlphaDeprecatedAPIsValidator,
		validation.CommunityOperatorValidator,
	)
	for _, result := range validators.Validate(objects...) {
		for _, e := range result.Errors {
			errs = append(errs, describe(result, e))
		}
		for _, w := range result.Warnings {
			warnings = append(warnings, describe(result, w))
		}
	}
	return errs, warnings, nil
}

func describe(result errors.ManifestResult, e errors.Error) string {
	return fmt.Sprintf("%s: %s", result.Name, e.Error())
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: validate <bundle directory with manifests/ and metadata/>")
		os.Exit(2)
	}
	errs, warnings, err := Validate(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, w := range warnings {
		fmt.Println("warning:", w)
	}
	for _, e := range errs {
		fmt.Println("error:", e)
	}
	if len(errs) > 0 {
		os.Exit(1)
	}
	fmt.Printf("bundle %s is valid (%d warnings)\n", os.Args[1], len(warnings))
}
