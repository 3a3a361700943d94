// Command gpx_vedette is the backend of the Vedette Grafana data source: Grafana starts it
// and talks to it over gRPC (hashicorp go-plugin), and it answers from Vedette's REST API.
package main

import (
	"os"

	"github.com/grafana/grafana-plugin-sdk-go/backend/datasource"
	"github.com/grafana/grafana-plugin-sdk-go/backend/log"

	"github.com/vedette-dev/vedette/grafana-plugin/pkg/plugin"
)

func main() {
	if err := datasource.Manage(plugin.ID, plugin.NewDatasource, datasource.ManageOpts{}); err != nil {
		log.DefaultLogger.Error("serving the plugin", "error", err.Error())
		os.Exit(1)
	}
}
