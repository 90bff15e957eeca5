package topology

import (
	"context"
	"time"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// Endpoint is one end of an edge as a telemetry source names it. The identity
// resolver later maps it onto the shared service identity, so an adapter reports
// what its labels say and nothing more: a bare name stays bare.
type Endpoint struct {
	Cluster   string
	Namespace string
	Name      string
	// Kind is graph.KindService unless the source says otherwise (a database or
	// broker reached by a traced client, a caller without a proxy).
	Kind graph.Kind
	// ClusterFromScrape says that Cluster is the cluster label of the scrape that
	// reported the series, not something the source says of this end: a Hubble
	// agent or a central collector reports peers in other clusters under its own.
	// The identity resolver then moves the endpoint to the cluster that runs the
	// workload when it knows one.
	ClusterFromScrape bool
}

// UnknownEndpoint is the caller a mesh reports when the client has no proxy.
var UnknownEndpoint = Endpoint{Name: "unknown", Kind: graph.KindUnknown}

// Observation is one edge as one telemetry source saw it.
//
// Traffic figures use NaN for "not measured"; a zero rate means the edge's series
// exist but carried no calls over the rate window.
type Observation struct {
	Client, Server Endpoint
	// Protocol is the application protocol (http, grpc, tcp, ...) when the source
	// says; empty otherwise.
	Protocol string
	// LastSeen is the newest sample time of any of the edge's series in the
	// presence window; the window's end when only the traffic queries saw it.
	LastSeen time.Time

	RequestsPerSecond float64
	// ErrorRatio is the share of calls the client saw fail; ServerErrorRatio the
	// share the server reported as failed.
	ErrorRatio        float64
	ServerErrorRatio  float64
	LatencyP95Seconds float64
	// LatencyFromClient says the latency is what the client measured, network
	// included, because the source has no server-side figure for the edge.
	LatencyFromClient bool
}

// Window is what one discovery cycle asks of an adapter.
type Window struct {
	// At is the evaluation time.
	At time.Time
	// Presence is how far back before At to look for series: the whole retention
	// on the first cycle, the time since the last successful cycle afterwards.
	Presence time.Duration
	// Rate is the range of rate() for the traffic figures.
	Rate time.Duration
}

// Report is what one adapter found in one window.
type Report struct {
	Observations []Observation
	// Dropped counts result series the adapter could not turn into an edge:
	// missing or empty identity labels, a client or server it cannot name.
	Dropped int
}

// Adapter reads one kind of telemetry. Observe must run a fixed number of queries
// whatever the number of services (aggregate by the identity labels in PromQL),
// return an empty Report when its metrics do not exist, and place no label value
// into a query without escaping it.
type Adapter interface {
	// Name names the source in outputs: istio, linkerd, servicegraph,
	// spanmetrics, hubble, or a generic adapter's configured name.
	Name() string
	Observe(ctx context.Context, q query.Querier, w Window) (Report, error)
}
