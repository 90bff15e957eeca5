package analysis

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

type schedulerMetrics struct {
	duration *prometheus.GaugeVec
	lastRun  *prometheus.GaugeVec
	lastOK   *prometheus.GaugeVec
	runs     *prometheus.CounterVec
}

func newSchedulerMetrics(reg prometheus.Registerer) *schedulerMetrics {
	m := &schedulerMetrics{
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stratus_analysis_duration_seconds",
			Help: "Wall-clock time the latest run of each analysis engine took.",
		}, []string{"engine"}),
		lastRun: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stratus_analysis_last_run_timestamp_seconds",
			Help: "Wall-clock time at which the latest run of each engine finished, " +
				"successful or not.",
		}, []string{"engine"}),
		lastOK: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "stratus_analysis_last_success_timestamp_seconds",
			Help: "Wall-clock time at which the latest successful run of each engine " +
				"finished; its results are what /metrics serves.",
		}, []string{"engine"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "stratus_analysis_runs_total",
			Help: "Finished runs of each analysis engine by result (success or failure).",
		}, []string{"engine", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.duration, m.lastRun, m.lastOK, m.runs)
	}
	return m
}

func (m *schedulerMetrics) observe(
	engine string, finished time.Time, took time.Duration, err error,
) {
	m.duration.WithLabelValues(engine).Set(took.Seconds())
	m.lastRun.WithLabelValues(engine).Set(float64(finished.UnixNano()) / 1e9)
	if err != nil {
		m.runs.WithLabelValues(engine, "failure").Inc()
		return
	}
	m.runs.WithLabelValues(engine, "success").Inc()
	m.lastOK.WithLabelValues(engine).Set(float64(finished.UnixNano()) / 1e9)
}

// init exposes both results of an engine's run counter at zero, so that
// rate() and increase() work from the first failure.
func (m *schedulerMetrics) init(engine string) {
	m.runs.WithLabelValues(engine, "success")
	m.runs.WithLabelValues(engine, "failure")
}
