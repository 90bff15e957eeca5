package sim

// serviceGraphBuckets are the OpenTelemetry Collector servicegraph connector's
// default latency buckets, in seconds.
var serviceGraphBuckets = []float64{
	0.002, 0.004, 0.006, 0.008, 0.01, 0.05, 0.1, 0.2, 0.4, 0.8, 1, 1.4, 2, 5, 10, 15,
}

// serviceGraphEmitter emits what the servicegraph connector derives from paired
// client and server spans. Both ends must be traced; calls to databases and brokers
// pair with a virtual node named after the store.
type serviceGraphEmitter struct {
	total, failed, server, client *family
	edges                         map[*edge]*sgEdge
	order                         []*edge
}

type sgEdge struct {
	total, failed, server, client *metric
	requests, failures            float64
	serverHist, clientHist        *histState
	labels                        []string
}

func newServiceGraphEmitter(w *World) *serviceGraphEmitter {
	r := w.reg
	return &serviceGraphEmitter{
		total: r.family("traces_service_graph_request", typeCounter,
			"Simulated: requests from client to server seen in traces.", nil),
		failed: r.family("traces_service_graph_request_failed", typeCounter,
			"Simulated: failed requests from client to server seen in traces.", nil),
		server: r.family("traces_service_graph_request_server_seconds", typeHistogram,
			"Simulated: request time measured by the server span.", serviceGraphBuckets),
		client: r.family("traces_service_graph_request_client_seconds", typeHistogram,
			"Simulated: request time measured by the client span.", serviceGraphBuckets),
		edges: map[*edge]*sgEdge{},
	}
}

// tracedBy reports whether the service graph sees an edge.
func tracedBy(e *edge) bool {
	return e.client.traced && (e.server.traced || e.kind != KindService)
}

func connectionType(k EdgeKind) string {
	switch k {
	case KindDatabase:
		return "database"
	case KindMessaging:
		return "messaging_system"
	}
	return ""
}

func (sg *serviceGraphEmitter) emit(w *World, step int) {
	for _, e := range w.edges {
		if e.requests == 0 || !tracedBy(e) {
			continue
		}
		se, ok := sg.edges[e]
		if !ok {
			se = &sgEdge{
				labels: []string{"job", "otel-collector", "client", e.client.name,
					"server", e.server.name, "connection_type", connectionType(e.kind)},
				serverHist: newHistState(len(serviceGraphBuckets)),
				clientHist: newHistState(len(serviceGraphBuckets)),
			}
			se.total = sg.total.newMetric(se.labels...)
			se.server = sg.server.newMetric(se.labels...)
			se.client = sg.client.newMetric(se.labels...)
			sg.edges[e] = se
			sg.order = append(sg.order, e)
		}
		se.requests += e.requests
		se.failures += e.errors
		if se.failures > 0 && se.failed == nil {
			se.failed = sg.failed.newMetric(se.labels...)
		}
		median := e.latency / 1000
		se.serverHist.observe(serviceGraphBuckets, e.requests, median)
		se.clientHist.observe(serviceGraphBuckets, e.requests, median+0.0005)
	}

	r := w.reg
	for _, e := range sg.order {
		se := sg.edges[e]
		r.point(se.total, se.requests)
		if se.failed != nil {
			r.point(se.failed, se.failures)
		}
		r.histPoint(se.server, se.serverHist.cum, se.serverHist.count, se.serverHist.sum)
		r.histPoint(se.client, se.clientHist.cum, se.clientHist.count, se.clientHist.sum)
	}
}
