// Command terraform-provider-vedette is the Terraform provider for Vedette.
package main

import (
	"context"
	"flag"
	"log"

	"github.com/hashicorp/terraform-plugin-framework/providerserver"

	"github.com/vedette-dev/terraform-provider-vedette/internal/provider"
)

// Generate the registry documentation from the schema, templates/ and examples/.
//go:generate go tool tfplugindocs generate --provider-name vedette

// version is set by goreleaser (-X main.version=...).
var version = "dev"

func main() {
	var debug bool
	flag.BoolVar(&debug, "debug", false, "run the provider with support for debuggers like delve")
	flag.Parse()
	err := providerserver.Serve(context.Background(), provider.New(version), providerserver.ServeOpts{
		Address: "registry.terraform.io/vedette-dev/vedette",
		Debug:   debug,
	})
	if err != nil {
		log.Fatal(err.Error())
	}
}
