package topology

import (
	"context"
	"slices"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
)

// Linkerd reads the outbound metrics of Linkerd proxies: request_total,
// response_total (classification="success" or "failure") and
// response_latency_ms for HTTP and gRPC, tcp_open_total and tcp_open_connections
// for other TCP traffic.
//
// Outbound series are the client proxy's view, labelled by Linkerd's scrape
// configuration with the client's namespace and workload (from the pod's
// linkerd.io/proxy-<kind> label) and by the proxy with the server's dst_namespace
// and dst_<kind>. The server's cluster is not in the labels and stays empty.
type Linkerd struct {
	cluster string
}

// NewLinkerd returns the Linkerd adapter.
func NewLinkerd(opts AdapterOptions) *Linkerd {
	return &Linkerd{cluster: opts.clusterLabel()}
}

// Name implements Adapter.
func (*Linkerd) Name() string { return "linkerd" }

// linkerdWorkloadKinds are the workload kinds Linkerd names a pod by, in the order
// in which they are tried; a pod carries only one. Jobs are left out: their label
// would be "job", which every scrape sets to the scrape job's name.
var linkerdWorkloadKinds = []string{"deployment", "statefulset", "daemonset", "replicaset"}

const linkerdOutbound = `{direction="outbound"}`

func (a *Linkerd) identity() []string {
	ids := []string{a.cluster, "namespace", "dst_namespace", "dst_service"}
	for _, k := range linkerdWorkloadKinds {
		ids = append(ids, k, "dst_"+k)
	}
	return ids
}

// Observe implements Adapter. It runs two presence queries (HTTP, TCP) and, for
// each that found series, its traffic queries: requests, responses by
// classification and latency for HTTP, connections opened for TCP. Six queries at
// most.
func (a *Linkerd) Observe(ctx context.Context, q query.Querier, w Window) (Report, error) {
	r := adapterRunner{adapter: a.Name(), q: q, at: w.At}
	t := newObsTable(w)
	ids := a.identity()

	vec, err := r.vector(ctx, "request presence", presenceQuery(
		[]string{"request_total" + linkerdOutbound, "response_total" + linkerdOutbound},
		ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if t.addPresence(vec, a.httpEdge) {
		vec, err = r.vector(ctx, "request rate",
			rateQuery([]string{"request_total" + linkerdOutbound}, ids, w.Rate))
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.httpView, addCalls)

		vec, err = r.vector(ctx, "response rate", rateQuery(
			[]string{"response_total" + linkerdOutbound},
			append(slices.Clone(ids), "classification"), w.Rate))
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.httpView, addOutcome(func(m model.Metric) bool {
			return m["classification"] == "failure"
		}))

		vec, err = r.vector(ctx, "latency", p95Query(
			[]string{"response_latency_ms_bucket" + linkerdOutbound}, ids, w.Rate, 0.001))
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.httpView, addP95)
	}

	tcp := newObsTable(w)
	tcpSelectors := []string{
		`tcp_open_total{direction="outbound",peer="dst"}`,
		`tcp_open_connections{direction="outbound",peer="dst"}`,
	}
	vec, err = r.vector(ctx, "TCP presence", presenceQuery(tcpSelectors, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if tcp.addPresence(vec, a.tcpEdge) {
		vec, err = r.vector(ctx, "TCP connection rate",
			rateQuery(tcpSelectors[:1], ids, w.Rate))
		if err != nil {
			return Report{}, err
		}
		tcp.addRows(vec, a.tcpView, addCalls)
	}
	// The proxy counts the connections under HTTP traffic too: a TCP edge is
	// reported only where no HTTP was seen, or one edge's work would be counted
	// twice, in two units.
	withHTTP := map[[2]Endpoint]bool{}
	for k := range t.edges {
		withHTTP[[2]Endpoint{k.client, k.server}] = true
	}
	t.absorb(tcp, func(k obsKey) bool { return !withHTTP[[2]Endpoint{k.client, k.server}] })
	return t.report(singleView), nil
}

// Linkerd's request metrics have no protocol label; HTTP covers gRPC, which runs
// over HTTP/2.
func (a *Linkerd) httpEdge(m model.Metric) (obsKey, bool) { return a.edge(m, "http") }

func (a *Linkerd) tcpEdge(m model.Metric) (obsKey, bool) { return a.edge(m, "tcp") }

func (a *Linkerd) httpView(m model.Metric) (obsKey, string, bool) {
	k, ok := a.httpEdge(m)
	return k, "", ok
}

func (a *Linkerd) tcpView(m model.Metric) (obsKey, string, bool) {
	k, ok := a.tcpEdge(m)
	return k, "", ok
}

// edge needs a workload on both sides: a namespace alone would join every
// workload of it to every other.
func (a *Linkerd) edge(m model.Metric, protocol string) (obsKey, bool) {
	var clientName, serverName string
	for _, k := range linkerdWorkloadKinds {
		if clientName == "" {
			clientName = labelValue(m, k)
		}
		if serverName == "" {
			serverName = labelValue(m, "dst_"+k)
		}
	}
	if serverName == "" {
		// A server without the proxy (a database, an unmeshed service) has no
		// workload label; the Kubernetes Service the client addressed names it.
		serverName = labelValue(m, "dst_service")
	}
	client, ok := serviceEndpoint(string(m[model.LabelName(a.cluster)]),
		labelValue(m, "namespace"), clientName)
	if !ok {
		return obsKey{}, false
	}
	server, ok := serviceEndpoint("", labelValue(m, "dst_namespace"), serverName)
	if !ok {
		return obsKey{}, false
	}
	return pairKey(client, server, protocol)
}
