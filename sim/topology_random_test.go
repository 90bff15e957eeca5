package sim

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRandomTopologyErrors(t *testing.T) {
	cases := []struct {
		name            string
		services, edges int
		wantErr         string
	}{
		{"one service", 1, 1, "1 services, want 2 to 2000"},
		{"too many services", 2001, 5000, "want 2 to 2000"},
		{"too many edges", 500, 50001, "want at most 50000"},
		{"too few edges", 100, 50,
			"50 edges cannot reach 100 services from 2 entry points (want at least 98)"},
		{"more edges than pairs", 10, 100, "100 edges exceed the 73 possible caller-callee pairs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := RandomTopology(1, tc.services, tc.edges)
			require.ErrorContains(t, err, tc.wantErr)
		})
	}
}

func TestRandomTopologyShape(t *testing.T) {
	cases := []struct {
		seed            int64
		services, edges int
		cycles          bool
	}{
		{1, 500, 5000, true},
		{2, 120, 400, true},
		{3, 12, 16, true},
		{4, 10, 9, false}, // the minimum: a tree from the entry point
		{5, 10, 73, true}, // the maximum: every allowed pair
		{6, 2, 1, false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%d/%d", tc.services, tc.edges), func(t *testing.T) {
			topo, err := RandomTopology(tc.seed, tc.services, tc.edges)
			require.NoError(t, err)
			require.Len(t, topo.Nodes, tc.services)
			require.Len(t, topo.Edges, tc.edges)

			// Deterministic per seed, different across seeds.
			again, err := RandomTopology(tc.seed, tc.services, tc.edges)
			require.NoError(t, err)
			require.Equal(t, topo, again)
			other, err := RandomTopology(tc.seed+100, tc.services, tc.edges)
			require.NoError(t, err)
			require.NotEqual(t, topo.Edges, other.Edges)

			// It reads back from the edge format as the same graph: valid names,
			// no duplicate or self edges.
			var text strings.Builder
			for _, e := range topo.Edges {
				fmt.Fprintf(&text, "%s -> %s %s\n", e.Client, e.Server, e.Kind)
			}
			parsed, err := ParseTopology(strings.NewReader(text.String()), topo.Name+".edges")
			require.NoError(t, err)
			require.Equal(t, topo.Nodes, parsed.Nodes)
			require.Equal(t, topo.Name, parsed.Name)

			requireRandomShape(t, topo, tc.cycles)
		})
	}
}

// requireRandomShape checks what makes the graph look real: a few entry points
// reaching everything, stores that call nothing, cycles, heavy-tailed fan-in.
func requireRandomShape(t *testing.T, topo *Topology, cycles bool) {
	t.Helper()
	out := map[string][]string{}
	in := map[string]int{}
	kindOf := map[string]EdgeKind{}
	for _, e := range topo.Edges {
		out[e.Client] = append(out[e.Client], e.Server)
		in[e.Server]++
		if e.Kind != KindService {
			kindOf[e.Server] = e.Kind
		}
	}
	roots := topo.roots()
	require.NotEmpty(t, roots)
	require.LessOrEqual(t, len(roots), 5)

	reached := map[string]bool{}
	var walk func(string)
	walk = func(n string) {
		if reached[n] {
			return
		}
		reached[n] = true
		for _, s := range out[n] {
			walk(s)
		}
	}
	for _, r := range roots {
		walk(r)
	}
	require.Len(t, reached, len(topo.Nodes), "every node is reachable from an entry point")

	for store, kind := range kindOf {
		require.Empty(t, out[store], "store %s calls nothing", store)
		for _, e := range topo.Edges {
			if e.Server == store {
				require.Equal(t, kind, e.Kind, "every edge to %s has its kind", store)
			}
		}
	}
	require.Equal(t, cycles, hasCycle(topo.Nodes, out))

	if len(topo.Nodes) >= 100 {
		kinds := map[EdgeKind]int{}
		for _, k := range kindOf {
			kinds[k]++
		}
		require.Positive(t, kinds[KindDatabase])
		require.Positive(t, kinds[KindMessaging])
		// Heavy-tailed fan-in: the most called node has many times the mean.
		maxIn := 0
		for _, n := range in {
			maxIn = max(maxIn, n)
		}
		mean := float64(len(topo.Edges)) / float64(len(in))
		require.Greater(t, float64(maxIn), 4*mean, "max fan-in %d, mean %.1f", maxIn, mean)
	}
}

func hasCycle(nodes []string, out map[string][]string) bool {
	const (
		unseen = iota
		open
		done
	)
	state := map[string]int{}
	var visit func(string) bool
	visit = func(n string) bool {
		state[n] = open
		for _, s := range out[n] {
			if state[s] == open || state[s] == unseen && visit(s) {
				return true
			}
		}
		state[n] = done
		return false
	}
	return slices.ContainsFunc(nodes, func(n string) bool { return state[n] == unseen && visit(n) })
}
