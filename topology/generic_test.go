package topology

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"
)

func linkerdAsGeneric() GenericConfig {
	return GenericConfig{
		Name:             "custom",
		Metric:           "response_total",
		Client:           GenericEndpointLabels{Name: "deployment", Namespace: "namespace"},
		Server:           GenericEndpointLabels{Name: "dst_deployment", Namespace: "dst_namespace"},
		Matchers:         `{direction="outbound"}`,
		ErrorMatchers:    `{classification="failure"}`,
		LatencyHistogram: "response_latency_ms",
		LatencyUnit:      "milliseconds",
		Protocol:         "http",
	}
}

func TestGenericFixture(t *testing.T) {
	e := openFixture(t, "linkerd.om")
	a, err := NewGeneric(linkerdAsGeneric(), AdapterOptions{})
	require.NoError(t, err)
	require.Equal(t, "custom", a.Name())
	rep, err := a.Observe(context.Background(), e, fixtureWindow)
	require.NoError(t, err)
	requireObservations(t, []Observation{
		// No cluster labels configured: both ends carry the scrape's cluster.
		{Client: fromScrape(ep("prod-a", "shop", "web")),
			Server:   fromScrape(ep("prod-a", "shop", "api")),
			Protocol: "http", LastSeen: fixtureAt, RequestsPerSecond: 1.5,
			ErrorRatio: 6.0 / 90, ServerErrorRatio: nan, LatencyP95Seconds: 0.375},
	}, rep.Observations)
	require.Zero(t, rep.Dropped)
}

func TestGenericConfigErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name  string
		edit  func(*GenericConfig)
		field string
	}{
		{"no name", func(c *GenericConfig) { c.Name = "" }, "name"},
		{"bad metric", func(c *GenericConfig) { c.Metric = "a-b" }, "metric"},
		{"no client label", func(c *GenericConfig) { c.Client.Name = "" }, "client.name"},
		{"bad server label", func(c *GenericConfig) { c.Server.Namespace = "a.b" },
			"server.namespace"},
		{"bad kind", func(c *GenericConfig) { c.Server.Kind = "cache" }, "server.kind"},
		{"bad matchers", func(c *GenericConfig) { c.Matchers = `{a="b"} or vector(1)` },
			"matchers"},
		{"metric in matchers", func(c *GenericConfig) { c.ErrorMatchers = `{__name__="x"}` },
			"error_matchers"},
		{"bad histogram", func(c *GenericConfig) { c.LatencyHistogram = "x y" },
			"latency_histogram"},
		{"bad unit", func(c *GenericConfig) { c.LatencyUnit = "hours" }, "latency_unit"},
		{"bad protocol", func(c *GenericConfig) { c.Protocol = "a\"b" }, "protocol"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := linkerdAsGeneric()
			tc.edit(&cfg)
			_, err := NewGeneric(cfg, AdapterOptions{})
			require.ErrorContains(t, err, tc.field+" ")
		})
	}
}

// TestGenericQuotesValues puts quotes, backslashes and newlines into matcher
// values: each query must parse and hold exactly the configured matchers.
func TestGenericQuotesValues(t *testing.T) {
	for _, value := range []string{`a"b`, `a\b`, "a\nb", `"} or vector(1) or {x="`, `\"`} {
		cfg := linkerdAsGeneric()
		cfg.Matchers = `{direction=` + quotePromQL(value) + `}`
		a, err := NewGeneric(cfg, AdapterOptions{})
		require.NoError(t, err, value)
		requireOnlyMatchers(t, a, fixtureWindow, map[string]string{"direction": value})
	}
}

func quotePromQL(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(s) + `"`
}

// requireOnlyMatchers parses every query of a and checks that each selector has
// the metric's name matcher and the wanted equality matchers, and no other.
func requireOnlyMatchers(t *testing.T, a *Generic, w Window, want map[string]string) {
	t.Helper()
	for _, expr := range a.Queries(w) {
		node, err := promParser.ParseExpr(expr)
		require.NoError(t, err, expr)
		for _, sel := range parser.ExtractSelectors(node) {
			found := map[string]string{}
			for _, m := range sel {
				if m.Name == model.MetricNameLabel || m.Name == "classification" {
					continue
				}
				require.Equal(t, labels.MatchEqual, m.Type, expr)
				found[m.Name] = m.Value
			}
			require.Equal(t, want, found, expr)
		}
	}
}

func FuzzGenericConfig(f *testing.F) {
	f.Add("custom", "calls_total", "client", "server", `{a="b"}`, `{code=~"5.."}`, "x")
	f.Add("x", "m", "c", "s", `{a="\"} or vector(1)"}`, "", "")
	f.Add("x", "m", "c", "s", "{a=\"\\n\"}", `{b!="\\"}`, "h")
	f.Fuzz(func(t *testing.T, name, metric, client, server, matchers, errMatchers, hist string) {
		cfg := GenericConfig{
			Name: name, Metric: metric, Matchers: matchers, ErrorMatchers: errMatchers,
			Client:           GenericEndpointLabels{Name: client},
			Server:           GenericEndpointLabels{Name: server},
			LatencyHistogram: hist,
		}
		a, err := NewGeneric(cfg, AdapterOptions{})
		if err != nil {
			return
		}
		base, err := promParser.ParseMetricSelector(matchers)
		if strings.TrimSpace(matchers) == "" {
			base, err = nil, nil
		}
		require.NoError(t, err)
		for _, expr := range a.Queries(fixtureWindow) {
			node, err := promParser.ParseExpr(expr)
			require.NoError(t, err, expr)
			// Every selector keeps the configured matchers, values intact.
			for _, sel := range parser.ExtractSelectors(node) {
				for _, m := range base {
					require.True(t, hasMatcher(sel, m), "%s lost %s", expr, m)
				}
			}
		}
	})
}

func hasMatcher(ms []*labels.Matcher, want *labels.Matcher) bool {
	for _, m := range ms {
		if m.Name == want.Name && m.Type == want.Type && m.Value == want.Value {
			return true
		}
	}
	return false
}
