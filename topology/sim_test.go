package topology

import (
	"bytes"
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
)

// TestSimulatedWorld compares, per source, the edges each adapter finds in a
// simulated hour with the world's truth: every edge the source shows is found, by
// name or from the unknown caller, and nothing else.
func TestSimulatedWorld(t *testing.T) {
	start := time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)
	w, err := sim.New(sim.Options{Scenario: "steady", Seed: 1, Start: start,
		Duration: time.Hour, Step: time.Minute})
	require.NoError(t, err)
	var om bytes.Buffer
	require.NoError(t, w.WriteOpenMetrics(&om))
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	require.NoError(t, e.LoadOpenMetricsReader(&om, "sim"))
	truth := w.Truth()

	window := Window{At: start.Add(time.Hour), Presence: 2 * time.Hour, Rate: 5 * time.Minute}
	for _, a := range []Adapter{
		NewIstio(AdapterOptions{}), NewLinkerd(AdapterOptions{}), NewServiceGraph(AdapterOptions{}),
	} {
		t.Run(a.Name(), func(t *testing.T) {
			var want []string
			for _, te := range truth.Edges {
				if slices.Contains(te.Sources, a.Name()) {
					want = append(want, te.Client+" -> "+te.Server)
				}
				if slices.Contains(te.AnonymousSources, a.Name()) {
					want = append(want, UnknownEndpoint.Name+" -> "+te.Server)
				}
			}
			rep, err := a.Observe(context.Background(), e, window)
			require.NoError(t, err)
			var got []string
			for _, o := range rep.Observations {
				got = append(got, o.Client.Name+" -> "+o.Server.Name)
			}
			slices.Sort(want)
			slices.Sort(got)
			require.NotEmpty(t, want)
			require.Equal(t, slices.Compact(want), slices.Compact(got))
			require.Zero(t, rep.Dropped)
		})
	}
}
