package config

import (
	"errors"
	"fmt"

	"github.com/stratus-monitoring/stratus/cost/insight"
)

// CostInsightConfig configures anomaly scores, month-end forecasts and budgets,
// computed from the cost history Prometheus keeps of Stratus's own metrics.
type CostInsightConfig struct {
	// Budgets per service or team, per calendar month, in the configured currency.
	Budgets []insight.BudgetConfig `yaml:"budgets"`
	// MinImpactPerMonth and MinImpactRatio gate anomalies: a change must exceed
	// both to count, so that a 300 % rise of a cent an hour does not alert.
	MinImpactPerMonth float64 `yaml:"min_impact_per_month"`
	MinImpactRatio    float64 `yaml:"min_impact_ratio"`
	// Threshold is the |score| from which a material change is anomalous.
	Threshold float64 `yaml:"threshold"`
}

// Options returns the scoring options with the configured gate and threshold.
func (c CostInsightConfig) Options() insight.Options {
	o := insight.DefaultOptions()
	o.MinImpactPerMonth, o.MinImpactRatio, o.Threshold =
		c.MinImpactPerMonth, c.MinImpactRatio, c.Threshold
	return o
}

func defaultCostInsight() CostInsightConfig {
	d := insight.DefaultOptions()
	return CostInsightConfig{
		MinImpactPerMonth: d.MinImpactPerMonth,
		MinImpactRatio:    d.MinImpactRatio,
		Threshold:         d.Threshold,
	}
}

func (c CostInsightConfig) validate() []fieldError {
	var errs []fieldError
	add := func(field string, err error) {
		errs = append(errs, fieldError{"cost_insight." + field, err})
	}
	if !(c.MinImpactPerMonth >= 0) {
		add("min_impact_per_month", errors.New("must not be negative"))
	}
	if !(c.MinImpactRatio >= 0) {
		add("min_impact_ratio", errors.New("must not be negative"))
	}
	if !(c.Threshold > 0) {
		add("threshold", errors.New("must be positive"))
	}
	for i, b := range c.Budgets {
		if err := b.Validate(); err != nil {
			add(fmt.Sprintf("budgets[%d]", i), err)
		}
	}
	return errs
}
