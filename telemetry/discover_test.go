package telemetry

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
)

func TestQueryParsesAndNamesEveryFamily(t *testing.T) {
	expr, err := parser.NewParser(parser.Options{}).ParseExpr(Query(Known))
	require.NoError(t, err)
	require.Equal(t, parser.ValueTypeVector, expr.Type())

	seen := map[string]bool{}
	for _, f := range Known {
		require.False(t, seen[f.Name], "family %s listed twice", f.Name)
		seen[f.Name] = true
		require.NotEmpty(t, f.Description, f.Name)
		_, err := parser.NewParser(parser.Options{}).ParseMetricSelector(f.Selector)
		require.NoError(t, err, f.Name)
	}
}

// TestDiscoverWithTheRealEngine runs the discovery query with the Prometheus
// PromQL engine over a fixture that holds some families, look-alikes of
// others, and one family whose samples are too old to count.
func TestDiscoverWithTheRealEngine(t *testing.T) {
	store, err := query.NewEmbedded(query.EmbeddedOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	require.NoError(t, store.LoadOpenMetrics("testdata/mixed.om"))

	at := time.Unix(1020, 0)
	result, err := NewEngine(store).Discover(context.Background(), at)
	require.NoError(t, err)
	require.Equal(t, at, result.At)
	require.Len(t, result.Families, len(Known))

	series := map[string]int{}
	for _, p := range result.Families {
		series[p.Family.Name] = p.Series
	}
	require.Equal(t, map[string]int{
		"kube_state_metrics": 2,
		"cadvisor":           0,
		"node_exporter":      0,
		"istio":              2,
		// Only the series with a direction label are Linkerd's: an
		// application's own request_total must not switch the adapter on.
		"linkerd":       1,
		"service_graph": 0,
		// Only the series with a span_name label are span metrics.
		"span_metrics": 1,
		"hubble":       0,
		"yace":         0,
		// Its only sample is older than the 5m lookback.
		"stackdriver_exporter": 0,
	}, series)
	require.Equal(t, []string{"kube_state_metrics", "istio", "linkerd", "span_metrics"},
		result.Present())
}

func TestInterpretIgnoresUnknownFamilies(t *testing.T) {
	v := model.Vector{
		{Metric: model.Metric{familyLabel: "istio"}, Value: 4},
		{Metric: model.Metric{familyLabel: "made_up"}, Value: 9},
	}
	r := Interpret(Known[:4], v, time.Unix(0, 0))
	require.Len(t, r.Families, 4)
	require.Equal(t, []string{"istio"}, r.Present())

	odd := model.Vector{
		{Metric: model.Metric{familyLabel: "istio"}, Value: 1e30},
		{Metric: model.Metric{familyLabel: "cadvisor"}, Value: model.SampleValue(math.NaN())},
	}
	r = Interpret(Known[:4], odd, time.Unix(0, 0))
	require.Equal(t, math.MaxInt32, r.Families[3].Series)
	require.Equal(t, 0, r.Families[1].Series)
}

type failingQuerier struct{ query.Querier }

func (failingQuerier) Query(context.Context, string, time.Time) (model.Vector, error) {
	return nil, errors.New("connection refused")
}

func TestDiscoverReportsQueryErrors(t *testing.T) {
	e := NewEngine(failingQuerier{})
	require.Equal(t, EngineName, e.Name())
	_, err := e.Run(context.Background(), time.Now())
	require.ErrorContains(t, err, "discovering telemetry: connection refused")
}
