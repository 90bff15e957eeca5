package sim

import "strings"

// spanMetricsBuckets are the OpenTelemetry Collector spanmetrics connector's
// default explicit buckets, in milliseconds, its default unit.
var spanMetricsBuckets = []float64{
	2, 4, 6, 8, 10, 50, 100, 200, 400, 800, 1000, 1400, 2000, 5000, 10000, 15000,
}

// Span kinds and status codes as the connector writes them.
const (
	spanKindServer   = "SPAN_KIND_SERVER"
	spanKindClient   = "SPAN_KIND_CLIENT"
	spanKindProducer = "SPAN_KIND_PRODUCER"
	spanKindConsumer = "SPAN_KIND_CONSUMER"
	statusUnset      = "STATUS_CODE_UNSET"
	statusError      = "STATUS_CODE_ERROR"
)

// spanMetricsEmitter emits what the spanmetrics connector derives from every span
// of the traced services, exported through the collector's Prometheus exporter
// with the connector's default namespace (traces.span.metrics). The connector is
// configured with the dimensions peer.service, db.system, server.address and
// messaging.system; a span without one of them has no such label.
//
// Unlike the service graph, spans need only one traced end: a traced client's
// span names its callee (peer_service, or server_address for stores) whether the
// callee is traced or not. A server span names no caller, so it shows a service,
// never an edge.
type spanMetricsEmitter struct {
	calls, duration *family
	series          map[spanKey]*spanSeries
	order           []spanKey
}

// spanKey identifies one series pair (calls and duration). Server and consumer
// spans aggregate every caller, so callee is nil for them.
type spanKey struct {
	svc    *service
	kind   string
	name   string
	callee *service
	failed bool
}

type spanSeries struct {
	calls, duration *metric
	count           float64
	latency         *histState
}

func newSpanMetricsEmitter(w *World) *spanMetricsEmitter {
	r := w.reg
	return &spanMetricsEmitter{
		calls: r.family("traces_span_metrics_calls", typeCounter,
			"Simulated: spans per service, span name, kind and status.", nil),
		duration: r.family("traces_span_metrics_duration_milliseconds", typeHistogram,
			"Simulated: span duration per service, span name, kind and status, in ms.",
			spanMetricsBuckets),
		series: map[spanKey]*spanSeries{},
	}
}

func (sm *spanMetricsEmitter) emit(w *World, step int) {
	for _, e := range w.edges {
		if e.requests == 0 {
			continue
		}
		clientSpan, serverSpan := spanNames(w, e)
		if e.client.traced {
			key := spanKey{svc: e.client, kind: spanKindClient, name: clientSpan, callee: e.server}
			if e.kind == KindMessaging {
				key.kind = spanKindProducer
			}
			// The client measures the network hop too.
			sm.add(w, key, e.requests, e.errors, e.latency+0.5, e.rps, step)
		}
		if e.server.traced {
			key := spanKey{svc: e.server, kind: spanKindServer, name: serverSpan}
			if e.kind == KindMessaging {
				key.kind = spanKindConsumer
			}
			sm.add(w, key, e.requests, e.errors, e.latency, e.server.rps, step)
		}
	}

	// The connector keeps every series it has seen (no metrics_expiration), so
	// series continue through steps without spans.
	r := w.reg
	for _, key := range sm.order {
		s := sm.series[key]
		r.point(s.calls, s.count)
		r.histPoint(s.duration, s.latency.cum, s.latency.count, s.latency.sum)
	}
}

// add counts n spans of key, failed of them with an error status.
func (sm *spanMetricsEmitter) add(w *World, key spanKey, n, failed, median, rps float64, step int) {
	if n > failed {
		sm.seriesOf(w, key, rps, median, step).observe(n-failed, median)
	}
	if failed > 0 {
		key.failed = true
		sm.seriesOf(w, key, rps, median, step).observe(failed, median)
	}
}

func (s *spanSeries) observe(n, median float64) {
	s.count += n
	s.latency.observe(spanMetricsBuckets, n, median)
}

// seriesOf returns the series of key, creating it with a history for series that
// existed before the world started.
func (sm *spanMetricsEmitter) seriesOf(
	w *World, key spanKey, rps, median float64, step int,
) *spanSeries {
	if s, ok := sm.series[key]; ok {
		return s
	}
	lbl := spanLabels(w, key)
	s := &spanSeries{
		calls:    sm.calls.newMetric(lbl...),
		duration: sm.duration.newMetric(lbl...),
		latency:  newHistState(len(spanMetricsBuckets)),
	}
	if pre := preexisting(w.rTelemetry, step); pre > 0 && !key.failed {
		s.observe(float64(int64(rps*pre)), median)
	}
	sm.series[key] = s
	sm.order = append(sm.order, key)
	return s
}

// spanNames follows OpenTelemetry's naming conventions: gRPC spans are named
// after the method on both sides, an HTTP client span after the method only
// (no URL template is known), an HTTP server span after method and route, a
// database span after the operation and a messaging span after the destination
// and operation.
func spanNames(w *World, e *edge) (client, server string) {
	switch e.kind {
	case KindDatabase:
		op := "SELECT"
		switch dbSystem(e.server) {
		case "redis":
			op = "GET"
		case "mongodb":
			op = "find"
		}
		return op, op
	case KindMessaging:
		return e.server.name + " publish", e.server.name + " process"
	}
	if usesGRPC(w, e) {
		method := e.server.name + ".Service/Handle"
		return method, method
	}
	return "GET", "GET /api/" + e.server.name
}

// spanLabels builds the label set of a series: the connector's four standard
// dimensions, the configured callee dimensions where the span carries them, and
// the job and cluster labels of the scrape.
func spanLabels(w *World, key spanKey) []string {
	status := statusUnset
	if key.failed {
		status = statusError
	}
	lbl := []string{
		"job", "otel-collector", w.opts.ClusterLabel, key.svc.cluster.name,
		"service_name", key.svc.name, "span_name", key.name,
		"span_kind", key.kind, "status_code", status,
	}
	c := key.callee
	if c == nil {
		return lbl
	}
	switch EdgeKind(c.kind) {
	case KindDatabase:
		return kv(lbl, "db_system", dbSystem(c), "server_address", serverAddress(c))
	case KindMessaging:
		return kv(lbl, "messaging_system", messagingSystem(c),
			"server_address", serverAddress(c))
	}
	// A workload, even one reached over a database or messaging edge, is known by
	// its peer.service, which instrumentations set from the client's config.
	return kv(lbl, "peer_service", c.name)
}

// dbSystem guesses the database product from the store's name, the way its
// operators name it; PostgreSQL is what the managed offerings of the world run.
func dbSystem(s *service) string {
	n := s.name
	switch {
	case strings.Contains(n, "redis") || strings.Contains(n, "session") ||
		strings.Contains(n, "cache"):
		return "redis"
	case strings.Contains(n, "mongo"):
		return "mongodb"
	case strings.Contains(n, "mysql") || strings.Contains(n, "maria"):
		return "mysql"
	}
	return "postgresql"
}

// messagingSystem guesses the broker product from the store's name.
func messagingSystem(s *service) string {
	if strings.Contains(s.name, "kafka") {
		return "kafka"
	}
	return "rabbitmq"
}

// serverAddress is the host clients connect to. Its first DNS label is always
// the store's name, so that the edge can be resolved to the store; the rest is
// the shape of the cloud's endpoint names.
func serverAddress(s *service) string {
	if s.cluster != nil {
		return s.name + "." + s.namespace + ".svc.cluster.local"
	}
	p := profileOf(s.cloud)
	messaging := EdgeKind(s.kind) == KindMessaging
	redis := !messaging && dbSystem(s) == "redis"
	switch {
	case p.cloud == "aws" && messaging:
		return s.name + ".mq." + p.region + ".amazonaws.com"
	case p.cloud == "aws" && redis:
		return s.name + ".c9akciq32.cache.amazonaws.com"
	case p.cloud == "aws":
		return s.name + ".c9akciq32." + p.region + ".rds.amazonaws.com"
	case p.cloud == "azure" && messaging:
		return s.name + ".servicebus.windows.net"
	case p.cloud == "azure" && redis:
		return s.name + ".redis.cache.windows.net"
	case p.cloud == "azure":
		return s.name + ".postgres.database.azure.com"
	}
	return s.name + "." + p.region + "." + p.cloud + ".internal"
}
