package main

import (
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/telemetry"
)

type telemetryCommand struct {
	at     string
	output string
}

func newTelemetryCommand(cmd *kingpin.CmdClause) *telemetryCommand {
	c := &telemetryCommand{}
	cmd.Flag("at", "Evaluation time, RFC 3339 or Unix seconds. Default: now, or the "+
		"end of the loaded data.").StringVar(&c.at)
	cmd.Flag("output", "Output format: text or json.").Default("text").EnumVar(&c.output, "text", "json")
	return c
}

// telemetryFamilyJSON is one family in `stratus telemetry --output=json` and
// /api/v1/telemetry.
type telemetryFamilyJSON struct {
	Family      string `json:"family"`
	Description string `json:"description"`
	Present     bool   `json:"present"`
	Series      int    `json:"series"`
}

type telemetryReportJSON struct {
	At       string                `json:"at"`
	Families []telemetryFamilyJSON `json:"families"`
}

func telemetryReport(r telemetry.Result) telemetryReportJSON {
	out := telemetryReportJSON{At: r.At.UTC().Format(time.RFC3339)}
	for _, p := range r.Families {
		out.Families = append(out.Families, telemetryFamilyJSON{
			Family:      p.Family.Name,
			Description: p.Family.Description,
			Present:     p.Present(),
			Series:      p.Series,
		})
	}
	return out
}

// run discovers the telemetry families once. It exits 2 (inconclusive) when
// no known family is present: Stratus has nothing to analyse there.
func (c *telemetryCommand) run(ctx context.Context, g *globals) int {
	src, at, err := g.openForReport(c.at)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	defer func() { _ = src.close() }()

	ctx, cancel := context.WithTimeout(ctx, time.Duration(g.cfg.Engines.Telemetry.Timeout))
	defer cancel()
	result, err := telemetry.NewEngine(src.querier).Discover(ctx, at)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	if err := c.write(g, result); err != nil {
		fmt.Fprintf(g.stderr, "stratus: writing the report: %v\n", err)
		return exitError
	}
	if len(result.Present()) == 0 {
		return exitInconclusive
	}
	return exitOK
}

func (c *telemetryCommand) write(g *globals, r telemetry.Result) error {
	if c.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(telemetryReport(r))
	}
	tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "telemetry at %s\n", r.At.UTC().Format(time.RFC3339))
	fmt.Fprintln(tw, "FAMILY\tPRESENT\tSERIES\tDESCRIPTION")
	for _, p := range r.Families {
		present := "no"
		if p.Present() {
			present = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", p.Family.Name, present, p.Series, p.Family.Description)
	}
	return tw.Flush()
}

// openForReport opens the data source of a one-shot report (backfilling the demo
// world when there is no other) and resolves --at against it.
func (g *globals) openForReport(atFlag string) (*source, time.Time, error) {
	src, err := g.openSource(nil, nil)
	if err != nil {
		return nil, time.Time{}, err
	}
	if src.demo {
		fmt.Fprintln(g.stderr, "stratus: no --prometheus.url or --source.openmetrics given: "+
			"reporting on the built-in demo world, not on real data")
		demo, err := newDemo(g.cfg.Demo, src.embedded, nil, g.logger)
		if err == nil {
			err = demo.backfill(time.Now())
		}
		if err != nil {
			_ = src.close()
			return nil, time.Time{}, err
		}
		if len(g.cfg.Cost.Inventory) == 0 {
			resources := demo.world.Inventory()
			g.inventory = func() []inventory.Resource { return resources }
		}
	}
	at, err := evaluationTime(atFlag, src, time.Now())
	if err != nil {
		_ = src.close()
		return nil, time.Time{}, err
	}
	return src, at, nil
}
