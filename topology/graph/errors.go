package graph

import "math"

// errorOrigins applies the error-origin rule that Analyze documents: it sets the error
// ratios and the ErrorOrigin flag of every node and returns the symptom edges, each
// with the origins downstream of it, and the sorted set of all origins.
func errorOrigins(c *compiled, nodes []NodeResult, opts Options) ([]ErrorSymptom, []NodeID) {
	n := len(c.nodes)
	isSymptom := func(e *Edge) bool {
		return e.ErrorRatio >= opts.MinErrorRatio && // false for NaN
			e.RequestsPerSecond*e.ErrorRatio >= opts.MinErrorsPerSecond
	}

	origin := make([]bool, n)
	for v := range c.nodes {
		r := &nodes[v]
		r.InboundErrorRatio, r.UnexplainedErrorRatio = math.NaN(), math.NaN()
		inbound, failed, measured := 0.0, 0.0, false
		for _, a := range c.in[v] {
			e := a.edge
			inbound += e.RequestsPerSecond
			if ratio := MaxKnown(e.ErrorRatio, e.ServerErrorRatio); !math.IsNaN(ratio) {
				failed += e.RequestsPerSecond * ratio
				measured = true
			}
		}
		if inbound == 0 || !measured {
			continue
		}
		explained := 0.0
		for _, a := range c.out[v] {
			explained += a.edge.RequestsPerSecond * nanToZero(a.edge.ErrorRatio)
		}
		unexplained := max(0, failed-explained)
		r.InboundErrorRatio = failed / inbound
		r.UnexplainedErrorRatio = unexplained / inbound

		// failed > 0 follows from unexplained ≥ MinErrorsPerSecond > 0.
		origin[v] = unexplained >= opts.MinErrorsPerSecond &&
			r.UnexplainedErrorRatio >= opts.MinErrorRatio &&
			unexplained/failed >= opts.MinUnexplainedShare
	}

	// Only nodes some caller sees failing count: a node that reports errors its
	// callers never see (they retry successfully) troubles nobody.
	failingOut := make([][]arc, n)
	seen := make([]bool, n)
	for v := range c.nodes {
		for _, a := range c.out[v] {
			if isSymptom(a.edge) {
				failingOut[v] = append(failingOut[v], a)
				seen[a.peer] = true
			}
		}
	}
	below := originsBelow(c, failingOut, origin)

	var symptoms []ErrorSymptom
	for v := range c.nodes {
		for _, a := range failingOut[v] {
			symptoms = append(symptoms, ErrorSymptom{
				Client:     c.nodes[v].ID,
				Server:     c.nodes[a.peer].ID,
				ErrorRatio: a.edge.ErrorRatio,
				Origins:    below[a.peer],
			})
		}
	}

	var origins []NodeID
	for v := range c.nodes {
		if seen[v] && origin[v] {
			nodes[v].ErrorOrigin = true
			origins = append(origins, c.nodes[v].ID)
		}
	}
	return symptoms, origins
}

// originsBelow returns, for every node, the origins reachable from it along failing
// edges, itself included, in ID order. Walking from each symptom separately costs a
// search per symptom, and a bad hour can make thousands of edges symptoms; so the
// failing subgraph is condensed and the origin sets are built once per component,
// downstream first.
func originsBelow(c *compiled, failingOut [][]arc, origin []bool) [][]NodeID {
	n := len(c.nodes)
	comp, ncomp := stronglyConnected(failingOut)
	members := make([][]int, ncomp)
	for v := range n {
		members[comp[v]] = append(members[comp[v]], v)
	}

	sets := make([]bitset, ncomp)
	lists := make([][]NodeID, ncomp)
	for ci := ncomp - 1; ci >= 0; ci-- {
		set := newBitset(n)
		for _, v := range members[ci] {
			if origin[v] {
				set.set(v)
			}
			for _, a := range failingOut[v] {
				if d := comp[a.peer]; d != ci {
					set.union(sets[d]) // downstream, so already built
				}
			}
		}
		sets[ci] = set
		lists[ci] = listIDs(c, set)
	}

	out := make([][]NodeID, n)
	for v := range n {
		out[v] = lists[comp[v]]
	}
	return out
}
