package graph

import (
	"math"
	"slices"
	"strings"
)

// NodeID identifies a node as "cluster/namespace/name". Empty parts are kept, so a
// service known only by name is "//name" and IDs from different sources compare equal
// when their identities do.
type NodeID string

// MakeID builds the NodeID of a service from its identity parts.
func MakeID(cluster, namespace, name string) NodeID {
	return NodeID(cluster + "/" + namespace + "/" + name)
}

// splitID returns the parts of an ID built by MakeID. An ID without two slashes is
// taken as a bare name, so that callers handing in arbitrary strings still get a node
// whose Name is readable.
func splitID(id NodeID) (cluster, namespace, name string) {
	parts := strings.SplitN(string(id), "/", 3)
	if len(parts) != 3 {
		return "", "", string(id)
	}
	return parts[0], parts[1], parts[2]
}

// Kind says what a node is. Only KindUnknown changes the analysis (see Analyze); the
// others are carried for the outputs.
type Kind string

// Node kinds, as named in the JSON graph output.
const (
	KindService   Kind = "service"
	KindDatabase  Kind = "database"
	KindMessaging Kind = "messaging"
	KindExternal  Kind = "external"
	KindUnknown   Kind = "unknown"
)

// Node is one vertex of the service graph.
type Node struct {
	ID        NodeID
	Name      string
	Namespace string
	Cluster   string
	Kind      Kind
}

// Edge is the traffic from a client to a server over one analysis window.
//
// Ratios and latencies use NaN for "not measured": a zero value means the telemetry saw
// zero. Values that cannot be measurements (negative or infinite rates, ratios outside
// [0,1], negative latencies) are cleaned by AddEdge.
type Edge struct {
	Client NodeID
	Server NodeID
	// Protocol is the application protocol (http, grpc, tcp, ...); merged edges list
	// theirs sorted and comma-separated.
	Protocol string
	// RequestsPerSecond is the call rate; 0 when the edge exists but saw no traffic.
	RequestsPerSecond float64
	// ErrorRatio is the share of calls the client saw fail.
	ErrorRatio float64
	// ServerErrorRatio is the share of calls the server reported as failed; NaN when
	// the server side is not instrumented.
	ServerErrorRatio float64
	// LatencyP95Seconds is the server-side 95th percentile latency of these calls.
	LatencyP95Seconds float64
	// Sources names the telemetry that saw the edge (istio, linkerd, ...), sorted.
	Sources []string
}

type edgeKey struct {
	client, server NodeID
}

// Graph is a directed service graph. The zero value is not usable; call New. A Graph is
// not safe for concurrent mutation, but Analyze only reads it.
type Graph struct {
	nodes map[NodeID]Node
	edges map[edgeKey]Edge
}

// New returns an empty graph.
func New() *Graph {
	return &Graph{nodes: map[NodeID]Node{}, edges: map[edgeKey]Edge{}}
}

// AddNode adds a node or replaces the attributes of the node with the same ID. An empty
// ID is built from the identity parts; empty identity parts are filled from the ID; an
// empty Kind means KindService.
func (g *Graph) AddNode(n Node) {
	if n.ID == "" {
		n.ID = MakeID(n.Cluster, n.Namespace, n.Name)
	}
	if n.Cluster == "" && n.Namespace == "" && n.Name == "" {
		n.Cluster, n.Namespace, n.Name = splitID(n.ID)
	}
	if n.Kind == "" {
		n.Kind = KindService
	}
	g.nodes[n.ID] = n
}

// AddEdge adds an edge, creating missing endpoints as services named after their IDs.
//
// A second edge with the same client and server is merged into the first, as traffic
// that the first did not include (another protocol, another label set of the same
// pair): rates add, error ratios are averaged weighted by rate, the p95 latency is the
// larger of the two (the p95 of a mixture never exceeds the larger p95, so this is an
// upper bound), protocols and sources are unions. Telemetry sources that report the
// same requests twice must be de-duplicated before they reach the graph. Merging two
// edges is commutative; with three or more, the order of calls can change the last
// bits of the rate-weighted averages, never more.
func (g *Graph) AddEdge(e Edge) {
	e = cleanEdge(e)
	for _, id := range []NodeID{e.Client, e.Server} {
		if _, ok := g.nodes[id]; !ok {
			g.AddNode(Node{ID: id})
		}
	}

	key := edgeKey{e.Client, e.Server}
	prev, ok := g.edges[key]
	if !ok {
		g.edges[key] = e
		return
	}
	g.edges[key] = mergeEdges(prev, e)
}

func cleanEdge(e Edge) Edge {
	if !finite(e.RequestsPerSecond) || e.RequestsPerSecond < 0 {
		e.RequestsPerSecond = 0
	}
	e.ErrorRatio = cleanRatio(e.ErrorRatio)
	e.ServerErrorRatio = cleanRatio(e.ServerErrorRatio)
	if !finite(e.LatencyP95Seconds) || e.LatencyP95Seconds < 0 {
		e.LatencyP95Seconds = math.NaN()
	}
	e.Sources = sortedUnion(nil, e.Sources)
	return e
}

// cleanRatio keeps NaN (not measured), turns infinities into NaN (a division by zero
// upstream, not a measurement) and clamps the rest into [0,1].
func cleanRatio(r float64) float64 {
	if !finite(r) {
		return math.NaN()
	}
	return min(max(r, 0), 1)
}

func mergeEdges(a, b Edge) Edge {
	m := a
	m.RequestsPerSecond = a.RequestsPerSecond + b.RequestsPerSecond
	m.ErrorRatio = WeightedRatio(a.ErrorRatio, a.RequestsPerSecond, b.ErrorRatio, b.RequestsPerSecond)
	m.ServerErrorRatio = WeightedRatio(a.ServerErrorRatio, a.RequestsPerSecond,
		b.ServerErrorRatio, b.RequestsPerSecond)
	m.LatencyP95Seconds = MaxKnown(a.LatencyP95Seconds, b.LatencyP95Seconds)
	m.Protocol = strings.Join(sortedUnion(splitProtocols(a.Protocol), splitProtocols(b.Protocol)), ",")
	m.Sources = sortedUnion(a.Sources, b.Sources)
	return m
}

// WeightedRatio averages two ratios by their request rates. A side that was not
// measured (NaN) does not dilute the other; when neither side saw traffic the larger
// ratio is kept, so that merging never hides a failure.
func WeightedRatio(x, wx, y, wy float64) float64 {
	switch {
	case math.IsNaN(x):
		return y
	case math.IsNaN(y):
		return x
	case wx+wy == 0:
		return max(x, y)
	}
	return (x*wx + y*wy) / (wx + wy)
}

// MaxKnown is the larger of two figures, NaN standing for "not measured".
func MaxKnown(x, y float64) float64 {
	switch {
	case math.IsNaN(x):
		return y
	case math.IsNaN(y):
		return x
	}
	return max(x, y)
}

func splitProtocols(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

func sortedUnion(a, b []string) []string {
	if len(a)+len(b) == 0 {
		return nil
	}
	out := slices.Concat(a, b)
	slices.Sort(out)
	return slices.Compact(out)
}

func finite(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0)
}

// Node returns the node with the given ID.
func (g *Graph) Node(id NodeID) (Node, bool) {
	n, ok := g.nodes[id]
	return n, ok
}

// Edge returns the (merged) edge from client to server. Its Sources slice belongs to
// the graph: read it, do not modify it.
func (g *Graph) Edge(client, server NodeID) (Edge, bool) {
	e, ok := g.edges[edgeKey{client, server}]
	return e, ok
}

// Nodes returns every node, sorted by ID.
func (g *Graph) Nodes() []Node {
	out := make([]Node, 0, len(g.nodes))
	for _, n := range g.nodes {
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b Node) int { return strings.Compare(string(a.ID), string(b.ID)) })
	return out
}

// Edges returns every edge, self-loops included, sorted by client then server. As with
// Edge, the Sources slices belong to the graph.
func (g *Graph) Edges() []Edge {
	out := make([]Edge, 0, len(g.edges))
	for _, e := range g.edges {
		out = append(out, e)
	}
	slices.SortFunc(out, compareEdges)
	return out
}

func compareEdges(a, b Edge) int {
	if c := strings.Compare(string(a.Client), string(b.Client)); c != 0 {
		return c
	}
	return strings.Compare(string(a.Server), string(b.Server))
}

// NodeCount returns the number of nodes.
func (g *Graph) NodeCount() int { return len(g.nodes) }

// EdgeCount returns the number of edges, self-loops included.
func (g *Graph) EdgeCount() int { return len(g.edges) }
