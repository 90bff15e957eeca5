package graph

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"
)

// randomGraph builds a graph of distinct random edges with random traffic, some of it
// unmeasured, a few self-loops and a few unknown callers.
func randomGraph(seed uint64, nodes, edges int) *Graph {
	r := rand.New(rand.NewPCG(seed, 0))
	name := func(i int) NodeID { return MakeID("c", "ns", fmt.Sprintf("svc-%03d", i)) }
	maybeNaN := func(x float64) float64 {
		if r.IntN(10) == 0 {
			return math.NaN()
		}
		return x
	}

	g := New()
	for i := range nodes {
		kind := KindService
		if r.IntN(20) == 0 {
			kind = KindUnknown
		}
		g.AddNode(Node{ID: name(i), Kind: kind})
	}
	for g.EdgeCount() < edges {
		client, server := r.IntN(nodes), r.IntN(nodes)
		if _, ok := g.Edge(name(client), name(server)); ok {
			continue
		}
		if client == server && r.IntN(10) != 0 {
			continue // keep self-loops rare
		}
		rps := r.ExpFloat64() * 10
		if r.IntN(10) == 0 {
			rps = 0
		}
		g.AddEdge(Edge{
			Client:            name(client),
			Server:            name(server),
			RequestsPerSecond: rps,
			ErrorRatio:        maybeNaN(r.Float64() * r.Float64() * 0.2),
			ServerErrorRatio:  maybeNaN(r.Float64() * r.Float64() * 0.2),
			LatencyP95Seconds: maybeNaN(r.ExpFloat64() * 0.1),
		})
	}
	return g
}

// reach returns, by breadth-first search over non-self edges, the nodes reachable
// from each node in one or more steps, and the hop distances.
func reach(g *Graph) (ids []NodeID, dist map[NodeID]map[NodeID]int) {
	adj := map[NodeID][]NodeID{}
	for _, e := range g.Edges() {
		if e.Client != e.Server {
			adj[e.Client] = append(adj[e.Client], e.Server)
		}
	}
	dist = map[NodeID]map[NodeID]int{}
	for _, n := range g.Nodes() {
		ids = append(ids, n.ID)
		d := map[NodeID]int{n.ID: 0}
		queue := []NodeID{n.ID}
		for len(queue) > 0 {
			v := queue[0]
			queue = queue[1:]
			for _, w := range adj[v] {
				if _, ok := d[w]; !ok {
					d[w] = d[v] + 1
					queue = append(queue, w)
				}
			}
		}
		dist[n.ID] = d
	}
	return ids, dist
}

func TestProperties(t *testing.T) {
	for seed := range uint64(40) {
		nodes := 2 + int(seed%25)
		edges := int(seed%4+1) * nodes / 2
		t.Run(fmt.Sprintf("seed=%d/nodes=%d/edges=%d", seed, nodes, edges), func(t *testing.T) {
			g := randomGraph(seed, nodes, edges)
			res := Analyze(g, Options{})
			ids, dist := reach(g)
			reaches := func(a, b NodeID) bool { _, ok := dist[a][b]; return a != b && ok }

			// Dependents and dependencies match a plain search, in both directions.
			for _, x := range ids {
				r, ok := res.Node(x)
				require.True(t, ok)
				for _, y := range ids {
					require.Equal(t, reaches(y, x), slices.Contains(r.Dependents, y), "%s reaches %s", y, x)
					require.Equal(t, reaches(x, y), slices.Contains(r.Dependencies, y), "%s reaches %s", x, y)
				}
			}

			// Components: members reach each other; nodes of different components do
			// not; condensation edges go forward.
			compOf := map[NodeID]int{}
			for ci, c := range res.Components {
				for _, m := range c.Members {
					compOf[m] = ci
				}
			}
			require.Len(t, compOf, len(ids))
			for _, a := range ids {
				require.Equal(t, compOf[a], res.Nodes[slices.Index(ids, a)].Component)
				for _, b := range ids {
					mutual := a == b || reaches(a, b) && reaches(b, a)
					require.Equal(t, mutual, compOf[a] == compOf[b], "%s, %s", a, b)
				}
			}
			for _, e := range res.Condensation {
				require.Less(t, e.From, e.To)
			}

			// Betweenness is zero exactly for nodes on no shortest path between two
			// other nodes, and always within [0,1].
			for _, v := range ids {
				onPath := false
				for _, s := range ids {
					for _, u := range ids {
						dsu, ok := dist[s][u]
						if s == v || u == v || s == u || !ok || !reaches(s, v) || !reaches(v, u) {
							continue
						}
						onPath = onPath || dist[s][v]+dist[v][u] == dsu
					}
				}
				r, _ := res.Node(v)
				b := r.Betweenness
				require.Equal(t, onPath, b > 0, "%s betweenness %v", v, b)
				require.LessOrEqual(t, b, 1.0)
			}

			// Critical paths start at their entry point, follow edges from step to
			// step, cover each component once and weigh what their steps weigh.
			for _, p := range res.CriticalPaths {
				require.Equal(t, p.EntryPoint, p.Nodes[0])
				var weight float64
				seen := map[int]bool{}
				for i, step := range p.Steps {
					ci := compOf[step[0]]
					require.False(t, seen[ci])
					seen[ci] = true
					require.ElementsMatch(t, res.Components[ci].Members, step)
					weight += res.Components[ci].SelfTimeSeconds
					if i == 0 {
						continue
					}
					linked := false
					for _, from := range p.Steps[i-1] {
						_, ok := g.Edge(from, step[0])
						linked = linked || ok
					}
					require.True(t, linked, "no edge into %s", step[0])
				}
				require.InDelta(t, weight, p.SelfTimeSeconds, 1e-9)
			}

			// Scores are finite and in range; origins are failing servers.
			for _, n := range res.Nodes {
				require.False(t, math.IsNaN(n.SelfTimeSeconds) || math.IsNaN(n.Betweenness))
				require.GreaterOrEqual(t, n.BottleneckScore, 0.0)
				require.LessOrEqual(t, n.BottleneckScore, 1.0)
				require.GreaterOrEqual(t, n.SelfTimeSeconds, 0.0)
				if n.InboundRequestsPerSecond == 0 {
					require.Zero(t, n.BottleneckScore)
					require.False(t, n.ErrorOrigin)
				}
			}
			for _, s := range res.ErrorSymptoms {
				for _, o := range s.Origins {
					require.True(t, slices.Contains(res.ErrorOrigins, o))
				}
			}
		})
	}
}

// TestDeterministic builds the same graph in two insertion orders and wants the same
// result, NaNs included (fmt prints them alike where == would not).
func TestDeterministic(t *testing.T) {
	g := randomGraph(7, 60, 400)
	edges := g.Edges()
	r := rand.New(rand.NewPCG(1, 2))
	r.Shuffle(len(edges), func(i, j int) { edges[i], edges[j] = edges[j], edges[i] })

	shuffled := New()
	nodes := g.Nodes()
	slices.Reverse(nodes)
	for _, n := range nodes {
		shuffled.AddNode(n)
	}
	for _, e := range edges {
		shuffled.AddEdge(e)
	}

	opts := Options{Saturation: map[NodeID]float64{nodes[0].ID: 0.9}}
	require.Equal(t, fmt.Sprintf("%+v", Analyze(g, opts)), fmt.Sprintf("%+v", Analyze(shuffled, opts)))
}

// TestLongChain checks that a chain far deeper than any recursion budget, closed
// into one big cycle, is analysed without trouble.
func TestLongChain(t *testing.T) {
	const length = 2000
	g := New()
	name := func(i int) string { return fmt.Sprintf("s%04d", i) }
	for i := range length - 1 {
		g.AddEdge(call(name(i), name(i+1)))
	}
	res := Analyze(g, Options{})
	require.Len(t, res.Components, length)
	require.Len(t, res.CriticalPaths[0].Nodes, length)
	require.Len(t, nodeResult(t, res, name(length-1)).Dependents, length-1)

	g.AddEdge(call(name(length-1), name(0)))
	res = Analyze(g, Options{})
	require.Len(t, res.Components, 1)
	require.Empty(t, res.EntryPoints, "a closed cycle has no entry point")
	require.Len(t, nodeResult(t, res, name(0)).Dependencies, length-1)
}
