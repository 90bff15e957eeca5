package sim

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// worldRealism summarises the load of a world: what readers of rates, latency
// histograms and HPAs would see.
type worldRealism struct {
	meanEdgeRPS, maxEdgeRPS float64
	// medianLatencyMs and p90LatencyMs are quantiles, over workloads and steps, of the median
	// latency callers see.
	medianLatencyMs, p90LatencyMs float64
	// saturatedShare is the share of Istio duration series with most of their
	// observations above the last finite bucket (10 s) at the end of the world.
	saturatedShare  float64
	hpasAtMax, hpas int
}

// measureRealism runs a world step by step and measures it. Only the Istio
// histogram is read from the emitted samples; the rest comes from the world's
// state and its truth.
func measureRealism(tb testing.TB, opts Options) worldRealism {
	tb.Helper()
	w, err := New(opts)
	require.NoError(tb, err)

	// The buckets are cumulative, so the latest value of each series is its total.
	top, all := map[uint64]float64{}, map[uint64]float64{}
	var buf []byte
	emit := func(lset labels.Labels, _ int64, v float64) error {
		if math.IsNaN(v) ||
			lset.Get(model.MetricNameLabel) != "istio_request_duration_milliseconds_bucket" {
			return nil
		}
		var series uint64
		series, buf = lset.HashWithoutLabels(buf, "le")
		switch lset.Get("le") {
		case "10000":
			top[series] = v
		case "+Inf":
			all[series] = v
		}
		return nil
	}
	var latencies []float64
	for step := 0; step <= w.endStep; step++ {
		require.NoError(tb, w.Advance(w.timeOf(step), emit))
		for _, s := range w.services {
			if s.kind == serviceWorkload && !s.root && s.active {
				latencies = append(latencies, s.latency)
			}
		}
	}

	var m worldRealism
	slices.Sort(latencies)
	m.medianLatencyMs = latencies[len(latencies)/2]
	m.p90LatencyMs = latencies[len(latencies)*9/10]
	saturated := 0
	for k, v := range all {
		if top[k] < v/2 {
			saturated++
		}
	}
	m.saturatedShare = float64(saturated) / float64(max(1, len(all)))
	for _, s := range w.services {
		if d := s.deploy; d != nil && d.hpa != nil {
			m.hpas++
			if d.specReplicas == d.hpa.max {
				m.hpasAtMax++
			}
		}
	}
	edges := w.Truth().Edges
	for _, e := range edges {
		m.meanEdgeRPS += e.RequestsPerSecond / float64(len(edges))
		m.maxEdgeRPS = math.Max(m.maxEdgeRPS, e.RequestsPerSecond)
	}
	return m
}

func (m worldRealism) report(b *testing.B) {
	b.ReportMetric(m.meanEdgeRPS, "mean-edge-rps")
	b.ReportMetric(m.maxEdgeRPS, "max-edge-rps")
	b.ReportMetric(m.medianLatencyMs, "median-latency-ms")
	b.ReportMetric(m.p90LatencyMs, "p90-latency-ms")
	b.ReportMetric(100*m.saturatedShare, "%-histograms-saturated")
	b.ReportMetric(100*float64(m.hpasAtMax)/float64(m.hpas), "%-hpas-at-max")
}

// TestRandomWorldRealistic keeps rates, latencies and HPAs of a dense random
// world in a realistic range: wide fan-out shares its traffic, inherited latency
// is bounded and inbound rates are capped (see the README's load model).
func TestRandomWorldRealistic(t *testing.T) {
	topo, err := RandomTopology(2, 200, 1500)
	require.NoError(t, err)
	m := measureRealism(t, Options{Scenario: "steady", Seed: 2, Start: testStart,
		Duration: 20 * time.Minute, Step: time.Minute, Resources: 200, Topology: topo,
		Telemetry: []string{SourceIstio}})
	t.Logf("%+v", m)

	// Without the bounds this world had a mean of 1800 and a maximum of 78000
	// requests per second on an edge, a median latency of 660 ms, a 90th
	// percentile of 30 s and a tenth of its histograms above 10 s. The entry rate
	// is at most 80 + 2 per extra entry point, so the cap of 16 times it keeps
	// every edge far below 2000.
	require.Less(t, m.meanEdgeRPS, 100.0)
	require.Less(t, m.maxEdgeRPS, 2000.0)
	require.Less(t, m.medianLatencyMs, 200.0)
	require.Less(t, m.p90LatencyMs, 1000.0)
	require.Less(t, m.saturatedShare, 0.01)
	require.Less(t, m.hpasAtMax, m.hpas/2)
}

// TestInboundRateCap feeds a deep graph of narrow clients, each calling all eight
// services of the next layer, whose rates would otherwise grow about sevenfold a
// layer: no service passes maxInboundPerEntry times the entry rate, and the
// deepest layers sit at that limit.
func TestInboundRateCap(t *testing.T) {
	var text strings.Builder
	const layers, width = 6, wideFanOut
	for i := range width {
		fmt.Fprintf(&text, "loadgen -> s0-%d\n", i)
	}
	for l := 1; l < layers; l++ {
		for i := range width {
			for j := range width {
				fmt.Fprintf(&text, "s%d-%d -> s%d-%d\n", l-1, i, l, j)
			}
		}
	}
	topo, err := ParseTopology(strings.NewReader(text.String()), "deep")
	require.NoError(t, err)
	w, err := New(Options{Scenario: "steady", Seed: 1, Start: testStart,
		Duration: 10 * time.Minute, Step: time.Minute, Topology: topo, SparseShare: -1})
	require.NoError(t, err)

	var entry, highest float64
	for _, s := range w.services {
		if s.root {
			entry += s.rootBase
		}
	}
	for _, s := range w.services {
		require.False(t, s.wide(), s.name)
		highest = math.Max(highest, s.meanRPS)
	}
	limit := maxInboundPerEntry * entry
	require.InDelta(t, limit, highest, 1e-9*limit)
	for _, e := range w.Truth().Edges {
		// Per-step noise and the daily cycle move rates around their mean.
		require.Less(t, e.RequestsPerSecond, 2*limit, "%s -> %s", e.Client, e.Server)
	}
}
