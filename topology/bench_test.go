package topology_test

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/stratus-monitoring/stratus/sim"
	"github.com/stratus-monitoring/stratus/topology"
)

// discoveryCases are the worlds of BenchmarkDiscovery: each real topology with
// each telemetry source alone and all of them mixed, then with sparse edges, a
// renamed cluster label and more callers without a proxy (all sources); and
// random topologies up to the scale target of DESIGN.md (500 services, 5 000
// edges) with all sources.
func discoveryCases() []worldCase {
	all := sim.TelemetrySources()
	var cases []worldCase
	for seed, name := range sim.BuiltinTopologies() {
		tp, err := sim.BuiltinTopology(name)
		if err != nil {
			panic(err) // the embedded topologies always parse
		}
		base := sim.Options{Seed: int64(seed + 1), Topology: tp, Telemetry: all}
		for _, src := range all {
			opts := base
			opts.Telemetry = []string{src}
			cases = append(cases, worldCase{name: name + "/" + src, opts: opts})
		}
		cases = append(cases, worldCase{name: name + "/mixed", opts: base})
		sparse := base
		sparse.SparseShare = 0.5
		cases = append(cases, worldCase{name: name + "/sparse", opts: sparse})
		renamed := base
		renamed.ClusterLabel = "k8s_cluster"
		cases = append(cases, worldCase{name: name + "/renamed-label", opts: renamed,
			clusterLabel: "k8s_cluster"})
		unmeshed := base
		unmeshed.UnmeshedShare = 0.3
		cases = append(cases, worldCase{name: name + "/unmeshed", opts: unmeshed})
	}
	for _, size := range []struct{ services, edges int }{{50, 500}, {200, 2000}, {500, 5000}} {
		tp, err := sim.RandomTopology(1, size.services, size.edges)
		if err != nil {
			panic(err) // sizes within RandomTopology's limits
		}
		cases = append(cases, worldCase{
			name: fmt.Sprintf("random-%d-%d/mixed", size.services, size.edges),
			// Resources below 375 keep one copy of the topology.
			opts: sim.Options{Seed: 1, Topology: tp, Telemetry: all, Resources: 300},
		})
	}
	return cases
}

// BenchmarkDiscovery runs the first discovery cycle (presence over the whole
// retention) at the end of a simulated hour, 1 min steps, loaded into a fresh
// embedded engine before timing. Each run starts from a new Discoverer. Run with
// -benchtime=1x for one cycle per world; reported:
//
//   - recall: share of the truth edges an emitted source shows that are on the
//     graph (see truthScore for how names are matched);
//   - false_edges: graph edges that stand for no truth edge;
//   - misplaced_nodes: nodes named like a truth service in another namespace or
//     cluster;
//   - queries/cycle: instant and range queries the cycle ran;
//   - ratio_to_raw: cycle wall time over the time of running the same query
//     strings again, one after another, on the same engine; the median of at
//     least ratioRounds interleaved pairs;
//   - bytes/edge: live heap the Discoverer and its Snapshot hold after the
//     first cycle (see heldBy), per graph edge;
//   - edges, services: edges and nodes of the graph; truth_edges: the truth
//     edges counted by recall.
func BenchmarkDiscovery(b *testing.B) {
	for _, wc := range discoveryCases() {
		var lw *loadedWorld
		b.Run(wc.name, func(b *testing.B) {
			if lw == nil {
				b.StopTimer()
				lw = loadWorld(b, wc)
				b.StartTimer()
			}
			benchmarkCycle(b, lw)
		})
		if lw != nil {
			if err := lw.engine.Close(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// ratioRounds is how many interleaved pairs of a cycle and its replay give
// ratio_to_raw, whose median is reported: one pair on a shared machine is noise.
const ratioRounds = 3

func benchmarkCycle(b *testing.B, lw *loadedWorld) {
	ctx := context.Background()
	var (
		ratios         []float64
		queries, edges int
		services       int
		score          truthScore
		retained       float64
	)
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		q := &recordingQuerier{Querier: lw.engine}
		d := lw.discoverer(q)
		b.StartTimer()

		start := time.Now()
		got, err := d.Run(ctx, lw.at)
		elapsed := time.Since(start)

		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		replayed, err := q.replay(ctx, lw.engine)
		if err != nil {
			b.Fatal(err)
		}
		ratios = append(ratios, elapsed.Seconds()/replayed.Seconds())
		if i == 0 {
			snap := got.(*topology.Snapshot)
			score = scoreGraph(snap.Graph, lw.truth, lw.emitted)
			queries = q.count()
			edges, services = snap.Graph.EdgeCount(), snap.Graph.NodeCount()
			retained = heldBy(d, snap)
		}
		b.StartTimer()
	}
	b.StopTimer()
	for len(ratios) < ratioRounds {
		r, err := cycleRatio(ctx, lw)
		if err != nil {
			b.Fatal(err)
		}
		ratios = append(ratios, r)
	}

	if score.recall() < 1 || len(score.falseEdges) > 0 {
		b.Logf("%s: %s", lw.cfg.name, score)
	}
	b.ReportMetric(score.recall(), "recall")
	b.ReportMetric(float64(len(score.falseEdges)), "false_edges")
	b.ReportMetric(float64(len(score.misplaced)), "misplaced_nodes")
	b.ReportMetric(float64(queries), "queries/cycle")
	b.ReportMetric(median(ratios), "ratio_to_raw")
	b.ReportMetric(retained/float64(max(edges, 1)), "bytes/edge")
	b.ReportMetric(float64(edges), "edges")
	b.ReportMetric(float64(services), "services")
	b.ReportMetric(float64(score.counted), "truth_edges")
}

// heldBy returns the live heap a Discoverer and its Snapshot hold: HeapAlloc
// after a full GC with both reachable, minus HeapAlloc after a full GC once they
// are not. Both readings are taken after the cycle, back to back, so that what the
// engine frees or maps out in the background meanwhile hardly counts.
func heldBy(d *topology.Discoverer, snap *topology.Snapshot) float64 {
	var with, without runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&with)
	runtime.KeepAlive(d)
	runtime.KeepAlive(snap)
	runtime.GC()
	runtime.ReadMemStats(&without)
	return float64(with.HeapAlloc) - float64(without.HeapAlloc)
}

// cycleRatio runs one more cycle from a new Discoverer and its replay, untimed
// by the framework, and returns their ratio.
func cycleRatio(ctx context.Context, lw *loadedWorld) (float64, error) {
	q := &recordingQuerier{Querier: lw.engine}
	d := lw.discoverer(q)
	start := time.Now()
	if _, err := d.Run(ctx, lw.at); err != nil {
		return 0, err
	}
	elapsed := time.Since(start)
	replayed, err := q.replay(ctx, lw.engine)
	if err != nil {
		return 0, err
	}
	return elapsed.Seconds() / replayed.Seconds(), nil
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
