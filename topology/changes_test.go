package topology_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// TestChangesOverCyclesOnRealPromQL runs the engine cycle after cycle over a world
// fed live into the embedded Prometheus engine, as serve runs over the demo: the
// first cycle finds what existed, and what appears later (the startup scenario's
// new service) is counted, exactly as the graphs of the two cycles differ.
func TestChangesOverCyclesOnRealPromQL(t *testing.T) {
	start := time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)
	w, err := sim.New(sim.Options{Scenario: "startup", Seed: 3, Start: start,
		Duration: time.Hour, Step: time.Minute})
	require.NoError(t, err)
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	advance := func(until time.Time) {
		batch := e.Appender(context.Background())
		require.NoError(t, w.Advance(until, func(l labels.Labels, ts int64, v float64) error {
			return batch.Append(l, ts, v)
		}))
		require.NoError(t, batch.Commit())
	}
	d := topology.NewDiscoverer(e, topology.Config{
		Adapters: topology.DefaultAdapters(topology.AdapterOptions{}),
	})
	cycle := func(at time.Time) *topology.Snapshot {
		v, err := d.Run(context.Background(), at)
		require.NoError(t, err)
		return v.(*topology.Snapshot)
	}

	// The new service appears at 55 % of the hour; the first cycle is before.
	before := start.Add(20 * time.Minute)
	advance(before)
	first := cycle(before)
	require.Empty(t, first.Changes, "the initial discovery is not a change")
	require.Empty(t, nodesNamed(first, "fraud-detection"))

	var last *topology.Snapshot
	for at := before.Add(time.Minute); !at.After(start.Add(time.Hour)); at = at.Add(time.Minute) {
		advance(at)
		last = cycle(at)
	}
	require.Len(t, nodesNamed(last, "fraud-detection"), 1)

	added := map[string]int{}
	for _, n := range last.Graph.Nodes() {
		if _, ok := first.Graph.Node(n.ID); !ok {
			added[topology.ChangeService]++
		}
	}
	for _, e := range last.Graph.Edges() {
		if _, ok := first.Graph.Edge(e.Client, e.Server); !ok {
			added[topology.ChangeEdge]++
		}
	}
	require.Positive(t, added[topology.ChangeEdge])
	for _, kind := range []string{topology.ChangeEdge, topology.ChangeService} {
		require.Equal(t, float64(added[kind]),
			last.Changes[topology.Change{Kind: kind, Action: topology.ActionAdded}], kind)
		require.Zero(t, last.Changes[topology.Change{Kind: kind, Action: topology.ActionRemoved}],
			"nothing leaves within the retention")
	}
}

func nodesNamed(s *topology.Snapshot, name string) []graph.NodeID {
	var out []graph.NodeID
	for _, n := range s.Graph.Nodes() {
		if n.Name == name {
			out = append(out, n.ID)
		}
	}
	return slices.Clip(out)
}
