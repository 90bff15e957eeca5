// Package collector exposes what Stratus knows as Prometheus metrics.
//
// Collectors never query a source: they read the snapshot that the analysis
// loop published last (package analysis), so a scrape is fast and costs
// nothing upstream. Each domain has its own file; this one also holds the
// self-metrics shared by all of them.
package collector

import (
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// SourceHealth tracks whether each data source answered its latest request.
// It implements query.StatusReporter and prometheus.Collector. A source that
// goes down or comes back is logged once per transition, not per request.
type SourceHealth struct {
	logger *slog.Logger

	mu      sync.Mutex
	sources map[string]*sourceState

	up          *prometheus.Desc
	lastSuccess *prometheus.Desc
}

type sourceState struct {
	up          bool
	reported    bool // up is meaningful only once something was reported
	lastSuccess time.Time
}

// NewSourceHealth returns a tracker that already knows the named sources, so
// that they are exposed (as down) before their first request finishes.
func NewSourceHealth(logger *slog.Logger, sources ...string) *SourceHealth {
	h := &SourceHealth{
		logger:  logger,
		sources: map[string]*sourceState{},
		up: prometheus.NewDesc("stratus_source_up",
			"Whether the latest request to the data source succeeded (1) or not (0).",
			[]string{"source"}, nil),
		lastSuccess: prometheus.NewDesc("stratus_source_last_success_timestamp_seconds",
			"Time of the latest successful request to the data source; "+
				"0 if none succeeded yet.",
			[]string{"source"}, nil),
	}
	for _, s := range sources {
		h.sources[s] = &sourceState{}
	}
	return h
}

// ReportSuccess records that source answered at the given time.
func (h *SourceHealth) ReportSuccess(source string, at time.Time) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(source)
	if st.reported && !st.up {
		h.logger.Info("data source recovered", "data_source", source)
	}
	st.up, st.reported = true, true
	if at.After(st.lastSuccess) {
		st.lastSuccess = at
	}
}

// ReportFailure records that a request to source failed.
func (h *SourceHealth) ReportFailure(source string, _ time.Time, err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := h.state(source)
	if st.up || !st.reported {
		h.logger.Warn("data source unavailable; serving the last good results",
			"data_source", source, "err", err)
	}
	st.up, st.reported = false, true
}

// Up reports whether source answered its latest request.
func (h *SourceHealth) Up(source string) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	st, ok := h.sources[source]
	return ok && st.up
}

func (h *SourceHealth) state(source string) *sourceState {
	st, ok := h.sources[source]
	if !ok {
		st = &sourceState{}
		h.sources[source] = st
	}
	return st
}

// Describe implements prometheus.Collector.
func (h *SourceHealth) Describe(ch chan<- *prometheus.Desc) {
	ch <- h.up
	ch <- h.lastSuccess
}

// Collect implements prometheus.Collector.
func (h *SourceHealth) Collect(ch chan<- prometheus.Metric) {
	h.mu.Lock()
	defer h.mu.Unlock()
	names := make([]string, 0, len(h.sources))
	for name := range h.sources {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		st := h.sources[name]
		ch <- prometheus.MustNewConstMetric(h.up, prometheus.GaugeValue, boolFloat(st.up), name)
		var ts float64
		if !st.lastSuccess.IsZero() {
			ts = float64(st.lastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(h.lastSuccess, prometheus.GaugeValue, ts, name)
	}
}

func boolFloat(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
