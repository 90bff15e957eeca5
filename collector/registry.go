package collector

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"
)

// Program is the name under which Stratus reports its build and process.
const Program = "stratus"

// NewRegistry returns a registry holding the metrics every Stratus process
// exposes: stratus_build_info, Go runtime and process metrics.
func NewRegistry() *prometheus.Registry {
	reg := prometheus.NewRegistry()
	reg.MustRegister(
		versioncollector.NewCollector(Program),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	return reg
}

// SeriesDropped counts series left out because a cardinality limit was
// reached, by metric family, so that nothing is lost silently.
type SeriesDropped struct {
	counter *prometheus.CounterVec
}

// NewSeriesDropped registers stratus_series_dropped_total with reg. Families
// listed are exposed at zero from the start, so rate() works from the first drop.
func NewSeriesDropped(reg prometheus.Registerer, families ...string) *SeriesDropped {
	d := &SeriesDropped{counter: prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "stratus_series_dropped_total",
		Help: "Series not exposed because a cardinality limit (limits.* in the " +
			"configuration) was reached, by metric family.",
	}, []string{"family"})}
	for _, f := range families {
		d.counter.WithLabelValues(f)
	}
	reg.MustRegister(d.counter)
	return d
}

// Add counts n series of family as dropped.
func (d *SeriesDropped) Add(family string, n int) {
	d.counter.WithLabelValues(family).Add(float64(n))
}
