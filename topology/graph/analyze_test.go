package graph

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// structure is what Analyze says about the shape of a graph, by node name.
type structure struct {
	fanIn, fanOut map[string]int
	dependents    map[string][]string
	dependencies  map[string][]string
	components    [][]string
	condensation  []ComponentEdge
	entryPoints   []string
	paths         map[string][][]string // entry point -> steps
}

func TestAnalyzeStructure(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edges string
		opts  Options
		kinds map[string]Kind
		want  structure
	}{
		{
			name:  "chain",
			edges: "a->b->c",
			want: structure{
				fanIn:        map[string]int{"a": 0, "b": 1, "c": 1},
				fanOut:       map[string]int{"a": 1, "b": 1, "c": 0},
				dependents:   map[string][]string{"a": nil, "b": {"a"}, "c": {"a", "b"}},
				dependencies: map[string][]string{"a": {"b", "c"}, "b": {"c"}, "c": nil},
				components:   [][]string{{"a"}, {"b"}, {"c"}},
				condensation: []ComponentEdge{{0, 1}, {1, 2}},
				entryPoints:  []string{"a"},
				paths:        map[string][][]string{"a": {{"a"}, {"b"}, {"c"}}},
			},
		},
		{
			name:  "diamond",
			edges: "a->b->d, a->c->d",
			want: structure{
				fanIn:        map[string]int{"a": 0, "b": 1, "c": 1, "d": 2},
				fanOut:       map[string]int{"a": 2, "b": 1, "c": 1, "d": 0},
				dependents:   map[string][]string{"a": nil, "b": {"a"}, "c": {"a"}, "d": {"a", "b", "c"}},
				dependencies: map[string][]string{"a": {"b", "c", "d"}, "b": {"d"}, "c": {"d"}, "d": nil},
				components:   [][]string{{"a"}, {"c"}, {"b"}, {"d"}},
				condensation: []ComponentEdge{{0, 1}, {0, 2}, {1, 3}, {2, 3}},
				entryPoints:  []string{"a"},
				// Equal weights and lengths: the branch that sorts first wins.
				paths: map[string][][]string{"a": {{"a"}, {"b"}, {"d"}}},
			},
		},
		{
			name:  "cycle of two behind a caller",
			edges: "x->a->b->a",
			want: structure{
				fanIn:        map[string]int{"a": 2, "b": 1, "x": 0},
				fanOut:       map[string]int{"a": 1, "b": 1, "x": 1},
				dependents:   map[string][]string{"a": {"b", "x"}, "b": {"a", "x"}, "x": nil},
				dependencies: map[string][]string{"a": {"b"}, "b": {"a"}, "x": {"a", "b"}},
				components:   [][]string{{"x"}, {"a", "b"}},
				condensation: []ComponentEdge{{0, 1}},
				entryPoints:  []string{"x"},
				paths:        map[string][][]string{"x": {{"x"}, {"a", "b"}}},
			},
		},
		{
			name:  "cycle of three feeding a store, entered at its second member",
			edges: "gw->b, a->b->c->a, c->db",
			kinds: map[string]Kind{"db": KindDatabase},
			want: structure{
				fanIn:  map[string]int{"a": 1, "b": 2, "c": 1, "db": 1, "gw": 0},
				fanOut: map[string]int{"a": 1, "b": 1, "c": 2, "db": 0, "gw": 1},
				dependents: map[string][]string{
					"a": {"b", "c", "gw"}, "b": {"a", "c", "gw"}, "c": {"a", "b", "gw"},
					"db": {"a", "b", "c", "gw"}, "gw": nil,
				},
				dependencies: map[string][]string{
					"a": {"b", "c", "db"}, "b": {"a", "c", "db"}, "c": {"a", "b", "db"},
					"db": nil, "gw": {"a", "b", "c", "db"},
				},
				components:   [][]string{{"gw"}, {"a", "b", "c"}, {"db"}},
				condensation: []ComponentEdge{{0, 1}, {1, 2}},
				entryPoints:  []string{"gw"},
				paths:        map[string][][]string{"gw": {{"gw"}, {"b", "a", "c"}, {"db"}}},
			},
		},
		{
			// The cycle {x,y} reaches the cycle {a,b} through y->a and x->b: the
			// chain enters at a, the first in ID order, though x sorts before y.
			name:  "cycle entered twice",
			edges: "gw->x->y->x, x->b, y->a, a->b->a",
			want: structure{
				fanIn:  map[string]int{"a": 2, "b": 2, "gw": 0, "x": 2, "y": 1},
				fanOut: map[string]int{"a": 1, "b": 1, "gw": 1, "x": 2, "y": 2},
				dependents: map[string][]string{
					"a": {"b", "gw", "x", "y"}, "b": {"a", "gw", "x", "y"}, "gw": nil,
					"x": {"gw", "y"}, "y": {"gw", "x"},
				},
				dependencies: map[string][]string{
					"a": {"b"}, "b": {"a"}, "gw": {"a", "b", "x", "y"},
					"x": {"a", "b", "y"}, "y": {"a", "b", "x"},
				},
				components:   [][]string{{"gw"}, {"x", "y"}, {"a", "b"}},
				condensation: []ComponentEdge{{0, 1}, {1, 2}},
				entryPoints:  []string{"gw"},
				paths:        map[string][][]string{"gw": {{"gw"}, {"x", "y"}, {"a", "b"}}},
			},
		},
		{
			name:  "disconnected parts and a lone self-caller",
			edges: "a->b, c->d, e->e",
			want: structure{
				fanIn:        map[string]int{"a": 0, "b": 1, "c": 0, "d": 1, "e": 0},
				fanOut:       map[string]int{"a": 1, "b": 0, "c": 1, "d": 0, "e": 0},
				dependents:   map[string][]string{"a": nil, "b": {"a"}, "c": nil, "d": {"c"}, "e": nil},
				dependencies: map[string][]string{"a": {"b"}, "b": nil, "c": {"d"}, "d": nil, "e": nil},
				components:   [][]string{{"e"}, {"c"}, {"d"}, {"a"}, {"b"}},
				condensation: []ComponentEdge{{1, 2}, {3, 4}},
				entryPoints:  []string{"a", "c", "e"},
				paths: map[string][][]string{
					"a": {{"a"}, {"b"}}, "c": {{"c"}, {"d"}}, "e": {{"e"}},
				},
			},
		},
		{
			name:  "unknown callers do not count, gateways do",
			edges: "unknown->front->back, gw->front, lb->gw",
			kinds: map[string]Kind{"unknown": KindUnknown},
			opts:  Options{Gateways: []NodeID{id("gw"), id("not-in-graph")}},
			want: structure{
				fanIn:  map[string]int{"back": 1, "front": 2, "gw": 1, "lb": 0, "unknown": 0},
				fanOut: map[string]int{"back": 0, "front": 1, "gw": 1, "lb": 1, "unknown": 1},
				dependents: map[string][]string{
					"back": {"front", "gw", "lb", "unknown"}, "front": {"gw", "lb", "unknown"},
					"gw": {"lb"}, "lb": nil, "unknown": nil,
				},
				dependencies: map[string][]string{
					"back": nil, "front": {"back"}, "gw": {"back", "front"},
					"lb": {"back", "front", "gw"}, "unknown": {"back", "front"},
				},
				components:   [][]string{{"unknown"}, {"lb"}, {"gw"}, {"front"}, {"back"}},
				condensation: []ComponentEdge{{0, 3}, {1, 2}, {2, 3}, {3, 4}},
				entryPoints:  []string{"gw", "lb"},
				paths: map[string][][]string{
					"gw": {{"gw"}, {"front"}, {"back"}},
					"lb": {{"lb"}, {"gw"}, {"front"}, {"back"}},
				},
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := graphOf(t, chainSpec(tc.edges)...)
			for name, kind := range tc.kinds {
				g.AddNode(Node{ID: id(name), Kind: kind})
			}
			res := Analyze(g, tc.opts)

			got := structure{
				fanIn: map[string]int{}, fanOut: map[string]int{},
				dependents: map[string][]string{}, dependencies: map[string][]string{},
				paths: map[string][][]string{},
			}
			for _, n := range res.Nodes {
				name := string(n.ID[2:])
				got.fanIn[name], got.fanOut[name] = n.FanIn, n.FanOut
				got.dependents[name] = names(n.Dependents)
				got.dependencies[name] = names(n.Dependencies)
				require.Equal(t, n.EntryPoint, contains(tc.want.entryPoints, name), name)
			}
			for _, c := range res.Components {
				got.components = append(got.components, names(c.Members))
			}
			got.condensation = res.Condensation
			got.entryPoints = names(res.EntryPoints)
			require.Len(t, res.CriticalPaths, len(res.EntryPoints))
			for i, p := range res.CriticalPaths {
				require.Equal(t, res.EntryPoints[i], p.EntryPoint)
				var steps [][]string
				var flat []NodeID
				for _, s := range p.Steps {
					steps = append(steps, names(s))
					flat = append(flat, s...)
				}
				require.Equal(t, flat, p.Nodes)
				got.paths[string(p.EntryPoint[2:])] = steps
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func names(in []NodeID) []string {
	if len(in) == 0 {
		return nil
	}
	out := make([]string, len(in))
	for i, n := range in {
		out[i] = string(n[2:]) // drop the empty cluster and namespace
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestAnalyzeEmptyGraph(t *testing.T) {
	res := Analyze(New(), Options{})
	require.Empty(t, res.Nodes)
	require.Empty(t, res.Components)
	require.Empty(t, res.EntryPoints)
	require.Empty(t, res.CriticalPaths)
	require.Empty(t, res.ErrorOrigins)
	_, ok := res.Node(id("a"))
	require.False(t, ok)
}

func TestAnalyzeSelfLoops(t *testing.T) {
	g := graphOf(t, chainSpec("a->a, a->b, b->b, b->c")...)
	res := Analyze(g, Options{})

	require.Equal(t, 2, res.SelfLoops)
	a := nodeResult(t, res, "a")
	require.True(t, a.SelfLoop)
	require.Equal(t, 0, a.FanIn)
	require.Equal(t, 1, a.FanOut)
	require.Equal(t, ids("b", "c"), a.Dependencies)
	require.True(t, a.EntryPoint, "a self-call is not a caller")
	require.False(t, nodeResult(t, res, "c").SelfLoop)
	require.Len(t, res.Components, 3, "a self-loop makes no cycle of its own")
}

func TestAnalyzeIsolatedNode(t *testing.T) {
	g := graphOf(t, timed("a", "b", 1, 0.1))
	g.AddNode(Node{Name: "lonely"})
	g.AddNode(Node{Name: "ghost", Kind: KindUnknown})
	res := Analyze(g, Options{})

	lonely := nodeResult(t, res, "lonely")
	require.True(t, lonely.EntryPoint, "nobody calls it")
	require.Empty(t, lonely.Dependents)
	require.Empty(t, lonely.Dependencies)
	require.Zero(t, lonely.BottleneckScore)
	require.False(t, nodeResult(t, res, "ghost").EntryPoint, "unknown callers are no entry")
	require.Equal(t, ids("a", "lonely"), res.EntryPoints)
	require.Equal(t, ids("lonely"), res.CriticalPaths[1].Nodes)
	require.Len(t, res.Components, 4)
}

func TestBetweenness(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edges string
		want  map[string]float64
	}{
		{
			name:  "two nodes",
			edges: "a->b",
			want:  map[string]float64{"a": 0, "b": 0},
		},
		{
			// One pair (a,c) of the 3·2 ordered pairs goes through b.
			name:  "chain",
			edges: "a->b->c",
			want:  map[string]float64{"a": 0, "b": 1.0 / 2, "c": 0},
		},
		{
			// Three hops, so that a node's share reaches it through another's:
			// b lies on (a,c) and (a,d), c on (a,d) and (b,d), out of 3·2 pairs.
			name:  "long chain",
			edges: "a->b->c->d",
			want:  map[string]float64{"a": 0, "b": 2.0 / 6, "c": 2.0 / 6, "d": 0},
		},
		{
			// (a,e) has two shortest paths through b or c, both through d: d
			// carries all of (a,e), (b,e) and (c,e); b and c half of (a,d) and
			// (a,e) each; out of 4·3 pairs.
			name:  "diamond then a tail",
			edges: "a->b->d->e, a->c->d",
			want: map[string]float64{"a": 0, "b": 1.0 / 12, "c": 1.0 / 12,
				"d": 3.0 / 12, "e": 0},
		},
		{
			// (a,d) has two shortest paths: b and c each carry half, out of 3·2 pairs.
			name:  "diamond",
			edges: "a->b->d, a->c->d",
			want:  map[string]float64{"a": 0, "b": 0.5 / 6, "c": 0.5 / 6, "d": 0},
		},
		{
			// a->b->c->a: each node lies on the one shortest path between the other
			// two in one direction.
			name:  "cycle of three",
			edges: "a->b->c->a",
			want:  map[string]float64{"a": 1.0 / 2, "b": 1.0 / 2, "c": 1.0 / 2},
		},
		{
			// The shortcut a->c is shorter than a->b->c, so b lies on no shortest
			// path between two other nodes.
			name:  "shortcut",
			edges: "a->b->c, a->c",
			want:  map[string]float64{"a": 0, "b": 0, "c": 0},
		},
		{
			name:  "star through a hub, plus an isolated self-caller",
			edges: "x->hub->y, z->hub, i->i",
			// (x,y) and (z,y) out of 4·3 pairs.
			want: map[string]float64{"hub": 2.0 / 12, "i": 0, "x": 0, "y": 0, "z": 0},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(graphOf(t, chainSpec(tc.edges)...), Options{})
			got := map[string]float64{}
			for _, n := range res.Nodes {
				got[string(n.ID[2:])] = n.Betweenness
			}
			require.Len(t, got, len(tc.want))
			for name, want := range tc.want {
				require.InDelta(t, want, got[name], 1e-12, name)
			}
		})
	}
}
