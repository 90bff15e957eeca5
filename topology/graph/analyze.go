package graph

import (
	"math"
	"slices"
	"strings"
)

// Default thresholds of the error-origin rule; see Options.
const (
	DefaultMinErrorRatio       = 0.01
	DefaultMinErrorsPerSecond  = 0.01
	DefaultMinUnexplainedShare = 0.25
)

// Options are the inputs of Analyze besides the graph. The zero value is valid: a
// threshold left at zero (or set negative) takes its default.
type Options struct {
	// Gateways are nodes to treat as entry points even though they have callers
	// (ingress gateways, API gateways). IDs that are not in the graph are ignored.
	Gateways []NodeID
	// Saturation is how close each node is to a capacity limit, in [0,1] (CPU against
	// limits, pool usage, HPA at max replicas: the caller decides). Missing nodes and
	// NaN values mean "not known"; values outside [0,1] are clamped.
	Saturation map[NodeID]float64
	// MinErrorRatio is the absolute gate on error ratios: a ratio below it is noise.
	// Default DefaultMinErrorRatio (1%).
	MinErrorRatio float64
	// MinErrorsPerSecond is the absolute gate on failure rates, so that one failed
	// request on an edge with almost no traffic is not flagged. Default
	// DefaultMinErrorsPerSecond (one failure every 100 s).
	MinErrorsPerSecond float64
	// MinUnexplainedShare is the share of a node's failures that its callees must
	// leave unexplained for the node to be an error origin. Default
	// DefaultMinUnexplainedShare.
	MinUnexplainedShare float64
}

func (o Options) withDefaults() Options {
	if !(o.MinErrorRatio > 0) {
		o.MinErrorRatio = DefaultMinErrorRatio
	}
	if !(o.MinErrorsPerSecond > 0) {
		o.MinErrorsPerSecond = DefaultMinErrorsPerSecond
	}
	if !(o.MinUnexplainedShare > 0) {
		o.MinUnexplainedShare = DefaultMinUnexplainedShare
	}
	return o
}

// NodeResult is the analysis of one node.
type NodeResult struct {
	ID NodeID
	// Component is the index of the node's strongly connected component in
	// Result.Components.
	Component int
	// FanIn and FanOut count distinct callers and callees, self excluded.
	FanIn  int
	FanOut int
	// Dependents are the nodes that can reach this one (its blast radius: who is
	// affected if it fails); Dependencies are the nodes it can reach. Both exclude the
	// node itself, even when it sits on a cycle, and are sorted by ID.
	Dependents   []NodeID
	Dependencies []NodeID
	// SelfLoop is true when the node calls itself.
	SelfLoop bool
	// EntryPoint is true for nodes in Result.EntryPoints.
	EntryPoint bool
	// Betweenness is the share of shortest paths between other pairs of nodes that
	// pass through this node (Brandes, unweighted, directed), divided by (n-1)(n-2) so
	// that it lies in [0,1]; 0 when the graph has fewer than three nodes.
	Betweenness float64
	// InboundRequestsPerSecond is the traffic into the node, self-loops excluded.
	InboundRequestsPerSecond float64
	// InboundLatencySeconds is the request-weighted mean of the server-side p95
	// latency of the calls into the node; NaN when none is measured.
	InboundLatencySeconds float64
	// SelfTimeSeconds estimates the time a request spends in the node itself, outside
	// its callees (see Analyze); 0 when SelfTimeKnown is false.
	SelfTimeSeconds float64
	SelfTimeKnown   bool
	// BottleneckScore ranks the node as a bottleneck in [0,1] (see Analyze).
	BottleneckScore float64
	// InboundErrorRatio is the share of calls into the node that failed, by the larger
	// of the client and server views of each edge; NaN without inbound traffic or
	// without error data.
	InboundErrorRatio float64
	// UnexplainedErrorRatio is the share of calls into the node that failed and that
	// failures of its callees do not account for; NaN like InboundErrorRatio.
	UnexplainedErrorRatio float64
	// ErrorOrigin is true when the node is in Result.ErrorOrigins.
	ErrorOrigin bool
}

// Component is one strongly connected component: a single node, or nodes that all
// reach each other through a cycle.
type Component struct {
	// Members, sorted by ID.
	Members []NodeID
	// SelfTimeSeconds is the critical-path weight: the sum of the members' self time.
	SelfTimeSeconds float64
}

// ComponentEdge is an edge of the condensation DAG, between indices of
// Result.Components.
type ComponentEdge struct {
	From, To int
}

// CriticalPath is the slowest chain from an entry point.
type CriticalPath struct {
	EntryPoint NodeID
	// Steps are the components along the chain, each as its members: the node where
	// the chain enters the component first, then the others sorted by ID. A step of
	// one node is the common case; a longer step is a cycle the chain runs through,
	// and its members need not form a path among themselves.
	Steps [][]NodeID
	// Nodes is Steps flattened: every node on the chain, in order.
	Nodes []NodeID
	// SelfTimeSeconds is the summed self time along the chain.
	SelfTimeSeconds float64
}

// ErrorSymptom is an edge whose client sees errors above the gates, with the origins
// found downstream of it.
type ErrorSymptom struct {
	Client, Server NodeID
	ErrorRatio     float64
	// Origins are the error origins reachable from Server along failing edges
	// (Server included), sorted; shared with the other symptoms of the same server.
	// Empty when the failures are spread so thinly that no node passes the origin
	// rule.
	Origins []NodeID
}

// Result is the analysis of a graph. Its lists are sorted as documented per field.
// Symptoms with the same server share one Origins slice: treat a Result as read-only.
type Result struct {
	// Nodes, sorted by ID.
	Nodes []NodeResult
	// Components in a topological order of the condensation: every ComponentEdge
	// goes from a lower to a higher index.
	Components []Component
	// Condensation lists the edges of the condensation DAG, sorted.
	Condensation []ComponentEdge
	// EntryPoints, sorted: nodes whose callers, if any, are all of KindUnknown (and
	// are not themselves of KindUnknown), plus Options.Gateways.
	EntryPoints []NodeID
	// CriticalPaths, one per entry point, in EntryPoints order.
	CriticalPaths []CriticalPath
	// ErrorSymptoms, sorted by client then server.
	ErrorSymptoms []ErrorSymptom
	// ErrorOrigins, sorted.
	ErrorOrigins []NodeID
	// SelfLoops counts nodes that call themselves.
	SelfLoops int
}

// Node returns the result of the node with the given ID.
func (r Result) Node(id NodeID) (NodeResult, bool) {
	i, ok := slices.BinarySearchFunc(r.Nodes, id, func(n NodeResult, id NodeID) int {
		return strings.Compare(string(n.ID), string(id))
	})
	if !ok {
		return NodeResult{}, false
	}
	return r.Nodes[i], true
}

// arc is one end of an edge in the compiled graph.
type arc struct {
	peer int
	edge *Edge
}

// compiled is a Graph in index form: node i is the i-th ID in sorted order, so that
// every loop over indices runs in ID order and results never depend on map order.
type compiled struct {
	nodes    []Node
	out, in  [][]arc // self-loops excluded; sorted by peer
	selfLoop []bool
}

func compile(g *Graph) *compiled {
	c := &compiled{nodes: g.Nodes()}
	n := len(c.nodes)
	index := make(map[NodeID]int, n)
	for i, node := range c.nodes {
		index[node.ID] = i
	}
	c.out = make([][]arc, n)
	c.in = make([][]arc, n)
	c.selfLoop = make([]bool, n)

	// Edges come sorted by (client, server), so each out list fills in peer order and
	// each in list too, because clients arrive in order.
	edges := g.Edges()
	for i := range edges {
		e := &edges[i]
		from, to := index[e.Client], index[e.Server]
		if from == to {
			c.selfLoop[from] = true
			continue
		}
		c.out[from] = append(c.out[from], arc{peer: to, edge: e})
		c.in[to] = append(c.in[to], arc{peer: from, edge: e})
	}
	return c
}

// Analyze computes every answer of the package for g.
//
// Self time. For a node v with inbound traffic, SelfTimeSeconds is
//
//	max(0, L_in(v) − Σ_c (rate(v→c) / rate_in(v)) · p95(v→c))
//
// where L_in is the rate-weighted mean p95 of the calls into v, and the sum is the time
// one inbound request spends waiting on callees: calls per inbound request times their
// latency. It assumes callees are called one after another, on behalf of inbound
// requests, and treats p95s as if they added up. Parallel fan-out, background work
// that calls out without being called, and tail latencies that do not coincide all
// make the callee time too large; the clamp at 0 stops the estimate going negative,
// but a node that does such work shows too little self time. Callee edges without a
// latency count as 0. Without inbound traffic or an inbound latency the self time is
// unknown and taken as 0.
//
// Critical path. The weight of a component is the sum of its members' self time, not
// the maximum: a request that enters a cycle may visit every member, and an operator
// looking for the slow chain should see the cycle's whole cost. From each entry point
// the path follows, at each step, the successor component with the largest remaining
// weight; ties go to the longer remaining chain (so a graph without latency data shows
// its deepest chain), then to the component whose first member sorts first.
//
// Bottleneck score. For a node with inbound traffic,
//
//	score = (0.3·F + 0.4·L + 0.3·S) / (sum of the weights of the terms present)
//
// where F is fan-in over the largest fan-in, L is load (self time times inbound rate,
// the mean number of requests busy inside the node by Little's law) over the largest
// load, both maxima taken over the nodes with inbound traffic, and S is the node's
// saturation. When Options gives a
// saturation for no node at all, S is left out for every node; when it gives some,
// nodes without one count S as 0, so scores stay comparable within a graph. F and L
// are relative to the graph analysed: scores rank nodes, they are not comparable
// between graphs. A node without inbound traffic scores 0.
//
// Error origin. An edge is a symptom when its client sees errors: ErrorRatio ≥
// MinErrorRatio and RequestsPerSecond·ErrorRatio ≥ MinErrorsPerSecond. For a node v
// the failed inbound rate F(v) sums rate·max(ErrorRatio, ServerErrorRatio) over its
// inbound edges (failures callers see that v did not report, such as timeouts and
// resets, are put on v: nothing downstream can explain them). The failures its
// callees explain, D(v), sum rate·ErrorRatio over its outbound edges, assuming each
// failed downstream call fails at most one inbound request (retries and fallbacks make
// it fewer). The unexplained failure rate is U = max(0, F − D). Starting from the
// server of every symptom edge and walking down symptom edges, a node is an origin
// when U ≥ MinErrorsPerSecond, U/rate_in ≥ MinErrorRatio and U/F ≥
// MinUnexplainedShare. A node fully explained by a failing callee is therefore not an
// origin and the walk goes on to the callee; the deepest failing node is the origin.
// Because every symptom edge starts a walk, the nodes visited are exactly the servers
// of symptom edges; ErrorSymptoms keeps, per edge, the origins its walk reached.
func Analyze(g *Graph, opts Options) Result {
	opts = opts.withDefaults()
	c := compile(g)
	n := len(c.nodes)

	res := Result{Nodes: make([]NodeResult, n)}
	for i, node := range c.nodes {
		res.Nodes[i] = NodeResult{
			ID:       node.ID,
			FanIn:    len(c.in[i]),
			FanOut:   len(c.out[i]),
			SelfLoop: c.selfLoop[i],
		}
		if c.selfLoop[i] {
			res.SelfLoops++
		}
	}

	comp, ncomp := stronglyConnected(c.out)
	for i := range res.Nodes {
		res.Nodes[i].Component = comp[i]
	}
	res.Components, res.Condensation = condense(c, comp, ncomp)
	succ := componentSuccessors(res.Condensation, ncomp)
	fillReachability(c, res.Nodes, comp, res.Components, succ)

	betweenness(c, res.Nodes)
	selfTimes(c, res.Nodes)
	for i := range res.Nodes {
		res.Components[comp[i]].SelfTimeSeconds += res.Nodes[i].SelfTimeSeconds
	}
	bottlenecks(c, res.Nodes, opts.Saturation)

	res.EntryPoints = entryPoints(c, res.Nodes, opts.Gateways)
	res.CriticalPaths = criticalPaths(c, comp, res.Components, res.EntryPoints)
	res.ErrorSymptoms, res.ErrorOrigins = errorOrigins(c, res.Nodes, opts)
	return res
}

// entryPoints marks and returns the nodes requests come in through.
func entryPoints(c *compiled, nodes []NodeResult, gateways []NodeID) []NodeID {
	gateway := make(map[NodeID]bool, len(gateways))
	for _, id := range gateways {
		gateway[id] = true
	}

	var out []NodeID
	for i, node := range c.nodes {
		entry := gateway[node.ID]
		if !entry && node.Kind != KindUnknown {
			entry = true
			for _, a := range c.in[i] {
				if c.nodes[a.peer].Kind != KindUnknown {
					entry = false
					break
				}
			}
		}
		if entry {
			nodes[i].EntryPoint = true
			out = append(out, node.ID)
		}
	}
	return out
}

// nanToZero keeps NaN measurements out of sums and scores.
func nanToZero(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}
