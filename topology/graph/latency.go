package graph

import (
	"math"
	"strings"
)

// selfTimes sets inbound traffic, inbound latency and the self-time estimate of every
// node; Analyze documents the formula and its limits.
func selfTimes(c *compiled, nodes []NodeResult) {
	for v := range c.nodes {
		r := &nodes[v]
		r.InboundLatencySeconds = math.NaN()

		var latencySum, weightSum, plainSum float64
		known := 0
		for _, a := range c.in[v] {
			e := a.edge
			r.InboundRequestsPerSecond += e.RequestsPerSecond
			if math.IsNaN(e.LatencyP95Seconds) {
				continue
			}
			latencySum += e.LatencyP95Seconds * e.RequestsPerSecond
			weightSum += e.RequestsPerSecond
			plainSum += e.LatencyP95Seconds
			known++
		}
		if known == 0 || r.InboundRequestsPerSecond == 0 {
			continue
		}
		// Edges with a latency but no measured rate still say how slow the node is;
		// weight them equally only when no measured edge has traffic.
		if weightSum > 0 {
			r.InboundLatencySeconds = latencySum / weightSum
		} else {
			r.InboundLatencySeconds = plainSum / float64(known)
		}

		var calleeTime float64
		for _, a := range c.out[v] {
			e := a.edge
			callsPerRequest := e.RequestsPerSecond / r.InboundRequestsPerSecond
			calleeTime += callsPerRequest * nanToZero(e.LatencyP95Seconds)
		}
		r.SelfTimeSeconds = max(0, r.InboundLatencySeconds-calleeTime)
		r.SelfTimeKnown = true
	}
}

// Weights of the bottleneck score; Analyze documents the formula.
const (
	bottleneckFanInWeight      = 0.3
	bottleneckLoadWeight       = 0.4
	bottleneckSaturationWeight = 0.3
)

func bottlenecks(c *compiled, nodes []NodeResult, saturation map[NodeID]float64) {
	var maxFanIn int
	var maxLoad float64
	for _, r := range nodes {
		if r.InboundRequestsPerSecond > 0 {
			maxFanIn = max(maxFanIn, r.FanIn)
			maxLoad = max(maxLoad, r.SelfTimeSeconds*r.InboundRequestsPerSecond)
		}
	}
	useSaturation := false
	for _, s := range saturation {
		if !math.IsNaN(s) {
			useSaturation = true
			break
		}
	}

	for v := range c.nodes {
		r := &nodes[v]
		if r.InboundRequestsPerSecond == 0 {
			continue
		}
		// maxFanIn ≥ 1 here: a node with inbound traffic has a caller.
		score := bottleneckFanInWeight * float64(r.FanIn) / float64(maxFanIn)
		total := bottleneckFanInWeight + bottleneckLoadWeight
		if maxLoad > 0 {
			score += bottleneckLoadWeight * r.SelfTimeSeconds * r.InboundRequestsPerSecond / maxLoad
		}
		if useSaturation {
			s := nanToZero(saturation[c.nodes[v].ID])
			score += bottleneckSaturationWeight * min(max(s, 0), 1)
			total += bottleneckSaturationWeight
		}
		// The clamp only removes rounding: (0.3+0.4)/0.7 is a hair above 1 in floats.
		r.BottleneckScore = min(score/total, 1)
	}
}

// criticalPaths finds the slowest chain from each entry point by dynamic programming
// over the condensation DAG; Analyze documents the weights and tie-breaks.
func criticalPaths(c *compiled, comp []int, comps []Component, entries []NodeID) []CriticalPath {
	ncomp := len(comps)
	members := make([][]int, ncomp)
	for v := range c.nodes {
		members[comp[v]] = append(members[comp[v]], v)
	}

	best := make([]float64, ncomp) // weight of the heaviest chain starting here
	hops := make([]int, ncomp)     // its length in components
	next := make([]int, ncomp)     // its second component, -1 at the end
	enter := make([]int, ncomp)    // the node where it enters next[ci]
	for ci := ncomp - 1; ci >= 0; ci-- {
		// Walking the members' arcs rather than the condensation edges also finds the
		// node where the chain enters the next component: the first in ID order.
		next[ci] = -1
		for _, v := range members[ci] {
			for _, a := range c.out[v] {
				d := comp[a.peer]
				switch {
				case d == ci:
				case next[ci] < 0 || betterChain(best[d], hops[d], comps[d],
					best[next[ci]], hops[next[ci]], comps[next[ci]]):
					next[ci], enter[ci] = d, a.peer
				case d == next[ci]:
					enter[ci] = min(enter[ci], a.peer)
				}
			}
		}
		best[ci], hops[ci] = comps[ci].SelfTimeSeconds, 1
		if d := next[ci]; d >= 0 {
			best[ci] += best[d]
			hops[ci] += hops[d]
		}
	}

	index := make(map[NodeID]int, len(c.nodes))
	for i, node := range c.nodes {
		index[node.ID] = i
	}
	paths := make([]CriticalPath, 0, len(entries))
	for _, entry := range entries {
		v := index[entry]
		path := CriticalPath{EntryPoint: entry, SelfTimeSeconds: best[comp[v]]}
		for ci := comp[v]; ci >= 0; ci = next[ci] {
			step := []NodeID{c.nodes[v].ID}
			for _, m := range members[ci] {
				if m != v {
					step = append(step, c.nodes[m].ID)
				}
			}
			path.Steps = append(path.Steps, step)
			path.Nodes = append(path.Nodes, step...)
			v = enter[ci]
		}
		paths = append(paths, path)
	}
	return paths
}

// betterChain reports whether chain a beats chain b: heavier, then longer, then the
// one whose first member sorts first.
func betterChain(aWeight float64, aHops int, a Component, bWeight float64, bHops int,
	b Component,
) bool {
	if aWeight != bWeight {
		return aWeight > bWeight
	}
	if aHops != bHops {
		return aHops > bHops
	}
	return strings.Compare(string(a.Members[0]), string(b.Members[0])) < 0
}
