package sim

import (
	"bytes"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestTelemetryOptionsValidation(t *testing.T) {
	cases := []struct {
		name    string
		opts    func(*Options)
		wantErr string
	}{
		{"unknown source", func(o *Options) { o.Telemetry = []string{"istio", "zipkin"} },
			`unknown telemetry source "zipkin" (valid: hubble, istio, linkerd, servicegraph, spanmetrics)`},
		{"duplicate source", func(o *Options) { o.Telemetry = []string{"hubble", "hubble"} },
			`telemetry source "hubble" listed twice`},
		{"bad cluster label", func(o *Options) { o.ClusterLabel = "k8s-cluster" },
			`ClusterLabel "k8s-cluster" is not a valid label name`},
		{"reserved cluster label", func(o *Options) { o.ClusterLabel = "__cluster" },
			"not a valid label name"},
		{"clashing cluster label", func(o *Options) { o.ClusterLabel = "namespace" },
			`ClusterLabel "namespace" clashes`},
		{"clashing label_ name", func(o *Options) { o.ClusterLabel = "label_app" }, "clashes"},
		{"sparse share", func(o *Options) { o.SparseShare = 1.5 }, "SparseShare 1.5 must be at most 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := smallOptions()
			tc.opts(&opts)
			_, err := New(opts)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
	require.Equal(t, []string{"hubble", "istio", "linkerd", "servicegraph", "spanmetrics"},
		TelemetrySources())
}

// render writes a world's OpenMetrics text.
func render(t *testing.T, opts Options) []byte {
	t.Helper()
	w, err := New(opts)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, w.WriteOpenMetrics(&buf))
	return buf.Bytes()
}

func TestTelemetrySelection(t *testing.T) {
	opts := smallOptions()
	opts.Duration = 20 * time.Minute
	defaults := render(t, opts)

	// The default set in another order is the default world, byte for byte.
	listed := opts
	listed.Telemetry = []string{"servicegraph", "linkerd", "istio"}
	require.True(t, bytes.Equal(defaults, render(t, listed)))
	// So are the default cluster label and sparse share spelled out.
	spelled := opts
	spelled.ClusterLabel, spelled.SparseShare = "cluster", 0.125
	require.True(t, bytes.Equal(defaults, render(t, spelled)))

	// Adding span metrics and Hubble adds their families and leaves the others'
	// series and values alone: they draw from a stream of their own.
	all := opts
	all.Telemetry = TelemetrySources()
	withAll := renderAndParse(t, all)
	base := parseOpenMetrics(t, defaults)
	for k, pts := range base.points {
		require.Equal(t, pts, withAll.points[k], k)
	}
	for _, fam := range []string{"traces_span_metrics_calls", "hubble_flows_processed"} {
		require.Equal(t, "counter", withAll.types[fam])
		require.NotContains(t, base.types, fam)
	}

	// No mesh or tracing source: only kube-state-metrics and cAdvisor.
	none := opts
	none.Telemetry = []string{}
	p := renderAndParse(t, none)
	for fam := range p.types {
		require.True(t, strings.HasPrefix(fam, "kube_") || strings.HasPrefix(fam, "container_"), fam)
	}
	w, err := New(none)
	require.NoError(t, err)
	for _, e := range w.Truth().Edges {
		require.Empty(t, e.Sources, "%s -> %s", e.Client, e.Server)
		require.Empty(t, e.AnonymousSources, "%s -> %s", e.Client, e.Server)
	}
}

// edgePair is a client and a server as a source's series name them.
type edgePair struct{ client, server string }

func sortedPairs(set map[edgePair]bool) []edgePair {
	out := make([]edgePair, 0, len(set))
	for p := range set {
		out = append(out, p)
	}
	sort.Slice(out, func(i, j int) bool {
		return out[i].client+"/"+out[i].server < out[j].client+"/"+out[j].server
	})
	return out
}

// seriesPairs collects the pairs of a family's series; pair returns false for
// series that name no edge.
func seriesPairs(p *parsed, name string, pair func(labels.Labels) (edgePair, bool)) []edgePair {
	set := map[edgePair]bool{}
	for _, l := range p.byName(name) {
		if e, ok := pair(l); ok {
			set[e] = true
		}
	}
	return sortedPairs(set)
}

func truthPairs(truth Truth, source string, anonymous bool) []edgePair {
	set := map[edgePair]bool{}
	for _, e := range truth.Edges {
		list := e.Sources
		if anonymous {
			list = e.AnonymousSources
		}
		if slices.Contains(list, source) {
			set[edgePair{e.Client, e.Server}] = true
		}
	}
	return sortedPairs(set)
}

func labelPair(client, server string) func(labels.Labels) (edgePair, bool) {
	return func(l labels.Labels) (edgePair, bool) {
		return edgePair{l.Get(client), l.Get(server)}, true
	}
}

// spanPair reads the edge a client or producer span names: its callee is the
// peer service, or the store whose name is the first label of server_address.
func spanPair(l labels.Labels) (edgePair, bool) {
	kind := l.Get("span_kind")
	if kind != spanKindClient && kind != spanKindProducer {
		return edgePair{}, false
	}
	server := l.Get("peer_service")
	if server == "" {
		server, _, _ = strings.Cut(l.Get("server_address"), ".")
	}
	return edgePair{l.Get("service_name"), server}, true
}

// requireTruthMatchesSeries checks, for every emitted source, that the edges its
// series name (and those it shows with an anonymous client) are the truth's.
func requireTruthMatchesSeries(t *testing.T, opts Options) Truth {
	t.Helper()
	p := renderAndParse(t, opts)
	w, err := New(opts)
	require.NoError(t, err)
	truth := w.Truth()

	got := map[string]int{}
	for _, l := range p.series {
		got[l.Get(model.MetricNameLabel)]++
	}
	require.Equal(t, truth.SeriesCounts, got)

	known := func(l labels.Labels) (edgePair, bool) {
		return edgePair{l.Get("source_canonical_service"), l.Get("destination_service_name")},
			l.Get("source_workload") != "unknown"
	}
	unknown := func(l labels.Labels) (edgePair, bool) {
		e, ok := known(l)
		e.client = "unknown"
		return e, !ok
	}
	hubbleBoth := func(l labels.Labels) (edgePair, bool) {
		return edgePair{l.Get("source_workload"), l.Get("destination_workload")},
			l.Has("source_workload") && l.Has("destination_workload")
	}
	cases := []struct {
		source, family string
		pair           func(labels.Labels) (edgePair, bool)
		anonymous      bool
	}{
		{SourceIstio, "istio_requests_total", known, false},
		{SourceIstio, "istio_requests_total", unknown, true},
		{SourceLinkerd, "request_total", labelPair("deployment", "dst_deployment"), false},
		{SourceServiceGraph, "traces_service_graph_request_total", labelPair("client", "server"), false},
		{SourceSpanMetrics, "traces_span_metrics_calls_total", spanPair, false},
		{SourceHubble, "hubble_flows_processed_total", hubbleBoth, false},
	}
	for _, tc := range cases {
		want := truthPairs(truth, tc.source, tc.anonymous)
		if tc.anonymous {
			for i := range want {
				want[i].client = "unknown"
			}
			want = sortedPairs(pairSet(want))
		}
		if !w.emits(tc.source) {
			require.Empty(t, want, tc.source)
			require.NotContains(t, p.types, strings.TrimSuffix(tc.family, "_total"))
			continue
		}
		require.Equal(t, want, seriesPairs(p, tc.family, tc.pair), "%s anonymous=%v",
			tc.source, tc.anonymous)
	}
	if w.emits(SourceSpanMetrics) || w.emits(SourceHubble) {
		for _, e := range truth.Edges {
			require.Empty(t, slices.DeleteFunc(slices.Clone(e.AnonymousSources),
				func(s string) bool { return s == SourceIstio }))
		}
	}
	if w.emits(SourceHubble) {
		requireHubbleWorld(t, p, truth, w)
	}
	if w.emits(SourceSpanMetrics) {
		// Server spans name no caller; every span belongs to a traced service.
		for _, l := range p.byName("traces_span_metrics_calls_total") {
			if k := l.Get("span_kind"); k == spanKindServer || k == spanKindConsumer {
				require.False(t, l.Has("peer_service") || l.Has("server_address"), l.String())
			}
			require.True(t, tracedService(truth, l.Get("service_name")), l.String())
		}
	}
	return truth
}

func pairSet(ps []edgePair) map[edgePair]bool {
	set := map[edgePair]bool{}
	for _, p := range ps {
		set[p] = true
	}
	return set
}

func tracedService(truth Truth, name string) bool {
	for _, s := range truth.Services {
		if s.Name == name {
			return s.Traced
		}
	}
	return false
}

// requireHubbleWorld checks the flows with one end outside the clusters: to
// managed stores from their callers, and into ingress gateways from the world.
func requireHubbleWorld(t *testing.T, p *parsed, truth Truth, w *World) {
	t.Helper()
	storeCallers, gateways := map[string]bool{}, map[string]bool{}
	for _, e := range truth.Edges {
		for _, s := range w.services {
			if s.name == e.Server && !hasPods(s) && e.FirstSeen != "" {
				storeCallers[e.Client] = true
			}
		}
	}
	for _, s := range w.services {
		if s.root && s.mesh == meshIstio {
			gateways[s.name] = true
		}
	}
	for _, l := range p.byName("hubble_flows_processed_total") {
		switch {
		case !l.Has("destination_workload"):
			require.True(t, storeCallers[l.Get("source_workload")], l.String())
		case !l.Has("source_workload"):
			require.True(t, gateways[l.Get("destination_workload")], l.String())
		}
		require.Equal(t, "FORWARDED", l.Get("verdict"))
	}
	for _, l := range p.byName("hubble_http_requests_total") {
		require.Contains(t, []string{"client", "server"}, l.Get("reporter"))
		require.Contains(t, []string{"HTTP/1.1", "HTTP/2"}, l.Get("protocol"))
	}
}

func TestTruthSourcesMatchSeries(t *testing.T) {
	random, err := RandomTopology(11, 40, 90)
	require.NoError(t, err)
	cases := []struct {
		name string
		opts func(*Options)
	}{
		{"online-boutique", func(*Options) {}},
		{"sock-shop traced", func(o *Options) {
			o.Topology, o.TracedShare = mustBuiltin(t, "sock-shop"), 1
		}},
		{"bookinfo", func(o *Options) { o.Topology = mustBuiltin(t, "bookinfo") }},
		{"random", func(o *Options) { o.Topology = random }},
		{"only hubble and spans", func(o *Options) {
			o.Topology, o.Telemetry = mustBuiltin(t, "sock-shop"), []string{"spanmetrics", "hubble"}
		}},
		{"defaults", func(o *Options) { o.Telemetry = nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := smallOptions()
			opts.Duration, opts.Telemetry = 30*time.Minute, TelemetrySources()
			tc.opts(&opts)
			truth := requireTruthMatchesSeries(t, opts)
			seen := map[string]bool{}
			for _, e := range truth.Edges {
				for _, s := range slices.Concat(e.Sources, e.AnonymousSources) {
					seen[s] = true
				}
			}
			for _, s := range opts.Telemetry {
				if s != SourceLinkerd || tc.name != "bookinfo" {
					require.True(t, seen[s], "no edge seen by %s", s)
				}
			}
		})
	}
}

func TestSpanMetricsAndHubbleSeeDifferentEdges(t *testing.T) {
	opts := smallOptions()
	opts.Duration, opts.Telemetry = 30*time.Minute, TelemetrySources()
	opts.Topology = mustBuiltin(t, "sock-shop")
	w, err := New(opts)
	require.NoError(t, err)
	var spanOnly, hubbleOnly, storeBySpans bool
	for _, e := range w.Truth().Edges {
		spans := slices.Contains(e.Sources, SourceSpanMetrics)
		hub := slices.Contains(e.Sources, SourceHubble)
		sg := slices.Contains(e.Sources, SourceServiceGraph)
		require.False(t, sg && !spans, "the service graph needs a traced client: %+v", e)
		spanOnly = spanOnly || spans && !sg && e.Kind == string(KindService)
		hubbleOnly = hubbleOnly || hub && !spans
		storeBySpans = storeBySpans || spans && e.Kind != string(KindService)
		if e.Kind != string(KindService) {
			require.False(t, hub, "stores are outside the clusters: %+v", e)
		}
	}
	require.True(t, spanOnly, "a traced client calling an untraced server")
	require.True(t, hubbleOnly, "an untraced caller Hubble still names")
	require.True(t, storeBySpans, "client spans name stores")
}

func TestClusterLabel(t *testing.T) {
	opts := smallOptions()
	opts.Duration, opts.Telemetry, opts.KSMLabelsAllowlist = 10*time.Minute, TelemetrySources(), true
	opts.Topology, opts.TracedShare = mustBuiltin(t, "sock-shop"), 1
	p := renderAndParse(t, opts)

	// Every label beside the cluster label is in the list validation checks.
	for _, l := range p.series {
		if !l.Has("cluster") {
			continue
		}
		l.Range(func(x labels.Label) {
			if x.Name == "cluster" || x.Name == model.MetricNameLabel ||
				strings.HasPrefix(x.Name, "label_") {
				return
			}
			require.Contains(t, clusterPeerLabels, x.Name, l.String())
		})
	}

	renamed := opts
	renamed.ClusterLabel = "k8s_cluster"
	q := renderAndParse(t, renamed)
	require.Len(t, q.series, len(p.series))
	carriers := 0
	for _, l := range q.series {
		require.False(t, l.Has("cluster"), l.String())
		if l.Has("k8s_cluster") {
			carriers++
		}
	}
	for _, fam := range []string{"kube_pod_info", "container_cpu_usage_seconds_total",
		"request_total", "traces_span_metrics_calls_total", "hubble_flows_processed_total"} {
		for _, l := range q.byName(fam) {
			require.NotEmpty(t, l.Get("k8s_cluster"), l.String())
		}
	}
	require.Positive(t, carriers)
}

func TestSparseShare(t *testing.T) {
	count := func(share float64) (sparse, eligible int) {
		opts := smallOptions()
		// Steady: the startup scenario's new service gets its edge after the draw.
		opts.Scenario, opts.Duration, opts.SparseShare = "steady", 10*time.Minute, share
		opts.Topology = mustBuiltin(t, "sock-shop")
		w, err := New(opts)
		require.NoError(t, err)
		for _, e := range w.edges {
			if !e.client.root && !e.back && e.kind == KindService {
				eligible++
				if e.sparse {
					sparse++
				}
			}
		}
		return sparse, eligible
	}
	none, eligible := count(-1)
	all, _ := count(1)
	some, _ := count(0)
	require.Zero(t, none)
	require.Equal(t, eligible, all)
	require.Less(t, some, eligible)
}
