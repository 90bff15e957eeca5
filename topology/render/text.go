package render

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/stratus-monitoring/stratus/topology"
)

// Text writes r as a report for a terminal: a summary, the nodes, the edges, the
// critical path of every entry point and the error origins. Figures that were not
// measured print as "-"; last-seen times are relative to r.At.
//
// Names drop a cluster or namespace that every node shares (the summary says which),
// unless that would make two nodes look alike. Names a terminal cannot show faithfully
// (control characters, invalid UTF-8) are printed Go-quoted.
func Text(w io.Writer, r topology.GraphReport) error {
	v := newView(r)
	short, omitted := shortNames(v.nodes)
	name := func(id string) string {
		if i, ok := v.index[id]; ok {
			return quoteForText(short[i])
		}
		return quoteForText(id)
	}

	var buf bytes.Buffer
	writeSummary(&buf, v, omitted)
	writeNodes(&buf, v, short)
	writeEdges(&buf, v, name)
	writeCriticalPaths(&buf, v, name)
	writeErrorOrigins(&buf, v, name)
	return writeAll(w, FormatText, buf.Bytes())
}

func writeSummary(buf *bytes.Buffer, v *view, omitted []string) {
	r := v.report
	at := "-"
	if !r.At.IsZero() {
		at = r.At.UTC().Format(time.RFC3339)
	}
	sources := make([]string, len(r.Sources))
	for i, s := range r.Sources {
		sources[i] = quoteForText(s)
	}
	fmt.Fprintf(buf, "Dependency graph at %s: %s, %s, sources %s",
		at, plural(len(v.nodes), "node"), plural(len(v.edges), "edge"),
		orDash(strings.Join(sources, ", ")))
	if finite(r.RetentionSeconds) && r.RetentionSeconds > 0 {
		fmt.Fprintf(buf, ", retention %s",
			formatDuration(time.Duration(r.RetentionSeconds*float64(time.Second))))
	}
	buf.WriteString(".\n")
	if len(omitted) > 0 {
		fmt.Fprintf(buf, "Names omit the %s that every node shares.\n",
			strings.Join(omitted, " and the "))
	}
}

func writeNodes(buf *bytes.Buffer, v *view, short []string) {
	buf.WriteString("\nNODES\n")
	tw := newTable(buf)
	fmt.Fprintln(tw, "NAME\tKIND\tFAN-IN\tFAN-OUT\tDEPENDENTS\tBOTTLENECK\tSELF TIME\tFLAGS")
	for i, n := range v.nodes {
		var flags []string
		if n.EntryPoint {
			flags = append(flags, "entry point")
		}
		if v.errorOrigin[n.ID] {
			flags = append(flags, "error origin")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\t%s\t%s\n",
			quoteForText(short[i]), quoteForText(orDash(n.Kind)), n.FanIn, n.FanOut,
			n.Dependents, formatScore(n.BottleneckScore), formatSeconds(n.SelfTimeSeconds),
			orDash(strings.Join(flags, ", ")))
	}
	_ = tw.Flush()
}

func writeEdges(buf *bytes.Buffer, v *view, name func(string) string) {
	buf.WriteString("\nEDGES\n")
	if len(v.edges) == 0 {
		buf.WriteString("none\n")
		return
	}
	tw := newTable(buf)
	fmt.Fprintln(tw, "CLIENT\t\tSERVER\tRATE\tERRORS\tP95\tPROTOCOL\tSOURCES\tLAST SEEN")
	for _, e := range v.edges {
		sources := make([]string, len(e.Sources))
		for i, s := range e.Sources {
			sources[i] = quoteForText(s)
		}
		rate := formatRate(e.RequestsPerSecond)
		if rate != "-" {
			rate += "/s"
		}
		fmt.Fprintf(tw, "%s\t->\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			name(e.Client), name(e.Server), rate, formatRatio(e.ErrorRatio),
			formatSeconds(e.LatencyP95Seconds), orDash(quoteProtocol(e.Protocol)),
			orDash(strings.Join(sources, ",")), formatAge(e.LastSeen, v.report.At))
	}
	_ = tw.Flush()
}

func writeCriticalPaths(buf *bytes.Buffer, v *view, name func(string) string) {
	buf.WriteString("\nCRITICAL PATHS (slowest chain from each entry point)\n")
	if len(v.report.CriticalPaths) == 0 {
		buf.WriteString("none\n")
		return
	}
	tw := newTable(buf)
	fmt.Fprintln(tw, "ENTRY POINT\tSELF TIME\tCHAIN")
	for _, p := range v.report.CriticalPaths {
		chain := make([]string, len(p.Nodes))
		for i, id := range p.Nodes {
			chain[i] = name(id)
		}
		self := p.SelfTimeSeconds
		fmt.Fprintf(tw, "%s\t%s\t%s\n", name(p.EntryPoint), formatSeconds(&self),
			orDash(strings.Join(chain, " -> ")))
	}
	_ = tw.Flush()
}

func writeErrorOrigins(buf *bytes.Buffer, v *view, name func(string) string) {
	buf.WriteString("\nERROR ORIGINS (where the errors callers see start)\n")
	ids := v.report.ErrorOrigins
	if len(ids) == 0 {
		// Fall back to the node flags, so that a report filled in only per node
		// still names its origins.
		for _, n := range v.nodes {
			if n.ErrorOrigin {
				ids = append(ids, n.ID)
			}
		}
	}
	if len(ids) == 0 {
		buf.WriteString("none\n")
		return
	}
	for _, id := range ids {
		buf.WriteString(name(id) + "\n")
	}
}

func newTable(buf *bytes.Buffer) *tabwriter.Writer {
	return tabwriter.NewWriter(buf, 0, 0, 2, ' ', 0)
}

// quoteProtocol keeps the comma-separated protocol list readable while quoting any
// protocol a terminal cannot show.
func quoteProtocol(p string) string {
	if p == "" {
		return ""
	}
	parts := strings.Split(p, ",")
	for i, s := range parts {
		parts[i] = quoteForText(s)
	}
	return strings.Join(parts, ",")
}

func formatScore(x float64) string {
	if !finite(x) {
		return "-"
	}
	return fmt.Sprintf("%.2f", x)
}

func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
