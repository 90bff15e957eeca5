package topology

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// This file holds what every telemetry adapter shares: how the presence and traffic
// queries are shaped, and how their result rows become Observations.

// defaultClusterLabel is the label a multi-cluster scrape commonly adds.
const defaultClusterLabel = "cluster"

// AdapterOptions configures the built-in adapters.
type AdapterOptions struct {
	// ClusterLabel names the label that says which cluster a series was scraped
	// in, used where the telemetry does not name the cluster itself. Empty means
	// "cluster".
	ClusterLabel string
}

// Validate reports an option that cannot be used in a query.
func (o AdapterOptions) Validate() error {
	if o.ClusterLabel != "" && !model.LegacyValidation.IsValidLabelName(o.ClusterLabel) {
		return fmt.Errorf("cluster label %q is not a valid label name", o.ClusterLabel)
	}
	return nil
}

func (o AdapterOptions) clusterLabel() string {
	if o.ClusterLabel == "" {
		return defaultClusterLabel
	}
	return o.ClusterLabel
}

// DefaultAdapters returns the built-in adapters, in the order in which their figures
// are preferred when several see the same edge: meshes measure every call, traces
// are often sampled.
func DefaultAdapters(opts AdapterOptions) []Adapter {
	return []Adapter{
		NewIstio(opts),
		NewLinkerd(opts),
		NewHubble(opts),
		NewServiceGraph(opts),
		NewSpanMetrics(opts),
	}
}

// Presence subquery resolution bounds. A step of at most the 5 minute lookback of
// Prometheus means every sample is the newest one at some step, so none falls
// between two steps; the lower bound keeps short windows from costing more than a
// scrape interval's worth of steps.
const (
	minPresenceStep = 15 * time.Second
	maxPresenceStep = 5 * time.Minute
	presenceSteps   = 300
)

// presenceStep is the subquery resolution for a presence window.
func presenceStep(presence time.Duration) time.Duration {
	step := (presence / presenceSteps).Truncate(time.Second)
	return min(max(step, minPresenceStep), maxPresenceStep)
}

// presenceQuery returns, per identity, the time of the newest sample of any of the
// selectors within the presence window, as a Unix time in seconds.
//
// timestamp() of a plain selector is the sample's own time, so the result is exact.
// Each selector is reduced to the identity labels on its own and tagged before the
// union: two metric names with equal labels would otherwise collide once timestamp()
// drops the names. The subquery covers the window in steps aligned to multiples of
// the step, so the instant term adds the samples after the last step. Both terms
// may see samples up to one lookback before the window; Observe drops those by time.
func presenceQuery(selectors []string, by []string, presence time.Duration) string {
	parts := make([]string, len(selectors))
	for i, sel := range selectors {
		parts[i] = fmt.Sprintf(`label_replace(max by (%s) (timestamp(%s)), "%s", "%d", "", "")`,
			grouping(by), sel, selectorTag, i)
	}
	newest := fmt.Sprintf("max by (%s) (%s)", grouping(by), strings.Join(parts, " or "))
	return fmt.Sprintf("%s or max_over_time((%s)[%s:%s])",
		newest, newest, promDuration(presence), promDuration(presenceStep(presence)))
}

// selectorTag is the label presenceQuery adds to keep selectors apart; it is
// aggregated away before the result leaves the query.
const selectorTag = "__stratus_selector"

// rateQuery sums the per-second rate of counters by the given labels. Several
// selectors are alternative names of one counter (a renamed metric): where two give
// the same series, the first wins rather than counting the calls twice.
func rateQuery(selectors []string, by []string, window time.Duration) string {
	return fmt.Sprintf("sum by (%s) (%s)", grouping(by), rates(selectors, window))
}

// p95Query returns the 95th percentile of classic histograms (the _bucket
// selectors) per identity, multiplied by scale to give seconds.
func p95Query(buckets []string, by []string, window time.Duration, scale float64) string {
	expr := fmt.Sprintf("histogram_quantile(0.95, sum by (%s) (%s))",
		grouping(append(slices.Clone(by), "le")), rates(buckets, window))
	if scale != 1 {
		expr += " * " + strconv.FormatFloat(scale, 'g', -1, 64)
	}
	return expr
}

func rates(selectors []string, window time.Duration) string {
	parts := make([]string, len(selectors))
	for i, sel := range selectors {
		parts[i] = fmt.Sprintf("rate(%s[%s])", sel, promDuration(window))
	}
	return strings.Join(parts, " or ")
}

// grouping writes label names for a by clause, quoting any that the classic syntax
// cannot hold so that no name can change the query's meaning.
func grouping(names []string) string {
	out := make([]string, len(names))
	for i, n := range names {
		if model.LegacyValidation.IsValidLabelName(n) {
			out[i] = n
		} else {
			out[i] = strconv.Quote(n)
		}
	}
	return strings.Join(out, ", ")
}

// promDuration writes a duration in PromQL syntax, rounded to milliseconds, the
// finest unit PromQL has; never zero, which no range accepts.
func promDuration(d time.Duration) string {
	return model.Duration(max(d.Round(time.Millisecond), time.Millisecond)).String()
}

// adapterRunner runs one adapter's queries at the window's end and names the
// adapter in errors, so that the caller can say which source failed.
type adapterRunner struct {
	adapter string
	q       query.Querier
	at      time.Time
}

func (r adapterRunner) vector(ctx context.Context, what, expr string) (model.Vector, error) {
	vec, err := r.q.Query(ctx, expr, r.at)
	if err != nil {
		return nil, fmt.Errorf("%s adapter, %s query: %w", r.adapter, what, err)
	}
	return vec, nil
}

// obsKey identifies one edge as one adapter reports it.
type obsKey struct {
	client, server Endpoint
	protocol       string
}

// obsStats collects what the queries say of one edge. Figures are kept per view,
// the side whose series they are (a mesh's reporter, a Hubble reporter; "" for
// sources with a single view), so that each figure can come from one side only:
// adding two proxies' reports of the same calls would count every call twice.
type obsStats struct {
	lastSeen time.Time
	calls    map[string]float64 // calls per second
	answered map[string]float64 // calls per second whose outcome is known
	failed   map[string]float64 // failed calls per second
	p95      map[string]float64 // seconds
}

// viewOrder says, per figure, which views to take it from, in order of preference.
type viewOrder struct {
	rate, clientErrors, serverErrors, latency []string
	// clientLatency marks the views whose latency the client measured (network
	// and queueing included); a server's own measure is preferred across sources.
	clientLatency map[string]bool
}

// singleView is the viewOrder of sources with one view: the client's (traces, the
// Linkerd client proxy). Their failures are what the client saw.
var singleView = viewOrder{
	rate:          []string{""},
	clientErrors:  []string{""},
	latency:       []string{""},
	clientLatency: map[string]bool{"": true},
}

// obsTable gathers the rows of one Observe.
type obsTable struct {
	window Window
	edges  map[obsKey]*obsStats
	// dropped holds the identity label sets that named no edge. Presence queries
	// of one adapter group by the same labels, so a series that two of them
	// return is counted once.
	dropped map[model.Fingerprint]struct{}
}

func newObsTable(w Window) *obsTable {
	return &obsTable{
		window:  w,
		edges:   map[obsKey]*obsStats{},
		dropped: map[model.Fingerprint]struct{}{},
	}
}

// absorb moves the edges of other that t lacks into t, and its drops.
func (t *obsTable) absorb(other *obsTable, keep func(obsKey) bool) {
	for k, st := range other.edges {
		if _, ok := t.edges[k]; !ok && keep(k) {
			t.edges[k] = st
		}
	}
	for fp := range other.dropped {
		t.dropped[fp] = struct{}{}
	}
}

func (t *obsTable) stats(k obsKey) *obsStats {
	s, ok := t.edges[k]
	if !ok {
		s = &obsStats{
			calls:    map[string]float64{},
			answered: map[string]float64{},
			failed:   map[string]float64{},
			p95:      map[string]float64{},
		}
		t.edges[k] = s
	}
	return s
}

// addPresence reads a presence query's rows. Rows older than the window were
// reached only through the lookback and are skipped; rows edgeOf cannot name are
// counted as dropped. It reports whether any row was in the window.
func (t *obsTable) addPresence(vec model.Vector, edgeOf func(model.Metric) (obsKey, bool)) bool {
	from := t.window.At.Add(-t.window.Presence)
	found := false
	for _, s := range vec {
		seen := time.UnixMilli(int64(math.Round(float64(s.Value) * 1000))).UTC()
		if !seen.After(from) || seen.After(t.window.At) {
			continue
		}
		found = true
		k, ok := edgeOf(s.Metric)
		if !ok {
			t.dropped[s.Metric.Fingerprint()] = struct{}{}
			continue
		}
		st := t.stats(k)
		if seen.After(st.lastSeen) {
			st.lastSeen = seen
		}
	}
	return found
}

// addRows adds each row of a traffic query to the edge and view it names; rows
// that name no edge were counted by the presence query, or are older than it.
func (t *obsTable) addRows(
	vec model.Vector,
	edgeOf func(model.Metric) (obsKey, string, bool),
	add func(st *obsStats, view string, m model.Metric, v float64),
) {
	for _, s := range vec {
		v := float64(s.Value)
		if math.IsNaN(v) || math.IsInf(v, 0) {
			continue
		}
		k, view, ok := edgeOf(s.Metric)
		if !ok {
			continue
		}
		add(t.stats(k), view, s.Metric, v)
	}
}

// addCalls, addOutcome and addP95 are the usual add functions of addRows.
func addCalls(st *obsStats, view string, _ model.Metric, v float64) { st.calls[view] += v }

func addP95(st *obsStats, view string, _ model.Metric, v float64) {
	if prev, ok := st.p95[view]; !ok || v > prev {
		st.p95[view] = v
	}
}

// addOutcome returns the add function of a query whose rows carry the calls of
// one outcome, as failedRow classifies them.
func addOutcome(
	failedRow func(model.Metric) bool,
) func(*obsStats, string, model.Metric, float64) {
	return func(st *obsStats, view string, m model.Metric, v float64) {
		st.answered[view] += v
		if failedRow(m) {
			st.failed[view] += v
		}
	}
}

// report turns the table into a Report, figures taken from the views in order.
func (t *obsTable) report(order viewOrder) Report {
	out := Report{Dropped: len(t.dropped)}
	for k, st := range t.edges {
		o := Observation{
			Client:            k.client,
			Server:            k.server,
			Protocol:          k.protocol,
			LastSeen:          st.lastSeen,
			RequestsPerSecond: firstOf(st.calls, order.rate),
			ErrorRatio:        errorRatio(st, order.clientErrors),
			ServerErrorRatio:  errorRatio(st, order.serverErrors),
		}
		var latencyView string
		o.LatencyP95Seconds, latencyView = firstView(st.p95, order.latency)
		o.LatencyFromClient = !math.IsNaN(o.LatencyP95Seconds) && order.clientLatency[latencyView]
		if o.LastSeen.IsZero() {
			o.LastSeen = t.window.At
		}
		// The series exist, so no figure from them means no calls in the window.
		if math.IsNaN(o.RequestsPerSecond) && len(order.rate) > 0 {
			o.RequestsPerSecond = 0
		}
		out.Observations = append(out.Observations, o)
	}
	slices.SortFunc(out.Observations, compareObservations)
	return out
}

func firstOf(byView map[string]float64, views []string) float64 {
	x, _ := firstView(byView, views)
	return x
}

// firstView returns the figure of the first view in order that has one, and
// which view that was.
func firstView(byView map[string]float64, views []string) (float64, string) {
	for _, v := range views {
		if x, ok := byView[v]; ok && !math.IsNaN(x) {
			return x, v
		}
	}
	return math.NaN(), ""
}

// errorRatio is the failed share of the first view in order that saw calls; NaN
// when none did, since a ratio of no calls measures nothing.
func errorRatio(st *obsStats, views []string) float64 {
	for _, v := range views {
		if n := st.answered[v]; n > 0 {
			return st.failed[v] / n
		}
	}
	return math.NaN()
}

func compareObservations(a, b Observation) int {
	return cmp.Or(
		compareEndpoints(a.Client, b.Client),
		compareEndpoints(a.Server, b.Server),
		strings.Compare(a.Protocol, b.Protocol),
	)
}

func compareEndpoints(a, b Endpoint) int {
	return cmp.Or(
		strings.Compare(a.Cluster, b.Cluster),
		strings.Compare(a.Namespace, b.Namespace),
		strings.Compare(a.Name, b.Name),
		strings.Compare(string(a.Kind), string(b.Kind)),
	)
}

// unknownValue is what meshes write for a peer they cannot name.
const unknownValue = "unknown"

// labelValue returns a label's value, or "" when it is absent or "unknown".
func labelValue(m model.Metric, label string) string {
	v := string(m[model.LabelName(label)])
	if v == unknownValue {
		return ""
	}
	return v
}

// firstLabelValue returns the first of the labels with a known value.
func firstLabelValue(m model.Metric, labels ...string) string {
	for _, l := range labels {
		if v := labelValue(m, l); v != "" {
			return v
		}
	}
	return ""
}

// serviceEndpoint returns a service endpoint, or false when its parts cannot
// name one.
func serviceEndpoint(cluster, namespace, name string) (Endpoint, bool) {
	return endpointOf(cluster, namespace, name, graph.KindService)
}

// endpointOf checks the parts of an endpoint. A name must be non-empty; no part may
// hold a quote, a backslash or a control character, which no system these adapters
// read allows in a name and which would make outputs ambiguous; cluster and
// namespace must not hold the slash that separates the parts of a node ID.
func endpointOf(cluster, namespace, name string, kind graph.Kind) (Endpoint, bool) {
	e := Endpoint{Cluster: cluster, Namespace: namespace, Name: name, Kind: kind}
	ok := name != "" && name != unknownValue &&
		cleanPart(name) && cleanPart(cluster) && cleanPart(namespace) &&
		!strings.Contains(cluster, "/") && !strings.Contains(namespace, "/")
	return e, ok
}

// fromScrape marks an endpoint whose cluster is the scrape's cluster label rather
// than what the source says of that end (see Endpoint.ClusterFromScrape).
func fromScrape(e Endpoint) Endpoint {
	e.ClusterFromScrape = e.Cluster != ""
	return e
}

func cleanPart(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r == '"' || r == '\\' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// pairKey builds the key of an edge, refusing one whose both ends are unknown: it
// says a call happened but nothing of where.
func pairKey(client, server Endpoint, protocol string) (obsKey, bool) {
	if client.Kind == graph.KindUnknown && server.Kind == graph.KindUnknown {
		return obsKey{}, false
	}
	return obsKey{client: client, server: server, protocol: protocol}, true
}
