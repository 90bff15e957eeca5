package graph

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// loadTopology reads a real topology from testdata/topologies, in the format
// `client -> server [kind]` with `#` comments. It is parsed here rather than with
// sim.LoadTopology so that this engine package never depends on the simulator.
func loadTopology(t *testing.T, name string) *Graph {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "topologies", name+".edges")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	g := New()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		require.True(t, (len(fields) == 3 || len(fields) == 4) && fields[1] == "->",
			"%s:%d: %q", path, line, text)
		g.AddEdge(call(fields[0], fields[2]))
		if len(fields) == 4 {
			g.AddNode(Node{ID: id(fields[2]), Kind: Kind(fields[3])})
		}
	}
	require.NoError(t, sc.Err())
	return g
}

func TestRealTopologies(t *testing.T) {
	for _, tc := range []struct {
		topology     string
		entryPoints  []string
		dependents   map[string][]string
		dependencies map[string][]string
		fanIn        map[string]int
		fanOut       map[string]int
		// The deepest chain, which is the critical path when no latency is known.
		path []string
	}{
		{
			topology:    "online-boutique",
			entryPoints: []string{"loadgenerator"},
			dependents: map[string][]string{
				"redis-cart": {"cartservice", "checkoutservice", "frontend", "loadgenerator"},
				"productcatalogservice": {
					"checkoutservice", "frontend", "loadgenerator", "recommendationservice",
				},
				"loadgenerator": nil,
			},
			dependencies: map[string][]string{
				"checkoutservice": {
					"cartservice", "currencyservice", "emailservice", "paymentservice",
					"productcatalogservice", "redis-cart", "shippingservice",
				},
				"redis-cart": nil,
			},
			fanIn:  map[string]int{"productcatalogservice": 3, "cartservice": 2, "frontend": 1},
			fanOut: map[string]int{"frontend": 7, "checkoutservice": 6, "redis-cart": 0},
			path:   []string{"loadgenerator", "frontend", "checkoutservice", "cartservice", "redis-cart"},
		},
		{
			topology:    "bookinfo",
			entryPoints: []string{"istio-ingressgateway"},
			dependents: map[string][]string{
				"ratings": {"istio-ingressgateway", "productpage", "reviews"},
				"details": {"istio-ingressgateway", "productpage"},
			},
			dependencies: map[string][]string{
				"productpage": {"details", "ratings", "reviews"},
			},
			fanOut: map[string]int{"productpage": 2},
			path:   []string{"istio-ingressgateway", "productpage", "reviews", "ratings"},
		},
		{
			// queue-master is called by nobody: it consumes from rabbitmq on its own,
			// so it is an entry point by the rule, beside the load generator.
			topology:    "sock-shop",
			entryPoints: []string{"load-test", "queue-master"},
			dependents: map[string][]string{
				"rabbitmq": {"front-end", "load-test", "orders", "queue-master", "shipping"},
				"user-db":  {"front-end", "load-test", "orders", "user"},
			},
			dependencies: map[string][]string{
				"queue-master": {"rabbitmq"},
				"orders": {
					"carts", "carts-db", "orders-db", "payment", "rabbitmq", "shipping", "user",
					"user-db",
				},
			},
			fanIn:  map[string]int{"rabbitmq": 2, "user": 2, "carts": 2},
			fanOut: map[string]int{"front-end": 5, "orders": 5},
			path:   []string{"load-test", "front-end", "orders", "carts", "carts-db"},
		},
	} {
		t.Run(tc.topology, func(t *testing.T) {
			res := Analyze(loadTopology(t, tc.topology), Options{})

			require.Equal(t, tc.entryPoints, names(res.EntryPoints))
			for name, want := range tc.dependents {
				require.Equal(t, want, names(nodeResult(t, res, name).Dependents), name)
			}
			for name, want := range tc.dependencies {
				require.Equal(t, want, names(nodeResult(t, res, name).Dependencies), name)
			}
			for name, want := range tc.fanIn {
				require.Equal(t, want, nodeResult(t, res, name).FanIn, name)
			}
			for name, want := range tc.fanOut {
				require.Equal(t, want, nodeResult(t, res, name).FanOut, name)
			}
			require.Equal(t, tc.path, names(res.CriticalPaths[0].Nodes))
			require.Len(t, res.Components, len(res.Nodes), "the real topologies have no cycles")
			require.Empty(t, res.ErrorOrigins, "no error data, no origin")
		})
	}
}
