package topology

import (
	"context"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// ServiceGraph reads the service graph metrics that the OpenTelemetry Collector's
// servicegraph connector, Grafana Tempo's metrics generator and Grafana Beyla
// derive from traces: traces_service_graph_request_total, _request_failed_total,
// the _request_server_seconds and _request_client_seconds histograms, and
// traces_service_graph_connection_info (Beyla), which only shows that an edge
// exists.
//
// Labels client and server name the ends; connection_type says what the server
// is: "database" and "messaging_system" are stores named from span attributes,
// "virtual_node" an end without spans of its own. Tempo and the connector name an
// uninstrumented caller "user": it becomes UnknownEndpoint, as an unproxied
// caller does in a mesh; the other virtual servers are outside the traced system
// and are external. Of the extra dimensions, k8s.namespace.name, then
// service.namespace (client_k8s_namespace_name, client_service_namespace, and the
// server_ ones) give the namespace, k8s.cluster.name the cluster; all others are
// aggregated away, so that edges differing only in them are one edge.
type ServiceGraph struct {
	cluster string
}

// NewServiceGraph returns the service graph adapter.
func NewServiceGraph(opts AdapterOptions) *ServiceGraph {
	return &ServiceGraph{cluster: opts.clusterLabel()}
}

// Name implements Adapter.
func (*ServiceGraph) Name() string { return "servicegraph" }

// virtualCaller is the name Tempo and the connector give a caller without spans.
const virtualCaller = "user"

func (a *ServiceGraph) identity() []string {
	return []string{
		"client", "server", "connection_type", a.cluster,
		"client_k8s_namespace_name", "client_service_namespace", "client_k8s_cluster_name",
		"server_k8s_namespace_name", "server_service_namespace", "server_k8s_cluster_name",
	}
}

// Observe implements Adapter. It runs one presence query and, if it found series,
// four traffic queries: requests, failed requests, and the p95 latency from the
// server spans and, where those are missing, the client spans.
func (a *ServiceGraph) Observe(ctx context.Context, q query.Querier, w Window) (Report, error) {
	r := adapterRunner{adapter: a.Name(), q: q, at: w.At}
	t := newObsTable(w)
	ids := a.identity()

	vec, err := r.vector(ctx, "presence", presenceQuery([]string{
		"traces_service_graph_request_total",
		"traces_service_graph_request_failed_total",
		"traces_service_graph_connection_info",
	}, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if !t.addPresence(vec, a.edge) {
		return t.report(serviceGraphViews), nil
	}

	queries := []struct {
		what, expr string
		add        func(*obsStats, string, model.Metric, float64)
	}{
		{"request rate",
			rateQuery([]string{"traces_service_graph_request_total"}, ids, w.Rate),
			func(st *obsStats, _ string, m model.Metric, v float64) {
				addCalls(st, "", m, v)
				st.answered[""] += v
			}},
		{"failed request rate",
			rateQuery([]string{"traces_service_graph_request_failed_total"}, ids, w.Rate),
			func(st *obsStats, _ string, _ model.Metric, v float64) { st.failed[""] += v }},
		{"server latency", p95Query(
			[]string{"traces_service_graph_request_server_seconds_bucket"}, ids, w.Rate, 1),
			func(st *obsStats, _ string, m model.Metric, v float64) { addP95(st, "server", m, v) }},
		{"client latency", p95Query(
			[]string{"traces_service_graph_request_client_seconds_bucket"}, ids, w.Rate, 1),
			func(st *obsStats, _ string, m model.Metric, v float64) { addP95(st, "client", m, v) }},
	}
	for _, qu := range queries {
		vec, err := r.vector(ctx, qu.what, qu.expr)
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.view, qu.add)
	}
	return t.report(serviceGraphViews), nil
}

// serviceGraphViews: one count of calls; a failed call is one whose client or
// server span says so, which is what the client saw.
var serviceGraphViews = viewOrder{
	rate:         []string{""},
	clientErrors: []string{""},
	latency:      []string{"server", "client"},
}

func (a *ServiceGraph) view(m model.Metric) (obsKey, string, bool) {
	k, ok := a.edge(m)
	return k, "", ok
}

func (a *ServiceGraph) edge(m model.Metric) (obsKey, bool) {
	scrapeCluster := string(m[model.LabelName(a.cluster)])
	side := func(prefix string) (cluster, namespace string, scraped bool) {
		cluster = labelValue(m, prefix+"_k8s_cluster_name")
		if cluster == "" {
			cluster, scraped = scrapeCluster, true
		}
		namespace = firstLabelValue(m, prefix+"_k8s_namespace_name", prefix+"_service_namespace")
		return cluster, namespace, scraped
	}

	serverKind := graph.KindService
	switch m["connection_type"] {
	case "database":
		serverKind = graph.KindDatabase
	case "messaging_system":
		serverKind = graph.KindMessaging
	case "virtual_node":
		if m["client"] != virtualCaller {
			serverKind = graph.KindExternal
		}
	}

	client := UnknownEndpoint
	if name := string(m["client"]); name != unknownValue &&
		(name != virtualCaller || m["connection_type"] != "virtual_node") {
		cluster, ns, scraped := side("client")
		var ok bool
		if client, ok = serviceEndpoint(cluster, ns, name); !ok {
			return obsKey{}, false
		}
		if scraped {
			client = fromScrape(client)
		}
	}
	cluster, ns, scraped := side("server")
	if serverKind != graph.KindService {
		// A store or external peer named from span attributes runs outside the
		// cluster whose collector saw the call, unless a dimension says otherwise.
		cluster = labelValue(m, "server_k8s_cluster_name")
	}
	server, ok := endpointOf(cluster, ns, string(m["server"]), serverKind)
	if !ok {
		return obsKey{}, false
	}
	if scraped && serverKind == graph.KindService {
		server = fromScrape(server)
	}
	return pairKey(client, server, "")
}
