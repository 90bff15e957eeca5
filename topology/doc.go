// Package topology discovers the dependencies between services from the telemetry
// Prometheus already holds and keeps them as a graph.
//
// Each telemetry source has an Adapter (Istio, Linkerd, Cilium Hubble, OpenTelemetry
// service graphs and span metrics, and a generic one configured with a metric and
// its client and server labels). Adapters turn a fixed number of PromQL queries,
// aggregated by identity labels, into Observations: an edge exists when its series
// exists, whatever its rate, so a call made once an hour is found.
//
// The Discoverer is the engine. It looks back over the whole retention on its first
// cycle and afterwards only over the time since its last success, remembers each
// edge with its last-seen time until the retention passes, maps every source's
// names onto one service identity (package identity), counts what appears and
// disappears, caps what a cardinality explosion would add, and hands the graph to
// package graph for analysis.
package topology
