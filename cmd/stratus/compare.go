package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/cost/insight"
	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

const (
	// maxCompareCycles bounds the cost cycles run per window of --compare: one
	// per hour of a two-day window. A longer window is sampled every few hours.
	maxCompareCycles = 48
	// compareTopServices is how many services the text comparison lists; the
	// JSON lists them all.
	compareTopServices = 10
)

// errNoWindowData is a comparison whose windows are not both covered by data.
var errNoWindowData = errors.New("no data to compare")

// parseCompareWindow reads --compare: a positive Prometheus duration.
func parseCompareWindow(s string) (time.Duration, error) {
	d, err := model.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("--compare: %w", err)
	}
	if d <= 0 {
		return 0, fmt.Errorf("--compare: %q: the window must be longer than zero", s)
	}
	return time.Duration(d), nil
}

// compareCycleTimes returns the times at which a window [start, end) is
// evaluated: the middle of each of n equal parts, n being the window's length
// in whole hours (rounded up) but at most maxCompareCycles. Each cycle stands
// for the part around it.
func compareCycleTimes(start, end time.Time) []time.Time {
	length := end.Sub(start)
	n := int(math.Ceil(length.Hours()))
	n = max(1, min(n, maxCompareCycles))
	part := length / time.Duration(n)
	out := make([]time.Time, n)
	for i := range out {
		out[i] = start.Add(time.Duration(i)*part + part/2)
	}
	return out
}

// lineKey identifies a line of a window: insight.Line's service, component and
// cloud. Regions are summed into their cloud: a service's pods run in one
// cluster, which is in one region.
type lineKey struct {
	service   identity.Service
	component string
	cloud     string
}

// factorKey identifies the pods of a service on the nodes of one cloud.
type factorKey struct {
	service identity.Service
	cloud   string
}

// windowSums accumulates the cost cycles of one window.
type windowSums struct {
	start, end time.Time
	cycles     int
	withData   int
	cost       map[lineKey]float64
	// pods counts running pods per service and cloud, summed over cycles;
	// cpu and memory sum their requests, cpuPrice and memPrice the rates of
	// their nodes, one per pod.
	pods, cpu, memory, cpuPrice, memPrice map[factorKey]float64
}

func newWindowSums(start, end time.Time) *windowSums {
	return &windowSums{
		start: start, end: end,
		cost: map[lineKey]float64{},
		pods: map[factorKey]float64{}, cpu: map[factorKey]float64{},
		memory: map[factorKey]float64{}, cpuPrice: map[factorKey]float64{},
		memPrice: map[factorKey]float64{},
	}
}

// add adds one cycle. A cycle that priced nothing from the data source (no
// node, function or task) is counted but not averaged: it is a time the data
// does not cover, not a time that cost nothing.
func (w *windowSums) add(s *cost.Snapshot) {
	w.cycles++
	if !s.Measured() {
		return
	}
	w.withData++
	for _, a := range s.Result.Allocations {
		w.cost[lineKey{a.Service, string(a.Component), a.Cloud}] += a.CostPerHour
	}

	nodes := make(map[[2]string]cost.PricedNode, len(s.Nodes))
	for _, n := range s.Nodes {
		nodes[[2]string{n.Cluster, n.Name}] = n
	}
	for _, p := range s.Pods {
		n, ok := nodes[[2]string{p.Cluster, p.Node}]
		if !ok {
			continue
		}
		k := factorKey{p.Service, n.Cloud}
		w.pods[k]++
		w.cpu[k] += p.CPURequest
		w.memory[k] += p.MemoryRequestGiB
		w.cpuPrice[k] += n.CPUPerCoreHour
		w.memPrice[k] += n.MemPerGiBHour
	}
}

// lines returns the window's mean cost per hour of each line, with its mean
// replicas and the pod-weighted mean size and unit price of its component.
// Storage, network and the lines without pods (Idle) have no known factors.
func (w *windowSums) lines() []insight.Line {
	cycles := float64(w.withData)
	out := make([]insight.Line, 0, len(w.cost))
	for _, k := range slices.SortedFunc(maps.Keys(w.cost), compareLineKeys) {
		l := insight.Line{Service: k.service, Component: k.component, Cloud: k.cloud,
			CostPerHour: w.cost[k] / cycles}
		f := factorKey{k.service, k.cloud}
		if pods := w.pods[f]; pods > 0 {
			switch cost.Component(k.component) {
			case cost.ComponentCompute:
				l.Replicas = pods / cycles
				l.Size, l.UnitPrice = w.cpu[f]/pods, w.cpuPrice[f]/pods
			case cost.ComponentMemory:
				l.Replicas = pods / cycles
				l.Size, l.UnitPrice = w.memory[f]/pods, w.memPrice[f]/pods
			}
		}
		out = append(out, l)
	}
	return out
}

func compareLineKeys(a, b lineKey) int {
	return cmp.Or(
		cmp.Compare(a.service.Cluster, b.service.Cluster),
		cmp.Compare(a.service.Namespace, b.service.Namespace),
		cmp.Compare(a.service.Name, b.service.Name),
		cmp.Compare(a.component, b.component),
		cmp.Compare(a.cloud, b.cloud),
	)
}

// compareWindows evaluates the engine over [at−window, at) and the window just
// before it and attributes the difference of their mean costs. It returns
// errNoWindowData (wrapped) when a window has no cycle with a priced node.
func compareWindows(ctx context.Context, engine analysis.Engine, at time.Time,
	window, timeout time.Duration,
) (*compareReport, error) {
	windows := [2]*windowSums{
		newWindowSums(at.Add(-2*window), at.Add(-window)),
		newWindowSums(at.Add(-window), at),
	}
	for _, w := range windows {
		for _, t := range compareCycleTimes(w.start, w.end) {
			cycleCtx, cancel := context.WithTimeout(ctx, timeout)
			v, err := engine.Run(cycleCtx, t)
			cancel()
			if err != nil {
				return nil, fmt.Errorf("cost cycle at %s: %w", t.Format(time.RFC3339), err)
			}
			w.add(v.(*cost.Snapshot))
		}
	}
	for i, w := range windows {
		if w.withData == 0 {
			return nil, fmt.Errorf("%w: the %s window %s to %s has no priced node",
				errNoWindowData, [2]string{"earlier", "later"}[i],
				w.start.Format(time.RFC3339), w.end.Format(time.RFC3339))
		}
	}

	c, err := insight.CompareWindows(windows[0].lines(), windows[1].lines())
	if err != nil {
		return nil, fmt.Errorf("comparing windows: %w", err)
	}
	return newCompareReport(model.Duration(window).String(), windows, c), nil
}

// compareReport is the `compare` object of `stratus cost report --compare`.
// Costs are per hour in the report's currency, means over each window.
type compareReport struct {
	Window             string          `json:"window"`
	Before             compareWindow   `json:"before"`
	After              compareWindow   `json:"after"`
	DifferencePerHour  float64         `json:"difference_per_hour"`
	DifferencePerMonth float64         `json:"difference_per_month"`
	Effects            compareEffects  `json:"effects"`
	Services           []compareChange `json:"services"`
	Components         []compareChange `json:"components"`
	Clouds             []compareChange `json:"clouds"`
	SkippedLines       int             `json:"skipped_lines"`
}

// compareWindow is one window: its bounds, cycles and mean total cost.
type compareWindow struct {
	Start          string  `json:"start"`
	End            string  `json:"end"`
	Cycles         int     `json:"cycles"`
	CyclesWithData int     `json:"cycles_with_data"`
	TotalPerHour   float64 `json:"total_per_hour"`
}

// compareEffects is insight.Effects: the split of a difference by cause.
type compareEffects struct {
	Replicas       float64 `json:"replicas"`
	Size           float64 `json:"size"`
	Price          float64 `json:"price"`
	Other          float64 `json:"other"`
	NewService     float64 `json:"new_service"`
	RemovedService float64 `json:"removed_service"`
	Added          float64 `json:"added"`
	Removed        float64 `json:"removed"`
}

// compareChange is the change of a service (Service, Namespace, Cluster and
// Status set) or of a component or cloud (Name set).
type compareChange struct {
	Service            string         `json:"service,omitempty"`
	Namespace          string         `json:"namespace,omitempty"`
	Cluster            string         `json:"cluster,omitempty"`
	Status             string         `json:"status,omitempty"`
	Name               string         `json:"name,omitempty"`
	BeforePerHour      float64        `json:"before_per_hour"`
	AfterPerHour       float64        `json:"after_per_hour"`
	DifferencePerHour  float64        `json:"difference_per_hour"`
	DifferencePerMonth float64        `json:"difference_per_month"`
	Effects            compareEffects `json:"effects"`
}

func newCompareReport(window string, w [2]*windowSums, c insight.Comparison) *compareReport {
	side := func(w *windowSums, total float64) compareWindow {
		return compareWindow{Start: w.start.UTC().Format(time.RFC3339),
			End: w.end.UTC().Format(time.RFC3339), Cycles: w.cycles,
			CyclesWithData: w.withData, TotalPerHour: total}
	}
	r := &compareReport{
		Window:             window,
		Before:             side(w[0], c.Before),
		After:              side(w[1], c.After),
		DifferencePerHour:  c.Difference,
		DifferencePerMonth: c.Difference * pricing.HoursPerMonth,
		Effects:            effectsOf(c.Effects),
		Services:           []compareChange{},
		Components:         []compareChange{},
		Clouds:             []compareChange{},
		SkippedLines:       len(c.Skipped),
	}
	for _, s := range c.Services {
		ch := changeOf(s.Change)
		ch.Service, ch.Namespace, ch.Cluster = s.Service.Name, s.Service.Namespace, s.Service.Cluster
		ch.Status = string(s.Status)
		r.Services = append(r.Services, ch)
	}
	for _, g := range c.Components {
		ch := changeOf(g.Change)
		ch.Name = g.Name
		r.Components = append(r.Components, ch)
	}
	for _, g := range c.Clouds {
		ch := changeOf(g.Change)
		ch.Name = g.Name
		r.Clouds = append(r.Clouds, ch)
	}
	return r
}

func changeOf(c insight.Change) compareChange {
	return compareChange{BeforePerHour: c.Before, AfterPerHour: c.After,
		DifferencePerHour: c.Difference, DifferencePerMonth: c.Difference * pricing.HoursPerMonth,
		Effects: effectsOf(c.Effects)}
}

func effectsOf(e insight.Effects) compareEffects {
	return compareEffects{Replicas: e.Replicas, Size: e.Size, Price: e.Price, Other: e.Other,
		NewService: e.NewService, RemovedService: e.RemovedService, Added: e.Added,
		Removed: e.Removed}
}

// causes formats the effects that are not zero, as name=±value.
func (e compareEffects) causes() string {
	var out []string
	for _, c := range []struct {
		name  string
		value float64
	}{
		{"replicas", e.Replicas}, {"size", e.Size}, {"price", e.Price}, {"other", e.Other},
		{"new_service", e.NewService}, {"removed_service", e.RemovedService},
		{"added", e.Added}, {"removed", e.Removed},
	} {
		if math.Abs(c.value) >= 0.00005 {
			out = append(out, fmt.Sprintf("%s=%+.4f", c.name, c.value))
		}
	}
	if len(out) == 0 {
		return "-"
	}
	return strings.Join(out, " ")
}

// noNoise returns 0 for a difference that is only rounding error in the sums
// (under 1e-9 per hour), so that it prints as +0.0000 rather than -0.0000.
func noNoise(v float64) float64 {
	if math.Abs(v) < 1e-9 {
		return 0
	}
	return v
}

// writeCompareText writes the comparison: the totals, the services that
// changed most, then the components and clouds.
func writeCompareText(w io.Writer, r *compareReport, currency string) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "\nCompared with the %s before: %s to %s (%d cycles) against %s to %s "+
		"(%d cycles)\n", r.Window, r.Before.Start, r.Before.End, r.Before.CyclesWithData,
		r.After.Start, r.After.End, r.After.CyclesWithData)
	fmt.Fprintf(tw, "Difference: %+.4f %s per hour (%+.2f per month of 730 hours), "+
		"from %.4f to %.4f\n", noNoise(r.DifferencePerHour), currency,
		noNoise(r.DifferencePerMonth),
		r.Before.TotalPerHour, r.After.TotalPerHour)
	fmt.Fprintf(tw, "Causes: %s\n\n", r.Effects.causes())

	fmt.Fprintln(tw, "SERVICE\tNAMESPACE\tCLUSTER\tSTATUS\tBEFORE\tAFTER\tDIFFERENCE\tPER MONTH\tCAUSES")
	for _, s := range r.Services[:min(len(r.Services), compareTopServices)] {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%.4f\t%.4f\t%+.4f\t%+.2f\t%s\n", s.Service,
			orDash(s.Namespace), orDash(s.Cluster), s.Status, s.BeforePerHour, s.AfterPerHour,
			noNoise(s.DifferencePerHour), noNoise(s.DifferencePerMonth), s.Effects.causes())
	}
	if more := len(r.Services) - compareTopServices; more > 0 {
		fmt.Fprintf(tw, "(%d more services; --output=json lists them all)\n", more)
	}
	for _, g := range []struct {
		title   string
		changes []compareChange
	}{{"COMPONENT", r.Components}, {"CLOUD", r.Clouds}} {
		fmt.Fprintf(tw, "\n%s\tBEFORE\tAFTER\tDIFFERENCE\tPER MONTH\tCAUSES\n", g.title)
		for _, c := range g.changes {
			fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%+.4f\t%+.2f\t%s\n", c.Name, c.BeforePerHour,
				c.AfterPerHour, noNoise(c.DifferencePerHour), noNoise(c.DifferencePerMonth),
				c.Effects.causes())
		}
	}
	if r.SkippedLines > 0 {
		fmt.Fprintf(tw, "\n%d lines with an invalid cost were left out of the comparison\n",
			r.SkippedLines)
	}
	return tw.Flush()
}
