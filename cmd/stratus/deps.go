package main

import (
	"context"
	"fmt"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/render"
)

type depsGraphCommand struct {
	at        string
	output    string
	retention string
}

func newDepsGraphCommand(cmd *kingpin.CmdClause) *depsGraphCommand {
	c := &depsGraphCommand{}
	cmd.Flag("at", "Evaluation time, RFC 3339 or Unix seconds. Default: now, or the "+
		"end of the loaded data.").StringVar(&c.at)
	cmd.Flag("output", "Output format: text, json, dot (Graphviz) or mermaid.").
		Default("text").EnumVar(&c.output, render.Formats()...)
	cmd.Flag("retention", "How far back to look for edges. Default: "+
		"dependencies.retention from the configuration file (24h).").
		PlaceHolder("DURATION").StringVar(&c.retention)
	return c
}

// newDependencyEngine builds the dependency engine that the configuration asks for.
func (g *globals) newDependencyEngine(q query.Querier) (*topology.Discoverer, error) {
	cfg := g.cfg.Dependencies
	opts := topology.AdapterOptions{ClusterLabel: g.cfg.Identity.ClusterLabel}
	adapters := make([]topology.Adapter, 0, len(cfg.Sources)+len(cfg.Generic))
	for _, name := range cfg.Sources {
		a, err := topology.NewBuiltin(name, opts)
		if err != nil {
			return nil, fmt.Errorf("dependencies.sources: %w", err)
		}
		adapters = append(adapters, a)
	}
	for i, gc := range cfg.Generic {
		a, err := topology.NewGeneric(gc, opts)
		if err != nil {
			return nil, fmt.Errorf("dependencies.generic[%d]: %w", i, err)
		}
		adapters = append(adapters, a)
	}
	return topology.NewDiscoverer(q, topology.Config{
		Adapters:    adapters,
		Identity:    g.cfg.Identity,
		Retention:   time.Duration(cfg.Retention),
		RateWindow:  time.Duration(cfg.RateWindow),
		MaxEdges:    cfg.MaxEdges,
		MaxServices: cfg.MaxServices,
		Gateways:    cfg.Gateways,
		Logger:      g.logger.With("engine", topology.EngineName),
	}), nil
}

// run discovers the dependency graph once, looking back over the retention. It
// exits 3 when a telemetry source failed (the graph printed is partial) and 2
// (inconclusive) when no edge is found.
func (c *depsGraphCommand) run(ctx context.Context, g *globals) int {
	if c.retention != "" {
		d, err := model.ParseDuration(c.retention)
		if err != nil || d <= 0 {
			fmt.Fprintf(g.stderr, "stratus: --retention: %q is not a positive duration\n", c.retention)
			return exitError
		}
		g.cfg.Dependencies.Retention = d
	}
	src, at, err := g.openForReport(c.at)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	defer func() { _ = src.close() }()

	engine, err := g.newDependencyEngine(src.querier)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	ctx, cancel := context.WithTimeout(query.WithEngine(ctx, topology.EngineName),
		time.Duration(g.cfg.Engines.Dependencies.Timeout))
	defer cancel()
	v, err := engine.Run(ctx, at)
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: discovering dependencies: %v\n", err)
		return exitError
	}
	snap := v.(*topology.Snapshot)
	if err := render.Write(g.stdout, c.output, snap.Report()); err != nil {
		fmt.Fprintf(g.stderr, "stratus: writing the graph: %v\n", err)
		return exitError
	}
	if failed := snap.FailedSources(); len(failed) > 0 {
		for _, name := range failed {
			fmt.Fprintf(g.stderr, "stratus: source %s failed: %s\n", name, snap.Sources[name].Err)
		}
		fmt.Fprintln(g.stderr, "stratus: the graph lacks what the failed sources would show")
		return exitError
	}
	if snap.Graph.EdgeCount() == 0 {
		fmt.Fprintln(g.stderr, "stratus: no dependency edge found in the data source")
		return exitInconclusive
	}
	return exitOK
}
