// Command stratus is a Prometheus exporter and recording-rule sidecar that
// answers cost, dependency, scaling, deployment and coverage questions from
// what Prometheus already holds. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/promslog"
	promslogflag "github.com/prometheus/common/promslog/flag"
	"github.com/prometheus/common/version"

	"github.com/stratus-monitoring/stratus/config"
	"github.com/stratus-monitoring/stratus/inventory"
)

// Exit codes shared by every command (DESIGN.md, "Command-line contract").
const (
	exitOK           = 0
	exitFinding      = 1 // a finding the command exists to catch
	exitInconclusive = 2 // not enough data to decide
	exitError        = 3 // bad input or an unreachable source
)

func main() {
	// A reader that goes away (`stratus cost report | head`) makes writes fail
	// with EPIPE instead of killing the process, so that one-shot commands
	// still remove their temporary store on the way out.
	signal.Ignore(syscall.SIGPIPE)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// globals are the flags every command shares.
type globals struct {
	configFile  string
	storagePath string
	promURL     string
	maxConc     int
	maxConcSet  bool
	openMetrics []string
	logConfig   promslog.Config
	stdout      io.Writer
	stderr      io.Writer
	logger      *slog.Logger
	cfg         *config.Config
	// storageLock is set while serve holds --storage.path.
	storageLock *storageLock
	// inventory holds cost.inventory's files once read, or the demo world's
	// resources; see inventorySource.
	inventory func() []inventory.Resource
	// inventoryFiles are cost.inventory's files, once read.
	inventoryFiles *inventory.Files
}

// command is one subcommand: it registers its flags, then runs once parsed.
type command interface {
	run(ctx context.Context, g *globals) int
}

// terminated carries an exit code out of kingpin's Terminate hook (after
// --help, --version or a usage error) back to run, so that run returns instead
// of exiting the process, and a usage error exits with the bad-input code
// rather than kingpin's own 1.
type terminated struct{ code int }

// run parses args and runs the chosen command, returning the exit code. It is
// main without the process: tests call it directly.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	g := &globals{stdout: stdout, stderr: stderr}
	app := kingpin.New("stratus",
		"Cost, dependency, scaling, deployment and IaC-coverage answers for "+
			"Prometheus, as metrics and generated rules.")
	app.UsageWriter(stdout)
	app.ErrorWriter(stderr)
	app.Version(version.Print("stratus"))
	app.HelpFlag.Short('h')
	app.Terminate(func(status int) {
		if status != 0 {
			status = exitError
		}
		panic(terminated{status})
	})
	defer func() {
		if r := recover(); r != nil {
			t, ok := r.(terminated)
			if !ok {
				panic(r)
			}
			code = t.code
		}
	}()

	app.Flag("config.file", "Stratus configuration file (YAML). "+
		"Without one, every field has its documented default.").
		PlaceHolder("FILE").StringVar(&g.configFile)
	app.Flag("storage.path", "Directory for the state Stratus keeps: the embedded TSDB "+
		"of the demo and of loaded files, the cached cloud price catalogs and the "+
		"calibration learned from billing exports.").Default("data/").StringVar(&g.storagePath)
	app.Flag("prometheus.url", "Base URL of a Prometheus-compatible query API "+
		"(Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics). Overrides prometheus.url "+
		"in the configuration file.").PlaceHolder("URL").StringVar(&g.promURL)
	app.Flag("prometheus.max-concurrency", "Queries in flight at once against the "+
		"Prometheus URL. Overrides prometheus.max_concurrency in the configuration file.").
		PlaceHolder("N").IsSetByUser(&g.maxConcSet).IntVar(&g.maxConc)
	app.Flag("source.openmetrics", "Timestamped OpenMetrics file to load into "+
		"the embedded engine instead of querying Prometheus. Repeatable.").
		PlaceHolder("FILE").StringsVar(&g.openMetrics)
	promslogflag.AddFlags(app, &g.logConfig)

	commands := map[string]command{}
	serve := app.Command("serve", "Run the analysis loop and serve /metrics "+
		"(the default command).").Default()
	commands[serve.FullCommand()] = newServeCommand(serve)
	simulate := app.Command("simulate", "Write a deterministic synthetic world "+
		"(OpenMetrics and ground truth) to a directory.")
	commands[simulate.FullCommand()] = newSimulateCommand(simulate)
	telemetryCmd := app.Command("telemetry", "Report which kinds of telemetry "+
		"the data source holds.")
	commands[telemetryCmd.FullCommand()] = newTelemetryCommand(telemetryCmd)
	deps := app.Command("deps", "Service dependencies discovered from mesh, tracing and "+
		"eBPF telemetry.")
	depsGraph := deps.Command("graph", "Print the dependency graph with its analysis.")
	commands[depsGraph.FullCommand()] = newDepsGraphCommand(depsGraph)
	costCmd := app.Command("cost", "Cost per service from Prometheus data and the price book.")
	costReport := costCmd.Command("report", "Print the cost per hour of each service, "+
		"split by component and cloud.")
	commands[costReport.FullCommand()] = newCostReportCommand(costReport)
	costReconcile := costCmd.Command("reconcile", "Compare cost estimates with a billing "+
		"export per cloud, with reconciling items apart; with no metrics source, check the "+
		"price book against the export's list prices.")
	commands[costReconcile.FullCommand()] = newCostReconcileCommand(costReconcile)
	versionCmd := app.Command("version", "Print the version and build information.")

	chosen, err := app.Parse(args)
	if err != nil {
		fmt.Fprintf(stderr, "stratus: %v; see --help\n", err)
		return exitError
	}
	if chosen == versionCmd.FullCommand() {
		fmt.Fprintln(stdout, version.Print("stratus"))
		return exitOK
	}

	g.logger = promslog.New(&promslog.Config{
		Level:  g.logConfig.Level,
		Format: g.logConfig.Format,
		Writer: stderr,
	})
	if err := g.loadConfig(); err != nil {
		fmt.Fprintf(stderr, "stratus: %v\n", err)
		return exitError
	}
	return commands[chosen].run(ctx, g)
}

// loadConfig reads --config.file, or takes the defaults, and applies the
// flags that override the file.
func (g *globals) loadConfig() error {
	cfg := config.Default()
	if g.configFile != "" {
		loaded, err := config.Load(g.configFile)
		if err != nil {
			return err
		}
		cfg = *loaded
	}
	if g.promURL != "" {
		if err := config.ValidatePrometheusURL(g.promURL); err != nil {
			return fmt.Errorf("--prometheus.url: %w", err)
		}
		cfg.Prometheus.URL = g.promURL
	}
	if g.maxConcSet {
		if g.maxConc < 1 {
			return errors.New("--prometheus.max-concurrency: must be at least 1")
		}
		cfg.Prometheus.MaxConcurrency = g.maxConc
	}
	if cfg.Prometheus.URL != "" && len(g.openMetrics) > 0 {
		return errors.New("--source.openmetrics and a Prometheus URL exclude each other: " +
			"choose one data source")
	}
	g.cfg = &cfg
	return nil
}
