package query

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics counts what Stratus asks of its time-series store. Both Querier
// implementations update the same families, so dashboards do not care which
// one answered. A nil *Metrics is valid and records nothing.
type Metrics struct {
	queries  *prometheus.CounterVec
	failures *prometheus.CounterVec
	retries  *prometheus.CounterVec
	duration *prometheus.HistogramVec
	samples  *prometheus.CounterVec
}

// NewMetrics creates the query metric families and registers them with reg.
// A nil reg creates them without registering, which tests find convenient.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		queries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_queries_total",
			Help: "Queries Stratus issued to its time-series store, by the engine that asked.",
		}, []string{"engine"}),
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_query_failures_total",
			Help: "Queries that failed after all retries, by the engine that asked.",
		}, []string{"engine"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_query_retries_total",
			Help: "Query attempts repeated after a transient error, by the engine that asked.",
		}, []string{"engine"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "stratus_query_duration_seconds",
			Help: "Time a query took from the first attempt to its answer, " +
				"including retries and waiting for a concurrency slot, by the engine that asked.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60},
		}, []string{"engine"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_query_samples_total",
			Help: "Samples returned by instant and range queries, by the engine that asked.",
		}, []string{"engine"}),
	}
	if reg != nil {
		reg.MustRegister(m.queries, m.failures, m.retries, m.duration, m.samples)
	}
	return m
}

// observe records the outcome of one query; it is what both implementations
// call once per Querier method, so the families stay comparable between them.
func (m *Metrics) observe(engine string, seconds float64, samples int, err error) {
	if m == nil {
		return
	}
	m.queries.WithLabelValues(engine).Inc()
	m.duration.WithLabelValues(engine).Observe(seconds)
	// Touched on every query so that they are exposed at zero from the
	// first one, and rate() sees the first failure or retry.
	failures := m.failures.WithLabelValues(engine)
	m.retries.WithLabelValues(engine)
	samplesSeen := m.samples.WithLabelValues(engine)
	if err != nil {
		failures.Inc()
		return
	}
	samplesSeen.Add(float64(samples))
}

// retried records one repeated attempt.
func (m *Metrics) retried(engine string) {
	if m == nil {
		return
	}
	m.retries.WithLabelValues(engine).Inc()
}
