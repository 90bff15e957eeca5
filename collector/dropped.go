package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/topology"
)

// Families and reasons of stratus_series_dropped_total besides the dependency
// engine's (DroppedFamily and topology.Drop*): resources beyond
// cost.max_resources get no stratus_resource_cost_per_hour series of their own.
const (
	DroppedFamilyCost = "cost"
	DropMaxResources  = "max_resources"
)

// DroppedCollector exposes stratus_series_dropped_total for every engine that
// leaves series out: one collector, since a family may be described once in a
// registry. An engine that has not finished a cycle yet has no series.
type DroppedCollector struct {
	snapshot func() *analysis.Snapshot
	dropped  *prometheus.Desc
}

// NewDroppedCollector reads the engines' latest results from snapshot.
func NewDroppedCollector(snapshot func() *analysis.Snapshot) *DroppedCollector {
	return &DroppedCollector{
		snapshot: snapshot,
		dropped: prometheus.NewDesc("stratus_series_dropped_total",
			"Series or observations an engine left out, by reason: invalid identities, "+
				"or caps from the configuration.", []string{"family", "reason"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *DroppedCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.dropped }

// Collect implements prometheus.Collector.
func (c *DroppedCollector) Collect(ch chan<- prometheus.Metric) {
	all := c.snapshot()
	if deps, _, ok := analysis.Latest[*topology.Snapshot](all, topology.EngineName); ok {
		for _, reason := range []string{
			topology.DropInvalidIdentity, topology.DropMaxEdges, topology.DropMaxServices,
		} {
			ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue,
				deps.Dropped[reason], DroppedFamily, reason)
		}
	}
	if snap, _, ok := analysis.Latest[*cost.Snapshot](all, cost.EngineName); ok {
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue,
			float64(snap.ResourcesDropped), DroppedFamilyCost, DropMaxResources)
	}
}
