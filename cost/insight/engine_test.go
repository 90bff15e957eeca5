package insight

import (
	"context"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
)

// history writes five weeks of hourly cost per service as Prometheus would hold
// them after scraping Stratus: a daily pattern, and a doubled cost in the last hour
// for the service named spiked. Two scrape targets report the same figures.
func history(at time.Time, spiked string) string {
	var b strings.Builder
	b.WriteString("# TYPE stratus_service_cost_per_hour gauge\n")
	for _, svc := range []string{"checkout", "cart"} {
		for _, instance := range []string{"a:9893", "b:9893"} {
			for h := 5 * 7 * 24; h >= 0; h-- {
				t := at.Add(-time.Duration(h) * time.Hour)
				v := 10 + 3*math.Sin(2*math.Pi*float64(t.Hour())/24)
				if h == 0 && svc == spiked {
					v *= 2
				}
				for _, component := range []string{"compute", "memory"} {
					fmt.Fprintf(&b, "stratus_service_cost_per_hour{service=%q,namespace=\"shop\","+
						"cluster=\"eu\",cloud=\"aws\",region=\"eu-west-1\",component=%q,"+
						"instance=%q} %g %d\n", svc, component, instance, v/2, t.Unix())
				}
			}
		}
	}
	b.WriteString("# EOF\n")
	return b.String()
}

func TestEngineReadsItsHistoryFromPrometheus(t *testing.T) {
	at := time.Date(2026, 3, 20, 12, 0, 0, 0, time.UTC)
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	require.NoError(t, e.LoadOpenMetricsReader(strings.NewReader(history(at, "checkout")), "h"))

	budgets := []BudgetConfig{
		{Service: "shop/checkout", PerMonth: 1000},
		{Team: "payments", Services: []string{"checkout", "cart"}, PerMonth: 100000},
		{Service: "nobody", PerMonth: 10},
	}
	v, err := NewEngine(e, budgets, DefaultOptions()).Run(context.Background(), at)
	require.NoError(t, err)
	res := v.(*Result)

	require.Len(t, res.Services, 2)
	cart, checkout := res.Services[0], res.Services[1]
	require.Equal(t, identity.Service{Cluster: "eu", Namespace: "shop", Name: "checkout"},
		checkout.Service)
	score, ok := checkout.Anomaly.GatedScore()
	require.True(t, ok)
	require.Greater(t, score, 3.5, "a doubled hourly cost is an anomaly")
	require.Equal(t, BaselineWeekly, checkout.Anomaly.Kind)
	score, ok = cart.Anomaly.GatedScore()
	require.True(t, ok)
	require.Less(t, math.Abs(score), 3.5, "the usual daily pattern is not")

	require.False(t, cart.Forecast.Inconclusive)
	require.InDelta(t, 10*24*31, cart.Forecast.Total, 10*24*31*0.05,
		"about 10 an hour over March, twice-scraped series counted once")

	require.Len(t, res.Budgets, 3)
	require.True(t, res.Budgets[0].Status.Exhausted, "1000 is spent by the 20th")
	require.Len(t, res.Budgets[1].Services, 2)
	require.InDelta(t, cart.Forecast.Total+checkout.Forecast.Total,
		res.Budgets[1].Status.Forecast, 1e-6)
	require.True(t, res.Budgets[2].Status.Inconclusive, "no history: inconclusive, not zero")
}

func TestBudgetConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		b   BudgetConfig
		err string
	}{
		{BudgetConfig{Service: "shop/checkout", PerMonth: 10}, ""},
		{BudgetConfig{Team: "t", Services: []string{"a", "eu/shop/b"}, PerMonth: 10}, ""},
		{BudgetConfig{PerMonth: 10}, "one is required"},
		{BudgetConfig{Service: "a", Team: "t", PerMonth: 10}, "not both"},
		{BudgetConfig{Team: "t", PerMonth: 10}, "lists its services"},
		{BudgetConfig{Service: "a", Services: []string{"b"}, PerMonth: 10}, "only a team"},
		{BudgetConfig{Service: "a", PerMonth: 0}, "per_month"},
		{BudgetConfig{Service: "a", PerMonth: math.NaN()}, "per_month"},
		{BudgetConfig{Service: "a/b/c/d", PerMonth: 1}, "service \"a/b/c/d\""},
		{BudgetConfig{Team: "t", Services: []string{"x/"}, PerMonth: 1}, "service \"x/\""},
	} {
		err := tc.b.Validate()
		if tc.err == "" {
			require.NoError(t, err)
			continue
		}
		require.ErrorContains(t, err, tc.err)
	}
}

func TestEngineFailsWithoutItsSource(t *testing.T) {
	_, err := NewEngine(failingQuerier{}, nil, DefaultOptions()).Run(context.Background(), time.Now())
	require.ErrorContains(t, err, "reading the cost history")
}

type failingQuerier struct{ query.Querier }

func (failingQuerier) QueryRange(context.Context, string, query.Range) (model.Matrix, error) {
	return nil, fmt.Errorf("connection refused")
}
