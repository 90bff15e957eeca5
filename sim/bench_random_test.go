package sim

import (
	"io"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// countingWriter counts the bytes written through it.
type countingWriter struct{ n int64 }

func (c *countingWriter) Write(p []byte) (int, error) {
	c.n += int64(len(p))
	return len(p), nil
}

// BenchmarkRandomWorld measures a world on a 500-service, 5000-edge random
// topology, 1h at 1 min with every telemetry source: fed through Advance (as the
// embedded engine is) and written as OpenMetrics. Resources 300 keeps one copy
// of the topology; every workload still gets its pod. Run with -benchtime=1x.
func BenchmarkRandomWorld(b *testing.B) {
	topo, err := RandomTopology(1, 500, 5000)
	if err != nil {
		b.Fatal(err)
	}
	opts := Options{Scenario: "steady", Seed: 1, Start: testStart, Duration: time.Hour,
		Step: time.Minute, Resources: 300, Topology: topo, Telemetry: TelemetrySources()}
	b.Run("advance", func(b *testing.B) {
		samples := 0
		for b.Loop() {
			w, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			samples = 0
			err = w.Advance(opts.Start.Add(opts.Duration), func(labels.Labels, int64, float64) error {
				samples++
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(samples), "samples")
	})
	b.Run("openmetrics", func(b *testing.B) {
		var out countingWriter
		for b.Loop() {
			out = countingWriter{}
			w, err := New(opts)
			if err != nil {
				b.Fatal(err)
			}
			if err := w.WriteOpenMetrics(io.Writer(&out)); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(out.n)/1e6, "MB")
	})
}

// BenchmarkRandomWorldRealism reports how realistic the load of
// BenchmarkRandomWorld's world is (with Istio only, whose histogram it reads):
// mean and maximum requests per second of an edge, median and 90th percentile
// latency, the share of histograms saturated above 10 s and of HPAs at their
// maximum. Its time is of no interest. Run with -benchtime=1x.
func BenchmarkRandomWorldRealism(b *testing.B) {
	topo, err := RandomTopology(1, 500, 5000)
	require.NoError(b, err)
	opts := Options{Scenario: "steady", Seed: 1, Start: testStart, Duration: time.Hour,
		Step: time.Minute, Resources: 300, Topology: topo, Telemetry: []string{SourceIstio}}
	var m worldRealism
	for b.Loop() {
		m = measureRealism(b, opts)
	}
	m.report(b)
}
