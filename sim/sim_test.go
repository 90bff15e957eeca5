package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/stretchr/testify/require"
)

var testStart = time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)

const testStep = time.Minute

// smallOptions is a world short and coarse enough for unit tests but long enough
// for every startup event, a scale-up and the scale-down after stabilization.
func smallOptions() Options {
	return Options{Scenario: "startup", Seed: 7, Start: testStart,
		Duration: 2 * time.Hour, Step: testStep}
}

type sample struct {
	t int64
	v float64
}

// parsed is a world's OpenMetrics output read back with Prometheus' parser.
type parsed struct {
	series map[string]labels.Labels // by lset.String()
	points map[string][]sample
	types  map[string]string // family -> type
	raw    []byte
}

var (
	parseCacheMu sync.Mutex
	parseCache   = map[string]*parsed{}
)

func renderAndParse(t *testing.T, opts Options) *parsed {
	t.Helper()
	key, err := json.Marshal(opts)
	require.NoError(t, err)
	parseCacheMu.Lock()
	defer parseCacheMu.Unlock()
	if p, ok := parseCache[string(key)]; ok {
		return p
	}
	w, err := New(opts)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, w.WriteOpenMetrics(&buf))
	p := parseOpenMetrics(t, buf.Bytes())
	parseCache[string(key)] = p
	return p
}

func parseOpenMetrics(t *testing.T, b []byte) *parsed {
	t.Helper()
	p := &parsed{series: map[string]labels.Labels{}, points: map[string][]sample{},
		types: map[string]string{}, raw: b}
	parser := textparse.NewOpenMetricsParser(b, labels.NewSymbolTable())
	for {
		entry, err := parser.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		require.NoError(t, err)
		switch entry {
		case textparse.EntryType:
			name, typ := parser.Type()
			_, dup := p.types[string(name)]
			require.False(t, dup, "family %s declared twice", name)
			p.types[string(name)] = string(typ)
		case textparse.EntrySeries:
			_, ts, v := parser.Series()
			require.NotNil(t, ts)
			var lset labels.Labels
			parser.Labels(&lset)
			k := lset.String()
			p.series[k] = lset
			p.points[k] = append(p.points[k], sample{*ts, v})
		}
	}
	require.True(t, bytes.HasSuffix(b, []byte("# EOF\n")))
	return p
}

func (p *parsed) byName(name string) []labels.Labels {
	var out []labels.Labels
	for _, l := range p.series {
		if l.Get(model.MetricNameLabel) == name {
			out = append(out, l)
		}
	}
	sort.Slice(out, func(i, j int) bool { return labels.Compare(out[i], out[j]) < 0 })
	return out
}

func TestOptionsValidation(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		wantErr string
	}{
		{"unknown scenario", Options{Scenario: "chaos", Start: testStart}, "unknown scenario \"chaos\" (valid: startup, steady)"},
		{"no start", Options{Scenario: "steady"}, "Start must be set"},
		{"before epoch", Options{Scenario: "steady", Start: time.Unix(-10, 0)}, "before 1970"},
		{"short", Options{Scenario: "steady", Start: testStart, Duration: time.Second}, "shorter than Step"},
		{"negative step", Options{Scenario: "steady", Start: testStart, Step: -time.Second}, "must be positive"},
		{"negative resources", Options{Scenario: "steady", Start: testStart, Resources: -1}, "negative"},
		{"autocorrelation", Options{Scenario: "steady", Start: testStart, Autocorrelation: 1}, "below 1"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := New(tc.opts)
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, WriteDir(t.TempDir(), tc.opts), tc.wantErr)
		})
	}
	require.Equal(t, []string{"startup", "steady"}, Scenarios())
}

func TestDeterminism(t *testing.T) {
	opts := smallOptions()
	opts.Duration = 40 * time.Minute
	render := func(o Options) []byte {
		w, err := New(o)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, w.WriteOpenMetrics(&buf))
		return buf.Bytes()
	}
	a, b := render(opts), render(opts)
	require.True(t, bytes.Equal(a, b), "same options must give the same bytes")

	other := opts
	other.Seed++
	require.False(t, bytes.Equal(a, render(other)), "another seed must give another world")
}

func TestAdvanceInPiecesEqualsOneRun(t *testing.T) {
	opts := smallOptions()
	opts.Duration = time.Hour
	// Values compare by their bits: staleness markers are NaNs.
	type rec struct {
		lset string
		t    int64
		v    uint64
	}
	collect := func(cuts []time.Duration) []rec {
		w, err := New(opts)
		require.NoError(t, err)
		var out []rec
		emit := func(l labels.Labels, ts int64, v float64) error {
			out = append(out, rec{l.String(), ts, math.Float64bits(v)})
			return nil
		}
		for _, c := range cuts {
			require.NoError(t, w.Advance(testStart.Add(c), emit))
		}
		return out
	}
	whole := collect([]time.Duration{time.Hour})
	pieces := collect([]time.Duration{-time.Minute, 0, 90 * time.Second, 17 * time.Minute,
		17 * time.Minute, 59*time.Minute + 59*time.Second, time.Hour})
	require.NotEmpty(t, whole)
	require.Equal(t, whole, pieces)

	// Advance also runs past Duration in steady state, as the live demo does.
	w, err := New(opts)
	require.NoError(t, err)
	n := 0
	require.NoError(t, w.Advance(testStart.Add(2*time.Hour), func(labels.Labels, int64, float64) error {
		n++
		return nil
	}))
	require.Greater(t, n, len(whole))

	// An emit error stops Advance and is returned with context.
	w, err = New(opts)
	require.NoError(t, err)
	boom := errors.New("boom")
	err = w.Advance(testStart, func(labels.Labels, int64, float64) error { return boom })
	require.ErrorIs(t, err, boom)
	require.ErrorContains(t, err, "emit at 2025-03-04T06:00:00Z")
}

func TestOpenMetricsShape(t *testing.T) {
	p := renderAndParse(t, smallOptions())
	text := string(p.raw)

	// One TYPE per family, families contiguous: a sample name never reappears after
	// another family started.
	lastFamily, seen := "", map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "# TYPE ") {
			continue
		}
		name := strings.Fields(line)[2]
		require.False(t, seen[name], "family %s twice", name)
		seen[name] = true
		lastFamily = name
	}
	require.NotEmpty(t, lastFamily)
	require.Equal(t, "counter", p.types["istio_requests"])
	require.Equal(t, "histogram", p.types["istio_request_duration_milliseconds"])
	require.Equal(t, "counter", p.types["container_cpu_usage_seconds"])
	require.Equal(t, "gauge", p.types["kube_pod_info"])

	for k, pts := range p.points {
		lset := p.series[k]
		name := lset.Get(model.MetricNameLabel)
		for i := 1; i < len(pts); i++ {
			require.Greater(t, pts[i].t, pts[i-1].t, "samples of %s out of order", k)
			if strings.HasSuffix(name, "_total") || strings.HasSuffix(name, "_bucket") ||
				strings.HasSuffix(name, "_count") {
				require.GreaterOrEqual(t, pts[i].v, pts[i-1].v, "counter %s decreased", k)
			}
		}
	}

	// Histograms: cumulative buckets, +Inf equal to _count, at every timestamp.
	for _, fam := range []string{"istio_request_duration_milliseconds",
		"traces_service_graph_request_server_seconds", "traces_service_graph_request_client_seconds"} {
		counts := p.byName(fam + "_count")
		require.NotEmpty(t, counts, fam)
		for _, c := range counts {
			base := labels.NewBuilder(c).Del(model.MetricNameLabel)
			var buckets []labels.Labels
			for _, b := range p.byName(fam + "_bucket") {
				if labels.Equal(labels.NewBuilder(b).Del(model.MetricNameLabel, "le").Labels(), base.Labels()) {
					buckets = append(buckets, b)
				}
			}
			require.NotEmpty(t, buckets)
			sort.Slice(buckets, func(i, j int) bool {
				return leOf(buckets[i]) < leOf(buckets[j])
			})
			countPts := p.points[c.String()]
			for i := range countPts {
				prev := -1.0
				for _, b := range buckets {
					v := p.points[b.String()][i].v
					require.GreaterOrEqual(t, v, prev, "buckets not cumulative in %s", b)
					prev = v
				}
				require.Equal(t, countPts[i].v, prev, "+Inf differs from _count for %s", c)
			}
		}
	}
}

func leOf(l labels.Labels) float64 {
	if l.Get("le") == "+Inf" {
		return math.Inf(1)
	}
	var f float64
	_, _ = fmtSscan(l.Get("le"), &f)
	return f
}

func TestTruthMatchesOpenMetrics(t *testing.T) {
	opts := smallOptions()
	p := renderAndParse(t, opts)
	w, err := New(opts)
	require.NoError(t, err)
	truth := w.Truth()

	// Series counts per sample name.
	got := map[string]int{}
	for _, l := range p.series {
		got[l.Get(model.MetricNameLabel)]++
	}
	require.Equal(t, truth.SeriesCounts, got)

	// Edges per source.
	type pair struct{ client, server string }
	edgesIn := func(name string, keep func(labels.Labels) bool, client, server string) []pair {
		set := map[pair]bool{}
		for _, l := range p.byName(name) {
			if keep(l) {
				set[pair{l.Get(client), l.Get(server)}] = true
			}
		}
		var out []pair
		for k := range set {
			out = append(out, k)
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].client+"/"+out[i].server < out[j].client+"/"+out[j].server
		})
		return out
	}
	truthEdges := func(source string) []pair {
		var out []pair
		for _, e := range truth.Edges {
			if slices.Contains(e.Sources, source) {
				out = append(out, pair{e.Client, e.Server})
			}
		}
		sort.Slice(out, func(i, j int) bool {
			return out[i].client+"/"+out[i].server < out[j].client+"/"+out[j].server
		})
		return out
	}
	all := func(labels.Labels) bool { return true }
	known := func(l labels.Labels) bool { return l.Get("source_workload") != "unknown" }
	require.Equal(t, truthEdges("istio"),
		edgesIn("istio_requests_total", known, "source_canonical_service", "destination_service_name"))
	require.Equal(t, truthEdges("servicegraph"),
		edgesIn("traces_service_graph_request_total", all, "client", "server"))
	require.Equal(t, truthEdges("linkerd"),
		edgesIn("request_total", all, "deployment", "dst_deployment"))
	require.NotEmpty(t, truthEdges("linkerd"))
	unknown := edgesIn("istio_requests_total",
		func(l labels.Labels) bool { return !known(l) }, "source_workload", "destination_service_name")
	require.NotEmpty(t, unknown, "some callers have no proxy")

	// Every scaling event shows in kube_deployment_spec_replicas at its time, and
	// kube_deployment_status_replicas reaches the new size soon after.
	require.NotEmpty(t, truth.ScalingEvents)
	dirs := map[string]bool{}
	for _, ev := range truth.ScalingEvents {
		dirs[ev.Direction] = true
		at, err := time.Parse(time.RFC3339, ev.Time)
		require.NoError(t, err)
		spec := p.value(t, "kube_deployment_spec_replicas", ev.Service, at.UnixMilli())
		require.Equal(t, float64(ev.ToReplicas), spec, "%+v", ev)
		before := p.value(t, "kube_deployment_spec_replicas", ev.Service, at.Add(-testStep).UnixMilli())
		require.Equal(t, float64(ev.FromReplicas), before, "%+v", ev)
		require.True(t, p.reaches(t, "kube_deployment_status_replicas", ev.Service, at, float64(ev.ToReplicas)), "%+v", ev)
	}
	require.True(t, dirs["up"] && dirs["down"], "the spike scales up and back down")

	// Deployments: a new ReplicaSet and the new version on the destination side.
	require.Len(t, truth.Deployments, 2)
	require.Equal(t, 1.3, truth.Deployments[0].Effects["latency_p95_ratio"])
	for _, d := range truth.Deployments {
		found := false
		for _, l := range p.byName("kube_replicaset_owner") {
			if l.Get("replicaset") == d.ReplicaSet && l.Get("owner_name") == d.Service {
				found = true
			}
		}
		require.True(t, found, "replicaset %s", d.ReplicaSet)
		require.True(t, strings.HasPrefix(d.ReplicaSet, d.Service+"-"+d.Revision))
	}
	var versions []string
	for _, l := range p.byName("istio_requests_total") {
		if l.Get("destination_service_name") == truth.Deployments[0].Service &&
			l.Get("reporter") == "destination" {
			versions = append(versions, l.Get("destination_version"))
		}
	}
	require.Contains(t, versions, truth.Deployments[0].Version)
	require.Contains(t, versions, truth.Deployments[0].PreviousVersion)

	// The new service appears midway with its edge.
	var appears string
	for _, s := range truth.Services {
		if s.Name == newServiceName {
			appears = s.AppearsAt
		}
	}
	require.NotEmpty(t, appears)
	for _, e := range truth.Edges {
		if e.Server == newServiceName {
			require.GreaterOrEqual(t, e.FirstSeen, appears)
		}
	}
}

// value returns a deployment gauge at a timestamp.
func (p *parsed) value(t *testing.T, name, deploy string, ts int64) float64 {
	t.Helper()
	for _, l := range p.byName(name) {
		if l.Get("deployment") != deploy {
			continue
		}
		for _, s := range p.points[l.String()] {
			if s.t == ts {
				return s.v
			}
		}
	}
	require.Failf(t, "no sample", "%s %s at %d", name, deploy, ts)
	return 0
}

func (p *parsed) reaches(t *testing.T, name, deploy string, from time.Time, want float64) bool {
	for i := range 10 {
		if p.value(t, name, deploy, from.Add(time.Duration(i)*testStep).UnixMilli()) == want {
			return true
		}
	}
	return false
}

func TestSteadyHasNoEvents(t *testing.T) {
	opts := smallOptions()
	opts.Scenario = "steady"
	w, err := New(opts)
	require.NoError(t, err)
	truth := w.Truth()
	require.Empty(t, truth.Deployments)
	for _, s := range truth.Services {
		require.Empty(t, s.AppearsAt)
	}
	data, err := json.Marshal(truth)
	require.NoError(t, err)
	require.Contains(t, string(data), `"deployments":[]`)
}

func TestKSMLabelsAllowlist(t *testing.T) {
	for _, allow := range []bool{false, true} {
		opts := smallOptions()
		opts.Duration = 2 * testStep
		opts.KSMLabelsAllowlist = allow
		p := renderAndParse(t, opts)
		labelsSeries := p.byName("kube_pod_labels")
		require.NotEmpty(t, labelsSeries)
		for _, l := range labelsSeries {
			hasApp := l.Has("label_app") || l.Has("label_app_kubernetes_io_name")
			require.Equal(t, allow, hasApp, l.String())
		}
		for _, l := range p.byName("kube_node_labels") {
			require.NotEmpty(t, l.Get("label_node_kubernetes_io_instance_type"))
			require.NotEmpty(t, l.Get("label_topology_kubernetes_io_region"))
		}
	}
}

func TestWorldShapes(t *testing.T) {
	cyclic, err := ParseTopology(strings.NewReader(
		"gw -> a\na -> b\nb -> c\nc -> a\nc -> db database\nb -> q messaging\nworker -> q messaging\n"),
		"cyclic.edges")
	require.NoError(t, err)
	cases := []struct {
		name string
		opts func(*Options)
	}{
		{"sock-shop", func(o *Options) { o.Topology = mustBuiltin(t, "sock-shop") }},
		{"bookinfo", func(o *Options) { o.Topology = mustBuiltin(t, "bookinfo"); o.TracedShare = 1 }},
		{"cyclic", func(o *Options) { o.Topology = cyclic }},
		{"scaled", func(o *Options) { o.Resources = 600; o.UntaggedShare = 0.5 }},
		{"no noise", func(o *Options) {
			o.NoiseLevel, o.Autocorrelation, o.LinkerdShare, o.UnmeshedShare = -1, -1, -1, -1
			o.TracedShare, o.UntaggedShare, o.IstioSourceHistograms = -1, -1, true
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			opts := smallOptions()
			opts.Duration = 20 * time.Minute
			tc.opts(&opts)
			p := renderAndParse(t, opts)
			w, err := New(opts)
			require.NoError(t, err)
			truth := w.Truth()
			got := map[string]int{}
			for _, l := range p.series {
				got[l.Get(model.MetricNameLabel)]++
			}
			require.Equal(t, truth.SeriesCounts, got)
			require.NotEmpty(t, truth.Resources)
			require.NotEmpty(t, truth.Pods)
		})
	}
}

func mustBuiltin(t *testing.T, name string) *Topology {
	topo, err := BuiltinTopology(name)
	require.NoError(t, err)
	return topo
}

func TestResourcesScale(t *testing.T) {
	count := func(res int) (resources, services int) {
		opts := smallOptions()
		opts.Duration, opts.Resources = testStep, res
		w, err := New(opts)
		require.NoError(t, err)
		truth := w.Truth()
		return len(truth.Resources) + len(truth.Pods), len(truth.Services)
	}
	small, _ := count(10)
	mid, _ := count(100)
	large, svcLarge := count(1000)
	require.Less(t, small, 40)
	require.InDelta(t, 100, mid, 40)
	require.InDelta(t, 1000, large, 400)
	require.Greater(t, svcLarge, 40, "large worlds repeat the topology")
}

func TestResourceTagging(t *testing.T) {
	opts := smallOptions()
	opts.Duration, opts.Resources, opts.UntaggedShare = testStep, 400, 0.5
	w, err := New(opts)
	require.NoError(t, err)
	truth := w.Truth()
	kinds := map[string]int{}
	clouds := map[string]bool{}
	for _, r := range truth.Resources {
		kinds[r.Tagging]++
		clouds[r.Cloud] = true
		switch r.Tagging {
		case taggingOK:
			require.Equal(t, r.TrueService, r.Tags["service"])
		case taggingMissing:
			require.Empty(t, r.Service)
			require.NotEmpty(t, r.TrueService)
		case taggingInconsistent:
			require.True(t, r.Tags["Service"] == r.TrueService || r.Tags["app"] == r.TrueService)
		case taggingShared:
			require.Equal(t, "kubernetes_node", r.Kind)
		}
	}
	require.Len(t, clouds, 4, "aws, gcp, azure and on-premises")
	for _, k := range []string{taggingOK, taggingMissing, taggingInconsistent, taggingShared} {
		require.Positive(t, kinds[k], k)
	}
}

func TestWriteDir(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "out")
	opts := smallOptions()
	opts.Duration = 10 * time.Minute
	require.NoError(t, WriteDir(dir, opts))
	om, err := os.ReadFile(filepath.Join(dir, "metrics.om"))
	require.NoError(t, err)
	w, err := New(opts)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, w.WriteOpenMetrics(&buf))
	require.Equal(t, buf.Bytes(), om)

	raw, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	require.NoError(t, err)
	var truth Truth
	require.NoError(t, json.Unmarshal(raw, &truth))
	require.Equal(t, w.Truth(), truth)
	require.Equal(t, "2025-03-04T06:10:00Z", truth.End)

	require.ErrorContains(t, WriteDir(filepath.Join(dir, "metrics.om", "x"), opts), "create output directory")
}

func TestTimestampFormat(t *testing.T) {
	require.Equal(t, "1741068000", string(appendTimestamp(nil, 1741068000000)))
	require.Equal(t, "1741068000.005", string(appendTimestamp(nil, 1741068000005)))
	require.Equal(t, "1741068000.25", strings.TrimRight(string(appendTimestamp(nil, 1741068000250)), "0"))
	require.Equal(t, `a\\b\"c\n`, escapeLabelValue("a\\b\"c\n"))
}
