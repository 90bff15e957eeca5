package graph

import (
	"math"
	"strings"
	"testing"
)

var nan = math.NaN()

// id names a node by its bare name, as the topology files do.
func id(name string) NodeID { return MakeID("", "", name) }

func ids(names ...string) []NodeID {
	if len(names) == 0 {
		return nil
	}
	out := make([]NodeID, len(names))
	for i, n := range names {
		out[i] = id(n)
	}
	return out
}

// call is an edge with one request per second and nothing else measured.
func call(client, server string) Edge {
	return Edge{
		Client:            id(client),
		Server:            id(server),
		RequestsPerSecond: 1,
		ErrorRatio:        nan,
		ServerErrorRatio:  nan,
		LatencyP95Seconds: nan,
	}
}

// timed is a call with a rate and a server-side p95 latency.
func timed(client, server string, rps, latency float64) Edge {
	e := call(client, server)
	e.RequestsPerSecond, e.LatencyP95Seconds = rps, latency
	return e
}

// failing is a call with a rate and the client- and server-observed error ratios.
func failing(client, server string, rps, clientRatio, serverRatio float64) Edge {
	e := call(client, server)
	e.RequestsPerSecond, e.ErrorRatio, e.ServerErrorRatio = rps, clientRatio, serverRatio
	return e
}

// chainSpec builds calls from "a->b->c, a->d" notation.
func chainSpec(spec string) []Edge {
	var out []Edge
	for _, chain := range strings.Split(spec, ",") {
		names := strings.Split(strings.TrimSpace(chain), "->")
		for i := 0; i+1 < len(names); i++ {
			out = append(out, call(strings.TrimSpace(names[i]), strings.TrimSpace(names[i+1])))
		}
	}
	return out
}

func graphOf(t testing.TB, edges ...Edge) *Graph {
	t.Helper()
	g := New()
	for _, e := range edges {
		g.AddEdge(e)
	}
	return g
}

func nodeResult(t testing.TB, r Result, name string) NodeResult {
	t.Helper()
	n, ok := r.Node(id(name))
	if !ok {
		t.Fatalf("node %s missing from result", name)
	}
	return n
}
