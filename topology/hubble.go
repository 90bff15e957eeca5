package topology

import (
	"context"
	"slices"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
)

// Hubble reads the metrics of Cilium's Hubble, labelled with the workload context
// (labelsContext=source_namespace,source_workload,destination_namespace,
// destination_workload): hubble_flows_processed_total for every flow,
// hubble_http_requests_total, hubble_http_responses_total (status) and
// hubble_http_request_duration_seconds for HTTP.
//
// Flows show that an edge exists; only forwarded flows (verdict="FORWARDED", or
// no verdict label) count, since a dropped flow is a call that never arrived.
// Flows carry no request count, so an edge seen only in flows has no rate (NaN)
// and no protocol. HTTP metrics v2 carry reporter="client" or "server" when both
// ends are observed: rates come from one reporter only, the server's where it
// reports. A source without a workload (outside the cluster, a reserved
// identity) is UnknownEndpoint; a destination without one names no server and
// is dropped. Hubble names no cluster: the scrape's cluster label is used for
// both ends.
type Hubble struct {
	cluster string
}

// NewHubble returns the Hubble adapter.
func NewHubble(opts AdapterOptions) *Hubble {
	return &Hubble{cluster: opts.clusterLabel()}
}

// Name implements Adapter.
func (*Hubble) Name() string { return "hubble" }

// hubbleViews: "" is the reporter of HTTP metrics v1, which have none.
var hubbleViews = viewOrder{
	rate:          []string{"server", "", "client"},
	clientErrors:  []string{"client", "", "server"},
	serverErrors:  []string{"server"},
	latency:       []string{"server", "", "client"},
	clientLatency: map[string]bool{"client": true},
}

func (a *Hubble) identity() []string {
	return []string{
		a.cluster, "source_namespace", "source_workload",
		"destination_namespace", "destination_workload",
	}
}

// Observe implements Adapter. It runs two presence queries (flows, HTTP) and, if
// HTTP series exist, three traffic queries: requests, responses by status, and
// latency.
func (a *Hubble) Observe(ctx context.Context, q query.Querier, w Window) (Report, error) {
	r := adapterRunner{adapter: a.Name(), q: q, at: w.At}
	ids := a.identity()
	withReporter := append(slices.Clone(ids), "reporter")

	flows := newObsTable(w)
	vec, err := r.vector(ctx, "flow presence", presenceQuery(
		[]string{`hubble_flows_processed_total{verdict=~"FORWARDED|"}`}, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	flows.addPresence(vec, a.edge)

	http := newObsTable(w)
	vec, err = r.vector(ctx, "HTTP presence", presenceQuery(
		[]string{"hubble_http_requests_total", "hubble_http_responses_total"}, ids, w.Presence))
	if err != nil {
		return Report{}, err
	}
	if http.addPresence(vec, a.edge) {
		vec, err = r.vector(ctx, "request rate",
			rateQuery([]string{"hubble_http_requests_total"}, withReporter, w.Rate))
		if err != nil {
			return Report{}, err
		}
		http.addRows(vec, a.view, addCalls)

		vec, err = r.vector(ctx, "response rate", rateQuery(
			[]string{"hubble_http_responses_total"},
			append(slices.Clone(withReporter), "status"), w.Rate))
		if err != nil {
			return Report{}, err
		}
		http.addRows(vec, a.view, addOutcome(func(m model.Metric) bool {
			return httpServerError.MatchString(string(m["status"]))
		}))

		vec, err = r.vector(ctx, "latency", p95Query(
			[]string{"hubble_http_request_duration_seconds_bucket"}, withReporter, w.Rate, 1))
		if err != nil {
			return Report{}, err
		}
		http.addRows(vec, a.view, addP95)
	}
	return a.merge(flows, http), nil
}

// merge reports each pair once: with HTTP figures where HTTP metrics saw it, from
// flows alone otherwise.
func (a *Hubble) merge(flows, http *obsTable) Report {
	for k := range http.edges {
		delete(flows.edges, k)
	}
	rep := http.report(hubbleViews)
	for i := range rep.Observations {
		rep.Observations[i].Protocol = "http"
	}
	// Flows count forwarded packets' verdicts, not calls: no rate, no protocol.
	fromFlows := flows.report(viewOrder{})
	http.absorb(flows, func(obsKey) bool { return false })
	rep.Dropped = len(http.dropped)
	rep.Observations = append(rep.Observations, fromFlows.Observations...)
	slices.SortFunc(rep.Observations, compareObservations)
	return rep
}

func (a *Hubble) view(m model.Metric) (obsKey, string, bool) {
	k, ok := a.edge(m)
	return k, string(m["reporter"]), ok
}

func (a *Hubble) edge(m model.Metric) (obsKey, bool) {
	cluster := string(m[model.LabelName(a.cluster)])
	server, ok := serviceEndpoint(cluster,
		string(m["destination_namespace"]), string(m["destination_workload"]))
	if !ok {
		return obsKey{}, false
	}
	server = fromScrape(server)
	client := UnknownEndpoint
	if name := string(m["source_workload"]); name != "" {
		if client, ok = serviceEndpoint(cluster, string(m["source_namespace"]), name); !ok {
			return obsKey{}, false
		}
		client = fromScrape(client)
	}
	return pairKey(client, server, "")
}
