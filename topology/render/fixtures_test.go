package render

import (
	"bufio"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

var fixtureAt = time.Date(2024, 5, 14, 9, 30, 0, 0, time.UTC)

func ptr(x float64) *float64 { return &x }

// smallReport is a hand-built report that has one of everything a renderer must draw:
// every kind, an unknown caller, a self-loop, a cycle, figures that were not measured,
// an idle edge, an error origin, an edge failing above 1%, two clusters (one with two
// namespaces) and nodes outside any cluster.
func smallReport() topology.GraphReport {
	node := func(id, kind string, fanIn, fanOut, dependents int) topology.NodeReport {
		c, ns, name := identity(topology.NodeReport{ID: id})
		return topology.NodeReport{
			ID: id, Name: name, Namespace: ns, Cluster: c, Kind: kind,
			Dependents: dependents, FanIn: fanIn, FanOut: fanOut,
		}
	}
	edge := func(client, server, protocol string, rps float64, errRatio, p95 *float64,
		age time.Duration, sources ...string,
	) topology.EdgeReport {
		return topology.EdgeReport{
			Client: client, Server: server, Protocol: protocol, RequestsPerSecond: rps,
			ErrorRatio: errRatio, LatencyP95Seconds: p95, Sources: sources,
			LastSeen: fixtureAt.Add(-age),
		}
	}

	nodes := []topology.NodeReport{
		node("//api.stripe.com", "external", 1, 0, 4),
		node("//unknown", "unknown", 0, 1, 0),
		node("eu-1/infra/events", "messaging", 1, 0, 3),
		node("eu-1/shop/checkout", "service", 1, 4, 2),
		node("eu-1/shop/frontend", "service", 1, 1, 1),
		node("eu-1/shop/orders-db", "database", 1, 0, 3),
		node("eu-1/shop/payments", "service", 1, 1, 3),
		node("us-1/catalog/inventory", "service", 2, 1, 4),
		node("us-1/catalog/pricing", "service", 1, 1, 4),
	}
	nodes[2].SelfTimeSeconds = nil
	nodes[3].SelfTimeSeconds, nodes[3].BottleneckScore = ptr(0.045), 0.62
	nodes[4].SelfTimeSeconds, nodes[4].BottleneckScore, nodes[4].EntryPoint = ptr(0.12), 0.18, true
	nodes[5].SelfTimeSeconds, nodes[5].BottleneckScore = ptr(0.0042), 0.05
	nodes[6].SelfTimeSeconds, nodes[6].BottleneckScore, nodes[6].ErrorOrigin = ptr(1.35), 0.91, true
	nodes[7].SelfTimeSeconds, nodes[7].BottleneckScore = ptr(0.065), 0.33
	nodes[8].SelfTimeSeconds, nodes[8].BottleneckScore = ptr(0.03), 0.12
	for i := range nodes {
		nodes[i].Betweenness = float64(nodes[i].FanIn*nodes[i].FanOut) / 56
		nodes[i].Dependencies = nodes[i].FanOut * 2
	}

	return topology.GraphReport{
		At:               fixtureAt,
		RetentionSeconds: 48 * 3600,
		Sources:          []string{"istio", "linkerd", "otel"},
		Nodes:            nodes,
		Edges: []topology.EdgeReport{
			edge("//unknown", "eu-1/shop/frontend", "http", 42.5, ptr(0.002), ptr(0.18),
				15*time.Second, "istio"),
			edge("eu-1/shop/checkout", "eu-1/infra/events", "kafka", 3.2, ptr(0), nil,
				2*time.Minute, "otel"),
			edge("eu-1/shop/checkout", "eu-1/shop/orders-db", "tcp", 8.75, nil, ptr(0.0042),
				30*time.Second, "otel"),
			edge("eu-1/shop/checkout", "eu-1/shop/payments", "grpc,http", 6.1, ptr(0.083),
				ptr(1.35), 10*time.Second, "istio", "linkerd"),
			edge("eu-1/shop/checkout", "us-1/catalog/inventory", "grpc", 12, ptr(0.004),
				ptr(0.095), 45*time.Second, "istio"),
			edge("eu-1/shop/frontend", "eu-1/shop/checkout", "http", 9.8, ptr(0.052), ptr(1.6),
				5*time.Second, "istio"),
			edge("eu-1/shop/payments", "//api.stripe.com", "http", 6.1, nil, nil,
				3*time.Hour, "otel"),
			edge("us-1/catalog/inventory", "us-1/catalog/inventory", "grpc", 0.4, ptr(0),
				ptr(0.02), 90*time.Second, "istio"),
			edge("us-1/catalog/inventory", "us-1/catalog/pricing", "grpc", 0, nil, nil,
				26*time.Hour, "istio"),
			edge("us-1/catalog/pricing", "us-1/catalog/inventory", "grpc", 1.5, ptr(0),
				ptr(0.03), 20*time.Second, "istio"),
		},
		EntryPoints: []string{"eu-1/shop/frontend"},
		CriticalPaths: []topology.CriticalPathReport{{
			EntryPoint: "eu-1/shop/frontend",
			Nodes: []string{
				"eu-1/shop/frontend", "eu-1/shop/checkout", "eu-1/shop/payments",
				"//api.stripe.com",
			},
			SelfTimeSeconds: 1.515,
		}},
		ErrorOrigins: []string{"eu-1/shop/payments"},
	}
}

// topologyReport builds a report of about 50 nodes from the real topologies in
// testdata/topologies: all three applications in cluster "prod", online-boutique and
// bookinfo again in "staging", and an unknown caller of staging's product page. The
// figures are made up from a hash of each edge, so they are the same on every run;
// two injected failures give the analysis an error origin to find.
func topologyReport(t *testing.T) topology.GraphReport {
	t.Helper()
	g := graph.New()
	lastSeen := map[[2]graph.NodeID]time.Time{}
	addEdge := func(e graph.Edge) {
		g.AddEdge(e)
		lastSeen[[2]graph.NodeID{e.Client, e.Server}] = fixtureAt.Add(
			-time.Duration(figureHash(e.Client, e.Server)>>40%120) * time.Second)
	}

	deployments := []struct{ cluster, app string }{
		{"prod", "bookinfo"}, {"prod", "online-boutique"}, {"prod", "sock-shop"},
		{"staging", "bookinfo"}, {"staging", "online-boutique"},
	}
	for _, d := range deployments {
		for _, c := range loadTopology(t, d.app) {
			client := graph.Node{Cluster: d.cluster, Namespace: d.app, Name: c.client}
			server := graph.Node{Cluster: d.cluster, Namespace: d.app, Name: c.server,
				Kind: c.kind}
			if _, ok := g.Node(graph.MakeID(d.cluster, d.app, c.client)); !ok {
				g.AddNode(client)
			}
			g.AddNode(server)
			addEdge(madeUpEdge(d.cluster, d.app, c))
		}
	}
	g.AddNode(graph.Node{Name: "unknown", Kind: graph.KindUnknown})
	addEdge(graph.Edge{
		Client: graph.MakeID("", "", "unknown"), Server: "staging/bookinfo/productpage",
		Protocol: "http", RequestsPerSecond: 0.8, ErrorRatio: 0, ServerErrorRatio: math.NaN(),
		LatencyP95Seconds: 0.21, Sources: []string{"istio"},
	})

	res := graph.Analyze(g, graph.Options{})
	return reportFromAnalysis(g, res, lastSeen)
}

type topologyCall struct {
	client, server string
	kind           graph.Kind
}

// loadTopology reads testdata/topologies/NAME.edges: `client -> server [kind]` lines
// with `#` comments, as that directory's README describes.
func loadTopology(t *testing.T, name string) []topologyCall {
	t.Helper()
	path := filepath.Join("..", "..", "testdata", "topologies", name+".edges")
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	var calls []topologyCall
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(text)
		if len(fields) == 0 {
			continue
		}
		require.True(t, (len(fields) == 3 || len(fields) == 4) && fields[1] == "->",
			"%s:%d: %q", path, line, text)
		c := topologyCall{client: fields[0], server: fields[2], kind: graph.KindService}
		if len(fields) == 4 {
			c.kind = graph.Kind(fields[3])
		}
		calls = append(calls, c)
	}
	require.NoError(t, sc.Err())
	return calls
}

func figureHash(client, server graph.NodeID) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s->%s", client, server)
	return h.Sum64()
}

// madeUpEdge gives a call deterministic figures: a rate spread log-uniformly over
// 0.5–500 rps, small error ratios with some unmeasured, and p95 latencies that are
// unmeasured for asynchronous calls to a broker.
func madeUpEdge(cluster, app string, c topologyCall) graph.Edge {
	e := graph.Edge{
		Client:           graph.MakeID(cluster, app, c.client),
		Server:           graph.MakeID(cluster, app, c.server),
		ServerErrorRatio: math.NaN(),
		Sources:          []string{"istio"},
	}
	h := figureHash(e.Client, e.Server)
	e.RequestsPerSecond = math.Round(0.5*math.Pow(10, float64(h%1000)/1000*3)*100) / 100
	e.ErrorRatio = float64(h>>12%50) / 10000
	if h>>20%7 == 0 {
		e.ErrorRatio = math.NaN()
	}
	e.LatencyP95Seconds = 0.004 + float64(h>>28%300)/1000

	switch {
	case c.kind == graph.KindDatabase:
		e.Protocol, e.Sources = "tcp", []string{"otel"}
		e.LatencyP95Seconds = 0.001 + float64(h>>28%20)/1000
	case c.kind == graph.KindMessaging:
		e.Protocol, e.Sources, e.LatencyP95Seconds = "amqp", []string{"otel"}, math.NaN()
	case app == "online-boutique" && c.client != "loadgenerator":
		e.Protocol = "grpc"
	default:
		e.Protocol = "http"
	}
	if h>>36%3 == 0 {
		e.Sources = append(e.Sources, "linkerd")
	}

	// Injected failures, prod only: payments fail and their callers see it.
	switch e.Client + " " + e.Server {
	case "prod/online-boutique/checkoutservice prod/online-boutique/paymentservice":
		e.ErrorRatio, e.LatencyP95Seconds = 0.064, 1.2
	case "prod/online-boutique/frontend prod/online-boutique/checkoutservice":
		e.ErrorRatio = 0.021
	case "prod/sock-shop/orders prod/sock-shop/payment":
		e.ErrorRatio = 0.032
	case "staging/bookinfo/reviews staging/bookinfo/ratings":
		e.RequestsPerSecond, e.ErrorRatio, e.LatencyP95Seconds = 0, math.NaN(), math.NaN()
	}
	return e
}

// reportFromAnalysis turns an analysed graph into the report the renderers take.
func reportFromAnalysis(g *graph.Graph, res graph.Result,
	lastSeen map[[2]graph.NodeID]time.Time,
) topology.GraphReport {
	r := topology.GraphReport{At: fixtureAt, RetentionSeconds: 3600}
	sources := map[string]bool{}
	for _, nr := range res.Nodes {
		n, _ := g.Node(nr.ID)
		rep := topology.NodeReport{
			ID: string(n.ID), Name: n.Name, Namespace: n.Namespace, Cluster: n.Cluster,
			Kind: string(n.Kind), Dependents: len(nr.Dependents),
			Dependencies: len(nr.Dependencies), FanIn: nr.FanIn, FanOut: nr.FanOut,
			Betweenness: nr.Betweenness, BottleneckScore: nr.BottleneckScore,
			ErrorOrigin: nr.ErrorOrigin, EntryPoint: nr.EntryPoint,
		}
		if nr.SelfTimeKnown {
			rep.SelfTimeSeconds = ptr(nr.SelfTimeSeconds)
		}
		r.Nodes = append(r.Nodes, rep)
	}
	for _, e := range g.Edges() {
		rep := topology.EdgeReport{
			Client: string(e.Client), Server: string(e.Server), Protocol: e.Protocol,
			RequestsPerSecond: e.RequestsPerSecond, Sources: e.Sources,
			LastSeen: lastSeen[[2]graph.NodeID{e.Client, e.Server}],
		}
		if !math.IsNaN(e.ErrorRatio) {
			rep.ErrorRatio = ptr(e.ErrorRatio)
		}
		if !math.IsNaN(e.LatencyP95Seconds) {
			rep.LatencyP95Seconds = ptr(e.LatencyP95Seconds)
		}
		for _, s := range e.Sources {
			sources[s] = true
		}
		r.Edges = append(r.Edges, rep)
	}
	for s := range sources {
		r.Sources = append(r.Sources, s)
	}
	slices.Sort(r.Sources)
	for _, id := range res.EntryPoints {
		r.EntryPoints = append(r.EntryPoints, string(id))
	}
	for _, p := range res.CriticalPaths {
		cp := topology.CriticalPathReport{
			EntryPoint: string(p.EntryPoint), SelfTimeSeconds: p.SelfTimeSeconds,
		}
		for _, id := range p.Nodes {
			cp.Nodes = append(cp.Nodes, string(id))
		}
		r.CriticalPaths = append(r.CriticalPaths, cp)
	}
	for _, id := range res.ErrorOrigins {
		r.ErrorOrigins = append(r.ErrorOrigins, string(id))
	}
	return r
}
