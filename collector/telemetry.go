package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/telemetry"
)

// TelemetryCollector exposes which telemetry families the last discovery found.
type TelemetryCollector struct {
	snapshot func() *analysis.Snapshot
	present  *prometheus.Desc
	series   *prometheus.Desc
}

// NewTelemetryCollector reads discovery results from the snapshots that
// snapshot returns.
func NewTelemetryCollector(snapshot func() *analysis.Snapshot) *TelemetryCollector {
	return &TelemetryCollector{
		snapshot: snapshot,
		present: prometheus.NewDesc("stratus_telemetry_present",
			"Whether series of the telemetry family were found at the latest "+
				"discovery (1) or not (0).",
			[]string{"family"}, nil),
		series: prometheus.NewDesc("stratus_telemetry_series",
			"Number of series of the telemetry family found at the latest discovery.",
			[]string{"family"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *TelemetryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.present
	ch <- c.series
}

// Collect implements prometheus.Collector. Before the first successful
// discovery it emits nothing: absent says "unknown", 0 would say "not there".
func (c *TelemetryCollector) Collect(ch chan<- prometheus.Metric) {
	result, _, ok := analysis.Latest[telemetry.Result](c.snapshot(), telemetry.EngineName)
	if !ok {
		return
	}
	for _, p := range result.Families {
		ch <- prometheus.MustNewConstMetric(c.present, prometheus.GaugeValue,
			boolFloat(p.Present()), p.Family.Name)
		ch <- prometheus.MustNewConstMetric(c.series, prometheus.GaugeValue,
			float64(p.Series), p.Family.Name)
	}
}
