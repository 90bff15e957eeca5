package collector

import (
	"math"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// DroppedFamily is the family label of stratus_series_dropped_total for what the
// dependency engine leaves out.
const DroppedFamily = "dependencies"

var (
	edgeLabels = []string{
		"client", "client_namespace", "client_cluster",
		"server", "server_namespace", "server_cluster",
	}
	serviceLabels = []string{"service", "namespace", "cluster"}
)

// DependencyCollector exposes the dependency graph of the latest discovery cycle.
// Edges and services carry their identity parts as separate labels, so that the
// edge families join the per-service families of every engine.
type DependencyCollector struct {
	snapshot func() *analysis.Snapshot
	// sourceStatus, when set, gives the adapters' health after the latest cycle,
	// including one that failed as a whole and left the previous snapshot in place.
	sourceStatus func() map[string]topology.SourceStatus

	requests, errorRatio, latency, lastSeen *prometheus.Desc
	changes, edgesBySource                  *prometheus.Desc
	sourceUp, sourceLastSuccess             *prometheus.Desc
	nodeInfo, dependents, dependencies      *prometheus.Desc
	criticalPath, bottleneck, errorOrigin   *prometheus.Desc
	betweenness                             *prometheus.Desc
}

// NewDependencyCollector reads dependency snapshots from the snapshots that
// snapshot returns.
func NewDependencyCollector(snapshot func() *analysis.Snapshot) *DependencyCollector {
	edge := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help,
			append(append([]string{}, edgeLabels...), extra...), nil)
	}
	service := func(name, help string, extra ...string) *prometheus.Desc {
		return prometheus.NewDesc(name, help,
			append(append([]string{}, serviceLabels...), extra...), nil)
	}
	return &DependencyCollector{
		snapshot: snapshot,
		requests: edge("stratus_dependency_requests_per_second",
			"Calls per second from client to server over the rate window; 0 for an edge "+
				"whose series exist without recent calls.", "protocol"),
		errorRatio: edge("stratus_dependency_error_ratio",
			"Share of the calls from client to server that the client saw fail."),
		latency: edge("stratus_dependency_latency_p95_seconds",
			"95th percentile server-side latency of the calls from client to server."),
		lastSeen: edge("stratus_dependency_last_seen_timestamp_seconds",
			"Time of the newest sample of any series showing the edge."),
		changes: prometheus.NewDesc("stratus_dependency_changes_total",
			"Edges and services that appeared or disappeared while Stratus ran; the "+
				"initial discovery is not counted.", []string{"kind", "action"}, nil),
		sourceUp: prometheus.NewDesc("stratus_dependency_source_up",
			"Whether the telemetry source's queries succeeded at the latest cycle (1) or "+
				"not (0); a failed source's edges stay until the retention passes.",
			[]string{"source"}, nil),
		sourceLastSuccess: prometheus.NewDesc(
			"stratus_dependency_source_last_success_timestamp_seconds",
			"Evaluation time of the latest cycle in which the telemetry source's queries "+
				"succeeded; 0 if none has.", []string{"source"}, nil),
		edgesBySource: prometheus.NewDesc("stratus_dependency_edges",
			"Edges on the graph that each telemetry source has seen within the retention.",
			[]string{"source"}, nil),
		nodeInfo: service("stratus_dependency_node_info",
			"A node of the dependency graph and its kind (service, database, messaging, "+
				"external, unknown).", "kind"),
		dependents: service("stratus_service_dependents",
			"Services that call this one directly or transitively: its blast radius."),
		dependencies: service("stratus_service_dependencies",
			"Services this one calls directly or transitively."),
		criticalPath: service("stratus_service_critical_path",
			"1 for each service on the slowest chain of calls from the entry point "+
				"(given as cluster/namespace/name).", "entrypoint"),
		bottleneck: service("stratus_service_bottleneck_score",
			"Bottleneck score in [0,1] combining fan-in, latency share and saturation."),
		errorOrigin: service("stratus_service_error_origin",
			"1 where the errors that callers see originate, 0 elsewhere."),
		betweenness: service("stratus_service_betweenness_ratio",
			"Share of the shortest call paths between other services that pass through "+
				"this one (a chokepoint measure)."),
	}
}

// WithSourceStatus makes the collector report the adapters' health from status
// (topology.Discoverer.SourceStatus) rather than from the last good snapshot, so
// that stratus_dependency_source_up falls to 0 when every source fails.
func (c *DependencyCollector) WithSourceStatus(
	status func() map[string]topology.SourceStatus,
) *DependencyCollector {
	c.sourceStatus = status
	return c
}

// Describe implements prometheus.Collector.
func (c *DependencyCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.requests, c.errorRatio, c.latency, c.lastSeen, c.changes,
		c.edgesBySource, c.sourceUp, c.sourceLastSuccess, c.nodeInfo, c.dependents,
		c.dependencies, c.criticalPath, c.bottleneck, c.errorOrigin, c.betweenness,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Before the first successful cycle it
// emits nothing.
func (c *DependencyCollector) Collect(ch chan<- prometheus.Metric) {
	snap, _, ok := analysis.Latest[*topology.Snapshot](c.snapshot(), topology.EngineName)
	if !ok {
		return
	}
	c.collectEdges(ch, snap)
	c.collectServices(ch, snap)

	for _, kind := range []string{topology.ChangeEdge, topology.ChangeService} {
		for _, action := range []string{topology.ActionAdded, topology.ActionRemoved} {
			ch <- prometheus.MustNewConstMetric(c.changes, prometheus.CounterValue,
				snap.Changes[topology.Change{Kind: kind, Action: action}], kind, action)
		}
	}
	for source, n := range snap.EdgesBySource {
		ch <- prometheus.MustNewConstMetric(c.edgesBySource, prometheus.GaugeValue,
			float64(n), source)
	}
	sources := snap.Sources
	if c.sourceStatus != nil {
		if live := c.sourceStatus(); live != nil {
			sources = live
		}
	}
	for source, st := range sources {
		ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue,
			boolFloat(st.Up), source)
		last := 0.0
		if !st.LastSuccess.IsZero() {
			last = float64(st.LastSuccess.UnixMilli()) / 1000
		}
		ch <- prometheus.MustNewConstMetric(c.sourceLastSuccess, prometheus.GaugeValue,
			last, source)
	}
}

func (c *DependencyCollector) collectEdges(
	ch chan<- prometheus.Metric, snap *topology.Snapshot,
) {
	for _, e := range snap.Graph.Edges() {
		client, _ := snap.Graph.Node(e.Client)
		server, _ := snap.Graph.Node(e.Server)
		lv := []string{client.Name, client.Namespace, client.Cluster,
			server.Name, server.Namespace, server.Cluster}

		ch <- prometheus.MustNewConstMetric(c.requests, prometheus.GaugeValue,
			e.RequestsPerSecond, append(lv, e.Protocol)...)
		if !math.IsNaN(e.ErrorRatio) {
			ch <- prometheus.MustNewConstMetric(c.errorRatio, prometheus.GaugeValue,
				e.ErrorRatio, lv...)
		}
		if !math.IsNaN(e.LatencyP95Seconds) {
			ch <- prometheus.MustNewConstMetric(c.latency, prometheus.GaugeValue,
				e.LatencyP95Seconds, lv...)
		}
		seen := snap.LastSeen[[2]graph.NodeID{e.Client, e.Server}]
		ch <- prometheus.MustNewConstMetric(c.lastSeen, prometheus.GaugeValue,
			float64(seen.UnixMilli())/1000, lv...)
	}
}

func (c *DependencyCollector) collectServices(
	ch chan<- prometheus.Metric, snap *topology.Snapshot,
) {
	for _, n := range snap.Graph.Nodes() {
		res, _ := snap.Analysis.Node(n.ID)
		lv := []string{n.Name, n.Namespace, n.Cluster}
		gauge := func(d *prometheus.Desc, v float64, extra ...string) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v,
				append(lv, extra...)...)
		}
		gauge(c.nodeInfo, 1, string(n.Kind))
		gauge(c.dependents, float64(snap.Dependents(n.ID)))
		gauge(c.dependencies, float64(snap.Dependencies(n.ID)))
		gauge(c.bottleneck, res.BottleneckScore)
		gauge(c.errorOrigin, boolFloat(res.ErrorOrigin))
		gauge(c.betweenness, res.Betweenness)
	}
	for _, p := range snap.Analysis.CriticalPaths {
		for _, id := range p.Nodes {
			n, _ := snap.Graph.Node(id)
			ch <- prometheus.MustNewConstMetric(c.criticalPath, prometheus.GaugeValue, 1,
				n.Name, n.Namespace, n.Cluster, string(p.EntryPoint))
		}
	}
}
