package render

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/topology"
)

// dotGraph is what parseDOT understood of a DOT file: the nodes with their attributes
// and the edges, attribute values unquoted the way the Graphviz lexer does.
type dotGraph struct {
	nodes map[string]map[string]string
	edges []dotEdge
}

type dotEdge struct {
	from, to string
	attrs    map[string]string
}

type dotToken struct {
	kind string // "id", "string", "->" or the punctuation character itself
	text string
	pos  int
}

var dotNodeID = regexp.MustCompile(`^n[0-9]+$`)

// parseDOT checks the subset of DOT that the renderer writes, strictly: strings are
// terminated and hold no raw newline, braces and brackets balance, node IDs are
// generated ones (n0, n1, ...), and every edge joins declared nodes. It is a structural
// check that runs everywhere; with Graphviz installed, tests also run the real parser.
func parseDOT(src string) (*dotGraph, error) {
	tokens, err := lexDOT(src)
	if err != nil {
		return nil, err
	}
	p := &dotParser{tokens: tokens, g: &dotGraph{nodes: map[string]map[string]string{}}}
	if err := p.expect("id", "digraph"); err != nil {
		return nil, err
	}
	if p.peek().kind == "id" || p.peek().kind == "string" {
		p.next()
	}
	if err := p.expect("{", ""); err != nil {
		return nil, err
	}
	if err := p.statements(); err != nil {
		return nil, err
	}
	if p.i != len(p.tokens) {
		return nil, fmt.Errorf("offset %d: text after the closing brace", p.peek().pos)
	}
	for _, e := range p.g.edges {
		for _, id := range []string{e.from, e.to} {
			if _, ok := p.g.nodes[id]; !ok {
				return nil, fmt.Errorf("edge %s -> %s: node %s is not declared", e.from, e.to, id)
			}
		}
	}
	return p.g, nil
}

func lexDOT(src string) ([]dotToken, error) {
	var tokens []dotToken
	for i := 0; i < len(src); {
		c := src[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n':
			i++
		case strings.HasPrefix(src[i:], "//"):
			end := strings.IndexByte(src[i:], '\n')
			if end < 0 {
				return nil, fmt.Errorf("offset %d: comment without a newline", i)
			}
			i += end + 1
		case c == '"':
			text, n, err := lexDOTString(src[i:])
			if err != nil {
				return nil, fmt.Errorf("offset %d: %w", i, err)
			}
			tokens = append(tokens, dotToken{"string", text, i})
			i += n
		case strings.HasPrefix(src[i:], "->"):
			tokens = append(tokens, dotToken{"->", "->", i})
			i += 2
		case strings.IndexByte("{}[];,=", c) >= 0:
			tokens = append(tokens, dotToken{string(c), string(c), i})
			i++
		case isDOTIDByte(c):
			j := i
			for j < len(src) && isDOTIDByte(src[j]) {
				j++
			}
			tokens = append(tokens, dotToken{"id", src[i:j], i})
			i = j
		default:
			return nil, fmt.Errorf("offset %d: unexpected %q", i, c)
		}
	}
	return tokens, nil
}

// lexDOTString reads a quoted string the way Graphviz's lexer does: \" is a quote,
// \\ stays a (still escaped) pair, anything else is kept. It returns the content
// and the bytes consumed.
func lexDOTString(s string) (string, int, error) {
	var b strings.Builder
	for j := 1; j < len(s); j++ {
		switch c := s[j]; {
		case c == '"':
			return b.String(), j + 1, nil
		case c == '\n' || c == '\r':
			return "", 0, errors.New("raw line break inside a quoted string")
		case c == '\\' && j+1 < len(s) && s[j+1] == '"':
			b.WriteByte('"')
			j++
		case c == '\\' && j+1 < len(s) && s[j+1] == '\\':
			b.WriteString(`\\`)
			j++
		default:
			b.WriteByte(c)
		}
	}
	return "", 0, errors.New("unterminated quoted string")
}

func isDOTIDByte(c byte) bool {
	return c == '_' || c == '.' || c == '#' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' ||
		'A' <= c && c <= 'Z'
}

type dotParser struct {
	tokens []dotToken
	i      int
	g      *dotGraph
}

func (p *dotParser) peek() dotToken {
	if p.i >= len(p.tokens) {
		return dotToken{kind: "eof", pos: -1}
	}
	return p.tokens[p.i]
}

func (p *dotParser) next() dotToken {
	t := p.peek()
	p.i++
	return t
}

func (p *dotParser) expect(kind, text string) error {
	t := p.next()
	if t.kind != kind || text != "" && t.text != text {
		return fmt.Errorf("offset %d: want %s %q, got %s %q", t.pos, kind, text, t.kind, t.text)
	}
	return nil
}

// statements parses statements up to and including the closing brace.
func (p *dotParser) statements() error {
	for {
		t := p.next()
		switch {
		case t.kind == "}":
			return nil
		case t.kind == ";":
		case t.kind == "id" && (t.text == "graph" || t.text == "node" || t.text == "edge"):
			if _, err := p.attrList(); err != nil {
				return err
			}
		case t.kind == "id" && t.text == "subgraph":
			if !strings.HasPrefix(p.peek().text, "cluster_") {
				return fmt.Errorf("offset %d: subgraph %q is not a cluster", t.pos, p.peek().text)
			}
			p.next()
			if err := p.expect("{", ""); err != nil {
				return err
			}
			if err := p.statements(); err != nil {
				return err
			}
		case t.kind == "id" && p.peek().kind == "=":
			p.next()
			if v := p.next(); v.kind != "string" && v.kind != "id" {
				return fmt.Errorf("offset %d: attribute %s has no value", t.pos, t.text)
			}
		case t.kind == "id" && dotNodeID.MatchString(t.text):
			if err := p.nodeOrEdge(t.text); err != nil {
				return err
			}
		default:
			return fmt.Errorf("offset %d: unexpected %s %q", t.pos, t.kind, t.text)
		}
	}
}

func (p *dotParser) nodeOrEdge(id string) error {
	if p.peek().kind == "->" {
		p.next()
		to := p.next()
		if to.kind != "id" || !dotNodeID.MatchString(to.text) {
			return fmt.Errorf("offset %d: edge to %q, not a generated node ID", to.pos, to.text)
		}
		attrs, err := p.attrList()
		if err != nil {
			return err
		}
		p.g.edges = append(p.g.edges, dotEdge{id, to.text, attrs})
		return nil
	}
	if _, ok := p.g.nodes[id]; ok {
		return fmt.Errorf("node %s declared twice", id)
	}
	attrs, err := p.attrList()
	if err != nil {
		return err
	}
	p.g.nodes[id] = attrs
	return nil
}

func (p *dotParser) attrList() (map[string]string, error) {
	attrs := map[string]string{}
	if err := p.expect("[", ""); err != nil {
		return nil, err
	}
	for {
		t := p.next()
		switch {
		case t.kind == "]":
			return attrs, nil
		case t.kind == ",":
		case t.kind == "id" && p.peek().kind == "=":
			p.next()
			v := p.next()
			if v.kind != "string" && v.kind != "id" {
				return nil, fmt.Errorf("offset %d: attribute %s has no value", t.pos, t.text)
			}
			attrs[t.text] = v.text
		default:
			return nil, fmt.Errorf("offset %d: unexpected %s %q in attributes", t.pos, t.kind,
				t.text)
		}
	}
}

// decodeDOTLabel turns an escString label back into the text Graphviz draws: \\ is a
// backslash, \n a line break, &amp; an ampersand. Any other escape would be a bug in
// the renderer, since Graphviz would interpret it.
func decodeDOTLabel(s string) (string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && i+1 < len(s) && s[i+1] == '\\':
			b.WriteByte('\\')
			i++
		case c == '\\' && i+1 < len(s) && s[i+1] == 'n':
			b.WriteByte('\n')
			i++
		case c == '\\':
			return "", fmt.Errorf("label %q: stray escape at %d", s, i)
		case c == '&':
			if !strings.HasPrefix(s[i:], "&amp;") {
				return "", fmt.Errorf("label %q: raw & at %d would be read as an entity", s, i)
			}
			b.WriteByte('&')
			i += len("&amp;") - 1
		default:
			b.WriteByte(c)
		}
	}
	return b.String(), nil
}

// lookDot returns the path of Graphviz's dot, or skips the test when it is missing,
// unless STRATUS_REQUIRE_TOOLS is set (as in CI), where a missing tool is a failure.
func lookDot(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("dot")
	if err == nil {
		return path
	}
	if os.Getenv("STRATUS_REQUIRE_TOOLS") != "" {
		t.Fatalf("STRATUS_REQUIRE_TOOLS is set but the Graphviz binary \"dot\" is not on PATH: %v",
			err)
	}
	t.Skip("the Graphviz binary \"dot\" is not on PATH (install graphviz); " +
		"set STRATUS_REQUIRE_TOOLS=1 to fail instead")
	return ""
}

// runDot renders src with `dot -Tsvg`, requires it to succeed without a warning and
// to produce well-formed XML, and returns the text Graphviz drew per node (the lines of
// its label) keyed by node ID.
func runDot(t *testing.T, dotPath string, src []byte) map[string][]string {
	t.Helper()
	cmd := exec.Command(dotPath, "-Tsvg")
	cmd.Stdin = bytes.NewReader(src)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "dot -Tsvg: %s\ninput:\n%s", stderr.String(), src)
	require.Empty(t, stderr.String(), "dot -Tsvg warned\ninput:\n%s", src)

	texts, err := svgNodeTexts(stdout.Bytes())
	require.NoError(t, err, "dot wrote SVG that is not well-formed XML")
	return texts
}

// svgNodeTexts reads Graphviz SVG and returns, per node title, its text elements.
func svgNodeTexts(svg []byte) (map[string][]string, error) {
	dec := xml.NewDecoder(bytes.NewReader(svg))
	dec.Strict = true
	dec.Entity = xml.HTMLEntity
	out := map[string][]string{}
	var inNode bool
	var element, title string
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("reading svg: %w", err)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			element = tok.Name.Local
			if element == "g" {
				for _, a := range tok.Attr {
					if a.Name.Local == "class" {
						inNode = a.Value == "node"
					}
				}
			}
		case xml.CharData:
			switch {
			case inNode && element == "title":
				title = string(tok)
			case inNode && element == "text":
				out[title] = append(out[title], string(tok))
			}
		case xml.EndElement:
			element = ""
		}
	}
}

// escapingNames are node names that try to break out of a quoted label in DOT or
// Mermaid, or to make Graphviz or a browser interpret them.
var escapingNames = []string{
	`quote"inside`,
	`"`,
	`back\slash`,
	`trailing\`,
	`\"escaped-quote`,
	`\N \G \E \l \r`,
	"new\nline",
	"carriage\r\nreturn",
	"tab\there",
	`<b>html</b>`,
	`a > b < c`,
	`&amp; &lt; &#35; entity`,
	`{brace}`,
	`pipe|pipe`,
	`#hash #quot; #35;`,
	`semi;colon`,
	`square[bracket]`,
	`paren(1)`,
	"back`tick",
	`%% not a comment`,
	"end",
	"subgraph",
	"naïve-café-服务-🚀",
	"bidi\u202eevil",
	"ctrl\x01\x7f",
	"bad\xff\xfeutf8",
	"",
	" ",
}

// escapingReport puts every escaping name in the places a name can appear: as a node
// name, a namespace, a cluster, a protocol and a source, with edges between them.
func escapingReport() topology.GraphReport {
	r := topology.GraphReport{At: fixtureAt, Sources: []string{`src"\`}}
	for i, name := range escapingNames {
		cluster := escapingNames[(i+1)%len(escapingNames)]
		namespace := escapingNames[(i+2)%len(escapingNames)]
		id := cluster + "/" + namespace + "/" + name
		kinds := []string{"service", "database", "messaging", "external", "unknown", `k"ind`}
		r.Nodes = append(r.Nodes, topology.NodeReport{
			ID: id, Name: name, Namespace: namespace, Cluster: cluster,
			Kind: kinds[i%len(kinds)], ErrorOrigin: i%5 == 0, EntryPoint: i%7 == 0,
		})
	}
	for i := range r.Nodes {
		next := r.Nodes[(i+1)%len(r.Nodes)].ID
		r.Edges = append(r.Edges, topology.EdgeReport{
			Client: r.Nodes[i].ID, Server: next, Protocol: escapingNames[i],
			RequestsPerSecond: float64(i), ErrorRatio: ptr(float64(i) / 50),
			Sources: []string{escapingNames[i]}, LastSeen: fixtureAt,
		})
	}
	r.CriticalPaths = []topology.CriticalPathReport{{
		EntryPoint: r.Nodes[0].ID, Nodes: []string{r.Nodes[0].ID, r.Nodes[1].ID},
	}}
	r.ErrorOrigins = []string{r.Nodes[0].ID}
	return r
}

func TestDOTEscaping(t *testing.T) {
	r := escapingReport()
	var buf bytes.Buffer
	require.NoError(t, DOT(&buf, r))

	g, err := parseDOT(buf.String())
	require.NoError(t, err, buf.String())
	require.Len(t, g.nodes, len(r.Nodes))
	require.Len(t, g.edges, len(r.Edges))
	requireDOTLabels(t, r, g)

	texts := runDot(t, lookDot(t), buf.Bytes())
	labels := newView(r).boxLabels(cleanText)
	for i, label := range labels {
		if strings.TrimSpace(label) != label {
			continue // Graphviz trims a label's outer spaces when it draws it.
		}
		require.Equal(t, strings.Split(label, "\n"), texts[fmt.Sprintf("n%d", i)],
			"node %d (%q)", i, r.Nodes[i].ID)
	}
}

// requireDOTLabels checks that every node label decodes back to the name it shows.
func requireDOTLabels(t *testing.T, r topology.GraphReport, g *dotGraph) {
	t.Helper()
	v := newView(r)
	labels := v.boxLabels(cleanText)
	for i := range v.nodes {
		attrs, ok := g.nodes[fmt.Sprintf("n%d", i)]
		require.True(t, ok, "node n%d", i)
		got, err := decodeDOTLabel(attrs["label"])
		require.NoError(t, err)
		require.Equal(t, labels[i], got)
		_, err = decodeDOTLabel(attrs["tooltip"])
		require.NoError(t, err)
	}
	for _, e := range g.edges {
		for _, key := range []string{"label", "tooltip"} {
			_, err := decodeDOTLabel(e.attrs[key])
			require.NoError(t, err)
		}
	}
}

// TestDOTGoldenFilesRender runs every DOT golden file through Graphviz.
func TestDOTGoldenFilesRender(t *testing.T) {
	dotPath := lookDot(t)
	files, err := filepath.Glob(filepath.Join("testdata", "*.dot"))
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			require.NoError(t, err)
			runDot(t, dotPath, src)
		})
	}
}

func TestDOTDrawsKindsAndHighlights(t *testing.T) {
	r := smallReport()
	var buf bytes.Buffer
	require.NoError(t, DOT(&buf, r))
	g, err := parseDOT(buf.String())
	require.NoError(t, err)

	v := newView(r)
	shape := func(id string) string { return g.nodes[fmt.Sprintf("n%d", v.index[id])]["shape"] }
	require.Equal(t, "cylinder", shape("eu-1/shop/orders-db"))
	require.Equal(t, "cds", shape("eu-1/infra/events"))
	require.Equal(t, "ellipse", shape("//unknown"))
	require.Contains(t, g.nodes[fmt.Sprintf("n%d", v.index["//api.stripe.com"])]["style"], "dashed")
	require.Equal(t, colourError, g.nodes[fmt.Sprintf("n%d", v.index["eu-1/shop/payments"])]["color"])

	edge := func(client, server string) map[string]string {
		from, to := fmt.Sprintf("n%d", v.index[client]), fmt.Sprintf("n%d", v.index[server])
		for _, e := range g.edges {
			if e.from == from && e.to == to {
				return e.attrs
			}
		}
		t.Fatalf("no edge %s -> %s", client, server)
		return nil
	}
	failingEdge := edge("eu-1/shop/checkout", "eu-1/shop/payments")
	require.Equal(t, colourError, failingEdge["color"])
	require.Equal(t, "bold", failingEdge["style"], "failing and on the critical path")
	require.Equal(t, "6.1 rps · 8.3% err", failingEdge["label"])
	require.Equal(t, colourCritical, edge("eu-1/shop/payments", "//api.stripe.com")["color"])
	require.Equal(t, "dashed", edge("us-1/catalog/inventory", "us-1/catalog/pricing")["style"])
	require.Equal(t, "1.00", edge("us-1/catalog/inventory", "us-1/catalog/pricing")["penwidth"])
	require.Equal(t, "0.4 rps", edge("us-1/catalog/inventory", "us-1/catalog/inventory")["label"])
}
