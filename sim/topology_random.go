package sim

import (
	"fmt"
	"math"
	"math/rand/v2"
)

// Limits of RandomTopology: far above the 500 services and 5000 edges the scale
// benchmarks use, and low enough that the world built on them stays in memory.
const (
	MaxRandomServices = 2000
	MaxRandomEdges    = 50000
)

// randomStream seeds RandomTopology's generator apart from the world's streams, so
// that a topology and a world may share a seed without sharing draws.
const randomStream uint64 = 0x5eed70b0

// Words the random services are named after, so that names read like a real
// platform's and the database and broker products show in store names.
var (
	randomDomains = []string{
		"accounts", "auth", "billing", "cart", "catalog", "checkout", "fraud", "inventory",
		"ledger", "media", "notify", "orders", "payments", "pricing", "profile", "ranking",
		"reviews", "search", "session", "shipping", "tax", "users",
	}
	randomRoles   = []string{"api", "svc", "worker", "core", "gateway", "reader"}
	randomDBs     = []string{"postgres", "postgres", "mysql", "redis", "mongo"}
	randomBrokers = []string{"kafka", "rabbitmq"}
)

// RandomTopology generates a service graph shaped like real ones, for scale tests
// and benchmarks: a few entry points (about one per hundred services, at most
// five), workload services in layers that call deeper layers, stores (about one
// node in seven, two thirds databases, one third brokers) called over database
// and messaging edges, about one edge in a hundred calling back to an earlier
// layer so that the graph has cycles, and heavy-tailed fan-in: callees are drawn
// with Zipf-like weights, so a few shared services and stores have many callers.
//
// Every node but the entry points has a caller reachable from an entry point, so
// edges must be at least services minus entry points. The same arguments always
// give the same topology.
func RandomTopology(seed int64, services, edges int) (*Topology, error) {
	if services < 2 || services > MaxRandomServices {
		return nil, fmt.Errorf("random topology: %d services, want 2 to %d",
			services, MaxRandomServices)
	}
	if edges > MaxRandomEdges {
		return nil, fmt.Errorf("random topology: %d edges, want at most %d",
			edges, MaxRandomEdges)
	}
	g := newRandomGraph(seed, services)
	if need := services - g.entries; edges < need {
		return nil, fmt.Errorf("random topology: %d edges cannot reach %d services "+
			"from %d entry points (want at least %d)", edges, services, g.entries, need)
	}
	if pairs := g.pairs(); edges > pairs {
		return nil, fmt.Errorf("random topology: %d edges exceed the %d possible "+
			"caller-callee pairs of %d services", edges, pairs, services)
	}
	g.connect()
	g.addCycles(edges)
	g.fill(edges)
	return g.topology(services, edges), nil
}

// randomNode is a node of the generated graph. Layer 0 holds the entry points;
// stores sit below the deepest workload layer.
type randomNode struct {
	name   string
	layer  int
	store  EdgeKind // "" for workloads
	weight float64  // Zipf-like popularity as a callee
}

type randomGraph struct {
	r                  *rand.Rand
	nodes              []randomNode
	entries, workloads int // entries first, then workloads, then stores
	layers             int // workload layers
	edges              []TopologyEdge
	used               map[[2]int]bool
	// totalWeight holds the cumulative popularity of the callees (every node
	// but the entry points), calleeIndex their node indexes.
	totalWeight []float64
	calleeIndex []int
}

func newRandomGraph(seed int64, n int) *randomGraph {
	g := &randomGraph{r: rand.New(rand.NewPCG(uint64(seed), randomStream)),
		used: map[[2]int]bool{}}
	g.entries = min(5, 1+n/100)
	stores := n / 7
	g.workloads = n - g.entries - stores
	// Depth grows slowly with size, as in real call graphs: 2 workload layers
	// for ten services, 7 from a few hundred on.
	g.layers = max(1, min(7, int(math.Ceil(math.Log2(float64(g.workloads+1))))-2))

	for i := range g.entries {
		g.nodes = append(g.nodes, randomNode{name: fmt.Sprintf("ingress-%d", i+1)})
	}
	for i := range g.workloads {
		// Layers fill evenly, so every layer has workloads to call.
		name := fmt.Sprintf("%s-%s-%d", pick(g.r, randomDomains), pick(g.r, randomRoles), i+1)
		g.nodes = append(g.nodes, randomNode{name: name, layer: 1 + i*g.layers/g.workloads})
	}
	for i := range stores {
		node := randomNode{layer: g.layers + 1, store: KindDatabase}
		product := pick(g.r, randomDBs)
		if i%3 == 2 {
			node.store, product = KindMessaging, pick(g.r, randomBrokers)
		}
		node.name = fmt.Sprintf("%s-%s-%d", pick(g.r, randomDomains), product, i+1)
		g.nodes = append(g.nodes, node)
	}

	// Popularity: a Zipf-like weight by a random rank, so that which callees are
	// popular does not follow their layer.
	callees := len(g.nodes) - g.entries
	for rank, p := range g.r.Perm(callees) {
		g.nodes[g.entries+p].weight = 1 / math.Pow(float64(rank+1), 0.9)
	}
	total := 0.0
	for i := g.entries; i < len(g.nodes); i++ {
		total += g.nodes[i].weight
		g.totalWeight = append(g.totalWeight, total)
		g.calleeIndex = append(g.calleeIndex, i)
	}
	return g
}

func pick(r *rand.Rand, words []string) string { return words[r.IntN(len(words))] }

// pairs counts the edges the graph can hold: every entry point or workload may
// call every workload or store but itself.
func (g *randomGraph) pairs() int {
	callers := g.entries + g.workloads
	callees := len(g.nodes) - g.entries
	return callers*callees - g.workloads
}

func (g *randomGraph) caller(i int) bool { return i < g.entries+g.workloads }

// allowed reports whether client may call server: no self calls, no calls from
// stores or to entry points.
func (g *randomGraph) allowed(client, server int) bool {
	return client != server && g.caller(client) && server >= g.entries
}

// forward reports whether an edge goes deeper, which keeps the graph layered.
func (g *randomGraph) forward(client, server int) bool {
	return g.nodes[server].layer > g.nodes[client].layer
}

func (g *randomGraph) add(client, server int) bool {
	key := [2]int{client, server}
	if !g.allowed(client, server) || g.used[key] {
		return false
	}
	g.used[key] = true
	kind := KindService
	if k := g.nodes[server].store; k != "" {
		kind = k
	}
	g.edges = append(g.edges, TopologyEdge{Client: g.nodes[client].name,
		Server: g.nodes[server].name, Kind: kind})
	return true
}

// connect gives every node but the entry points one caller in a shallower layer,
// so that everything is reachable from an entry point.
func (g *randomGraph) connect() {
	for i := g.entries; i < len(g.nodes); i++ {
		var shallower []int
		for c := 0; c < g.entries+g.workloads; c++ {
			if g.nodes[c].layer < g.nodes[i].layer {
				shallower = append(shallower, c)
			}
		}
		g.add(shallower[g.r.IntN(len(shallower))], i)
	}
}

// addCycles adds about one edge in a hundred from a workload back to a shallower
// one, when the edge budget allows.
func (g *randomGraph) addCycles(edges int) {
	want := min(edges-len(g.edges), max(1, edges/100))
	if g.layers < 2 {
		return
	}
	for tries := 0; want > 0 && tries < 100*want; tries++ {
		client := g.entries + g.r.IntN(g.workloads)
		server := g.entries + g.r.IntN(g.workloads)
		if g.nodes[server].layer < g.nodes[client].layer && g.add(client, server) {
			want--
		}
	}
}

// fill adds forward edges from uniformly drawn callers to callees drawn by
// popularity until there are enough. Near a saturated graph random draws keep
// hitting used pairs, so the rest comes from the list of free pairs, forward
// ones first.
func (g *randomGraph) fill(edges int) {
	misses := 0
	for len(g.edges) < edges && misses < 50*edges {
		client := g.r.IntN(g.entries + g.workloads)
		server := g.popularCallee()
		if g.forward(client, server) && g.add(client, server) {
			continue
		}
		misses++
	}
	if len(g.edges) == edges {
		return
	}
	var fwd, back [][2]int
	for c := 0; c < g.entries+g.workloads; c++ {
		for s := g.entries; s < len(g.nodes); s++ {
			if !g.allowed(c, s) || g.used[[2]int{c, s}] {
				continue
			}
			if g.forward(c, s) {
				fwd = append(fwd, [2]int{c, s})
			} else {
				back = append(back, [2]int{c, s})
			}
		}
	}
	g.r.Shuffle(len(fwd), func(i, j int) { fwd[i], fwd[j] = fwd[j], fwd[i] })
	g.r.Shuffle(len(back), func(i, j int) { back[i], back[j] = back[j], back[i] })
	for _, p := range append(fwd, back...) {
		if len(g.edges) == edges {
			return
		}
		g.add(p[0], p[1])
	}
}

func (g *randomGraph) popularCallee() int {
	x := g.r.Float64() * g.totalWeight[len(g.totalWeight)-1]
	lo, hi := 0, len(g.totalWeight)-1
	for lo < hi {
		mid := (lo + hi) / 2
		if g.totalWeight[mid] < x {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	return g.calleeIndex[lo]
}

// topology lists the nodes in order of first appearance in the edges, as
// ParseTopology would read them from a file.
func (g *randomGraph) topology(services, edges int) *Topology {
	t := &Topology{Name: fmt.Sprintf("random-%d-%d", services, edges), Edges: g.edges}
	seen := map[string]bool{}
	for _, e := range g.edges {
		for _, n := range []string{e.Client, e.Server} {
			if !seen[n] {
				seen[n] = true
				t.Nodes = append(t.Nodes, n)
			}
		}
	}
	return t
}
