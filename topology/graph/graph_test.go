package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMakeID(t *testing.T) {
	for _, tc := range []struct {
		cluster, namespace, name string
		want                     NodeID
	}{
		{"prod", "shop", "cart", "prod/shop/cart"},
		{"", "shop", "cart", "/shop/cart"},
		{"", "", "cart", "//cart"},
		{"", "", "", "//"},
	} {
		require.Equal(t, tc.want, MakeID(tc.cluster, tc.namespace, tc.name))
	}
}

func TestAddNode(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   Node
		want Node
	}{
		{
			name: "id from parts, default kind",
			in:   Node{Cluster: "c", Namespace: "ns", Name: "cart"},
			want: Node{ID: "c/ns/cart", Cluster: "c", Namespace: "ns", Name: "cart", Kind: KindService},
		},
		{
			name: "parts from id",
			in:   Node{ID: "c/ns/redis", Kind: KindDatabase},
			want: Node{ID: "c/ns/redis", Cluster: "c", Namespace: "ns", Name: "redis", Kind: KindDatabase},
		},
		{
			name: "id without slashes is a bare name",
			in:   Node{ID: "redis"},
			want: Node{ID: "redis", Name: "redis", Kind: KindService},
		},
		{
			name: "given parts are kept",
			in:   Node{ID: "x", Name: "cart", Kind: KindUnknown},
			want: Node{ID: "x", Name: "cart", Kind: KindUnknown},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := New()
			g.AddNode(tc.in)
			got, ok := g.Node(tc.want.ID)
			require.True(t, ok)
			require.Equal(t, tc.want, got)
		})
	}
}

func TestAddNodeReplacesAttributes(t *testing.T) {
	g := New()
	g.AddEdge(call("app", "db"))
	g.AddNode(Node{ID: id("db"), Kind: KindDatabase})

	n, ok := g.Node(id("db"))
	require.True(t, ok)
	require.Equal(t, Node{ID: "//db", Name: "db", Kind: KindDatabase}, n)
	require.Equal(t, 2, g.NodeCount())
	_, ok = g.Node(id("missing"))
	require.False(t, ok)
}

func TestAddEdgeCleansValues(t *testing.T) {
	inf := math.Inf(1)
	for _, tc := range []struct {
		name string
		in   Edge
		want Edge
	}{
		{
			name: "valid values kept",
			in: Edge{RequestsPerSecond: 2, ErrorRatio: 0.5, ServerErrorRatio: 0,
				LatencyP95Seconds: 0.2},
			want: Edge{RequestsPerSecond: 2, ErrorRatio: 0.5, ServerErrorRatio: 0,
				LatencyP95Seconds: 0.2},
		},
		{
			name: "NaN rate is no traffic",
			in: Edge{RequestsPerSecond: nan, ErrorRatio: nan, ServerErrorRatio: nan,
				LatencyP95Seconds: nan},
			want: Edge{RequestsPerSecond: 0, ErrorRatio: nan, ServerErrorRatio: nan,
				LatencyP95Seconds: nan},
		},
		{
			name: "impossible values",
			in: Edge{RequestsPerSecond: -1, ErrorRatio: 1.5, ServerErrorRatio: -0.1,
				LatencyP95Seconds: -3},
			want: Edge{RequestsPerSecond: 0, ErrorRatio: 1, ServerErrorRatio: 0,
				LatencyP95Seconds: nan},
		},
		{
			name: "infinities",
			in: Edge{RequestsPerSecond: inf, ErrorRatio: inf, ServerErrorRatio: -inf,
				LatencyP95Seconds: inf},
			want: Edge{RequestsPerSecond: 0, ErrorRatio: nan, ServerErrorRatio: nan,
				LatencyP95Seconds: nan},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.in.Client, tc.in.Server = id("a"), id("b")
			g := graphOf(t, tc.in)
			got, ok := g.Edge(id("a"), id("b"))
			require.True(t, ok)
			requireSameFloat(t, tc.want.RequestsPerSecond, got.RequestsPerSecond)
			requireSameFloat(t, tc.want.ErrorRatio, got.ErrorRatio)
			requireSameFloat(t, tc.want.ServerErrorRatio, got.ServerErrorRatio)
			requireSameFloat(t, tc.want.LatencyP95Seconds, got.LatencyP95Seconds)
		})
	}
}

// requireSameFloat compares floats treating NaN as equal to NaN.
func requireSameFloat(t *testing.T, want, got float64) {
	t.Helper()
	if math.IsNaN(want) {
		require.True(t, math.IsNaN(got), "want NaN, got %v", got)
		return
	}
	require.InDelta(t, want, got, 1e-12)
}

func TestAddEdgeMerges(t *testing.T) {
	edge := func(rps, clientRatio, serverRatio, latency float64, protocol string,
		sources ...string,
	) Edge {
		return Edge{
			Client: id("a"), Server: id("b"), Protocol: protocol, RequestsPerSecond: rps,
			ErrorRatio: clientRatio, ServerErrorRatio: serverRatio, LatencyP95Seconds: latency,
			Sources: sources,
		}
	}
	for _, tc := range []struct {
		name string
		a, b Edge
		want Edge
	}{
		{
			name: "rates add, ratios weighted, latency max",
			a:    edge(3, 0.1, 0.2, 0.5, "http", "istio"),
			b:    edge(1, 0.5, 0.6, 0.1, "grpc", "otel", "istio"),
			want: edge(4, 0.2, 0.3, 0.5, "grpc,http", "istio", "otel"),
		},
		{
			name: "unmeasured side does not dilute",
			a:    edge(3, nan, 0.2, nan, "http"),
			b:    edge(1, 0.5, nan, 0.3, "http"),
			want: edge(4, 0.5, 0.2, 0.3, "http"),
		},
		{
			name: "no traffic keeps the larger ratio",
			a:    edge(0, 0.1, 0, 0.2, ""),
			b:    edge(0, 0.3, 0, nan, "tcp"),
			want: edge(0, 0.3, 0, 0.2, "tcp"),
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, order := range [][2]Edge{{tc.a, tc.b}, {tc.b, tc.a}} {
				g := graphOf(t, order[0], order[1])
				require.Equal(t, 1, g.EdgeCount())
				got, ok := g.Edge(id("a"), id("b"))
				require.True(t, ok)
				requireSameFloat(t, tc.want.RequestsPerSecond, got.RequestsPerSecond)
				requireSameFloat(t, tc.want.ErrorRatio, got.ErrorRatio)
				requireSameFloat(t, tc.want.ServerErrorRatio, got.ServerErrorRatio)
				requireSameFloat(t, tc.want.LatencyP95Seconds, got.LatencyP95Seconds)
				require.Equal(t, tc.want.Protocol, got.Protocol)
				require.Equal(t, tc.want.Sources, got.Sources)
			}
		})
	}
}

func TestAddEdgeDoesNotKeepCallerSlices(t *testing.T) {
	sources := []string{"otel", "istio"}
	g := graphOf(t, Edge{Client: id("a"), Server: id("b"), Sources: sources})
	sources[0] = "changed"

	e, ok := g.Edge(id("a"), id("b"))
	require.True(t, ok)
	require.Equal(t, []string{"istio", "otel"}, e.Sources)
	_, ok = g.Edge(id("b"), id("a"))
	require.False(t, ok)
}

func TestListsAreSorted(t *testing.T) {
	g := graphOf(t, chainSpec("c->a, b->c, a->b, a->a")...)

	var nodes []NodeID
	for _, n := range g.Nodes() {
		nodes = append(nodes, n.ID)
	}
	require.Equal(t, ids("a", "b", "c"), nodes)

	var edges [][2]NodeID
	for _, e := range g.Edges() {
		edges = append(edges, [2]NodeID{e.Client, e.Server})
	}
	require.Equal(t, [][2]NodeID{
		{id("a"), id("a")}, {id("a"), id("b")}, {id("b"), id("c")}, {id("c"), id("a")},
	}, edges)
	require.Equal(t, 3, g.NodeCount())
	require.Equal(t, 4, g.EdgeCount())
}
