package render

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// view is a GraphReport arranged for drawing: nodes sorted and unique, every edge
// endpoint present as a node, and the lookups every renderer needs.
type view struct {
	report topology.GraphReport
	// nodes are sorted by ID. Endpoints that an edge names but r.Nodes lacks are
	// added as unknown nodes, so that a drawing never has an edge to nowhere.
	nodes []topology.NodeReport
	index map[string]int
	// edges are sorted by client, then server; duplicates of a pair are kept, since
	// dropping traffic from a picture would hide it.
	edges []topology.EdgeReport
	// critical holds the client → server pairs on some critical path.
	critical map[[2]string]bool
	// errorOrigin is the union of r.ErrorOrigins and the nodes flagged as origins.
	errorOrigin map[string]bool
}

func newView(r topology.GraphReport) *view {
	v := &view{
		report:      r,
		index:       map[string]int{},
		critical:    map[[2]string]bool{},
		errorOrigin: map[string]bool{},
	}

	add := func(n topology.NodeReport) {
		if _, ok := v.index[n.ID]; ok {
			return
		}
		v.index[n.ID] = len(v.nodes)
		v.nodes = append(v.nodes, n)
	}
	for _, n := range r.Nodes {
		add(n)
	}
	for _, e := range r.Edges {
		for _, id := range []string{e.Client, e.Server} {
			add(topology.NodeReport{ID: id, Kind: string(graph.KindUnknown)})
		}
	}
	slices.SortStableFunc(v.nodes, func(a, b topology.NodeReport) int {
		return strings.Compare(a.ID, b.ID)
	})
	for i, n := range v.nodes {
		v.index[n.ID] = i
	}

	v.edges = slices.Clone(r.Edges)
	slices.SortStableFunc(v.edges, func(a, b topology.EdgeReport) int {
		return cmp.Or(strings.Compare(a.Client, b.Client), strings.Compare(a.Server, b.Server))
	})

	for _, p := range r.CriticalPaths {
		for i := 1; i < len(p.Nodes); i++ {
			v.critical[[2]string{p.Nodes[i-1], p.Nodes[i]}] = true
		}
	}
	for _, id := range r.ErrorOrigins {
		v.errorOrigin[id] = true
	}
	for _, n := range v.nodes {
		if n.ErrorOrigin {
			v.errorOrigin[n.ID] = true
		}
	}
	return v
}

// identity returns the cluster, namespace and name of a node. A node whose parts are
// all empty is identified by its ID, split the way graph.MakeID joins it.
func identity(n topology.NodeReport) (cluster, namespace, name string) {
	if n.Cluster != "" || n.Namespace != "" || n.Name != "" {
		return n.Cluster, n.Namespace, n.Name
	}
	parts := strings.SplitN(n.ID, "/", 3)
	if len(parts) != 3 {
		return "", "", n.ID
	}
	return parts[0], parts[1], parts[2]
}

// shortNames returns a display name per node (same order as nodes) and the parts that
// were left out. A cluster or namespace shared by every node says nothing, so it is
// dropped; if that would make two nodes look the same, every node keeps its full ID.
func shortNames(nodes []topology.NodeReport) (names []string, omitted []string) {
	if len(nodes) == 0 {
		return nil, nil
	}
	c0, ns0, _ := identity(nodes[0])
	sharedCluster, sharedNamespace := true, true
	for _, n := range nodes[1:] {
		c, ns, _ := identity(n)
		sharedCluster = sharedCluster && c == c0
		sharedNamespace = sharedNamespace && ns == ns0
	}

	names = make([]string, len(nodes))
	seen := make(map[string]bool, len(nodes))
	for i, n := range nodes {
		c, ns, name := identity(n)
		var parts []string
		if !sharedCluster {
			parts = append(parts, c)
		}
		if !sharedNamespace {
			parts = append(parts, ns)
		}
		names[i] = strings.Join(append(parts, name), "/")
		if names[i] == "" || seen[names[i]] {
			return fullIDs(nodes), nil
		}
		seen[names[i]] = true
	}

	if sharedCluster && c0 != "" {
		omitted = append(omitted, fmt.Sprintf("cluster %s", quoteForText(c0)))
	}
	if sharedNamespace && ns0 != "" {
		omitted = append(omitted, fmt.Sprintf("namespace %s", quoteForText(ns0)))
	}
	return names, omitted
}

func fullIDs(nodes []topology.NodeReport) []string {
	out := make([]string, len(nodes))
	for i, n := range nodes {
		out[i] = n.ID
	}
	return out
}

// group is the nodes of one namespace of one cluster, as drawn in a box.
type group struct {
	cluster, namespace string
	members            []int // indices into view.nodes, in ID order
}

// groups returns the nodes grouped by cluster, then namespace, both sorted. Nodes with
// neither come first, in a group with empty names, and are drawn outside any box.
func (v *view) groups() []group {
	byKey := map[[2]string]*group{}
	var keys [][2]string
	for i, n := range v.nodes {
		c, ns, _ := identity(n)
		k := [2]string{c, ns}
		g, ok := byKey[k]
		if !ok {
			g = &group{cluster: c, namespace: ns}
			byKey[k] = g
			keys = append(keys, k)
		}
		g.members = append(g.members, i)
	}
	slices.SortFunc(keys, func(a, b [2]string) int {
		return cmp.Or(strings.Compare(a[0], b[0]), strings.Compare(a[1], b[1]))
	})
	out := make([]group, len(keys))
	for i, k := range keys {
		out[i] = *byKey[k]
	}
	return out
}

// boxLabels returns the label of every node inside its namespace box: its name, or
// its full ID where the name is empty or another node of the box has the same one.
// clean is the format's text cleaning, applied before comparing, so that names that
// only differ in characters the format cannot show still get distinct labels.
func (v *view) boxLabels(clean func(string) string) []string {
	labels := make([]string, len(v.nodes))
	for _, g := range v.groups() {
		count := map[string]int{}
		for _, i := range g.members {
			_, _, name := identity(v.nodes[i])
			labels[i] = clean(name)
			count[labels[i]]++
		}
		for _, i := range g.members {
			if labels[i] == "" || count[labels[i]] > 1 {
				labels[i] = clean(v.nodes[i].ID)
			}
		}
		// Cleaning can fold different IDs together (two control characters both
		// become U+FFFD); a suffix keeps them apart.
		used := map[string]int{}
		for _, i := range g.members {
			used[labels[i]]++
			if n := used[labels[i]]; n > 1 {
				labels[i] = fmt.Sprintf("%s (%d)", labels[i], n)
			}
		}
	}
	return labels
}

// cleanText makes a name drawable: invalid UTF-8, control characters other than
// newline, and bidirectional overrides (which can make one name read as another)
// become U+FFFD; tabs become spaces.
func cleanText(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case r == '\t':
			return ' '
		case unicode.IsControl(r), isBidiControl(r):
			return utf8.RuneError
		}
		return r
	}, s)
}

func isBidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// quoteForText prints a name as it is when a terminal shows it faithfully, and as a Go
// quoted string otherwise (control characters, invalid UTF-8, empty). A plain name
// never starts with a quote, so a quoted one cannot be mistaken for it.
func quoteForText(s string) string {
	if s == "" || strings.HasPrefix(s, `"`) {
		return strconv.Quote(s)
	}
	for _, r := range s {
		if r == utf8.RuneError || !unicode.IsPrint(r) && r != ' ' || isBidiControl(r) {
			return strconv.Quote(s)
		}
	}
	return s
}

// formatRate prints a request rate with about three significant digits and no
// trailing zeros.
func formatRate(rps float64) string {
	switch {
	case !finite(rps):
		return "-"
	case rps == 0:
		return "0"
	case rps >= 100:
		return strconv.FormatFloat(rps, 'f', 0, 64)
	case rps >= 10:
		return trimZeros(strconv.FormatFloat(rps, 'f', 1, 64))
	case rps >= 0.01:
		return trimZeros(strconv.FormatFloat(rps, 'f', 2, 64))
	}
	return "<0.01"
}

func trimZeros(s string) string {
	if !strings.Contains(s, ".") {
		return s
	}
	return strings.TrimSuffix(strings.TrimRight(s, "0"), ".")
}

// formatRatio prints a ratio as a percentage, "-" when not measured.
func formatRatio(r *float64) string {
	if r == nil || !finite(*r) {
		return "-"
	}
	p := *r * 100
	switch {
	case p == 0:
		return "0%"
	case p < 0.01:
		return "<0.01%"
	case p < 0.1:
		return strconv.FormatFloat(p, 'f', 2, 64) + "%"
	case p < 10:
		return strconv.FormatFloat(p, 'f', 1, 64) + "%"
	}
	return strconv.FormatFloat(p, 'f', 0, 64) + "%"
}

// formatSeconds prints a latency in the unit a reader expects, "-" when not measured.
func formatSeconds(s *float64) string {
	if s == nil || !finite(*s) {
		return "-"
	}
	switch v := *s; {
	case v == 0:
		return "0s"
	case v < 1e-3:
		return strconv.FormatFloat(v*1e6, 'f', 0, 64) + "µs"
	case v < 10e-3:
		return strconv.FormatFloat(v*1e3, 'f', 1, 64) + "ms"
	case v < 1:
		return strconv.FormatFloat(v*1e3, 'f', 0, 64) + "ms"
	case v < 10:
		return strconv.FormatFloat(v, 'f', 2, 64) + "s"
	default:
		return strconv.FormatFloat(v, 'f', 1, 64) + "s"
	}
}

// formatAge prints how long before at the time t was, in the two largest units.
func formatAge(t, at time.Time) string {
	switch {
	case t.IsZero():
		return "-"
	case at.IsZero():
		return t.UTC().Format(time.RFC3339)
	}
	d := at.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, " ahead"
	}
	return formatDuration(d) + suffix
}

func formatDuration(d time.Duration) string {
	s := int64(math.Round(d.Seconds()))
	switch {
	case s < 60:
		return fmt.Sprintf("%ds", s)
	case s < 3600:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	case s < 86400:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	}
	return fmt.Sprintf("%dd%02dh", s/86400, s%86400/3600)
}

// edgeLabel is the short label drawn on an edge: the rate, and the error ratio when
// some calls failed.
func edgeLabel(e topology.EdgeReport) string {
	label := formatRate(e.RequestsPerSecond) + " rps"
	if e.ErrorRatio != nil && finite(*e.ErrorRatio) && *e.ErrorRatio > 0 {
		label += " · " + formatRatio(e.ErrorRatio) + " err"
	}
	return label
}

// failing reports whether an edge's errors are worth a reader's eye: above the same
// gate the error-origin rule treats as noise.
func failing(e topology.EdgeReport) bool {
	return e.ErrorRatio != nil && *e.ErrorRatio > graph.DefaultMinErrorRatio
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
