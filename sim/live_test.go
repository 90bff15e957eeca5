package sim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"math"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"
)

// TestFileOutputPinned pins WriteOpenMetrics to the bytes it wrote before live
// worlds started to end their series: files keep every metric and carry no
// staleness marker. A deliberate change of the world or its telemetry must update
// these sums.
func TestFileOutputPinned(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		// Go may fuse x*y+z into one rounding on other architectures (arm64
		// FMA), so the same world can differ in its last bits there; the
		// pins hold for the architecture they were taken on.
		t.Skipf("sums pinned on amd64, not %s", runtime.GOARCH)
	}
	startup := smallOptions()
	startup.Duration, startup.Resources = 70*time.Minute, 20
	steady := smallOptions()
	steady.Scenario, steady.Seed, steady.Duration, steady.Resources = "steady", 3, time.Hour, 20
	small := smallOptions()
	small.Duration, small.Resources, small.KSMLabelsAllowlist, small.IstioSourceHistograms = time.Hour, 10, true, true
	small.LinkerdShare, small.TracedShare = 0.5, 1
	cases := []struct {
		name string
		opts Options
		sum  string
		size int
	}{
		{"startup", startup, "f72c40a53a66df554912e0a3b11bc993785a0b59cb0007df76be0d752888e217", 27859669},
		{"steady", steady, "d1b31d982a32dfa7251711783b42f8dd5a3a168892909cb33bc05cfe7dd22735", 20947792},
		{"small", small, "a15d8a07973dd86339f200916ff8c5cda4492c0e4f9480221a9ba2ae785f3364", 20968155},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := New(tc.opts)
			require.NoError(t, err)
			var buf bytes.Buffer
			require.NoError(t, w.WriteOpenMetrics(&buf))
			sum := sha256.Sum256(buf.Bytes())
			require.Equal(t, tc.size, buf.Len())
			require.Equal(t, tc.sum, hex.EncodeToString(sum[:]))
			require.NotContains(t, buf.String(), "NaN")
		})
	}
}

// TestLiveWorldStaysBounded runs a live world for two simulated days, long past its
// Duration, while the HPAs replace pods all the time: the emitters and the registry
// hold the live series only.
func TestLiveWorldStaysBounded(t *testing.T) {
	opts := Options{Scenario: "startup", Seed: 3, Start: testStart, Duration: 2 * time.Hour,
		Step: time.Minute, Resources: 10}
	w, err := New(opts)
	require.NoError(t, err)

	var lastTs int64
	emitted := 0 // samples other than staleness markers at lastTs
	pods := map[string]bool{}
	emit := func(l labels.Labels, ts int64, v float64) error {
		if ts != lastTs {
			lastTs, emitted = ts, 0
		}
		if !value.IsStaleNaN(v) {
			emitted++
		}
		if l.Get(model.MetricNameLabel) == "kube_pod_info" {
			pods[l.Get("pod")] = true
		}
		return nil
	}
	k := w.emitters[0].(*ksmEmitter)
	c := w.emitters[1].(*cadvisorEmitter)
	ie := w.emitters[2].(*istioEmitter)
	le := w.emitters[4].(*linkerdEmitter)
	livePods := 0
	for at := 6 * time.Hour; at <= 48*time.Hour; at += 6 * time.Hour {
		require.NoError(t, w.Advance(testStart.Add(at), emit))
		step := w.next - 1

		// The registry holds exactly the series of the last step.
		comps := 0
		for _, f := range w.reg.families {
			for i, m := range f.metrics {
				require.Equal(t, i, m.index)
				comps += len(m.comps)
			}
		}
		require.Equal(t, emitted, comps, "after %s", at)

		livePods = 0
		readyPods := 0
		for _, s := range w.services {
			if s.deploy == nil {
				continue
			}
			for _, p := range s.deploy.pods {
				livePods++
				if p.ready(step) {
					readyPods++
				}
			}
		}
		require.Len(t, k.pods, livePods)
		require.Len(t, c.pods, readyPods)
		require.Len(t, ie.series, len(ie.order))
		require.Len(t, le.series, len(le.order))
		for _, key := range le.order {
			require.False(t, key.pod.gone)
		}
	}
	require.Greater(t, len(pods), 5*livePods, "pods came and went")
}

// TestLiveSeriesEndWithOneStalenessMarker checks that every series of a live world
// that ends gets exactly one staleness marker, on all its components, at the first
// step without it, and nothing after.
func TestLiveSeriesEndWithOneStalenessMarker(t *testing.T) {
	opts := smallOptions()
	w, err := New(opts)
	require.NoError(t, err)
	type point struct {
		t int64
		v float64
	}
	points := map[string][]point{}
	lsets := map[string]labels.Labels{}
	end := testStart.Add(opts.Duration)
	require.NoError(t, w.Advance(end, func(l labels.Labels, ts int64, v float64) error {
		k := l.String()
		lsets[k] = l
		points[k] = append(points[k], point{ts, v})
		return nil
	}))

	stepMs := opts.Step.Milliseconds()
	ended := map[string]int64{}
	endedByName := map[string]int{}
	for k, pts := range points {
		for i, p := range pts {
			if i > 0 {
				require.Equal(t, pts[i-1].t+stepMs, p.t, "%s skipped a step", k)
			}
			if !value.IsStaleNaN(p.v) {
				require.False(t, math.IsNaN(p.v), k)
				continue
			}
			require.Equal(t, len(pts)-1, i, "%s has samples after its staleness marker", k)
			require.Positive(t, i, "%s begins with a staleness marker", k)
			ended[k] = p.t
			endedByName[lsets[k].Get(model.MetricNameLabel)]++
		}
	}

	// A deleted pod's series end when it is deleted; the others go on.
	truth := w.Truth()
	deletedAt := map[string]int64{}
	for _, p := range truth.Pods {
		if p.Deleted != "" {
			at, err := time.Parse(time.RFC3339, p.Deleted)
			require.NoError(t, err)
			deletedAt[p.Name] = at.UnixMilli()
		}
	}
	require.NotEmpty(t, deletedAt)
	for k, l := range lsets {
		pod := l.Get("pod")
		if pod == "" {
			continue
		}
		at, deleted := deletedAt[pod]
		endedAt, hasEnded := ended[k]
		require.Equal(t, deleted, hasEnded, k)
		if deleted {
			require.Equal(t, at, endedAt, k)
		}
	}
	for _, name := range []string{"kube_pod_info", "kube_pod_labels", "kube_pod_owner",
		"kube_pod_container_resource_requests", "kube_pod_status_phase",
		"container_cpu_usage_seconds_total", "container_memory_working_set_bytes",
		"request_total", "response_total", "istio_requests_total"} {
		require.Positive(t, endedByName[name], name)
	}
	// Histograms end whole: every bucket, _count and _sum.
	hist := "istio_request_duration_milliseconds"
	n := endedByName[hist+"_count"]
	require.Positive(t, n)
	require.Equal(t, n, endedByName[hist+"_sum"])
	require.Equal(t, n*(len(istioBuckets)+1), endedByName[hist+"_bucket"])

	// Istio series of a revision end once its last pod is gone.
	dep := truth.Deployments[0]
	old := 0
	for k, l := range lsets {
		if l.Get("destination_service_name") == dep.Service && l.Get("destination_version") == dep.PreviousVersion {
			require.Contains(t, ended, k)
			old++
		}
	}
	require.Positive(t, old)

	// Nodes, deployments and the service graph never end.
	for _, name := range []string{"kube_node_info", "kube_deployment_spec_replicas",
		"traces_service_graph_request_total"} {
		require.Zero(t, endedByName[name], name)
	}
}
