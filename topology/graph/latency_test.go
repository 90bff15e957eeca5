package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSelfTime(t *testing.T) {
	type want struct {
		inbound, latency, self float64
		known                  bool
	}
	for _, tc := range []struct {
		name  string
		edges []Edge
		want  map[string]want
	}{
		{
			// front takes 0.5 s and makes two 0.1 s calls per request to back.
			name:  "callee time subtracted",
			edges: []Edge{timed("u", "front", 10, 0.5), timed("front", "back", 20, 0.1)},
			want: map[string]want{
				"u":     {0, nan, 0, false},
				"front": {10, 0.5, 0.3, true},
				"back":  {20, 0.1, 0.1, true},
			},
		},
		{
			name: "parallel fan-out clamps at zero",
			edges: []Edge{
				timed("u", "front", 1, 0.2), timed("front", "x", 1, 0.15),
				timed("front", "y", 1, 0.15),
			},
			want: map[string]want{
				"front": {1, 0.2, 0, true},
				"x":     {1, 0.15, 0.15, true},
			},
		},
		{
			name:  "inbound latency weighted by rate",
			edges: []Edge{timed("a", "s", 3, 1), timed("b", "s", 1, 0.2)},
			want:  map[string]want{"s": {4, 0.8, 0.8, true}},
		},
		{
			name: "unmeasured latencies are skipped, callee without latency costs nothing",
			edges: []Edge{
				timed("a", "s", 3, nan), timed("b", "s", 1, 0.2), timed("s", "t", 5, nan),
			},
			want: map[string]want{
				"s": {4, 0.2, 0.2, true},
				"t": {5, nan, 0, false},
			},
		},
		{
			name:  "latency without a measured rate: plain mean, traffic still required",
			edges: []Edge{timed("a", "s", 0, 0.2), timed("b", "s", 0, 0.4), timed("c", "s", 1, nan)},
			want:  map[string]want{"s": {1, 0.3 / 1, 0.3, true}},
		},
		{
			name:  "no traffic, no self time",
			edges: []Edge{timed("a", "s", 0, 0.2)},
			want:  map[string]want{"s": {0, nan, 0, false}},
		},
		{
			name:  "self-loop traffic is left out",
			edges: []Edge{timed("a", "s", 1, 0.5), timed("s", "s", 100, 0.4)},
			want:  map[string]want{"s": {1, 0.5, 0.5, true}},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(graphOf(t, tc.edges...), Options{})
			for name, w := range tc.want {
				n := nodeResult(t, res, name)
				require.InDelta(t, w.inbound, n.InboundRequestsPerSecond, 1e-12, name)
				requireSameFloat(t, w.latency, n.InboundLatencySeconds)
				require.InDelta(t, w.self, n.SelfTimeSeconds, 1e-12, name)
				require.Equal(t, w.known, n.SelfTimeKnown, name)
			}
		})
	}
}

func TestCriticalPathByLatency(t *testing.T) {
	for _, tc := range []struct {
		name   string
		edges  []Edge
		want   map[string][][]string
		weight map[string]float64
	}{
		{
			// b is slower than c, though c's branch sorts first only by accident of
			// names: weight decides before names.
			name: "slow branch of a diamond",
			edges: []Edge{
				timed("gw", "a", 1, 1.0),
				timed("a", "c", 1, 0.1), timed("a", "b", 1, 0.6),
				timed("c", "d", 1, 0.05), timed("b", "d", 1, 0.05),
			},
			want: map[string][][]string{"gw": {{"gw"}, {"a"}, {"b"}, {"d"}}},
			// a: 1.0 - 0.7 = 0.3; b: 0.55; d: 0.05.
			weight: map[string]float64{"gw": 0.9},
		},
		{
			// A long chain of fast services loses to one slow service.
			name: "heavy beats long",
			edges: []Edge{
				timed("gw", "slow", 1, 2), timed("gw", "f1", 1, 0.3),
				timed("f1", "f2", 1, 0.2), timed("f2", "f3", 1, 0.1),
			},
			want:   map[string][][]string{"gw": {{"gw"}, {"slow"}}},
			weight: map[string]float64{"gw": 2},
		},
		{
			// A cycle weighs the sum of its members' self time: 0.65 beats x's 0.6,
			// which the cycle's slowest member alone (0.35) would not.
			name: "cycle counted whole",
			edges: []Edge{
				timed("gw", "a", 1, 1.0), timed("a", "b", 1, 0.5), timed("b", "a", 1, 0.2),
				timed("gw", "x", 1, 0.6),
			},
			want: map[string][][]string{"gw": {{"gw"}, {"a", "b"}}},
			// a: mean inbound (1.0+0.2)/2 = 0.6, minus 0.5/2 per request = 0.35; b: 0.3.
			weight: map[string]float64{"gw": 0.65},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(graphOf(t, tc.edges...), Options{})
			for _, p := range res.CriticalPaths {
				entry := string(p.EntryPoint[2:])
				var steps [][]string
				for _, s := range p.Steps {
					steps = append(steps, names(s))
				}
				require.Equal(t, tc.want[entry], steps)
				require.InDelta(t, tc.weight[entry], p.SelfTimeSeconds, 1e-12)
			}
			require.Len(t, res.CriticalPaths, len(tc.want))
		})
	}
}

func TestComponentWeights(t *testing.T) {
	res := Analyze(graphOf(t,
		timed("gw", "a", 2, 1.0), timed("a", "b", 2, 0.4), timed("b", "a", 2, 0.4),
	), Options{})

	// a: inbound mean (1.0·2 + 0.4·2)/4 = 0.7, minus half a call to b per request
	// (0.2) → 0.5; b: 0.4 minus one call to a per request (0.4) → 0.
	require.Len(t, res.Components, 2)
	require.Equal(t, ids("a", "b"), res.Components[1].Members)
	require.InDelta(t, 0.5, res.Components[1].SelfTimeSeconds, 1e-12)
	require.Equal(t, 0.0, res.Components[0].SelfTimeSeconds)
}

func TestBottleneckScore(t *testing.T) {
	// hub has every caller and the largest load; leaf has one caller and less load.
	edges := []Edge{
		timed("a", "hub", 10, 0.5), timed("b", "hub", 10, 0.5),
		timed("hub", "leaf", 20, 0.1), timed("a", "idle", 0, 0.3),
	}
	// hub: self 0.5 - 0.1 = 0.4, load 0.4·20 = 8; leaf: self 0.1, load 2.
	for _, tc := range []struct {
		name       string
		saturation map[NodeID]float64
		want       map[string]float64
	}{
		{
			name: "without saturation",
			want: map[string]float64{
				"hub":  (0.3*1 + 0.4*1) / 0.7,
				"leaf": (0.3*0.5 + 0.4*0.25) / 0.7,
				"idle": 0, "a": 0, "b": 0,
			},
		},
		{
			name:       "only NaN saturation is none",
			saturation: map[NodeID]float64{id("hub"): nan},
			want: map[string]float64{
				"hub":  (0.3*1 + 0.4*1) / 0.7,
				"leaf": (0.3*0.5 + 0.4*0.25) / 0.7,
			},
		},
		{
			name:       "saturation known for some: missing counts as zero, out of range clamped",
			saturation: map[NodeID]float64{id("leaf"): 7, id("hub"): nan, id("idle"): 1},
			want: map[string]float64{
				"hub":  0.3*1 + 0.4*1,
				"leaf": 0.3*0.5 + 0.4*0.25 + 0.3*1,
				"idle": 0,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(graphOf(t, edges...), Options{Saturation: tc.saturation})
			for name, want := range tc.want {
				got := nodeResult(t, res, name).BottleneckScore
				require.InDelta(t, want, got, 1e-12, name)
			}
		})
	}
}

func TestBottleneckScoreWithoutLatency(t *testing.T) {
	res := Analyze(graphOf(t, chainSpec("a->c, b->c, c->d")...), Options{})

	require.InDelta(t, 0.3/0.7, nodeResult(t, res, "c").BottleneckScore, 1e-12)
	require.InDelta(t, 0.15/0.7, nodeResult(t, res, "d").BottleneckScore, 1e-12)
	for _, n := range res.Nodes {
		require.False(t, math.IsNaN(n.BottleneckScore))
	}
}
