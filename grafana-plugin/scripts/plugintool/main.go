// Command plugintool checks built Grafana plugins against the rules of Grafana's plugin
// catalog validator that can be checked offline, and zips them in the layout the catalog
// expects. scripts/validate and scripts/package call it.
//
//	plugintool validate DIR|ZIP...   check each plugin directory or zip
//	plugintool package OUTDIR DIR... zip each plugin directory as OUTDIR/<id>-<version>.zip
package main

import (
	"fmt"
	"os"
	"strings"
)

func main() {
	if len(os.Args) < 3 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "validate":
		failed := 0
		for _, path := range os.Args[2:] {
			var problems []string
			if strings.HasSuffix(path, ".zip") {
				problems = ValidateZip(path)
			} else {
				problems = ValidateDir(path)
			}
			for _, p := range problems {
				fmt.Fprintf(os.Stderr, "%s: %s\n", path, p)
			}
			if len(problems) == 0 {
				fmt.Printf("%s: ok\n", path)
			}
			failed += len(problems)
		}
		if failed > 0 {
			fmt.Fprintf(os.Stderr, "%d problems\n", failed)
			os.Exit(1)
		}
		return
	case "package":
		if len(os.Args) < 4 {
			usage()
		}
		for _, dir := range os.Args[3:] {
			var zip string
			if zip, err = Package(dir, os.Args[2]); err != nil {
				break
			}
			fmt.Println(zip)
		}
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "plugintool:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: plugintool validate DIR|ZIP... | plugintool package OUTDIR DIR...")
	os.Exit(2)
}
