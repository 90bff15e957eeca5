package render

import (
	"bytes"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// mermaidGraph is what parseMermaid understood of a flowchart.
type mermaidGraph struct {
	nodes     map[string]string // ID → decoded label
	shapes    map[string]string // ID → opening bracket
	subgraphs map[string]string // ID → decoded title
	edges     [][2]string
	classes   map[string][]string
}

var (
	mermaidNodeLine = regexp.MustCompile(
		`^\t+(n[0-9]+)(\[\(|\(\[|\[|>)("[^"]*")(\)\]|\]\)|\])$`)
	mermaidEdgeLine     = regexp.MustCompile(`^\t(n[0-9]+) (-->|-\.->)\|("[^"]*")\| (n[0-9]+)$`)
	mermaidSubgraphLine = regexp.MustCompile(`^\t+subgraph ([cg][0-9]+)\[("[^"]*")\]$`)
	mermaidClassDefLine = regexp.MustCompile(
		`^\tclassDef ([A-Za-z]+) ([a-z-]+:[^,;"]+)(,[a-z-]+:[^,;"]+)*$`)
	mermaidClassLine = regexp.MustCompile(`^\tclass (n[0-9]+(?:,n[0-9]+)*) ([A-Za-z]+)$`)
	mermaidLinkStyle = regexp.MustCompile(
		`^\tlinkStyle ([0-9]+(?:,[0-9]+)*) ([a-z-]+:[^,;"]+(,[a-z-]+:[^,;"]+)*)$`)
	mermaidEntity = regexp.MustCompile(`^#([0-9]+|quot);`)
)

var mermaidClosing = map[string]string{"[(": ")]", "([": "])", "[": "]", ">": "]"}

// parseMermaid checks the flowchart subset the renderer writes, line by line: the
// header, balanced subgraph/end, node and edge statements whose IDs match n[0-9]+,
// labels with no raw quote or syntax character, every edge endpoint declared before
// use, classes and link styles that refer to what exists. No Mermaid parser runs
// offline, so this is the check the Mermaid output gets.
func parseMermaid(src string) (*mermaidGraph, error) {
	g := &mermaidGraph{
		nodes: map[string]string{}, shapes: map[string]string{},
		subgraphs: map[string]string{}, classes: map[string][]string{},
	}
	lines := strings.Split(strings.TrimSuffix(src, "\n"), "\n")
	if lines[0] != "flowchart LR" {
		return nil, fmt.Errorf("line 1: %q is not the flowchart header", lines[0])
	}
	depth := 0
	var linkStyles [][]int
	for n, line := range lines[1:] {
		lineNo := n + 2
		fail := func(format string, args ...any) error {
			return fmt.Errorf("line %d (%q): %s", lineNo, line, fmt.Sprintf(format, args...))
		}
		switch {
		case strings.HasPrefix(line, "%%"):
			if strings.Contains(line, "\n") {
				return nil, fail("comment spans lines")
			}
		case mermaidSubgraphLine.MatchString(line):
			m := mermaidSubgraphLine.FindStringSubmatch(line)
			title, err := decodeMermaidLabel(m[2])
			if err != nil {
				return nil, fail("%v", err)
			}
			if _, ok := g.subgraphs[m[1]]; ok {
				return nil, fail("subgraph %s declared twice", m[1])
			}
			g.subgraphs[m[1]] = title
			depth++
		case strings.TrimLeft(line, "\t") == "end":
			if depth--; depth < 0 {
				return nil, fail("end without subgraph")
			}
		case mermaidNodeLine.MatchString(line):
			m := mermaidNodeLine.FindStringSubmatch(line)
			if mermaidClosing[m[2]] != m[4] {
				return nil, fail("shape opened with %s closed with %s", m[2], m[4])
			}
			if _, ok := g.nodes[m[1]]; ok {
				return nil, fail("node %s declared twice", m[1])
			}
			if len(g.edges) > 0 {
				return nil, fail("node declared after the edges")
			}
			label, err := decodeMermaidLabel(m[3])
			if err != nil {
				return nil, fail("%v", err)
			}
			g.nodes[m[1]], g.shapes[m[1]] = label, m[2]
		case mermaidEdgeLine.MatchString(line):
			m := mermaidEdgeLine.FindStringSubmatch(line)
			if depth != 0 {
				return nil, fail("edge inside a subgraph")
			}
			for _, id := range []string{m[1], m[4]} {
				if _, ok := g.nodes[id]; !ok {
					return nil, fail("edge endpoint %s is not declared", id)
				}
			}
			if _, err := decodeMermaidLabel(m[3]); err != nil {
				return nil, fail("%v", err)
			}
			g.edges = append(g.edges, [2]string{m[1], m[4]})
		case mermaidClassDefLine.MatchString(line):
		case mermaidClassLine.MatchString(line):
			m := mermaidClassLine.FindStringSubmatch(line)
			for id := range strings.SplitSeq(m[1], ",") {
				if _, ok := g.nodes[id]; !ok {
					return nil, fail("class of undeclared node %s", id)
				}
				g.classes[m[2]] = append(g.classes[m[2]], id)
			}
		case mermaidLinkStyle.MatchString(line):
			var idx []int
			for s := range strings.SplitSeq(mermaidLinkStyle.FindStringSubmatch(line)[1], ",") {
				i, _ := strconv.Atoi(s)
				idx = append(idx, i)
			}
			linkStyles = append(linkStyles, idx)
		default:
			return nil, fail("not a statement the renderer writes")
		}
	}
	if depth != 0 {
		return nil, fmt.Errorf("%d subgraph(s) without end", depth)
	}
	for _, idx := range linkStyles {
		for _, i := range idx {
			if i >= len(g.edges) {
				return nil, fmt.Errorf("linkStyle %d: there are only %d edges", i, len(g.edges))
			}
		}
	}
	return g, nil
}

// decodeMermaidLabel checks a quoted label and returns the text Mermaid shows: only
// letters, digits, non-ASCII and harmless punctuation raw; quotes, '#', brackets and
// the like only as #code; entities; <br> as the only markup.
func decodeMermaidLabel(quoted string) (string, error) {
	if len(quoted) < 2 || quoted[0] != '"' || quoted[len(quoted)-1] != '"' {
		return "", fmt.Errorf("label %s is not quoted", quoted)
	}
	s := quoted[1 : len(quoted)-1]
	var b strings.Builder
	for i := 0; i < len(s); {
		switch {
		case strings.HasPrefix(s[i:], "<br>"):
			b.WriteByte('\n')
			i += len("<br>")
		case s[i] == '#':
			m := mermaidEntity.FindStringSubmatch(s[i:])
			if m == nil {
				return "", fmt.Errorf("label %s: raw # at %d", quoted, i)
			}
			if m[1] == "quot" {
				b.WriteByte('"')
			} else {
				code, _ := strconv.Atoi(m[1])
				b.WriteRune(rune(code))
			}
			i += len(m[0])
		case s[i] < 0x80 && !mermaidSafe(rune(s[i])):
			return "", fmt.Errorf("label %s: raw %q at %d", quoted, s[i], i)
		default:
			b.WriteByte(s[i])
			i++
		}
	}
	return b.String(), nil
}

func TestMermaidEscaping(t *testing.T) {
	r := escapingReport()
	var buf bytes.Buffer
	require.NoError(t, Mermaid(&buf, r))

	g, err := parseMermaid(buf.String())
	require.NoError(t, err, buf.String())
	require.Len(t, g.nodes, len(r.Nodes))
	require.Len(t, g.edges, len(r.Edges))
	requireMermaidLabels(t, newView(r), g)
}

func requireMermaidLabels(t *testing.T, v *view, g *mermaidGraph) {
	t.Helper()
	for i, label := range v.boxLabels(cleanText) {
		require.Equal(t, label, g.nodes[fmt.Sprintf("n%d", i)], "node %d (%q)", i, v.nodes[i].ID)
	}
}

func TestMermaidDrawsKindsAndHighlights(t *testing.T) {
	r := smallReport()
	var buf bytes.Buffer
	require.NoError(t, Mermaid(&buf, r))
	g, err := parseMermaid(buf.String())
	require.NoError(t, err)

	v := newView(r)
	id := func(node string) string { return fmt.Sprintf("n%d", v.index[node]) }
	require.Equal(t, "[(", g.shapes[id("eu-1/shop/orders-db")])
	require.Equal(t, ">", g.shapes[id("eu-1/infra/events")])
	require.Equal(t, "([", g.shapes[id("//unknown")])
	require.Equal(t, "[", g.shapes[id("eu-1/shop/frontend")])
	require.Equal(t, []string{id("eu-1/shop/payments")}, g.classes["errorOrigin"])
	require.Equal(t, []string{id("eu-1/shop/frontend")}, g.classes["entryPoint"])
	require.Equal(t, "eu-1", g.subgraphs["c1"])

	// Edges 3 (checkout -> payments: failing, critical), 5 (frontend -> checkout:
	// failing, critical) and 6 (payments -> stripe: critical).
	out := buf.String()
	require.Contains(t, out, "\tlinkStyle 3,5 stroke:"+colourError+",stroke-width:3px")
	require.Contains(t, out, "\tlinkStyle 6 stroke:"+colourCritical)
	require.Contains(t, out, "\tn7 -.->|\"0 rps\"| n8\n", "idle edges are dotted")
}

func TestMermaidQuote(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"frontend-v2.prod", `"frontend-v2.prod"`},
		{`say "hi"`, `"say #quot;hi#quot;"`},
		{"#1", `"#35;1"`},
		{"a<b>c", `"a#60;b#62;c"`},
		{"x|y;z", `"x#124;y#59;z"`},
		{"{[()]}", `"#123;#91;#40;#41;#93;#125;"`},
		{"two\nlines", `"two<br>lines"`},
		{"café 服务", `"café 服务"`},
		{`a\b`, `"a#92;b"`},
	} {
		require.Equal(t, tc.want, mermaidQuote(tc.in), tc.in)
	}
}
