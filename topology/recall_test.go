package topology_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/sim"
	"github.com/stratus-monitoring/stratus/topology"
)

// TestDiscoveryRecallOnSimulatedWorlds runs one discovery cycle at the end of
// simulated hours and requires the target of DESIGN.md: every edge the telemetry
// shows is on the graph, and nothing else is. Each world is loaded once with every
// source; a Discoverer reading one source stands for a world that emits only that
// one, since an adapter reads nothing of the other sources' families.
func TestDiscoveryRecallOnSimulatedWorlds(t *testing.T) {
	all := sim.TelemetrySources()
	for _, topo := range []string{"online-boutique", "sock-shop"} {
		t.Run(topo, func(t *testing.T) {
			tp, err := sim.BuiltinTopology(topo)
			require.NoError(t, err)
			worlds := []struct {
				wc      worldCase
				perRead bool // also check each source alone
			}{
				{worldCase{name: "mixed", opts: sim.Options{Seed: 1, Topology: tp, Telemetry: all}},
					true},
				{worldCase{name: "sparse", opts: sim.Options{Seed: 2, Topology: tp, Telemetry: all,
					SparseShare: 0.5}}, false},
				{worldCase{name: "renamed-label", opts: sim.Options{Seed: 3, Topology: tp,
					Telemetry: all, ClusterLabel: "k8s_cluster"}, clusterLabel: "k8s_cluster"}, false},
			}
			for _, w := range worlds {
				lw := loadWorld(t, w.wc)
				t.Cleanup(func() { require.NoError(t, lw.engine.Close()) })
				reads := [][]string{all}
				if w.perRead {
					for _, s := range all {
						reads = append(reads, []string{s})
					}
				}
				for _, read := range reads {
					name := w.wc.name
					if len(read) == 1 {
						name += "/" + read[0]
					}
					t.Run(name, func(t *testing.T) {
						requireFullRecall(t, lw, read)
					})
				}
			}
		})
	}
}

// requireFullRecall runs one cycle reading the given sources and requires every
// edge they show, and no other.
func requireFullRecall(t *testing.T, lw *loadedWorld, read []string) {
	t.Helper()
	d := lw.discoverer(lw.engine, read...)
	got, err := d.Run(context.Background(), lw.at)
	require.NoError(t, err)
	snap := got.(*topology.Snapshot)
	score := scoreGraph(snap.Graph, lw.truth, read)
	require.Positive(t, score.counted, "no truth edge for %v", read)
	require.Equal(t, score.counted, score.found, "%s", score)
	require.Empty(t, score.falseEdges, "%s", score)
	// Every node in its true namespace and cluster, Hubble's included: it reports
	// a peer in another cluster under its own, and the workloads kube-state-metrics
	// lists move it back.
	require.Empty(t, score.misplaced, "%s", score)
	t.Logf("%v: %s, %d nodes, %d edges", read, score, snap.Graph.NodeCount(),
		snap.Graph.EdgeCount())
}

// TestQueriesPerCycleIndependentOfServices runs one cycle over a 50-service and a
// 500-service random world with every source: the number of queries is the same.
func TestQueriesPerCycleIndependentOfServices(t *testing.T) {
	counts := map[int]int{}
	for _, size := range []struct{ services, edges int }{{50, 500}, {500, 1000}} {
		tp, err := sim.RandomTopology(1, size.services, size.edges)
		require.NoError(t, err)
		lw := loadWorld(t, worldCase{
			name: tp.Name,
			opts: sim.Options{Seed: 1, Topology: tp, Telemetry: sim.TelemetrySources(),
				Resources: 300},
			// Query counts do not depend on how long the world ran.
			duration: 15 * time.Minute,
		})
		q := &recordingQuerier{Querier: lw.engine}
		got, err := lw.discoverer(q).Run(context.Background(), lw.at)
		require.NoError(t, err)
		require.NoError(t, lw.engine.Close())
		snap := got.(*topology.Snapshot)
		require.GreaterOrEqual(t, snap.Graph.EdgeCount(), size.edges/2)
		counts[size.services] = q.count()
		t.Logf("%d services: %d queries, %d edges", size.services, q.count(),
			snap.Graph.EdgeCount())
	}
	require.Equal(t, counts[50], counts[500])
}
