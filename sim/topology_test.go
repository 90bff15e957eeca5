package sim

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseTopologyErrors(t *testing.T) {
	cases := []struct {
		name, input, wantErr string
	}{
		{"missing arrow", "a b\n", "x.edges:1: want `client -> server [kind]`"},
		{"bad kind", "# c\na -> b cache\n", "x.edges:2: unknown edge kind \"cache\""},
		{"duplicate", "a -> b\n\na -> b database\n", "x.edges:3: duplicate edge a -> b (first on line 1)"},
		{"self edge", "a -> a\n", "x.edges:1: self edge"},
		{"bad name", "a -> b/c\n", "x.edges:1: invalid name \"b/c\""},
		{"too many fields", "a -> b service extra\n", "x.edges:1: want"},
		{"empty", "# only a comment\n\n", "x.edges: no edges"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseTopology(strings.NewReader(tc.input), "x.edges")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.wantErr)
		})
	}
}

func TestParseTopologyValid(t *testing.T) {
	topo, err := ParseTopology(strings.NewReader(
		"# header\nfront -> api  # inline comment\napi -> db database\napi -> q messaging\n"+
			"worker -> q messaging\napi -> front\n"), "dir/demo.edges")
	require.NoError(t, err)
	require.Equal(t, "demo", topo.Name)
	require.Equal(t, []string{"front", "api", "db", "q", "worker"}, topo.Nodes)
	require.Equal(t, TopologyEdge{Client: "api", Server: "db", Kind: KindDatabase, Line: 3}, topo.Edges[1])
	require.Equal(t, []string{"worker"}, topo.roots(), "front is called by api, so only worker is a root")
}

func TestRealTopologies(t *testing.T) {
	cases := []struct {
		name         string
		nodes, edges int
	}{
		{"online-boutique", 12, 16},
		{"bookinfo", 5, 4},
		{"sock-shop", 15, 16},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// The repository copy and the embedded copy must agree.
			fromDisk, err := LoadTopology(filepath.Join("..", "testdata", "topologies", tc.name+".edges"))
			require.NoError(t, err)
			embedded, err := BuiltinTopology(tc.name)
			require.NoError(t, err)
			require.Equal(t, fromDisk.Edges, embedded.Edges)
			require.Len(t, embedded.Nodes, tc.nodes)
			require.Len(t, embedded.Edges, tc.edges)
		})
	}
	_, err := BuiltinTopology("nope")
	require.ErrorContains(t, err, "valid: bookinfo, online-boutique, sock-shop")
	_, err = LoadTopology(filepath.Join(t.TempDir(), "missing.edges"))
	require.ErrorContains(t, err, "open topology")
}

func TestEmbeddedReadmeMatchesTestdata(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join("..", "testdata", "topologies", "README.md"))
	require.NoError(t, err)
	local, err := os.ReadFile(filepath.Join("topologies", "README.md"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(local), string(shared)))
}

func FuzzParseTopology(f *testing.F) {
	for _, name := range BuiltinTopologies() {
		b, err := embeddedTopologies.ReadFile("topologies/" + name + ".edges")
		require.NoError(f, err)
		f.Add(string(b))
	}
	f.Add("a -> b\n")
	f.Add("a -> b database # x\n#\n\n")
	f.Add("->\n-> -> ->\n")
	f.Fuzz(func(t *testing.T, input string) {
		topo, err := ParseTopology(strings.NewReader(input), "fuzz.edges")
		if err != nil {
			require.True(t, strings.HasPrefix(err.Error(), "fuzz.edges"), err.Error())
			return
		}
		require.NotEmpty(t, topo.Edges)
		// Any parsed topology must build a world without panicking.
		_, err = New(Options{Scenario: "startup", Seed: 1, Start: testStart,
			Duration: testStep, Step: testStep, Topology: topo})
		require.NoError(t, err)
	})
}
