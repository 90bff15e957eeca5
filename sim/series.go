package sim

import (
	"math"
	"strconv"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
)

type metricType string

const (
	typeCounter   metricType = "counter"
	typeGauge     metricType = "gauge"
	typeHistogram metricType = "histogram"
)

// family is one metric family as OpenMetrics sees it: counters are named without
// their _total suffix.
type family struct {
	name    string
	typ     metricType
	help    string
	buckets []float64
	// metrics are in creation order, which is the output order. A live world drops
	// the metrics whose series ended (see registry.end), so it holds only the live
	// ones, in no particular order; it never writes them.
	metrics []*metric
}

// metric is one labelled metric of a family: one sample series for counters and
// gauges, buckets plus _count and _sum for histograms. Its values are buffered only
// when writing OpenMetrics.
type metric struct {
	fam       *family
	comps     []labels.Labels
	index     int // position in fam.metrics
	startStep int
	vals      []float64 // len(comps) values per step from startStep on
}

// gapValue marks a step a metric skipped; it is a NaN payload nothing else produces.
var gapValue = math.Float64frombits(0x7ff80000deadbeef)

func isGap(v float64) bool { return math.Float64bits(v) == 0x7ff80000deadbeef }

// sink receives every point the world emits.
type sink interface {
	point(m *metric, step int, ts int64, vals []float64) error
}

// registry holds the families in output order and routes points to the sink.
type registry struct {
	families []*family
	sink     sink
	step     int
	ts       int64
	err      error
	// live is set for a world fed through Advance: series that end get a
	// staleness marker and are forgotten. Worlds simulated to write files or the
	// truth keep every metric.
	live  bool
	stale []float64 // value.StaleNaN, as many as the widest metric has components
}

func (r *registry) family(name string, typ metricType, help string, buckets []float64) *family {
	f := &family{name: name, typ: typ, help: help, buckets: buckets}
	r.families = append(r.families, f)
	return f
}

// newMetric creates a metric from label name/value pairs. It is created right before
// its first point so that series counts match what was emitted.
func (f *family) newMetric(kv ...string) *metric {
	m := &metric{fam: f}
	with := func(name string, extra ...string) labels.Labels {
		all := make([]string, 0, len(kv)+2+len(extra))
		all = append(all, kv...)
		all = append(all, extra...)
		all = append(all, model.MetricNameLabel, name)
		return labels.FromStrings(all...)
	}
	switch f.typ {
	case typeCounter:
		m.comps = []labels.Labels{with(f.name + "_total")}
	case typeGauge:
		m.comps = []labels.Labels{with(f.name)}
	case typeHistogram:
		for _, b := range f.buckets {
			m.comps = append(m.comps, with(f.name+"_bucket", "le", formatLe(b)))
		}
		m.comps = append(m.comps,
			with(f.name+"_bucket", "le", "+Inf"),
			with(f.name+"_count"),
			with(f.name+"_sum"))
	}
	m.index = len(f.metrics)
	f.metrics = append(f.metrics, m)
	return m
}

// end reports that m's series ended before the current step: what it described
// went away. In a live world every component gets a staleness marker at the
// current step, as Prometheus writes at the first scrape that misses a series, and
// the family forgets m, so that memory follows the live series and not the world's
// age. The caller must forget m too and never emit it again. Other worlds keep m:
// the OpenMetrics writer needs its buffered values, and the text format cannot
// carry staleness markers.
func (r *registry) end(m *metric) {
	if !r.live {
		return
	}
	n := len(m.comps)
	for len(r.stale) < n {
		r.stale = append(r.stale, math.Float64frombits(value.StaleNaN))
	}
	r.point(m, r.stale[:n]...)
	m.fam.remove(m)
}

// remove drops m from its family by moving the last metric into its place.
func (f *family) remove(m *metric) {
	last := f.metrics[len(f.metrics)-1]
	f.metrics[m.index] = last
	last.index = m.index
	f.metrics[len(f.metrics)-1] = nil
	f.metrics = f.metrics[:len(f.metrics)-1]
	m.index = -1
}

func formatLe(b float64) string { return strconv.FormatFloat(b, 'f', -1, 64) }

// point emits one value per component of m at the current step.
func (r *registry) point(m *metric, vals ...float64) {
	if r.err != nil {
		return
	}
	r.err = r.sink.point(m, r.step, r.ts, vals)
}

// histPoint emits a histogram from its cumulative bucket counts (without +Inf), the
// total count and the sum.
func (r *registry) histPoint(m *metric, cum []float64, count, sum float64) {
	vals := make([]float64, 0, len(cum)+3)
	vals = append(vals, cum...)
	vals = append(vals, count, count, sum)
	r.point(m, vals...)
}

// nullSink discards points; used to compute ground truth quickly.
type nullSink struct{}

func (nullSink) point(*metric, int, int64, []float64) error { return nil }

// funcSink forwards every sample to a caller's function.
type funcSink struct {
	emit func(lset labels.Labels, tMillis int64, v float64) error
}

func (s funcSink) point(m *metric, _ int, ts int64, vals []float64) error {
	for i, v := range vals {
		if err := s.emit(m.comps[i], ts, v); err != nil {
			return err
		}
	}
	return nil
}

// bufferSink keeps every value in its metric, 8 bytes a sample, for the OpenMetrics
// writer that must group samples by family and series.
type bufferSink struct{}

func (bufferSink) point(m *metric, step int, _ int64, vals []float64) error {
	n := len(m.comps)
	if m.vals == nil {
		m.startStep = step
	}
	for have := m.startStep + len(m.vals)/n; have < step; have++ {
		for range n {
			m.vals = append(m.vals, gapValue)
		}
	}
	m.vals = append(m.vals, vals...)
	return nil
}
