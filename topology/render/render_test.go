package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/topology"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// goldenExtension names the golden file of each format.
var goldenExtension = map[string]string{
	FormatText: "txt", FormatJSON: "json", FormatDOT: "dot", FormatMermaid: "mmd",
}

func goldenReports(t *testing.T) map[string]topology.GraphReport {
	return map[string]topology.GraphReport{
		"small":      smallReport(),
		"topologies": topologyReport(t),
	}
}

// TestGolden compares every format of every fixture report with testdata/; run
// `go test ./topology/render/ -run TestGolden -update` to rewrite the files after a
// deliberate change, and read the diff.
func TestGolden(t *testing.T) {
	for name, r := range goldenReports(t) {
		for _, format := range Formats() {
			t.Run(name+"/"+format, func(t *testing.T) {
				var buf bytes.Buffer
				require.NoError(t, Write(&buf, format, r))
				path := filepath.Join("testdata", name+"."+goldenExtension[format])
				if *update {
					require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
				}
				want, err := os.ReadFile(path)
				require.NoError(t, err, "run with -update to create the golden file")
				require.Equal(t, string(want), buf.String())

				// The same report always gives the same bytes.
				var again bytes.Buffer
				require.NoError(t, Write(&again, format, r))
				require.Equal(t, buf.String(), again.String())
			})
		}
	}
}

func TestGoldenDrawingsAreValid(t *testing.T) {
	for name, r := range goldenReports(t) {
		t.Run(name, func(t *testing.T) {
			var dot, mmd bytes.Buffer
			require.NoError(t, DOT(&dot, r))
			require.NoError(t, Mermaid(&mmd, r))

			dg, err := parseDOT(dot.String())
			require.NoError(t, err)
			require.Len(t, dg.nodes, len(r.Nodes))
			require.Len(t, dg.edges, len(r.Edges))
			mg, err := parseMermaid(mmd.String())
			require.NoError(t, err)
			require.Len(t, mg.nodes, len(r.Nodes))
			require.Len(t, mg.edges, len(r.Edges))
		})
	}
}

func TestWriteUnknownFormat(t *testing.T) {
	err := Write(&bytes.Buffer{}, "xml", smallReport())
	require.ErrorIs(t, err, ErrUnknownFormat)
	require.ErrorContains(t, err, `"xml"`)
	require.ErrorContains(t, err, "text, json, dot, mermaid")
	require.Equal(t, []string{"text", "json", "dot", "mermaid"}, Formats())
}

type failingWriter struct{}

var errWrite = errors.New("disk full")

func (failingWriter) Write([]byte) (int, error) { return 0, errWrite }

func TestWriteErrorsAreWrapped(t *testing.T) {
	for _, format := range Formats() {
		t.Run(format, func(t *testing.T) {
			err := Write(failingWriter{}, format, smallReport())
			require.ErrorIs(t, err, errWrite)
			require.ErrorContains(t, err, format)
		})
	}
}

func TestJSONRoundTrip(t *testing.T) {
	for name, r := range goldenReports(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, JSON(&buf, r))
			require.True(t, strings.HasSuffix(buf.String(), "}\n"))

			var back topology.GraphReport
			require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
			require.True(t, back.At.Equal(r.At))
			back.At = r.At
			for i := range back.Edges {
				require.True(t, back.Edges[i].LastSeen.Equal(r.Edges[i].LastSeen))
				back.Edges[i].LastSeen = r.Edges[i].LastSeen
			}
			require.Equal(t, r, back)
		})
	}
}

func TestJSONNonFiniteFigures(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, tc := range []struct {
		name    string
		mutate  func(*topology.GraphReport)
		wantErr string
	}{
		{
			name: "unmeasured pointers print as null",
			mutate: func(r *topology.GraphReport) {
				r.Edges[0].ErrorRatio, r.Edges[0].LatencyP95Seconds = &nan, &inf
				r.Nodes[3].SelfTimeSeconds = &nan
			},
		},
		{
			name:    "non-finite rate",
			mutate:  func(r *topology.GraphReport) { r.Edges[1].RequestsPerSecond = nan },
			wantErr: `edge "eu-1/shop/checkout" -> "eu-1/infra/events": requests_per_second`,
		},
		{
			name:    "non-finite score",
			mutate:  func(r *topology.GraphReport) { r.Nodes[2].BottleneckScore = inf },
			wantErr: `node "eu-1/infra/events"`,
		},
		{
			name:    "non-finite retention",
			mutate:  func(r *topology.GraphReport) { r.RetentionSeconds = nan },
			wantErr: "retention_seconds",
		},
		{
			name:    "non-finite path",
			mutate:  func(r *topology.GraphReport) { r.CriticalPaths[0].SelfTimeSeconds = nan },
			wantErr: `critical path of "eu-1/shop/frontend"`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := smallReport()
			tc.mutate(&r)
			var buf bytes.Buffer
			err := JSON(&buf, r)
			if tc.wantErr != "" {
				require.ErrorContains(t, err, tc.wantErr)
				require.Zero(t, buf.Len(), "nothing is written on error")
				return
			}
			require.NoError(t, err)
			var back topology.GraphReport
			require.NoError(t, json.Unmarshal(buf.Bytes(), &back))
			require.Nil(t, back.Edges[0].ErrorRatio)
			require.Nil(t, back.Edges[0].LatencyP95Seconds)
			require.Nil(t, back.Nodes[3].SelfTimeSeconds)
			require.NotNil(t, r.Edges[0].ErrorRatio, "the caller's report is not modified")
		})
	}
}

// TestTextNamesEverything checks that the text report names every node, every edge
// (as a client -> server row) and every critical path and error origin.
func TestTextNamesEverything(t *testing.T) {
	for name, r := range goldenReports(t) {
		t.Run(name, func(t *testing.T) {
			var buf bytes.Buffer
			require.NoError(t, Text(&buf, r))
			out := buf.String()

			v := newView(r)
			short, _ := shortNames(v.nodes)
			lines := strings.Split(out, "\n")
			for i := range v.nodes {
				require.True(t, hasLinePrefix(lines, short[i]+" "), "node %s", short[i])
			}
			for _, e := range r.Edges {
				client, server := short[v.index[e.Client]], short[v.index[e.Server]]
				require.True(t, hasEdgeRow(lines, client, server), "edge %s -> %s", client, server)
			}
			for _, id := range r.ErrorOrigins {
				require.Contains(t, lines, short[v.index[id]])
			}
			require.Contains(t, out, "ERROR ORIGINS")
			require.Contains(t, out, "CRITICAL PATHS")
			require.NotContains(t, out, "\t", "tabs are expanded to spaces")
		})
	}
}

func hasLinePrefix(lines []string, prefix string) bool {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return true
		}
	}
	return false
}

func hasEdgeRow(lines []string, client, server string) bool {
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) >= 3 && f[0] == client && f[1] == "->" && f[2] == server {
			return true
		}
	}
	return false
}

func TestTextSummary(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Text(&buf, smallReport()))
	first, _, _ := strings.Cut(buf.String(), "\n")
	require.Equal(t, "Dependency graph at 2024-05-14T09:30:00Z: 9 nodes, 10 edges, "+
		"sources istio, linkerd, otel, retention 2d00h.", first)
}

func TestTextEmptyReport(t *testing.T) {
	var buf bytes.Buffer
	require.NoError(t, Text(&buf, topology.GraphReport{}))
	require.Equal(t, `Dependency graph at -: 0 nodes, 0 edges, sources -.

NODES
NAME  KIND  FAN-IN  FAN-OUT  DEPENDENTS  BOTTLENECK  SELF TIME  FLAGS

EDGES
none

CRITICAL PATHS (slowest chain from each entry point)
none

ERROR ORIGINS (where the errors callers see start)
none
`, buf.String())
}

func TestShortNames(t *testing.T) {
	n := func(cluster, namespace, name string) topology.NodeReport {
		return topology.NodeReport{
			ID: cluster + "/" + namespace + "/" + name, Cluster: cluster, Namespace: namespace,
			Name: name,
		}
	}
	for _, tc := range []struct {
		name        string
		nodes       []topology.NodeReport
		want        []string
		wantOmitted []string
	}{
		{
			name:        "one cluster, one namespace",
			nodes:       []topology.NodeReport{n("prod", "shop", "a"), n("prod", "shop", "b")},
			want:        []string{"a", "b"},
			wantOmitted: []string{`cluster prod`, `namespace shop`},
		},
		{
			name:        "one cluster, two namespaces",
			nodes:       []topology.NodeReport{n("prod", "shop", "a"), n("prod", "web", "a")},
			want:        []string{"shop/a", "web/a"},
			wantOmitted: []string{`cluster prod`},
		},
		{
			name:  "two clusters, one namespace",
			nodes: []topology.NodeReport{n("eu", "shop", "a"), n("us", "shop", "a")},
			want:  []string{"eu/a", "us/a"},
			// The namespace is shared but only the cluster tells these apart.
			wantOmitted: []string{`namespace shop`},
		},
		{
			name:  "nothing shared",
			nodes: []topology.NodeReport{n("eu", "shop", "a"), n("", "", "unknown")},
			want:  []string{"eu/shop/a", "//unknown"},
		},
		{
			name:  "names only",
			nodes: []topology.NodeReport{n("", "", "a"), n("", "", "b")},
			want:  []string{"a", "b"},
		},
		{
			name: "slashes in parts that would collide fall back to IDs",
			nodes: []topology.NodeReport{
				n("c", "x", "a/b"), n("c/a", "x", "b"),
			},
			// Dropping the shared namespace would show "c/a/b" twice; want nil
			// means the full IDs.
		},
		{
			name:        "ID only",
			nodes:       []topology.NodeReport{{ID: "prod/shop/a"}, {ID: "prod/shop/b"}},
			want:        []string{"a", "b"},
			wantOmitted: []string{`cluster prod`, `namespace shop`},
		},
		{
			name:  "empty name falls back to IDs",
			nodes: []topology.NodeReport{n("prod", "shop", ""), n("prod", "shop", "b")},
			want:  []string{"prod/shop/", "prod/shop/b"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, omitted := shortNames(tc.nodes)
			if len(tc.want) == 0 {
				tc.want = fullIDs(tc.nodes)
			}
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.wantOmitted, omitted)
			seen := map[string]bool{}
			for _, s := range got {
				require.False(t, seen[s], "two nodes look the same: %q", s)
				seen[s] = true
			}
		})
	}
}

func TestFormatFigures(t *testing.T) {
	for _, tc := range []struct {
		got, want string
	}{
		{formatRate(0), "0"},
		{formatRate(0.004), "<0.01"},
		{formatRate(0.5), "0.5"},
		{formatRate(3.0), "3"},
		{formatRate(0.126), "0.13"},
		{formatRate(12.34), "12.3"},
		{formatRate(1234.5), "1234"},
		{formatRate(math.NaN()), "-"},
		{formatRatio(nil), "-"},
		{formatRatio(ptr(0)), "0%"},
		{formatRatio(ptr(0.00001)), "<0.01%"},
		{formatRatio(ptr(0.0005)), "0.05%"},
		{formatRatio(ptr(0.005)), "0.5%"},
		{formatRatio(ptr(0.5)), "50%"},
		{formatRatio(ptr(math.Inf(1))), "-"},
		{formatSeconds(nil), "-"},
		{formatSeconds(ptr(0)), "0s"},
		{formatSeconds(ptr(0.00042)), "420µs"},
		{formatSeconds(ptr(0.0042)), "4.2ms"},
		{formatSeconds(ptr(0.18)), "180ms"},
		{formatSeconds(ptr(1.6)), "1.60s"},
		{formatSeconds(ptr(42)), "42.0s"},
		{formatAge(time.Time{}, fixtureAt), "-"},
		{formatAge(fixtureAt.Add(-15*time.Second), fixtureAt), "15s ago"},
		{formatAge(fixtureAt.Add(-150*time.Second), fixtureAt), "2m30s ago"},
		{formatAge(fixtureAt.Add(-3*time.Hour), fixtureAt), "3h00m ago"},
		{formatAge(fixtureAt.Add(-26*time.Hour), fixtureAt), "1d02h ago"},
		{formatAge(fixtureAt.Add(5*time.Second), fixtureAt), "5s ahead"},
		{formatAge(fixtureAt, time.Time{}), "2024-05-14T09:30:00Z"},
		{rateLabel(0), "0 rps"},
		{rateLabel(12.3), "12.3 rps"},
	} {
		require.Equal(t, tc.want, tc.got)
	}
	require.InDelta(t, 1, rateWidth(0), 1e-9)
	require.InDelta(t, 2, rateWidth(9), 1e-9)
	require.InDelta(t, 5, rateWidth(1e9), 1e-9)
}

func rateLabel(rps float64) string {
	return edgeLabel(topology.EdgeReport{RequestsPerSecond: rps})
}

func TestTextQuotesNamesATerminalCannotShow(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"frontend", "frontend"},
		{"café ☕", "café ☕"},
		{"a\nb", `"a\nb"`},
		{"a\tb", `"a\tb"`},
		{"\x1b[31mred", `"\x1b[31mred"`},
		{"abc\u202edcba", `"abc\u202edcba"`},
		{"bad\xffutf8", `"bad\xffutf8"`},
		{"", `""`},
		{`"quoted"`, `"\"quoted\""`},
	} {
		require.Equal(t, tc.want, quoteForText(tc.in))
	}
}
