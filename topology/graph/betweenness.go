package graph

// betweenness sets the normalised betweenness centrality of every node with Brandes'
// algorithm for unweighted directed graphs: one breadth-first search per source, then
// dependencies accumulated back from the farthest nodes. Path counts are float64, not
// int, because the number of shortest paths grows exponentially with depth in layered
// graphs and would overflow an int long before it loses meaningful precision.
func betweenness(c *compiled, nodes []NodeResult) {
	n := len(c.nodes)
	if n < 3 {
		return
	}
	score := make([]float64, n)
	dist := make([]int, n)
	paths := make([]float64, n)
	delta := make([]float64, n)
	queue := make([]int, 0, n) // doubles as the visit order, popped from the back later

	for s := range n {
		for i := range n {
			dist[i], paths[i], delta[i] = -1, 0, 0
		}
		dist[s], paths[s] = 0, 1
		queue = append(queue[:0], s)
		for head := 0; head < len(queue); head++ {
			v := queue[head]
			for _, a := range c.out[v] {
				w := a.peer
				if dist[w] < 0 {
					dist[w] = dist[v] + 1
					queue = append(queue, w)
				}
				if dist[w] == dist[v]+1 {
					paths[w] += paths[v]
				}
			}
		}

		// Predecessors on shortest paths are the in-neighbours one step closer to s;
		// reading them from the in lists saves keeping a predecessor list per search.
		for i := len(queue) - 1; i > 0; i-- {
			w := queue[i]
			for _, a := range c.in[w] {
				v := a.peer
				if dist[v] >= 0 && dist[v] == dist[w]-1 {
					delta[v] += paths[v] / paths[w] * (1 + delta[w])
				}
			}
			score[w] += delta[w]
		}
	}

	// In a directed graph each node lies between at most (n-1)(n-2) ordered pairs.
	norm := float64((n - 1) * (n - 2))
	for i := range nodes {
		nodes[i].Betweenness = score[i] / norm
	}
}
