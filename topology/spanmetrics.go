package topology

import (
	"context"
	"fmt"
	"slices"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// SpanMetrics reads the span metrics of OpenTelemetry tracing (the Collector's
// spanmetrics connector, Tempo's metrics generator), which count spans per
// service, span name, kind and status. Only client and producer spans say whom a
// service calls: the caller is service_name, the callee the first of peer_service
// (a service), server_address (a service), db_system (a database) and
// messaging_system (a broker); a call with db_system or messaging_system set is to
// a database or broker whatever names it. Those attributes are dimensions the
// pipeline must be configured to keep. A client span without any of them names no
// callee and is counted as dropped; server and internal spans are not read.
//
// Namespace is the k8s.namespace.name dimension, else service.namespace, for the
// caller; callees named from span attributes have none.
type SpanMetrics struct {
	cluster string
}

// NewSpanMetrics returns the span metrics adapter.
func NewSpanMetrics(opts AdapterOptions) *SpanMetrics {
	return &SpanMetrics{cluster: opts.clusterLabel()}
}

// Name implements Adapter.
func (*SpanMetrics) Name() string { return "spanmetrics" }

// spanCalls are the names of the calls counter: the connector with the
// traces.span.metrics namespace, Tempo, and the
// connector without a namespace. Only client and producer spans are selected.
var spanCalls = spanSelectors(
	"traces_span_metrics_calls_total", "traces_spanmetrics_calls_total", "calls_total")

// The duration histogram's names differ in unit: the connector writes
// milliseconds by default (seconds with unit: s), Tempo seconds, and the older
// spanmetrics processor's latency histogram milliseconds.
var (
	spanDurationMilliseconds = spanSelectors(
		"traces_span_metrics_duration_milliseconds_bucket",
		"duration_milliseconds_bucket",
		"latency_bucket",
	)
	spanDurationSeconds = spanSelectors(
		"traces_span_metrics_duration_seconds_bucket",
		"duration_seconds_bucket",
		"traces_spanmetrics_latency_bucket",
	)
)

func spanSelectors(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf(
			`%s{span_kind=~"SPAN_KIND_CLIENT|SPAN_KIND_PRODUCER",span_name!=""}`, n)
	}
	return out
}

const spanErrorStatus = "STATUS_CODE_ERROR"

func (a *SpanMetrics) identity() []string {
	return []string{
		a.cluster, "service_name", "k8s_namespace_name", "service_namespace",
		"peer_service", "server_address", "db_namespace", "db_name", "db_system",
		"messaging_destination_name", "messaging_system",
	}
}

// Observe implements Adapter. It runs one presence query and, if it found series,
// two traffic queries: calls by status code, and the p95 latency of both
// histogram units together.
func (a *SpanMetrics) Observe(ctx context.Context, q query.Querier, w Window) (Report, error) {
	r := adapterRunner{adapter: a.Name(), q: q, at: w.At}
	t := newObsTable(w)
	ids := a.identity()

	vec, err := r.vector(ctx, "presence", presenceQuery(spanCalls, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if !t.addPresence(vec, a.edge) {
		return t.report(singleView), nil
	}

	vec, err = r.vector(ctx, "call rate",
		rateQuery(spanCalls, append(slices.Clone(ids), "status_code"), w.Rate))
	if err != nil {
		return Report{}, err
	}
	t.addRows(vec, a.view, func(st *obsStats, view string, m model.Metric, v float64) {
		addCalls(st, view, m, v)
		addOutcome(func(m model.Metric) bool {
			return m["status_code"] == spanErrorStatus
		})(st, view, m, v)
	})

	// One unit at a time would make two queries; dividing the milliseconds by a
	// thousand lets one union answer both.
	latency := p95Query(spanDurationMilliseconds, ids, w.Rate, 0.001) + " or " +
		p95Query(spanDurationSeconds, ids, w.Rate, 1)
	vec, err = r.vector(ctx, "latency", latency)
	if err != nil {
		return Report{}, err
	}
	t.addRows(vec, a.view, addP95)
	return t.report(singleView), nil
}

func (a *SpanMetrics) view(m model.Metric) (obsKey, string, bool) {
	k, ok := a.edge(m)
	return k, "", ok
}

func (a *SpanMetrics) edge(m model.Metric) (obsKey, bool) {
	client, ok := serviceEndpoint(string(m[model.LabelName(a.cluster)]),
		firstLabelValue(m, "k8s_namespace_name", "service_namespace"),
		string(m["service_name"]))
	if !ok {
		return obsKey{}, false
	}
	client = fromScrape(client) // the collector's cluster, which may not be the service's

	kind := graph.KindService
	switch {
	case m["db_system"] != "":
		kind = graph.KindDatabase
	case m["messaging_system"] != "":
		kind = graph.KindMessaging
	}
	name, namespace := firstLabelValue(m, "peer_service"), ""
	if name == "" {
		if addr := labelValue(m, "server_address"); addr != "" {
			// A DNS name of a Kubernetes service gives its name and namespace; any
			// other host is outside the cluster.
			host, external := identity.FromHost(addr)
			name, namespace = host.Name, host.Namespace
			if external && kind == graph.KindService {
				kind = graph.KindExternal
			}
		}
	}
	if name == "" {
		// Without an address, the database or queue name says which store; the
		// system alone ("postgresql") would make every database of that kind one.
		name = firstLabelValue(m, "db_namespace", "db_name", "messaging_destination_name",
			"db_system", "messaging_system")
	}
	server, ok := endpointOf("", namespace, name, kind)
	if !ok {
		return obsKey{}, false
	}
	return pairKey(client, server, "")
}
