package config

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCostInsightConfig(t *testing.T) {
	cfg, err := Parse([]byte(`
cost_insight:
  min_impact_per_month: 100
  min_impact_ratio: 0.3
  threshold: 4
  budgets:
    - {service: shop/checkout, per_month: 2000}
    - {team: payments, services: [checkout, cart], per_month: 5000}
`))
	require.NoError(t, err)
	opts := cfg.CostInsight.Options()
	require.Equal(t, 100.0, opts.MinImpactPerMonth)
	require.Equal(t, 0.3, opts.MinImpactRatio)
	require.Equal(t, 4.0, opts.Threshold)
	require.NoError(t, opts.Validate())
	require.Len(t, cfg.CostInsight.Budgets, 2)
	require.Equal(t, []string{"checkout", "cart"}, cfg.CostInsight.Budgets[1].Services)

	def, err := Parse(nil)
	require.NoError(t, err)
	require.NoError(t, def.CostInsight.Options().Validate())
	require.Equal(t, 50.0, def.CostInsight.MinImpactPerMonth)
}

func TestCostInsightConfigErrors(t *testing.T) {
	_, err := Parse([]byte(`
cost_insight:
  min_impact_per_month: -1
  min_impact_ratio: -0.1
  threshold: 0
  budgets:
    - {per_month: 10}
    - {team: t, per_month: 10}
`))
	require.Error(t, err)
	for _, want := range []string{
		"line 3: cost_insight.min_impact_per_month: must not be negative",
		"line 4: cost_insight.min_impact_ratio",
		"line 5: cost_insight.threshold: must be positive",
		"line 7: cost_insight.budgets[0]: service or team",
		"line 8: cost_insight.budgets[1]: services",
	} {
		require.Contains(t, err.Error(), want)
	}
	_, err = Parse([]byte("engines:\n  cost_insight:\n    interval: 0s\n"))
	require.ErrorContains(t, err, "line 3: engines.cost_insight.interval: must be positive")
}
