package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/version"
	"github.com/prometheus/exporter-toolkit/web"
	"github.com/prometheus/exporter-toolkit/web/kingpinflag"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/collector"
	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/cost/insight"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/telemetry"
	"github.com/stratus-monitoring/stratus/topology"
)

// defaultListenAddress is Stratus's port; 9893 is not taken in the
// Prometheus default port allocations list as of writing.
const defaultListenAddress = ":9893"

type serveCommand struct {
	web           *web.FlagConfig
	telemetryPath string
	configCheck   bool
	maxRequests   int
}

func newServeCommand(cmd *kingpin.CmdClause) *serveCommand {
	c := &serveCommand{web: kingpinflag.AddFlags(cmd, defaultListenAddress)}
	cmd.Flag("web.telemetry-path", "Path under which to expose metrics.").
		Default("/metrics").StringVar(&c.telemetryPath)
	cmd.Flag("web.max-requests", "Maximum number of parallel scrape requests; "+
		"0 means no limit.").Default("40").IntVar(&c.maxRequests)
	cmd.Flag("config.check", "Run every check serve makes before it starts (the "+
		"configuration, web configuration, credential, price and inventory files, the "+
		"listen addresses' form and the metrics path) and exit: 0 if valid, 3 if "+
		"not.").BoolVar(&c.configCheck)
	return c
}

func (c *serveCommand) run(ctx context.Context, g *globals) int {
	if err := c.validate(g); err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	if c.configCheck {
		fmt.Fprintln(g.stdout, "configuration is valid")
		return exitOK
	}

	lock, err := lockStorage(g.storagePath)
	if err != nil {
		g.logger.Error("cannot start", "err", err)
		return exitError
	}
	g.storageLock = lock
	defer func() { _ = lock.release() }()

	srv, err := g.newServer(c)
	if err != nil {
		g.logger.Error("cannot start", "err", err)
		return exitError
	}
	defer func() {
		if err := srv.source.close(); err != nil {
			g.logger.Warn("closing the data source", "err", err)
		}
	}()
	if err := srv.serve(ctx); err != nil {
		g.logger.Error("serving failed", "err", err)
		return exitError
	}
	return exitOK
}

// inventorySource names cost.inventory's files in stratus_source_up: 0 while
// an edit left them unreadable and the last good inventory is in use.
const inventorySource = "inventory"

// reservedPaths are served by Stratus itself and cannot be the metrics path.
var reservedPaths = []string{
	"/", "/-/healthy", "/-/ready", "/api/v1/telemetry", "/api/v1/graph", "/api/v1/cost",
}

// validate checks what serve would otherwise find out only when it is too
// late: the web configuration, the listen addresses, the metrics path, the
// files the Prometheus client configuration names, the price files and the
// inventory files. --config.check runs the same checks.
func (c *serveCommand) validate(g *globals) error {
	if *c.web.WebConfigFile != "" {
		if err := web.Validate(*c.web.WebConfigFile); err != nil {
			return fmt.Errorf("--web.config.file %s: %w", *c.web.WebConfigFile, err)
		}
	}
	if !*c.web.WebSystemdSocket {
		for _, addr := range *c.web.WebListenAddresses {
			if strings.HasPrefix(addr, "vsock://") {
				continue
			}
			if _, port, err := net.SplitHostPort(addr); err != nil {
				return fmt.Errorf("--web.listen-address %q: %w", addr, err)
			} else if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
				return fmt.Errorf("--web.listen-address %q: port must be 0 to 65535", addr)
			}
		}
	}
	path := c.telemetryPath
	if !strings.HasPrefix(path, "/") || slices.Contains(reservedPaths, path) {
		return fmt.Errorf("--web.telemetry-path %q: must start with / and not be one of %s",
			path, strings.Join(reservedPaths, ", "))
	}
	if err := checkCredentialFiles(g.cfg.Prometheus.HTTPClient); err != nil {
		return err
	}
	// The price and inventory files are read now, so that a broken one fails
	// the check.
	if _, err := g.newPriceBook(); err != nil {
		return err
	}
	_, err := g.inventorySource()
	return err
}

// checkCredentialFiles makes sure the files that the Prometheus client reads
// on each request exist now, rather than failing every query later.
func checkCredentialFiles(c commoncfg.HTTPClientConfig) error {
	files := map[string]string{
		"prometheus.http_client.bearer_token_file":    c.BearerTokenFile,
		"prometheus.http_client.tls_config.ca_file":   c.TLSConfig.CAFile,
		"prometheus.http_client.tls_config.cert_file": c.TLSConfig.CertFile,
		"prometheus.http_client.tls_config.key_file":  c.TLSConfig.KeyFile,
	}
	if c.BasicAuth != nil {
		files["prometheus.http_client.basic_auth.password_file"] = c.BasicAuth.PasswordFile
		files["prometheus.http_client.basic_auth.username_file"] = c.BasicAuth.UsernameFile
	}
	if c.Authorization != nil {
		files["prometheus.http_client.authorization.credentials_file"] = c.Authorization.CredentialsFile
	}
	if c.OAuth2 != nil {
		files["prometheus.http_client.oauth2.client_secret_file"] = c.OAuth2.ClientSecretFile
	}
	fields := slices.Sorted(maps.Keys(files))
	for _, field := range fields {
		if path := files[field]; path != "" {
			if _, err := os.Stat(path); err != nil {
				return fmt.Errorf("%s: %w", field, err)
			}
		}
	}
	return nil
}

// server is a running `stratus serve`: the data source, the analysis loop and
// the HTTP endpoints.
type server struct {
	g         *globals
	cmd       *serveCommand
	source    *source
	scheduler *analysis.Scheduler
	registry  *prometheus.Registry
	health    *collector.SourceHealth
	// refresher keeps the clouds' list prices current; nil when no cloud's
	// fetching is enabled.
	refresher *pricing.Refresher
}

func (g *globals) newServer(c *serveCommand) (*server, error) {
	reg := collector.NewRegistry()
	sources := append([]string{g.sourceName()}, g.priceSources()...)
	if len(g.cfg.Cost.Inventory) > 0 {
		sources = append(sources, inventorySource)
	}
	health := collector.NewSourceHealth(g.logger, sources...)
	reg.MustRegister(health)
	metrics := query.NewMetrics(reg)

	book, refresher, err := g.newPricing(health)
	if err != nil {
		return nil, err
	}
	src, err := g.openSource(metrics, health)
	if err != nil {
		return nil, err
	}
	deps, err := g.newDependencyEngine(src.querier)
	if err != nil {
		_ = src.close()
		return nil, err
	}
	if src.demo && len(g.cfg.Cost.Inventory) == 0 {
		resources, err := demoInventory(g.cfg.Demo, time.Now())
		if err != nil {
			_ = src.close()
			return nil, err
		}
		g.inventory = func() []inventory.Resource { return resources }
	}
	costEngine, err := g.newCostEngine(src.querier, book)
	if err != nil {
		_ = src.close()
		return nil, err
	}
	if g.inventoryFiles != nil {
		g.inventoryFiles.OnStatus(func(err error) {
			if err != nil {
				health.ReportFailure(inventorySource, time.Now(), err)
				return
			}
			health.ReportSuccess(inventorySource, time.Now())
		})
	}
	var costJob analysis.Engine = costEngine
	var billingEngine *billingCostEngine
	if files := g.cfg.Cost.BillingExports; len(files) > 0 {
		billingEngine, err = g.newBillingCostEngine(costEngine, src, book, files)
		if err != nil {
			_ = src.close()
			return nil, err
		}
		costJob = billingEngine
	}
	engines := g.cfg.Engines
	jobs := []analysis.Job{{
		Engine:   telemetry.NewEngine(src.querier),
		Interval: time.Duration(engines.Telemetry.Interval),
		Timeout:  time.Duration(engines.Telemetry.Timeout),
	}, {
		Engine:   deps,
		Interval: time.Duration(engines.Dependencies.Interval),
		Timeout:  time.Duration(engines.Dependencies.Timeout),
	}, {
		Engine:   costJob,
		Interval: time.Duration(engines.Cost.Interval),
		Timeout:  time.Duration(engines.Cost.Timeout),
	}, {
		Engine: insight.NewEngine(src.querier, g.cfg.CostInsight.Budgets,
			g.cfg.CostInsight.Options()),
		Interval: time.Duration(engines.CostInsight.Interval),
		Timeout:  time.Duration(engines.CostInsight.Timeout),
	}}
	sched, err := analysis.NewScheduler(jobs, src.clock(), g.logger, reg)
	if err != nil {
		_ = src.close()
		return nil, err
	}
	costCollector := collector.NewCostCollector(sched.Snapshot, book.Currency())
	if billingEngine != nil {
		costCollector.WithBillingErrors(billingEngine.billingErrors)
	}
	reg.MustRegister(
		collector.NewTelemetryCollector(sched.Snapshot),
		collector.NewDependencyCollector(sched.Snapshot).WithSourceStatus(deps.SourceStatus),
		collector.NewDroppedCollector(sched.Snapshot),
		costCollector,
		collector.NewCostInsightCollector(sched.Snapshot),
		pricing.NewMetrics(book),
	)
	return &server{g: g, cmd: c, source: src, scheduler: sched, registry: reg, health: health,
		refresher: refresher}, nil
}

// newPricing builds the price book and, when the configuration enables a
// cloud's list prices, the refresher that fetches them into it, caching them
// under <storage.path>/prices and reporting each source's health.
func (g *globals) newPricing(health *collector.SourceHealth) (
	*pricing.Book, *pricing.Refresher, error,
) {
	book, err := g.newPriceBook()
	if err != nil {
		return nil, nil, err
	}
	fetchers, err := g.newPriceFetchers(context.Background())
	if err != nil || len(fetchers) == 0 {
		return book, nil, err
	}
	refresher, err := pricing.NewRefresher(book, fetchers, pricing.RefresherOptions{
		Interval: g.cfg.Pricing.Interval(),
		Cache:    &pricing.Cache{Dir: g.priceCacheDir()},
		Reporter: health,
		Logger:   g.logger.With("component", "pricing"),
	})
	if err != nil {
		return nil, nil, err
	}
	return book, refresher, nil
}

// sourceName is the source label under which the chosen source reports.
func (g *globals) sourceName() string {
	switch {
	case g.cfg.Prometheus.URL != "":
		return sourcePrometheus
	case len(g.openMetrics) > 0:
		return sourceOpenMetrics
	default:
		return sourceDemo
	}
}

// serve runs until ctx ends, then shuts the HTTP server down gracefully and
// waits for the analysis loop to return.
func (s *server) serve(ctx context.Context) error {
	logger := s.g.logger
	logger.Info("starting stratus", "version", version.Info(), "build", version.BuildContext(),
		"data_source", s.source.name, "url", redactedURL(s.g.cfg.Prometheus.URL))

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	// Listen first, so that /-/healthy answers while the demo backfills;
	// /-/ready waits for the first analysis.
	httpServer := &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 10 * time.Second,
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- web.ListenAndServe(httpServer, s.cmd.web, logger) }()

	var wg sync.WaitGroup
	if s.source.demo {
		demo, err := newDemo(s.g.cfg.Demo, s.source.embedded, s.health, logger)
		if err != nil {
			return errors.Join(err, httpServer.Close())
		}
		// The first analysis should see the backfilled history.
		if err := demo.backfill(time.Now()); err != nil {
			return errors.Join(err, httpServer.Close())
		}
		wg.Go(func() { demo.run(ctx) })
	}
	if s.refresher != nil {
		wg.Go(func() { s.refresher.Run(ctx) })
	}
	wg.Go(func() { s.scheduler.Run(ctx) })

	var err error
	select {
	case <-ctx.Done():
		logger.Info("shutting down")
	case err = <-serveErr:
		cancel()
	}
	shutdownCtx, done := context.WithTimeout(context.Background(), 10*time.Second)
	defer done()
	if shutdownErr := httpServer.Shutdown(shutdownCtx); shutdownErr != nil && err == nil {
		err = shutdownErr
	}
	wg.Wait()
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

func (s *server) handler() http.Handler {
	mux := http.NewServeMux()
	metricsHandler := promhttp.HandlerFor(s.registry, promhttp.HandlerOpts{
		ErrorLog:            slog.NewLogLogger(s.g.logger.Handler(), slog.LevelError),
		ErrorHandling:       promhttp.ContinueOnError,
		MaxRequestsInFlight: s.cmd.maxRequests,
		Registry:            s.registry,
	})
	mux.Handle(s.cmd.telemetryPath, metricsHandler)
	mux.HandleFunc("/-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = fmt.Fprintln(w, "Stratus is Healthy.")
	})
	mux.HandleFunc("/-/ready", func(w http.ResponseWriter, _ *http.Request) {
		if !s.scheduler.Ready() {
			http.Error(w, "Stratus is not ready: the first analysis cycle has not finished.",
				http.StatusServiceUnavailable)
			return
		}
		_, _ = fmt.Fprintln(w, "Stratus is Ready.")
	})
	mux.HandleFunc("/api/v1/telemetry", s.serveTelemetryAPI)
	mux.HandleFunc("/api/v1/graph", s.serveGraphAPI)
	mux.HandleFunc("/api/v1/cost", s.serveCostAPI)

	if s.cmd.telemetryPath != "/" {
		landing, err := web.NewLandingPage(web.LandingConfig{
			Name:        "Stratus",
			Description: "Cost, dependency, scaling, deployment and IaC-coverage analysis",
			Version:     version.Info(),
			Profiling:   "false", // no pprof handlers are registered
			Links: []web.LandingLinks{
				{Address: s.cmd.telemetryPath, Text: "Metrics"},
				{Address: "/api/v1/telemetry", Text: "Telemetry discovery (JSON)"},
				{Address: "/api/v1/graph", Text: "Dependency graph (JSON)"},
				{Address: "/api/v1/cost", Text: "Cost per service (JSON)"},
				{Address: "/-/healthy", Text: "Health"},
				{Address: "/-/ready", Text: "Readiness"},
			},
		})
		if err != nil {
			s.g.logger.Error("building the landing page", "err", err)
		} else {
			mux.Handle("/", landing)
		}
	}
	return mux
}

// serveTelemetryAPI writes the latest discovery result as JSON, in the
// schema of `stratus telemetry --output=json`.
func (s *server) serveTelemetryAPI(w http.ResponseWriter, _ *http.Request) {
	result, _, ok := analysis.Latest[telemetry.Result](s.scheduler.Snapshot(), telemetry.EngineName)
	if !ok {
		writeJSONError(w, http.StatusServiceUnavailable, "no discovery has succeeded yet")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(telemetryReport(result))
}

// serveGraphAPI writes the latest dependency graph as JSON, in the schema of
// `stratus deps graph --output=json`.
func (s *server) serveGraphAPI(w http.ResponseWriter, _ *http.Request) {
	snap, _, ok := analysis.Latest[*topology.Snapshot](s.scheduler.Snapshot(), topology.EngineName)
	if !ok {
		writeJSONError(w, http.StatusServiceUnavailable,
			"no dependency discovery has succeeded yet")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(snap.Report())
}

// serveCostAPI writes the latest cost allocation as JSON, in the schema of
// `stratus cost report --output=json`.
func (s *server) serveCostAPI(w http.ResponseWriter, _ *http.Request) {
	snap, _, ok := analysis.Latest[*cost.Snapshot](s.scheduler.Snapshot(), cost.EngineName)
	if !ok {
		writeJSONError(w, http.StatusServiceUnavailable, "no cost cycle has succeeded yet")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(snap.Report())
}

// writeJSONError answers an API request with {"error": msg}.
func writeJSONError(w http.ResponseWriter, status int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": msg})
}

// redactedURL hides a password in u, for logs.
func redactedURL(u string) string {
	parsed, err := url.Parse(u)
	if err != nil {
		return ""
	}
	return parsed.Redacted()
}
