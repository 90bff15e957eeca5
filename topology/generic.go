package topology

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// GenericConfig describes telemetry that no built-in adapter reads: a counter of
// calls whose labels name the client and the server.
type GenericConfig struct {
	// Name names the source in outputs. Letters, digits, '_' and '-'.
	Name string `yaml:"name"`
	// Metric is the counter of calls.
	Metric string `yaml:"metric"`
	// Client and Server say which labels name each end; only Name is required.
	Client GenericEndpointLabels `yaml:"client"`
	Server GenericEndpointLabels `yaml:"server"`
	// Matchers restricts the series read, as a selector such as
	// `{direction="outbound"}`.
	Matchers string `yaml:"matchers,omitempty"`
	// ErrorMatchers selects the failed calls among them, e.g. `{code=~"5.."}`.
	// Without it errors are not measured.
	ErrorMatchers string `yaml:"error_matchers,omitempty"`
	// LatencyHistogram is the classic histogram of call durations, named without
	// its _bucket suffix; its series must carry the same end labels. Optional.
	LatencyHistogram string `yaml:"latency_histogram,omitempty"`
	// LatencyUnit is "seconds" (the default) or "milliseconds".
	LatencyUnit string `yaml:"latency_unit,omitempty"`
	// Protocol is reported for every edge; optional.
	Protocol string `yaml:"protocol,omitempty"`
}

// GenericEndpointLabels names the labels that identify one end of a call.
type GenericEndpointLabels struct {
	// Name is the label holding the service name; required.
	Name string `yaml:"name"`
	// Namespace is the label holding its namespace; optional.
	Namespace string `yaml:"namespace,omitempty"`
	// Cluster is the label holding its cluster; empty means the cluster label of
	// AdapterOptions.
	Cluster string `yaml:"cluster,omitempty"`
	// Kind is service (the default), database, messaging or external.
	Kind string `yaml:"kind,omitempty"`
}

// Generic reads the telemetry a GenericConfig describes. A client named
// "unknown" is UnknownEndpoint; a series without a client or server name, or
// with the server "unknown", is dropped.
type Generic struct {
	cfg            GenericConfig
	calls, failed  string // selectors
	buckets        string // selector; empty without a histogram
	latencyScale   float64
	clientCluster  string
	serverCluster  string
	clientKind     graph.Kind
	serverKind     graph.Kind
	identityLabels []string
}

var genericName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// promParser parses configured selectors with the default options, as a
// Prometheus server does.
var promParser = parser.NewParser(parser.Options{})

// NewGeneric validates cfg and returns its adapter. Errors name the field.
func NewGeneric(cfg GenericConfig, opts AdapterOptions) (*Generic, error) {
	if err := opts.Validate(); err != nil {
		return nil, err
	}
	a := &Generic{cfg: cfg, latencyScale: 1}
	var errs []error
	if !genericName.MatchString(cfg.Name) {
		errs = append(errs, fmt.Errorf("name %q: want letters, digits, '_' or '-'", cfg.Name))
	}
	if !model.LegacyValidation.IsValidMetricName(cfg.Metric) {
		errs = append(errs, fmt.Errorf("metric %q: not a valid metric name", cfg.Metric))
	}
	a.clientCluster, a.clientKind = a.endpointLabels("client", cfg.Client, opts, &errs)
	a.serverCluster, a.serverKind = a.endpointLabels("server", cfg.Server, opts, &errs)

	base, err := genericMatchers("matchers", cfg.Matchers)
	errs = append(errs, err)
	failed, err := genericMatchers("error_matchers", cfg.ErrorMatchers)
	errs = append(errs, err)

	if cfg.LatencyHistogram != "" &&
		!model.LegacyValidation.IsValidMetricName(cfg.LatencyHistogram+"_bucket") {
		errs = append(errs, fmt.Errorf("latency_histogram %q: not a valid metric name",
			cfg.LatencyHistogram))
	}
	switch cfg.LatencyUnit {
	case "", "seconds":
	case "milliseconds":
		a.latencyScale = 0.001
	default:
		errs = append(errs, fmt.Errorf("latency_unit %q: want seconds or milliseconds",
			cfg.LatencyUnit))
	}
	if !cleanPart(cfg.Protocol) {
		errs = append(errs, fmt.Errorf("protocol %q: holds a quote, backslash or control "+
			"character", cfg.Protocol))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("generic adapter %q: %w", cfg.Name, err)
	}

	a.calls = selectorString(cfg.Metric, base)
	if cfg.ErrorMatchers != "" {
		a.failed = selectorString(cfg.Metric, append(slices.Clone(base), failed...))
	}
	if cfg.LatencyHistogram != "" {
		a.buckets = selectorString(cfg.LatencyHistogram+"_bucket", base)
	}
	for _, l := range []string{cfg.Client.Name, cfg.Client.Namespace, a.clientCluster,
		cfg.Server.Name, cfg.Server.Namespace, a.serverCluster} {
		if l != "" && !slices.Contains(a.identityLabels, l) {
			a.identityLabels = append(a.identityLabels, l)
		}
	}
	return a, nil
}

// endpointLabels validates one end's labels and returns its cluster label and kind.
func (*Generic) endpointLabels(
	field string, l GenericEndpointLabels, opts AdapterOptions, errs *[]error,
) (string, graph.Kind) {
	check := func(sub, name string, required bool) {
		if name == "" && !required {
			return
		}
		if !model.LegacyValidation.IsValidLabelName(name) {
			*errs = append(*errs, fmt.Errorf("%s.%s %q: not a valid label name", field, sub, name))
		}
	}
	check("name", l.Name, true)
	check("namespace", l.Namespace, false)
	check("cluster", l.Cluster, false)

	kind := graph.Kind(l.Kind)
	switch kind {
	case "":
		kind = graph.KindService
	case graph.KindService, graph.KindDatabase, graph.KindMessaging, graph.KindExternal:
	default:
		*errs = append(*errs, fmt.Errorf("%s.kind %q: want service, database, messaging "+
			"or external", field, l.Kind))
	}
	cluster := l.Cluster
	if cluster == "" {
		cluster = opts.clusterLabel()
	}
	return cluster, kind
}

// genericMatchers parses a configured selector with the Prometheus parser. The
// metric is configured on its own, so a selector naming one is refused.
func genericMatchers(field, sel string) ([]*labels.Matcher, error) {
	if strings.TrimSpace(sel) == "" {
		return nil, nil
	}
	ms, err := promParser.ParseMetricSelector(sel)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", field, sel, err)
	}
	for _, m := range ms {
		if m.Name == model.MetricNameLabel {
			return nil, fmt.Errorf("%s %q: name the metric in the metric field, not here",
				field, sel)
		}
	}
	return ms, nil
}

// selectorString prints a selector with the parser's own printer, which quotes
// every value, so that no configured value can end the selector early.
func selectorString(metric string, ms []*labels.Matcher) string {
	sel := &parser.VectorSelector{
		Name: metric,
		LabelMatchers: append([]*labels.Matcher{
			labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, metric),
		}, ms...),
	}
	return sel.String()
}

// Name implements Adapter.
func (a *Generic) Name() string { return a.cfg.Name }

// Queries returns the queries Observe runs for w, in order; the last two are
// absent when errors or latency are not configured. Configuration checks can
// parse them without a store.
func (a *Generic) Queries(w Window) []string {
	out := []string{
		presenceQuery([]string{a.calls}, a.identityLabels, w.Presence),
		rateQuery([]string{a.calls}, a.identityLabels, w.Rate),
	}
	if a.failed != "" {
		out = append(out, rateQuery([]string{a.failed}, a.identityLabels, w.Rate))
	}
	if a.buckets != "" {
		out = append(out, p95Query([]string{a.buckets}, a.identityLabels, w.Rate, a.latencyScale))
	}
	return out
}

// Observe implements Adapter. It runs one presence query and, if it found series,
// one to three traffic queries: calls, failed calls if error_matchers is set, and
// latency if latency_histogram is.
func (a *Generic) Observe(ctx context.Context, q query.Querier, w Window) (Report, error) {
	r := adapterRunner{adapter: a.Name(), q: q, at: w.At}
	t := newObsTable(w)
	views := viewOrder{rate: []string{""}, latency: []string{""}}
	queries := a.Queries(w)

	vec, err := r.vector(ctx, "presence", queries[0])
	if err != nil {
		return Report{}, err
	}
	if !t.addPresence(vec, a.edge) {
		return t.report(views), nil
	}

	vec, err = r.vector(ctx, "call rate", queries[1])
	if err != nil {
		return Report{}, err
	}
	t.addRows(vec, a.view, addCalls)
	next := 2

	if a.failed != "" {
		views.clientErrors = []string{""}
		for k := range t.edges {
			t.edges[k].answered[""] = t.edges[k].calls[""]
		}
		vec, err = r.vector(ctx, "failed call rate", queries[next])
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.view, func(st *obsStats, _ string, _ model.Metric, v float64) {
			st.failed[""] += v
		})
		next++
	}
	if a.buckets != "" {
		vec, err = r.vector(ctx, "latency", queries[next])
		if err != nil {
			return Report{}, err
		}
		t.addRows(vec, a.view, addP95)
	}
	return t.report(views), nil
}

func (a *Generic) view(m model.Metric) (obsKey, string, bool) {
	k, ok := a.edge(m)
	return k, "", ok
}

func (a *Generic) edge(m model.Metric) (obsKey, bool) {
	get := func(label string) string {
		if label == "" {
			return ""
		}
		return string(m[model.LabelName(label)])
	}
	client := UnknownEndpoint
	if name := get(a.cfg.Client.Name); name != unknownValue {
		var ok bool
		client, ok = endpointOf(get(a.clientCluster), get(a.cfg.Client.Namespace), name,
			a.clientKind)
		if !ok {
			return obsKey{}, false
		}
	}
	server, ok := endpointOf(get(a.serverCluster), get(a.cfg.Server.Namespace),
		get(a.cfg.Server.Name), a.serverKind)
	if !ok {
		return obsKey{}, false
	}
	// Without a configured cluster label an end carries the scrape's cluster.
	if a.cfg.Client.Cluster == "" && client != UnknownEndpoint {
		client = fromScrape(client)
	}
	if a.cfg.Server.Cluster == "" {
		server = fromScrape(server)
	}
	return pairKey(client, server, a.cfg.Protocol)
}
