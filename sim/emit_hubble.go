package sim

// hubbleBuckets are the Prometheus client's default buckets, in seconds, which
// Hubble's HTTP duration metric uses.
var hubbleBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// hubbleEmitter emits Cilium Hubble's flow and HTTP metrics as enabled with
// labelsContext=source_namespace,source_workload,destination_namespace,destination_workload
// and L7 visibility on every workload. Cilium is the CNI of all three clusters,
// joined by Cluster Mesh, so Hubble knows the workload of every pod whatever its
// mesh, in its own cluster or another; each cluster's agents report what they
// observe under that cluster's label.
//
// Service calls between pods are L7 flows, seen by the client's side
// (reporter="client") and the server's side (reporter="server"). Calls to managed
// stores leave the clusters as plain TCP: Hubble sees a flow to the world, with
// no destination workload or namespace. Traffic from outside the clusters into an
// ingress gateway (a root with a proxy) arrives from the world, with no source
// workload or namespace; it is not an edge of the truth.
type hubbleEmitter struct {
	flows, requests, responses, duration *family

	http      map[hubbleHTTPKey]*hubbleHTTP
	httpOrder []hubbleHTTPKey
	flow      map[hubbleFlowKey]*hubbleFlow
	flowOrder []hubbleFlowKey
}

type hubbleHTTPKey struct {
	edge     *edge
	reporter string
}

type hubbleHTTP struct {
	requests, ok, failed, duration *metric
	nRequests, nOK, nFailed        float64
	latency                        *histState
	labels                         []string
}

// hubbleFlowKey identifies a flows_processed series; source or destination is
// nil for the world outside the clusters.
type hubbleFlowKey struct {
	observer            *cluster
	source, destination *service
	typ, subtype, proto string
}

type hubbleFlow struct {
	metric *metric
	flows  float64
}

func newHubbleEmitter(w *World) *hubbleEmitter {
	r := w.reg
	return &hubbleEmitter{
		flows: r.family("hubble_flows_processed", typeCounter,
			"Simulated: flows Hubble processed, per type, subtype and verdict.", nil),
		requests: r.family("hubble_http_requests", typeCounter,
			"Simulated: HTTP requests Hubble observed.", nil),
		responses: r.family("hubble_http_responses", typeCounter,
			"Simulated: HTTP responses Hubble observed, per status.", nil),
		duration: r.family("hubble_http_request_duration_seconds", typeHistogram,
			"Simulated: HTTP request duration Hubble observed, in seconds.", hubbleBuckets),
		http: map[hubbleHTTPKey]*hubbleHTTP{},
		flow: map[hubbleFlowKey]*hubbleFlow{},
	}
}

// hasPods reports whether a service runs in a cluster, where Hubble knows it.
func hasPods(s *service) bool { return s.cluster != nil }

// hubbleNames reports whether Hubble's series name both ends of an edge: every
// caller runs in a cluster, so it names the edges whose server does too.
func hubbleNames(e *edge) bool { return hasPods(e.client) && hasPods(e.server) }

func (he *hubbleEmitter) emit(w *World, step int) {
	for _, e := range w.edges {
		if e.requests == 0 {
			continue
		}
		switch {
		case e.kind == KindService && hasPods(e.server):
			he.addHTTP(w, e, "client", e.latency+0.5, step)
			he.addHTTP(w, e, "server", e.latency, step)
		case hasPods(e.server):
			// Database and messaging protocols to a pod: L4 only.
			he.addFlow(w, hubbleFlowKey{observer: e.client.cluster, source: e.client,
				destination: e.server, typ: "Trace", subtype: "to-stack", proto: "TCP"},
				e.requests, e.rps, step)
			he.addFlow(w, hubbleFlowKey{observer: e.server.cluster, source: e.client,
				destination: e.server, typ: "Trace", subtype: "to-endpoint", proto: "TCP"},
				e.requests, e.rps, step)
		default:
			he.addFlow(w, hubbleFlowKey{observer: e.client.cluster, source: e.client,
				typ: "Trace", subtype: "to-stack", proto: "TCP"}, e.requests, e.rps, step)
		}
	}
	for _, s := range w.services {
		if !s.root || s.mesh == meshNone || !hasPods(s) {
			continue
		}
		n := 0.0
		for _, e := range s.out {
			n += e.requests
		}
		if n > 0 {
			he.addFlow(w, hubbleFlowKey{observer: s.cluster, destination: s,
				typ: "Trace", subtype: "to-endpoint", proto: "TCP"}, n, s.rps, step)
		}
	}

	// Hubble's context labels name workloads, not pods, so series outlive pod
	// churn and continue through steps without traffic.
	r := w.reg
	for _, key := range he.httpOrder {
		h := he.http[key]
		r.point(h.requests, h.nRequests)
		r.point(h.ok, h.nOK)
		if h.failed != nil {
			r.point(h.failed, h.nFailed)
		}
		r.histPoint(h.duration, h.latency.cum, h.latency.count, h.latency.sum)
	}
	for _, key := range he.flowOrder {
		f := he.flow[key]
		r.point(f.metric, f.flows)
	}
}

// addHTTP counts an edge's requests as one side reports them, and their request
// and response records as two L7 flows.
func (he *hubbleEmitter) addHTTP(w *World, e *edge, reporter string, median float64, step int) {
	observer := e.client.cluster
	if reporter == "server" {
		observer = e.server.cluster
	}
	method, proto, failStatus := "GET", "HTTP/1.1", "503"
	if usesGRPC(w, e) {
		// gRPC is always a POST, and its failures travel in the trailer of a 200.
		method, proto, failStatus = "POST", "HTTP/2", "200"
	}
	key := hubbleHTTPKey{edge: e, reporter: reporter}
	h, ok := he.http[key]
	if !ok {
		h = &hubbleHTTP{
			labels: kv(hubbleContext(w, observer, e.client, e.server),
				"method", method, "reporter", reporter),
			latency: newHistState(len(hubbleBuckets)),
		}
		h.requests = he.requests.newMetric(kv(h.labels, "protocol", proto)...)
		h.ok = he.responses.newMetric(kv(h.labels, "status", "200")...)
		h.duration = he.duration.newMetric(h.labels...)
		if pre := preexisting(w.rTelemetry, step); pre > 0 {
			h.nRequests = float64(int64(e.rps * pre))
			h.nOK = h.nRequests
			h.latency.observe(hubbleBuckets, h.nRequests, median/1000)
		}
		he.http[key] = h
		he.httpOrder = append(he.httpOrder, key)
	}
	h.nRequests += e.requests
	h.latency.observe(hubbleBuckets, e.requests, median/1000)
	if failStatus == "200" {
		h.nOK += e.requests
	} else {
		h.nOK += e.requests - e.errors
		h.nFailed += e.errors
		if h.nFailed > 0 && h.failed == nil {
			h.failed = he.responses.newMetric(kv(h.labels, "status", failStatus)...)
		}
	}
	he.addFlow(w, hubbleFlowKey{observer: observer, source: e.client, destination: e.server,
		typ: "L7", subtype: "HTTP", proto: "HTTP"}, 2*e.requests, 2*e.rps, step)
}

// addFlow adds n flows to a flows_processed series, creating it with a history
// for series that existed before the world started.
func (he *hubbleEmitter) addFlow(w *World, key hubbleFlowKey, n, rate float64, step int) {
	f, ok := he.flow[key]
	if !ok {
		lbl := kv(hubbleContext(w, key.observer, key.source, key.destination),
			"type", key.typ, "subtype", key.subtype, "verdict", "FORWARDED",
			"protocol", key.proto)
		f = &hubbleFlow{metric: he.flows.newMetric(lbl...)}
		if pre := preexisting(w.rTelemetry, step); pre > 0 {
			f.flows = float64(int64(rate * pre))
		}
		he.flow[key] = f
		he.flowOrder = append(he.flowOrder, key)
	}
	f.flows += n
}

// hubbleContext is the job, the observing cluster and the context labels. Hubble
// leaves a context label empty for the world, and Prometheus drops empty labels,
// so they are absent.
func hubbleContext(w *World, observer *cluster, src, dst *service) []string {
	lbl := []string{"job", "hubble-metrics", w.opts.ClusterLabel, observer.name}
	if src != nil {
		lbl = append(lbl, "source_namespace", src.namespace, "source_workload", src.name)
	}
	if dst != nil && hasPods(dst) {
		lbl = append(lbl, "destination_namespace", dst.namespace,
			"destination_workload", dst.name)
	}
	return lbl
}
