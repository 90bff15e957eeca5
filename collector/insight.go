package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost/insight"
	"github.com/stratus-monitoring/stratus/identity"
)

// CostInsightCollector exposes anomaly scores, month-end forecasts and budgets.
// A service whose history is too short or stale has no anomaly or forecast series:
// absent means "not known", where 0 would read as "normal".
type CostInsightCollector struct {
	snapshot func() *analysis.Snapshot

	anomaly, forecast, budget, budgetSpent, budgetForecast *prometheus.Desc
}

// NewCostInsightCollector reads insight results from the snapshots that snapshot
// returns.
func NewCostInsightCollector(snapshot func() *analysis.Snapshot) *CostInsightCollector {
	budgetLabels := []string{"service", "namespace", "cluster", "team"}
	return &CostInsightCollector{
		snapshot: snapshot,
		anomaly: prometheus.NewDesc("stratus_cost_anomaly_score",
			"Robust score of the service's latest hourly cost against its seasonal "+
				"baseline; 0 when the change is below the configured impact gate.",
			serviceLabels, nil),
		forecast: prometheus.NewDesc("stratus_cost_forecast_month_end",
			"Forecast cost of the service for the current calendar month (UTC): spend "+
				"so far plus the remaining hours at the forecast rate.",
			serviceLabels, nil),
		budget: prometheus.NewDesc("stratus_cost_budget_per_month",
			"Configured budget of the calendar month, for a service (team empty) or a "+
				"team (service labels empty).", budgetLabels, nil),
		budgetSpent: prometheus.NewDesc("stratus_cost_budget_spent_ratio",
			"Spend so far this month over the budget.", budgetLabels, nil),
		budgetForecast: prometheus.NewDesc("stratus_cost_budget_forecast_ratio",
			"Forecast month-end cost over the budget; above 1 the budget will be exceeded.",
			budgetLabels, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *CostInsightCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{
		c.anomaly, c.forecast, c.budget, c.budgetSpent, c.budgetForecast,
	} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *CostInsightCollector) Collect(ch chan<- prometheus.Metric) {
	res, _, ok := analysis.Latest[*insight.Result](c.snapshot(), insight.EngineName)
	if !ok {
		return
	}
	for _, s := range res.Services {
		lv := []string{s.Service.Name, s.Service.Namespace, s.Service.Cluster}
		if score, ok := s.Anomaly.GatedScore(); ok {
			ch <- prometheus.MustNewConstMetric(c.anomaly, prometheus.GaugeValue, score, lv...)
		}
		if !s.Forecast.Inconclusive {
			ch <- prometheus.MustNewConstMetric(c.forecast, prometheus.GaugeValue,
				s.Forecast.Total, lv...)
		}
	}
	for _, b := range res.Budgets {
		lv := budgetLabelValues(b.Config)
		ch <- prometheus.MustNewConstMetric(c.budget, prometheus.GaugeValue,
			b.Config.PerMonth, lv...)
		if b.Status.Inconclusive {
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.budgetSpent, prometheus.GaugeValue,
			b.Status.SpentRatio, lv...)
		ch <- prometheus.MustNewConstMetric(c.budgetForecast, prometheus.GaugeValue,
			b.Status.ForecastRatio, lv...)
	}
}

// budgetLabelValues labels a budget as configured: a service budget by the parts
// its configuration gives (so that it joins the service's forecast when it names
// the service fully), a team budget by its team.
func budgetLabelValues(b insight.BudgetConfig) []string {
	if b.Team != "" {
		return []string{"", "", "", b.Team}
	}
	svc, _ := identity.ParseService(b.Service)
	return []string{svc.Name, svc.Namespace, svc.Cluster, ""}
}
