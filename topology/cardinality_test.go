package topology_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology"
)

// TestCardinalityExplosion loads 100 000 distinct Istio edges, one sample per
// series, and runs the Discoverer with its default caps: it keeps
// DefaultMaxEdges edges, counts every other one as dropped, and a second cycle
// that sees the same series again adds no edge and counts no change.
func TestCardinalityExplosion(t *testing.T) {
	const clients, servers = 400, 250 // 100 000 edges among 650 services
	sampleAt := time.Date(2025, 3, 4, 7, 0, 0, 0, time.UTC)

	var om bytes.Buffer
	w := bufio.NewWriter(&om)
	fmt.Fprintln(w, "# TYPE istio_requests counter")
	for c := range clients {
		for s := range servers {
			fmt.Fprintf(w, `istio_requests_total{reporter="destination",`+
				`source_workload="client-%03d",source_workload_namespace="load",`+
				`destination_workload="server-%03d",destination_workload_namespace="load",`+
				`request_protocol="http",response_code="200"} 1 %d`+"\n",
				c, s, sampleAt.Unix())
		}
	}
	fmt.Fprintln(w, "# EOF")
	require.NoError(t, w.Flush())

	started := time.Now()
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	textBytes := om.Len()
	require.NoError(t, e.LoadOpenMetricsReader(&om, "explosion"))
	loaded := time.Since(started)

	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	d := topology.NewDiscoverer(e, topology.Config{
		Adapters: topology.DefaultAdapters(topology.AdapterOptions{}),
	})
	ctx := context.Background()
	cycle := func(at time.Time) (*topology.Snapshot, time.Duration) {
		start := time.Now()
		got, err := d.Run(ctx, at)
		require.NoError(t, err)
		return got.(*topology.Snapshot), time.Since(start)
	}

	first, firstTook := cycle(sampleAt.Add(30 * time.Second))
	require.Equal(t, topology.DefaultMaxEdges, first.Graph.EdgeCount())
	refused := first.Dropped[topology.DropMaxEdges] + first.Dropped[topology.DropMaxServices]
	require.InDelta(t, clients*servers-topology.DefaultMaxEdges, refused, 0)
	require.Zero(t, first.Changes[topology.Change{Kind: "edge", Action: "added"}],
		"the first look back is not a change")

	// The next cycle's window (the minute since, plus the overlap for late
	// samples) holds the same samples: the refused edges are still refused,
	// and nothing is counted as added.
	second, secondTook := cycle(sampleAt.Add(90 * time.Second))
	runtime.ReadMemStats(&after)
	require.Equal(t, topology.DefaultMaxEdges, second.Graph.EdgeCount())
	require.Zero(t, second.Changes[topology.Change{Kind: "edge", Action: "added"}])
	require.Zero(t, second.Changes[topology.Change{Kind: "service", Action: "added"}])

	var held runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&held)
	runtime.KeepAlive(d)
	t.Logf("%d edges as %.1f MB of OpenMetrics, loaded in %s; cycles %s and %s; "+
		"%.0f MB allocated by both cycles, %.1f MB live heap growth; "+
		"dropped after two cycles: %v",
		clients*servers, float64(textBytes)/1e6, loaded.Round(time.Millisecond),
		firstTook.Round(time.Millisecond), secondTook.Round(time.Millisecond),
		float64(after.TotalAlloc-before.TotalAlloc)/1e6,
		(float64(held.HeapAlloc)-float64(before.HeapAlloc))/1e6, second.Dropped)
}
