package render

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/topology"
)

// fuzzReport builds a small report whose names, namespaces, clusters, kind, protocol
// and source all come from the fuzzer, with a self-loop, a critical path and an error
// origin so that every styled element is exercised.
func fuzzReport(name, namespace, cluster, kind, protocol string) topology.GraphReport {
	ids := []string{
		cluster + "/" + namespace + "/" + name,
		cluster + "/" + namespace + "/" + name + "\x00",
		"//" + namespace,
	}
	r := topology.GraphReport{At: fixtureAt, Sources: []string{protocol}}
	for i, id := range ids {
		n := topology.NodeReport{ID: id, Kind: kind}
		if i < 2 {
			n.Cluster, n.Namespace, n.Name = cluster, namespace, name
		}
		r.Nodes = append(r.Nodes, n)
	}
	r.Nodes[0].ErrorOrigin, r.Nodes[1].EntryPoint = true, true
	r.Edges = []topology.EdgeReport{
		{Client: ids[1], Server: ids[0], Protocol: protocol, RequestsPerSecond: 3,
			ErrorRatio: ptr(0.5), Sources: []string{protocol}},
		{Client: ids[0], Server: ids[0], Protocol: protocol},
		{Client: ids[0], Server: ids[2], Protocol: protocol, RequestsPerSecond: 1},
		{Client: ids[2], Server: name, Protocol: protocol, RequestsPerSecond: 1},
	}
	r.CriticalPaths = []topology.CriticalPathReport{{EntryPoint: ids[1], Nodes: ids[:2]}}
	r.ErrorOrigins = []string{ids[0]}
	return r
}

// FuzzDrawings feeds arbitrary names through DOT and Mermaid and checks the output
// with the structural validators, including that every label decodes back to the
// node's cleaned name. Graphviz itself runs on a sample in TestFuzzSeedsRenderInDot,
// not in the fuzz loop.
func FuzzDrawings(f *testing.F) {
	for _, seed := range fuzzSeeds() {
		f.Add(seed[0], seed[1], seed[2], seed[3], seed[4])
	}
	f.Fuzz(func(t *testing.T, name, namespace, cluster, kind, protocol string) {
		r := fuzzReport(name, namespace, cluster, kind, protocol)
		v := newView(r)

		var dot bytes.Buffer
		require.NoError(t, DOT(&dot, r))
		dg, err := parseDOT(dot.String())
		require.NoError(t, err, dot.String())
		require.Len(t, dg.nodes, len(v.nodes))
		require.Len(t, dg.edges, len(r.Edges))
		requireDOTLabels(t, r, dg)

		var mmd bytes.Buffer
		require.NoError(t, Mermaid(&mmd, r))
		mg, err := parseMermaid(mmd.String())
		require.NoError(t, err, mmd.String())
		require.Len(t, mg.nodes, len(v.nodes))
		require.Len(t, mg.edges, len(r.Edges))
		requireMermaidLabels(t, v, mg)

		var text bytes.Buffer
		require.NoError(t, Text(&text, r))
		require.NotContains(t, text.String(), "\x1b", "no terminal escape reaches the text")
	})
}

func fuzzSeeds() [][5]string {
	seeds := [][5]string{
		{"frontend", "shop", "prod", "service", "http"},
		{"", "", "", "", ""},
		{`"`, `\`, "\n", "database", "a,b"},
		{"trailing\\", "ns\\", "c\\", "messaging", "\\"},
	}
	for i, name := range escapingNames {
		next := escapingNames[(i+1)%len(escapingNames)]
		seeds = append(seeds, [5]string{name, next, name + next, "external", name})
	}
	return seeds
}

// TestFuzzSeedsRenderInDot runs the fuzz seeds through Graphviz, which the fuzz loop
// cannot afford to do.
func TestFuzzSeedsRenderInDot(t *testing.T) {
	dotPath := lookDot(t)
	for _, seed := range fuzzSeeds() {
		t.Run(strings.ToValidUTF8(seed[0], "?"), func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, DOT(&buf, fuzzReport(seed[0], seed[1], seed[2], seed[3], seed[4])))
			runDot(t, dotPath, buf.Bytes())
		})
	}
}
