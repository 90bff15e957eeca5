package sim

import (
	"bufio"
	"embed"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

//go:embed topologies/*.edges
var embeddedTopologies embed.FS

// EdgeKind says how a client reaches a server.
type EdgeKind string

// Edge kinds of the topology format.
const (
	KindService   EdgeKind = "service"
	KindDatabase  EdgeKind = "database"
	KindMessaging EdgeKind = "messaging"
)

// TopologyEdge is one caller to callee line of a topology file.
type TopologyEdge struct {
	Client string   `json:"client"`
	Server string   `json:"server"`
	Kind   EdgeKind `json:"kind"`
	// Line is the 1-based line the edge was read from; 0 when built in code.
	Line int `json:"-"`
}

// Topology is a service graph: the nodes in order of first appearance and the edges in
// file order.
type Topology struct {
	Name  string
	Nodes []string
	Edges []TopologyEdge
}

// ParseTopology reads the edge-list format `client -> server [kind]`, one edge a line,
// with `#` starting a comment. name is used in error messages and as the topology name.
func ParseTopology(r io.Reader, name string) (*Topology, error) {
	topo := &Topology{Name: strings.TrimSuffix(filepath.Base(name), ".edges")}
	seenNode := map[string]bool{}
	seenEdge := map[[2]string]int{}

	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}

		edge, err := parseEdgeFields(fields)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineNo, err)
		}
		key := [2]string{edge.Client, edge.Server}
		if prev, ok := seenEdge[key]; ok {
			return nil, fmt.Errorf("%s:%d: duplicate edge %s -> %s (first on line %d)",
				name, lineNo, edge.Client, edge.Server, prev)
		}
		seenEdge[key] = lineNo
		edge.Line = lineNo

		for _, n := range []string{edge.Client, edge.Server} {
			if !seenNode[n] {
				seenNode[n] = true
				topo.Nodes = append(topo.Nodes, n)
			}
		}
		topo.Edges = append(topo.Edges, edge)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s:%d: read: %w", name, lineNo+1, err)
	}
	if len(topo.Edges) == 0 {
		return nil, fmt.Errorf("%s: no edges", name)
	}
	return topo, nil
}

func parseEdgeFields(fields []string) (TopologyEdge, error) {
	if len(fields) < 3 || len(fields) > 4 || fields[1] != "->" {
		return TopologyEdge{}, fmt.Errorf("want `client -> server [kind]`, got %q",
			strings.Join(fields, " "))
	}
	edge := TopologyEdge{Client: fields[0], Server: fields[2], Kind: KindService}
	if len(fields) == 4 {
		switch k := EdgeKind(fields[3]); k {
		case KindService, KindDatabase, KindMessaging:
			edge.Kind = k
		default:
			return TopologyEdge{}, fmt.Errorf("unknown edge kind %q (valid: service, database, messaging)",
				fields[3])
		}
	}
	for _, n := range []string{edge.Client, edge.Server} {
		if !validNodeName(n) {
			return TopologyEdge{}, fmt.Errorf("invalid name %q: use letters, digits, '-', '_' and '.'", n)
		}
	}
	if edge.Client == edge.Server {
		return TopologyEdge{}, fmt.Errorf("self edge %s -> %s", edge.Client, edge.Server)
	}
	return edge, nil
}

// validNodeName keeps names usable as Kubernetes object names and label values.
func validNodeName(s string) bool {
	if s == "" || len(s) > 63 {
		return false
	}
	for _, r := range s {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			r == '-' || r == '_' || r == '.'
		if !ok {
			return false
		}
	}
	return true
}

// LoadTopology reads a topology file from disk.
func LoadTopology(path string) (*Topology, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open topology: %w", err)
	}
	defer f.Close()
	return ParseTopology(f, path)
}

// BuiltinTopology returns one of the embedded real topologies: "online-boutique",
// "bookinfo" or "sock-shop".
func BuiltinTopology(name string) (*Topology, error) {
	f, err := embeddedTopologies.Open("topologies/" + name + ".edges")
	if err != nil {
		return nil, fmt.Errorf("builtin topology %q (valid: %s): %w",
			name, strings.Join(BuiltinTopologies(), ", "), err)
	}
	defer f.Close()
	return ParseTopology(f, name+".edges")
}

// BuiltinTopologies lists the names accepted by BuiltinTopology.
func BuiltinTopologies() []string {
	return []string{"bookinfo", "online-boutique", "sock-shop"}
}

// roots returns the nodes no edge points at, in node order.
func (t *Topology) roots() []string {
	called := map[string]bool{}
	for _, e := range t.Edges {
		called[e.Server] = true
	}
	var out []string
	for _, n := range t.Nodes {
		if !called[n] {
			out = append(out, n)
		}
	}
	return out
}
