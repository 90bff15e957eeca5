package collector

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost/insight"
	"github.com/stratus-monitoring/stratus/identity"
)

type fixedInsight struct{ result *insight.Result }

func (fixedInsight) Name() string { return insight.EngineName }

func (e fixedInsight) Run(context.Context, time.Time) (any, error) { return e.result, nil }

func TestCostInsightCollector(t *testing.T) {
	checkout := identity.Service{Cluster: "eu", Namespace: "shop", Name: "checkout"}
	cart := identity.Service{Cluster: "eu", Namespace: "shop", Name: "cart"}
	result := &insight.Result{
		Services: []insight.ServiceInsight{
			{Service: checkout,
				Anomaly:  insight.Anomaly{Score: 7.5, Material: true, Anomalous: true},
				Forecast: insight.Forecast{Total: 7400}},
			{Service: cart,
				Anomaly:  insight.Anomaly{Inconclusive: true, Reason: insight.ReasonShortHistory},
				Forecast: insight.Forecast{Inconclusive: true}},
		},
		Budgets: []insight.BudgetInsight{
			{Config: insight.BudgetConfig{Service: "eu/shop/checkout", PerMonth: 5000},
				Status: insight.Budget{SpentRatio: 0.9, ForecastRatio: 1.48}},
			{Config: insight.BudgetConfig{Team: "payments", Services: []string{"cart"},
				PerMonth: 100}, Status: insight.Budget{Inconclusive: true}},
		},
	}
	job := analysis.Job{Engine: fixedInsight{result}, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewCostInsightCollector(sched.Snapshot)
	require.Zero(t, testutil.CollectAndCount(c), "nothing before the first run")

	sched.RunOnce(context.Background(), job)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_anomaly_score Robust score of the service's latest hourly cost against its seasonal baseline; 0 when the change is below the configured impact gate.
# TYPE stratus_cost_anomaly_score gauge
stratus_cost_anomaly_score{cluster="eu",namespace="shop",service="checkout"} 7.5
# HELP stratus_cost_budget_forecast_ratio Forecast month-end cost over the budget; above 1 the budget will be exceeded.
# TYPE stratus_cost_budget_forecast_ratio gauge
stratus_cost_budget_forecast_ratio{cluster="eu",namespace="shop",service="checkout",team=""} 1.48
# HELP stratus_cost_budget_per_month Configured budget of the calendar month, for a service (team empty) or a team (service labels empty).
# TYPE stratus_cost_budget_per_month gauge
stratus_cost_budget_per_month{cluster="",namespace="",service="",team="payments"} 100
stratus_cost_budget_per_month{cluster="eu",namespace="shop",service="checkout",team=""} 5000
# HELP stratus_cost_budget_spent_ratio Spend so far this month over the budget.
# TYPE stratus_cost_budget_spent_ratio gauge
stratus_cost_budget_spent_ratio{cluster="eu",namespace="shop",service="checkout",team=""} 0.9
# HELP stratus_cost_forecast_month_end Forecast cost of the service for the current calendar month (UTC): spend so far plus the remaining hours at the forecast rate.
# TYPE stratus_cost_forecast_month_end gauge
stratus_cost_forecast_month_end{cluster="eu",namespace="shop",service="checkout"} 7400
`)))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}
