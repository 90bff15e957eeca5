package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/kingpin/v2"
	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/sim"
)

type simulateCommand struct {
	scenario      string
	seed          int64
	start         string
	duration      string
	step          string
	outputDir     string
	resources     int
	untaggedShare float64
	topology      string
	ksmAllowlist  bool
	billing       bool
}

func newSimulateCommand(cmd *kingpin.CmdClause) *simulateCommand {
	c := &simulateCommand{}
	cmd.Flag("scenario", "World to simulate: "+strings.Join(sim.Scenarios(), ", ")+".").
		Default("startup").EnumVar(&c.scenario, sim.Scenarios()...)
	cmd.Flag("seed", "Random seed; the same arguments always give the same bytes.").
		Default("1").Int64Var(&c.seed)
	cmd.Flag("start", "Start of the world, RFC 3339 or Unix seconds. Default: the "+
		"world ends at the next full hour (the start is logged, so it can be repeated).").
		StringVar(&c.start)
	cmd.Flag("duration", "Length of the world (Prometheus duration). Default: the "+
		"scenario's (6h).").StringVar(&c.duration)
	cmd.Flag("step", "Sample interval (Prometheus duration).").Default("15s").StringVar(&c.step)
	cmd.Flag("output-dir", "Directory to write metrics.om, truth.json, inventory.yaml "+
		"and billing_focus.csv (with --billing) to.").
		Required().StringVar(&c.outputDir)
	cmd.Flag("resources", "Scale the world to about this many resources "+
		"(nodes, VMs, databases, pods); 0 keeps the scenario's.").Default("0").IntVar(&c.resources)
	cmd.Flag("untagged-share", "Share of resources whose service tag is missing or "+
		"inconsistent; 0 keeps the default (0.1), negative means none.").
		Default("0").Float64Var(&c.untaggedShare)
	cmd.Flag("topology", "Service graph instead of the scenario's: a built-in name ("+
		strings.Join(sim.BuiltinTopologies(), ", ")+") or a file (client -> server [kind] "+
		"per line).").PlaceHolder("NAME|FILE").StringVar(&c.topology)
	cmd.Flag("ksm-labels-allowlist", "Emit kube_pod_labels with label_* labels, as "+
		"kube-state-metrics does with --metric-labels-allowlist.").BoolVar(&c.ksmAllowlist)
	cmd.Flag("billing", "Also write billing_focus.csv, the world's FOCUS 1.0 billing "+
		"export with discounts, a commitment, credits and taxes (figures in truth.json).").
		BoolVar(&c.billing)
	return c
}

func (c *simulateCommand) run(_ context.Context, g *globals) int {
	opts, err := c.options(time.Now())
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	began := time.Now()
	if err := sim.WriteDir(c.outputDir, opts); err != nil {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	g.logger.Info("wrote simulated world", "dir", c.outputDir, "scenario", opts.Scenario,
		"seed", opts.Seed, "start", opts.Start.Format(time.RFC3339),
		"duration", model.Duration(opts.Duration), "duration", time.Since(began))
	return exitOK
}

func (c *simulateCommand) options(now time.Time) (sim.Options, error) {
	opts := sim.Options{
		Scenario:           c.scenario,
		Seed:               c.seed,
		Resources:          c.resources,
		UntaggedShare:      c.untaggedShare,
		KSMLabelsAllowlist: c.ksmAllowlist,
		Billing:            c.billing,
	}
	step, err := model.ParseDuration(c.step)
	if err != nil {
		return opts, fmt.Errorf("--step: %w", err)
	}
	if step <= 0 {
		return opts, errors.New("--step: must be positive")
	}
	opts.Step = time.Duration(step)
	if c.untaggedShare > 1 {
		return opts, fmt.Errorf("--untagged-share: %g is more than 1", c.untaggedShare)
	}
	if c.duration != "" {
		d, err := model.ParseDuration(c.duration)
		if err != nil {
			return opts, fmt.Errorf("--duration: %w", err)
		}
		if d <= 0 {
			return opts, errors.New("--duration: must be positive")
		}
		opts.Duration = time.Duration(d)
	} else {
		opts.Duration = sim.DefaultDuration
	}
	if c.topology != "" {
		load := sim.LoadTopology
		if slices.Contains(sim.BuiltinTopologies(), c.topology) {
			load = sim.BuiltinTopology
		}
		topo, err := load(c.topology)
		if err != nil {
			return opts, fmt.Errorf("--topology: %w", err)
		}
		opts.Topology = topo
	}
	if c.start != "" {
		opts.Start, err = parseTime(c.start)
		if err != nil {
			return opts, fmt.Errorf("--start: %w", err)
		}
	} else {
		// End at the next full hour: the world reaches the present, so that
		// queries "now" find it, and the same command repeats within the hour.
		opts.Start = now.Truncate(time.Hour).Add(time.Hour - opts.Duration).UTC()
	}
	return opts, nil
}
