package graph

import (
	"math/bits"
	"slices"
)

// stronglyConnected labels every node with its strongly connected component, using
// Tarjan's algorithm with an explicit stack so that a chain of thousands of services
// cannot overflow the goroutine stack. Components are numbered in a topological order
// of the condensation (Tarjan finds sinks first; the numbers are reversed at the end).
func stronglyConnected(out [][]arc) (comp []int, ncomp int) {
	n := len(out)
	order := make([]int, n) // discovery order, from 1; 0 means not visited yet
	low := make([]int, n)
	onStack := make([]bool, n)
	comp = make([]int, n)
	var stack []int

	// frame is a suspended visit of v, resuming at its next-th out arc.
	type frame struct{ v, next int }
	var calls []frame
	visited := 0
	visit := func(v int) {
		visited++
		order[v], low[v] = visited, visited
		stack = append(stack, v)
		onStack[v] = true
		calls = append(calls, frame{v: v})
	}

	for root := range n {
		if order[root] != 0 {
			continue
		}
		visit(root)
		for len(calls) > 0 {
			top := &calls[len(calls)-1]
			v := top.v
			if top.next < len(out[v]) {
				w := out[v][top.next].peer
				top.next++
				if order[w] == 0 {
					visit(w)
				} else if onStack[w] {
					low[v] = min(low[v], order[w])
				}
				continue
			}

			calls = calls[:len(calls)-1]
			if len(calls) > 0 {
				parent := calls[len(calls)-1].v
				low[parent] = min(low[parent], low[v])
			}
			if low[v] != order[v] {
				continue
			}
			for {
				w := stack[len(stack)-1]
				stack = stack[:len(stack)-1]
				onStack[w] = false
				comp[w] = ncomp
				if w == v {
					break
				}
			}
			ncomp++
		}
	}

	for i := range comp {
		comp[i] = ncomp - 1 - comp[i]
	}
	return comp, ncomp
}

// condense builds the components and the sorted, de-duplicated condensation edges.
func condense(c *compiled, comp []int, ncomp int) ([]Component, []ComponentEdge) {
	comps := make([]Component, ncomp)
	var edges []ComponentEdge
	for v, node := range c.nodes {
		comps[comp[v]].Members = append(comps[comp[v]].Members, node.ID)
		for _, a := range c.out[v] {
			if comp[a.peer] != comp[v] {
				edges = append(edges, ComponentEdge{From: comp[v], To: comp[a.peer]})
			}
		}
	}
	slices.SortFunc(edges, func(a, b ComponentEdge) int {
		if a.From != b.From {
			return a.From - b.From
		}
		return a.To - b.To
	})
	return comps, slices.Compact(edges)
}

// componentSuccessors turns the sorted condensation edges into adjacency lists.
func componentSuccessors(edges []ComponentEdge, ncomp int) [][]int {
	succ := make([][]int, ncomp)
	for _, e := range edges {
		succ[e.From] = append(succ[e.From], e.To)
	}
	return succ
}

// bitset is a set of small non-negative integers.
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int) { b[i/64] |= 1 << (i % 64) }

func (b bitset) union(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) count() (n int) {
	for _, w := range b {
		n += bits.OnesCount64(w)
	}
	return n
}

// fillReachability sets Dependents and Dependencies. The closure is computed once per
// component on the condensation, as a bitset of the nodes downstream (or upstream),
// so the cost is ncomp · n / 64 words per direction rather than a search per node.
func fillReachability(c *compiled, nodes []NodeResult, comp []int, comps []Component,
	succ [][]int,
) {
	n := len(c.nodes)
	ncomp := len(comps)
	members := make([][]int, ncomp)
	for v := range n {
		members[comp[v]] = append(members[comp[v]], v)
	}
	pred := make([][]int, ncomp)
	for from, tos := range succ {
		for _, to := range tos {
			pred[to] = append(pred[to], from)
		}
	}

	// Components are in topological order, so successors have higher indices: walk
	// down from the last to fill the downstream sets, up from the first for upstream.
	down := make([]bitset, ncomp)
	for ci := ncomp - 1; ci >= 0; ci-- {
		down[ci] = closureStep(n, succ[ci], down, members)
	}
	up := make([]bitset, ncomp)
	for ci := range ncomp {
		up[ci] = closureStep(n, pred[ci], up, members)
	}

	for v := range n {
		nodes[v].Dependencies = reachableIDs(c, v, down[comp[v]], members[comp[v]])
		nodes[v].Dependents = reachableIDs(c, v, up[comp[v]], members[comp[v]])
	}
}

// closureStep unions the neighbour components' own members and their closures.
func closureStep(n int, neighbours []int, closure []bitset, members [][]int) bitset {
	set := newBitset(n)
	for _, d := range neighbours {
		set.union(closure[d])
		for _, m := range members[d] {
			set.set(m)
		}
	}
	return set
}

// reachableIDs lists, in ID order, the nodes in set plus v's fellow component members.
func reachableIDs(c *compiled, v int, set bitset, fellows []int) []NodeID {
	all := slices.Clone(set)
	for _, m := range fellows {
		if m != v {
			all.set(m)
		}
	}
	return listIDs(c, all)
}

// listIDs returns the IDs of the nodes in set, in ID order.
func listIDs(c *compiled, set bitset) []NodeID {
	if set.count() == 0 {
		return nil
	}
	out := make([]NodeID, 0, set.count())
	for w, word := range set {
		for word != 0 {
			out = append(out, c.nodes[w*64+bits.TrailingZeros64(word)].ID)
			word &= word - 1 // clear the lowest set bit
		}
	}
	return out
}
