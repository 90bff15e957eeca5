package topology

import (
	"context"
	"regexp"
	"slices"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
)

// Istio reads the standard metrics of Istio proxies: istio_requests_total and
// istio_request_duration_milliseconds for HTTP and gRPC, istio_tcp_* for TCP.
//
// Both proxies of a call report it, the client's with reporter="source", the
// server's with reporter="destination" (in ambient mode a waypoint reports
// "waypoint"). An edge exists when either reports it; its rate comes from one side
// only, the server's where it reports, so that no call is counted twice.
type Istio struct {
	cluster string
}

// NewIstio returns the Istio adapter.
func NewIstio(opts AdapterOptions) *Istio {
	return &Istio{cluster: opts.clusterLabel()}
}

// Name implements Adapter.
func (*Istio) Name() string { return "istio" }

// istioViews prefers the server proxy's report of a call, which sees every caller,
// proxied or not; the client's view of failures includes those the network caused.
var istioViews = viewOrder{
	rate:          []string{"destination", "waypoint", "source"},
	clientErrors:  []string{"source", "destination", "waypoint"},
	serverErrors:  []string{"destination", "waypoint"},
	latency:       []string{"destination", "waypoint", "source"},
	clientLatency: map[string]bool{"source": true},
}

func (a *Istio) identity() []string {
	return []string{
		"source_workload", "source_workload_namespace", "source_cluster",
		"destination_workload", "destination_workload_namespace", "destination_cluster",
		"destination_service_name", "destination_service_namespace",
		"request_protocol", a.cluster,
	}
}

// Observe implements Adapter. It runs two presence queries (requests, TCP) and,
// for each that found series, its traffic queries: requests by outcome and
// latency for HTTP and gRPC, connections opened for TCP. Five queries at most.
func (a *Istio) Observe(ctx context.Context, q query.Querier, w Window) (Report, error) {
	r := adapterRunner{adapter: a.Name(), q: q, at: w.At}
	t := newObsTable(w)
	ids := a.identity()
	withReporter := append(slices.Clone(ids), "reporter")

	vec, err := r.vector(ctx, "request presence",
		presenceQuery([]string{"istio_requests_total"}, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if t.addPresence(vec, a.requestEdge) {
		byOutcome := append(slices.Clone(withReporter), "response_code", "grpc_response_status")
		vec, err = r.vector(ctx, "request rate",
			rateQuery([]string{"istio_requests_total"}, byOutcome, w.Rate))
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.requestView, func(st *obsStats, view string, m model.Metric, v float64) {
			addCalls(st, view, m, v)
			addOutcome(istioFailed)(st, view, m, v)
		})

		vec, err = r.vector(ctx, "latency", p95Query(
			[]string{"istio_request_duration_milliseconds_bucket"}, withReporter, w.Rate, 0.001))
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.requestView, addP95)
	}

	tcp := newObsTable(w)
	vec, err = r.vector(ctx, "TCP presence", presenceQuery([]string{
		"istio_tcp_connections_opened_total",
		"istio_tcp_sent_bytes_total",
		"istio_tcp_received_bytes_total",
	}, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if tcp.addPresence(vec, a.tcpEdge) {
		// TCP has no requests: a connection opened is its closest unit of work.
		vec, err = r.vector(ctx, "TCP connection rate",
			rateQuery([]string{"istio_tcp_connections_opened_total"}, withReporter, w.Rate))
		if err != nil {
			return Report{}, err
		}
		tcp.addRows(vec, a.tcpView, addCalls)
	}
	// In ambient mode ztunnel reports the TCP of calls a waypoint reports as
	// requests: a TCP edge stands only where no request edge joins the same pair,
	// or one edge's work would be counted twice, in two units.
	withRequests := map[[2]Endpoint]bool{}
	for k := range t.edges {
		withRequests[[2]Endpoint{k.client, k.server}] = true
	}
	t.absorb(tcp, func(k obsKey) bool { return !withRequests[[2]Endpoint{k.client, k.server}] })
	return t.report(istioViews), nil
}

func (a *Istio) requestEdge(m model.Metric) (obsKey, bool) {
	return a.edge(m, string(m["request_protocol"]))
}

func (a *Istio) tcpEdge(m model.Metric) (obsKey, bool) { return a.edge(m, "tcp") }

func (a *Istio) requestView(m model.Metric) (obsKey, string, bool) {
	k, ok := a.requestEdge(m)
	return k, string(m["reporter"]), ok
}

func (a *Istio) tcpView(m model.Metric) (obsKey, string, bool) {
	k, ok := a.tcpEdge(m)
	return k, string(m["reporter"]), ok
}

// edge names the ends of a series. A caller without a proxy is "unknown" to the
// server's proxy and becomes UnknownEndpoint. A server without a proxy is named
// by the service the client addressed, in that service's namespace.
func (a *Istio) edge(m model.Metric, protocol string) (obsKey, bool) {
	client := UnknownEndpoint
	switch name := string(m["source_workload"]); name {
	case unknownValue:
	case "":
		return obsKey{}, false
	default:
		var ok bool
		cluster, scraped := a.clusterOf(m, "source_cluster")
		client, ok = serviceEndpoint(cluster, labelValue(m, "source_workload_namespace"), name)
		if !ok {
			return obsKey{}, false
		}
		if scraped {
			client = fromScrape(client)
		}
	}

	server := UnknownEndpoint
	cluster, scraped := a.clusterOf(m, "destination_cluster")
	if name := labelValue(m, "destination_workload"); name != "" {
		var ok bool
		server, ok = serviceEndpoint(cluster, labelValue(m, "destination_workload_namespace"), name)
		if !ok {
			return obsKey{}, false
		}
	} else if name := labelValue(m, "destination_service_name"); !istioPseudoService(name) {
		var ok bool
		server, ok = serviceEndpoint(cluster, labelValue(m, "destination_service_namespace"), name)
		if !ok {
			return obsKey{}, false
		}
	}
	if scraped && server != UnknownEndpoint {
		server = fromScrape(server)
	}
	if server == UnknownEndpoint {
		return obsKey{}, false
	}
	return pairKey(client, server, protocol)
}

// istioDefaultCluster is the cluster name Istio uses when its installation sets
// none (the clusterName default of single-cluster installs). It names no cluster
// anyone else knows, so it counts as unset.
const istioDefaultCluster = "Kubernetes"

// clusterOf is the cluster Istio names for a side, else the scrape's cluster
// (scraped true).
func (a *Istio) clusterOf(m model.Metric, label string) (cluster string, scraped bool) {
	if c := labelValue(m, label); c != "" && c != istioDefaultCluster {
		return c, false
	}
	return string(m[model.LabelName(a.cluster)]), true
}

// istioPseudoService tells the Envoy clusters that stand for traffic Istio could
// not route to a known service: they name no server.
func istioPseudoService(name string) bool {
	switch name {
	case "", "PassthroughCluster", "BlackHoleCluster", "InboundPassthroughCluster",
		"InboundPassthroughClusterIpv4", "InboundPassthroughClusterIpv6":
		return true
	}
	return false
}

var httpServerError = regexp.MustCompile(`^5[0-9][0-9]$`)

// istioFailed says whether a series counts failed calls: an HTTP 5xx, no response
// at all (code 0), or a gRPC status other than OK, which travels in the trailer of
// an HTTP 200. Each series is classified once, so a call is never failed twice.
func istioFailed(m model.Metric) bool {
	code := string(m["response_code"])
	grpc := string(m["grpc_response_status"])
	return httpServerError.MatchString(code) || code == "0" || (grpc != "" && grpc != "0")
}
