// Package render prints a topology.GraphReport for people and for other tools: a
// terminal report (text), the stable JSON schema (json), Graphviz (dot) and Mermaid
// (mermaid). It backs `stratus deps graph --output=...`.
//
// Every renderer is a pure function of the report: no clock is read (relative times are
// taken against GraphReport.At) and every list is written in a sorted order, so the same
// report always gives the same bytes. Names come from telemetry labels and may hold
// anything, so DOT and Mermaid never use them as identifiers: nodes get generated IDs
// (n0, n1, ... in ID order) and names appear only inside escaped labels.
//
// Each renderer builds its output in memory and writes it with a single call, so a
// failed write never leaves half a graph behind a successful return.
package render

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/stratus-monitoring/stratus/topology"
)

// Format names accepted by Write, as the --output flag spells them.
const (
	FormatText    = "text"
	FormatJSON    = "json"
	FormatDOT     = "dot"
	FormatMermaid = "mermaid"
)

// ErrUnknownFormat is returned (wrapped) by Write for a format it does not know, so
// that callers can tell bad input from a failed write.
var ErrUnknownFormat = errors.New("unknown output format")

var renderers = []struct {
	name   string
	render func(io.Writer, topology.GraphReport) error
}{
	{FormatText, Text},
	{FormatJSON, JSON},
	{FormatDOT, DOT},
	{FormatMermaid, Mermaid},
}

// Formats returns the format names Write accepts, in the order help text should list
// them.
func Formats() []string {
	out := make([]string, len(renderers))
	for i, r := range renderers {
		out[i] = r.name
	}
	return out
}

// Write renders r to w in the named format (see Formats).
func Write(w io.Writer, format string, r topology.GraphReport) error {
	for _, rd := range renderers {
		if rd.name == format {
			return rd.render(w, r)
		}
	}
	return fmt.Errorf("%w %q: valid formats are %s", ErrUnknownFormat, format,
		strings.Join(Formats(), ", "))
}

// JSON writes r as indented JSON with a trailing newline: the documented schema of
// `stratus deps graph --output=json`.
//
// Figures that were not measured are nil pointers and print as null. A pointer to NaN
// or an infinity means the same and is printed as null too, since encoding/json
// would otherwise refuse the whole report; a non-finite figure that has no null form
// is an error naming the node or edge that holds it.
func JSON(w io.Writer, r topology.GraphReport) error {
	clean, err := finiteReport(r)
	if err != nil {
		return fmt.Errorf("rendering graph as json: %w", err)
	}
	b, err := json.MarshalIndent(clean, "", "  ")
	if err != nil {
		return fmt.Errorf("rendering graph as json: %w", err)
	}
	return writeAll(w, FormatJSON, append(b, '\n'))
}

// finiteReport returns a copy of r whose non-finite pointer figures are nil, or an
// error for a non-finite figure that cannot be null. r itself is left alone: its
// slices may be shared with the caller.
func finiteReport(r topology.GraphReport) (topology.GraphReport, error) {
	if !finite(r.RetentionSeconds) {
		return r, errors.New("retention_seconds is not a finite number")
	}

	nodes := make([]topology.NodeReport, len(r.Nodes))
	for i, n := range r.Nodes {
		if !finite(n.Betweenness) || !finite(n.BottleneckScore) {
			return r, fmt.Errorf("node %q: betweenness or bottleneck_score is not a finite number",
				n.ID)
		}
		n.SelfTimeSeconds = finiteOrNil(n.SelfTimeSeconds)
		nodes[i] = n
	}
	r.Nodes = nodes

	edges := make([]topology.EdgeReport, len(r.Edges))
	for i, e := range r.Edges {
		if !finite(e.RequestsPerSecond) {
			return r, fmt.Errorf("edge %q -> %q: requests_per_second is not a finite number",
				e.Client, e.Server)
		}
		e.ErrorRatio = finiteOrNil(e.ErrorRatio)
		e.LatencyP95Seconds = finiteOrNil(e.LatencyP95Seconds)
		edges[i] = e
	}
	r.Edges = edges

	for _, p := range r.CriticalPaths {
		if !finite(p.SelfTimeSeconds) {
			return r, fmt.Errorf("critical path of %q: self_time_seconds is not a finite number",
				p.EntryPoint)
		}
	}
	return r, nil
}

func finiteOrNil(p *float64) *float64 {
	if p == nil || !finite(*p) {
		return nil
	}
	return p
}

func finite(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0)
}

func writeAll(w io.Writer, format string, b []byte) error {
	if _, err := w.Write(b); err != nil {
		return fmt.Errorf("writing graph as %s: %w", format, err)
	}
	return nil
}
