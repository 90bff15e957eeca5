package sim

import (
	"math"
	"math/rand/v2"
	"slices"
	"sort"
)

// emitter turns the world state of a step into one telemetry source's samples. Each
// emitter registers its families when built, so family order is fixed.
type emitter interface {
	emit(w *World, step int)
}

// newEmitters builds the always-on Kubernetes emitters and the selected telemetry
// sources, in the fixed order of telemetrySources.
func newEmitters(w *World) []emitter {
	out := []emitter{newKSMEmitter(w), newCAdvisorEmitter(w)}
	build := map[string]func(*World) emitter{
		SourceIstio:        func(w *World) emitter { return newIstioEmitter(w) },
		SourceServiceGraph: func(w *World) emitter { return newServiceGraphEmitter(w) },
		SourceLinkerd:      func(w *World) emitter { return newLinkerdEmitter(w) },
		SourceSpanMetrics:  func(w *World) emitter { return newSpanMetricsEmitter(w) },
		SourceHubble:       func(w *World) emitter { return newHubbleEmitter(w) },
	}
	for _, name := range telemetrySources {
		if w.emits(name) {
			out = append(out, build[name](w))
		}
	}
	if w.opts.Serverless {
		out = append(out, newCloudUsageEmitter(w))
	}
	return out
}

// emits reports whether the world emits a telemetry source.
func (w *World) emits(source string) bool { return slices.Contains(w.opts.Telemetry, source) }

// splitCount divides an integer count over weights by largest remainder, so that
// the parts are integers summing to the count.
func splitCount(n float64, weights []float64) []float64 {
	out := make([]float64, len(weights))
	total := 0.0
	for _, wt := range weights {
		total += wt
	}
	if total <= 0 || n <= 0 {
		return out
	}
	type rem struct {
		i int
		r float64
	}
	rems := make([]rem, len(weights))
	left := n
	for i, wt := range weights {
		exact := n * wt / total
		out[i] = math.Floor(exact)
		left -= out[i]
		rems[i] = rem{i, exact - out[i]}
	}
	sort.SliceStable(rems, func(a, b int) bool { return rems[a].r > rems[b].r })
	for k := 0; left > 0.5 && k < len(rems); k++ {
		out[rems[k].i]++
		left--
	}
	return out
}

// versionShare is the part of a service's traffic served by one revision.
type versionShare struct {
	rs     *replicaSet
	weight float64
}

// versionShares splits traffic by ready pods per revision, oldest revision first.
func versionShares(d *deployment, step int) []versionShare {
	var out []versionShare
	for _, rs := range d.replicaSets {
		n := 0
		for _, p := range d.pods {
			if p.rs == rs && p.ready(step) {
				n++
			}
		}
		if n > 0 {
			out = append(out, versionShare{rs: rs, weight: float64(n)})
		}
	}
	if len(out) == 0 {
		out = append(out, versionShare{rs: d.current, weight: 1})
	}
	return out
}

// latencySigma is the log-space spread of request latency: p95 is about 2.7 times
// the median, typical of RPC services.
const latencySigma = 0.6

// histState is a cumulative histogram fed with lognormal latency observations.
type histState struct {
	cum        []float64
	count, sum float64
}

func newHistState(n int) *histState { return &histState{cum: make([]float64, n)} }

// observe adds n requests with the given median (in the buckets' unit). Bucket counts
// come from the CDF, rounded on the cumulative value so buckets stay monotonic and
// +Inf equals the count.
func (h *histState) observe(buckets []float64, n, median float64) {
	if n <= 0 {
		return
	}
	mu := math.Log(median)
	for i, b := range buckets {
		h.cum[i] += math.Round(n * normCDF((math.Log(b)-mu)/latencySigma))
	}
	h.count += n
	// Rounded like a proxy's fixed-point sum; it also keeps the text output short.
	h.sum = roundTo(h.sum+n*median*math.Exp(latencySigma*latencySigma/2), 1e-3)
}

// preexisting gives counters of series that existed before the world started a
// plausible history: this many seconds of traffic at the current rate.
func preexisting(r *rand.Rand, step int) float64 {
	if step != 0 {
		return 0
	}
	return 3600 * (1 + 23*r.Float64())
}

func roundTo(v, unit float64) float64 { return math.Round(v/unit) * unit }

// kv returns base followed by more label pairs, always in a new slice so that label
// lists built from one base never share memory.
func kv(base []string, more ...string) []string { return slices.Concat(base, more) }
