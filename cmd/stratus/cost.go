package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
)

type costReportCommand struct {
	at      string
	output  string
	compare string
}

// costReportJSON is the JSON of `cost report`: the report, and the comparison
// when --compare asks for one.
type costReportJSON struct {
	cost.Report
	Compare *compareReport `json:"compare,omitempty"`
}

func newCostReportCommand(cmd *kingpin.CmdClause) *costReportCommand {
	c := &costReportCommand{}
	cmd.Flag("at", "Evaluation time, RFC 3339 or Unix seconds. Default: now, or the "+
		"end of the loaded data.").StringVar(&c.at)
	cmd.Flag("output", "Output format: text or json.").Default("text").
		EnumVar(&c.output, "text", "json")
	cmd.Flag("compare", "Also compare the mean cost of the WINDOW (a Prometheus duration) "+
		"before --at with the WINDOW before that, and say what drove the difference: "+
		"services, components, clouds and causes. Each window is sampled once per "+
		fmt.Sprintf("hour, at most %d times.", maxCompareCycles)).
		PlaceHolder("WINDOW").StringVar(&c.compare)
	return c
}

// priceCacheDir is where fetched price catalogs are kept under --storage.path.
func (g *globals) priceCacheDir() string {
	return filepath.Join(g.storagePath, "prices")
}

// newPriceBook builds the price book of the configuration: the embedded
// snapshot, price files, overrides and discounts. Catalogs from the clouds
// are added by the refresher (serve) or from the cache (one-shot commands).
func (g *globals) newPriceBook() (*pricing.Book, error) {
	book, err := pricing.NewBookFromConfig(g.cfg.Pricing)
	if err != nil {
		return nil, fmt.Errorf("pricing: %w", err)
	}
	return book, nil
}

// priceSources names the catalog source of each cloud whose fetching the
// configuration enables, in a fixed order.
func (g *globals) priceSources() []string {
	var out []string
	for _, c := range []struct {
		on     bool
		source string
	}{
		{g.cfg.Pricing.AWS.Enabled, pricing.AWSPriceListSource},
		{g.cfg.Pricing.GCP.Enabled, pricing.GCPSource},
		{g.cfg.Pricing.Azure.Enabled, pricing.AzureSource},
	} {
		if c.on {
			out = append(out, c.source)
		}
	}
	return out
}

// newPriceFetchers builds a fetcher for each cloud the configuration enables
// (`pricing.<cloud>.enabled`); none by default, so that a default
// configuration needs no network and no credentials.
func (g *globals) newPriceFetchers(ctx context.Context) ([]pricing.Fetcher, error) {
	p := g.cfg.Pricing
	var fetchers []pricing.Fetcher
	if p.AWS.Enabled {
		f, err := pricing.NewAWSFetcher(ctx, pricing.AWSOptions{Regions: p.AWS.Regions,
			Logger: g.logger.With("source", pricing.AWSPriceListSource)})
		if err != nil {
			return nil, fmt.Errorf("pricing.aws: %w", err)
		}
		fetchers = append(fetchers, f)
	}
	if p.GCP.Enabled {
		f, err := pricing.NewGCPFetcher(ctx, pricing.GCPOptions{Regions: p.GCP.Regions,
			Logger: g.logger.With("source", pricing.GCPSource)})
		if err != nil {
			return nil, fmt.Errorf("pricing.gcp: %w", err)
		}
		fetchers = append(fetchers, f)
	}
	if p.Azure.Enabled {
		f, err := pricing.NewAzureFetcher(pricing.AzureOptions{Regions: p.Azure.Regions,
			Logger: g.logger.With("source", pricing.AzureSource)})
		if err != nil {
			return nil, fmt.Errorf("pricing.azure: %w", err)
		}
		fetchers = append(fetchers, f)
	}
	return fetchers, nil
}

// loadCachedCatalogs adds to book the catalogs a serve fetched and cached for
// the enabled clouds, so that a one-shot report prices as serve does without
// calling any cloud API. A missing or unreadable cache is skipped.
func (g *globals) loadCachedCatalogs(book *pricing.Book) {
	cache := pricing.Cache{Dir: g.priceCacheDir()}
	for _, source := range g.priceSources() {
		c, err := cache.Load(source)
		if err != nil {
			g.logger.Debug("no cached price catalog; the embedded snapshot prices instead",
				"source", source, "err", err)
			continue
		}
		book.SetCatalog(source, c.Prices, c.FetchedAt)
	}
}

// inventorySource returns what gives the cost engine its inventory: the files
// of cost.inventory, read once here (a broken file is an error of the
// configuration) and again whenever one changes; nil without any.
func (g *globals) inventorySource() (func() []inventory.Resource, error) {
	if g.inventory != nil || len(g.cfg.Cost.Inventory) == 0 {
		return g.inventory, nil
	}
	files, err := inventory.OpenFiles(g.cfg.Cost.Inventory, g.logger)
	if err != nil {
		return nil, fmt.Errorf("cost.inventory: %w", err)
	}
	g.inventory, g.inventoryFiles = files.Resources, files
	return g.inventory, nil
}

// newCostEngine builds the cost engine of the configuration.
func (g *globals) newCostEngine(q query.Querier, book *pricing.Book) (*cost.Engine, error) {
	inv, err := g.inventorySource()
	if err != nil {
		return nil, err
	}
	return cost.NewEngine(q, cost.EngineConfig{
		Book:         book,
		Identity:     g.cfg.Identity,
		PodLabelKeys: g.cfg.Cost.PodLabelKeys,
		DefaultCloud: g.cfg.Cost.DefaultCloud,
		UsageWindow:  time.Duration(g.cfg.Cost.UsageWindow),
		TagKeys:      g.cfg.Cost.IdentityTagKeys(),
		Inventory:    inv,
		CloudUsage:   g.cfg.Cost.CloudUsageConfig(),
		MaxFeatures:  g.cfg.Cost.MaxFeatures,
		MaxResources: g.cfg.Cost.MaxResources,

		Recommendations: g.cfg.Cost.RecommendConfig(),
		Calibration:     g.calibration(),
		Logger:          g.logger.With("engine", cost.EngineName),
	})
}

// newWindowCostEngine builds a cost engine for many cycles over past windows
// (a comparison, a billing period): without the savings recommendations,
// whose week-long p95 subqueries are the costliest queries of a cycle and
// feed no estimate, nor cost per request. An uncalibrated one is what
// reconciliation measures, or it would learn from its own correction.
func (g *globals) newWindowCostEngine(q query.Querier, book *pricing.Book, calibrated bool,
) (*cost.Engine, error) {
	engine, err := g.newCostEngine(q, book)
	if err != nil {
		return nil, err
	}
	engine.DisableRecommendations()
	engine.DisableUnitCosts()
	if !calibrated {
		engine.DisableCalibration()
	}
	return engine, nil
}

// calibration returns the reader of the learned calibration when the
// configuration applies it, else nil. A missing file means no factors yet; a
// file that cannot be read is logged and ignored.
func (g *globals) calibration() func() cost.Calibration {
	if !g.cfg.Cost.ApplyCalibration {
		return nil
	}
	path := filepath.Join(g.storagePath, calibrationFile)
	return func() cost.Calibration {
		cal, err := readCalibration(path)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				g.logger.Warn("calibration not applied", "file", path, "err", err)
			}
			return cost.Calibration{}
		}
		return cal
	}
}

// run allocates cost once. It exits 2 (inconclusive) when no resource could be
// priced, and 3 on errors.
func (c *costReportCommand) run(ctx context.Context, g *globals) int {
	var window time.Duration
	if c.compare != "" {
		var err error
		if window, err = parseCompareWindow(c.compare); err != nil {
			fmt.Fprintf(g.stderr, "stratus: %v\n", err)
			return exitError
		}
	}
	book, err := g.newPriceBook()
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	g.loadCachedCatalogs(book)

	src, at, err := g.openForReport(c.at)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	defer func() { _ = src.close() }()

	engine, err := g.newCostEngine(src.querier, book)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	ctx = query.WithEngine(ctx, cost.EngineName)
	timeout := time.Duration(g.cfg.Engines.Cost.Timeout)
	cycleCtx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	v, err := engine.Run(cycleCtx, at)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: allocating cost: %v\n", err)
		return exitError
	}
	snap := v.(*cost.Snapshot)
	report := costReportJSON{Report: snap.Report()}
	var noWindowData error
	if window > 0 {
		compareEngine, err := g.newWindowCostEngine(src.querier, book, true)
		if err != nil {
			fmt.Fprintf(g.stderr, "stratus: %v\n", err)
			return exitError
		}
		report.Compare, err = compareWindows(ctx, compareEngine, at, window, timeout)
		switch {
		case errors.Is(err, errNoWindowData):
			noWindowData = err
		case err != nil:
			fmt.Fprintf(g.stderr, "stratus: --compare: %v\n", err)
			return exitError
		}
	}
	if err := c.write(g.stdout, report); err != nil {
		fmt.Fprintf(g.stderr, "stratus: writing the report: %v\n", err)
		return exitError
	}
	if noWindowData != nil {
		fmt.Fprintf(g.stderr, "stratus: --compare: %v\n", noWindowData)
		return exitInconclusive
	}
	if len(snap.Result.Resources) == 0 {
		fmt.Fprintln(g.stderr, "stratus: no resource could be priced: no node, inventory "+
			"resource, function or task with a known price")
		return exitInconclusive
	}
	return exitOK
}

// write writes the report, and the comparison if there is one, in the format
// of --output.
func (c *costReportCommand) write(w io.Writer, r costReportJSON) error {
	if c.output == "json" {
		return writeCostJSON(w, r)
	}
	if err := writeCostText(w, r.Report); err != nil {
		return err
	}
	if r.Compare != nil {
		return writeCompareText(w, r.Compare, r.Currency)
	}
	return nil
}

func writeCostJSON(w io.Writer, r any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// writeCostText writes the report as tables: services, then unpriced nodes.
func writeCostText(w io.Writer, r cost.Report) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Cost at %s: %.4f %s per hour (%.2f per month of 730 hours)\n\n",
		r.At, r.TotalPerHour, r.Currency, r.TotalPerHour*pricing.HoursPerMonth)
	fmt.Fprintln(tw, "SERVICE\tNAMESPACE\tCLUSTER\tPER HOUR\tBY COMPONENT\tBY CLOUD")
	for _, s := range r.Services {
		var components, clouds []string
		for _, c := range s.Components() {
			components = append(components, fmt.Sprintf("%s=%.4f", c, s.ByComponent[c]))
		}
		for _, c := range s.Clouds() {
			clouds = append(clouds, fmt.Sprintf("%s=%.4f", c, s.ByCloud[c]))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.4f\t%s\t%s\n", s.Service, orDash(s.Namespace),
			orDash(s.Cluster), s.CostPerHour, strings.Join(components, " "),
			strings.Join(clouds, " "))
	}
	if len(r.Unpriced) > 0 {
		fmt.Fprintf(tw, "\nUnpriced resources (%d), left out of every figure above:\n",
			len(r.Unpriced))
		fmt.Fprintln(tw, "RESOURCE\tTYPE\tCLUSTER\tCLOUD\tREGION\tPRICED BY\tREASON")
		for _, u := range r.Unpriced {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", u.ResourceID, u.ResourceType,
				orDash(u.Cluster), orDash(u.Cloud), orDash(u.Region), orDash(u.InstanceType),
				u.Reason)
		}
	}
	writeRecommendationsText(tw, r)
	return tw.Flush()
}

// writeRecommendationsText writes the savings recommendations, one a line with
// its reason.
func writeRecommendationsText(w io.Writer, r cost.Report) {
	if r.RecommendationError != "" {
		fmt.Fprintf(w, "\nNo savings recommendations: %s\n", r.RecommendationError)
		return
	}
	if len(r.Recommendations) == 0 {
		return
	}
	// No total: a node rightsizing and the requests on it overlap.
	fmt.Fprintf(w, "\nRecommendations (%d), savings in %s per month of 730 hours:\n",
		len(r.Recommendations), r.Currency)
	fmt.Fprintln(w, "KIND\tRESOURCE\tSERVICE\tPER MONTH\tREASON")
	for _, rec := range r.Recommendations {
		bound := ""
		if rec.UpperBound {
			bound = " (at most)"
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%.2f%s\t%s\n", rec.Kind, rec.ResourceID, rec.Service,
			rec.SavingsPerMonth, bound, rec.Reason)
	}
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
