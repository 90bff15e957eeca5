package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/pricing"
)

func TestDefaultCost(t *testing.T) {
	cfg, err := Parse(nil)
	require.NoError(t, err)
	require.Equal(t, EngineConfig{Interval: model.Duration(5 * time.Minute),
		Timeout: model.Duration(2 * time.Minute)}, cfg.Engines.Cost)
	require.Equal(t, []string{"app.kubernetes.io/name", "app", "service"}, cfg.Cost.PodLabelKeys)
	require.Empty(t, cfg.Cost.DefaultCloud)
	require.Equal(t, model.Duration(5*time.Minute), cfg.Cost.UsageWindow)
	require.Empty(t, cfg.Cost.BillingExports)
	require.Equal(t, pricing.Config{}, cfg.Pricing)
	require.Equal(t, cost.RecommendConfig{
		Lookback: 7 * 24 * time.Hour, MinHistory: time.Hour, Headroom: 0.3, IdleThreshold: 0.1,
	}, cfg.Cost.RecommendConfig())
}

// TestRecommendConfigNoHeadroom checks that a headroom of 0 in the file means
// none, not the engine's default.
func TestRecommendConfigNoHeadroom(t *testing.T) {
	cfg, err := Parse([]byte("cost:\n  recommendation_headroom: 0\n" +
		"  recommendation_lookback: 3d\n  idle_node_threshold: 0.2\n"))
	require.NoError(t, err)
	rc := cfg.Cost.RecommendConfig()
	require.Negative(t, rc.Headroom)
	require.Equal(t, 72*time.Hour, rc.Lookback)
	require.InDelta(t, 0.2, rc.IdleThreshold, 1e-12)
}

func TestLoadCostAndPricing(t *testing.T) {
	cfg, err := Load("testdata/full.yml")
	require.NoError(t, err)
	require.Equal(t, EngineConfig{Interval: model.Duration(10 * time.Minute),
		Timeout: model.Duration(3 * time.Minute)}, cfg.Engines.Cost)
	require.Equal(t, CostConfig{PodLabelKeys: []string{"app", "service"},
		DefaultCloud: "onprem", UsageWindow: model.Duration(10 * time.Minute),
		RecommendationLookback:   model.Duration(cost.DefaultRecommendationLookback),
		RecommendationMinHistory: model.Duration(cost.DefaultRecommendationMinHistory),
		RecommendationHeadroom:   cost.DefaultRecommendationHeadroom,
		IdleNodeThreshold:        cost.DefaultIdleNodeThreshold,
	}, cfg.Cost)
	p := cfg.Pricing
	require.Equal(t, model.Duration(12*time.Hour), p.RefreshInterval)
	require.Equal(t, []string{filepath.Join("testdata", "prices.csv")}, p.Files,
		"price files resolve against the config file's directory")
	require.Len(t, p.Overrides, 1)
	require.Equal(t, []pricing.DiscountConfig{{Cloud: "aws", Percent: 20}}, p.Discounts)
	require.Equal(t, pricing.CloudConfig{Enabled: true, Regions: []string{"us-east-1"}}, p.AWS)
	require.False(t, p.GCP.Enabled)
}

func TestCostAndPricingErrorsNameLineAndField(t *testing.T) {
	for _, tc := range []struct {
		name, yaml, want string
	}{
		{"engine interval", "engines:\n  cost:\n    interval: 0s\n",
			"line 3: engines.cost.interval: must be positive"},
		{"no keys", "cost:\n  pod_label_keys: []\n",
			"line 2: cost.pod_label_keys: must list at least one key"},
		{"bad key", "cost:\n  pod_label_keys: [app, 'bad key']\n",
			`line 2: cost.pod_label_keys[1]: "bad key" is not a Kubernetes label key`},
		{"twice", "cost:\n  pod_label_keys: [app, app]\n",
			`cost.pod_label_keys[1]: "app" is listed twice`},
		{"cloud", "cost:\n  default_cloud: ' aws'\n", "line 2: cost.default_cloud"},
		{"window", "cost:\n  usage_window: 0s\n", "line 2: cost.usage_window: must be positive"},
		{"empty export", "cost:\n  billing_exports: ['']\n",
			"line 2: cost.billing_exports[0]: is empty"},
		{"export twice", "cost:\n  billing_exports: [a.csv, a.csv]\n",
			`cost.billing_exports[1]: "a.csv" is listed twice`},
		{"lookback", "cost:\n  recommendation_lookback: 0s\n",
			"line 2: cost.recommendation_lookback: must be positive"},
		{"min history", "cost:\n  recommendation_min_history: 8d\n",
			"line 2: cost.recommendation_min_history: must be positive and at most"},
		{"headroom", "cost:\n  recommendation_headroom: -0.1\n",
			"line 2: cost.recommendation_headroom: -0.1 is not in [0, 10]"},
		{"idle", "cost:\n  idle_node_threshold: 1\n",
			"line 2: cost.idle_node_threshold: 1 is not in (0, 1)"},
		{"unknown field", "cost:\n  pod_labels: [app]\n", "line 2: cost.pod_labels: unknown field"},
		{"refresh", "pricing:\n  refresh_interval: 1m\n",
			"line 2: pricing.refresh_interval: 1m is shorter than the minimum 1h"},
		{"override unit", "pricing:\n  overrides:\n    - cloud: onprem\n      region: r\n" +
			"      kind: compute\n      product: p\n      price: 1\n      unit: gib-month\n",
			"line 8: pricing.overrides[0].unit:"},
		{"discount", "pricing:\n  discounts:\n    - {percent: 10}\n",
			"line 3: pricing.discounts[0]: name a cloud, account or service"},
		{"region", "pricing:\n  azure:\n    regions: ['']\n",
			"line 3: pricing.azure.regions[0]: empty region"},
		{"currency", "pricing:\n  currency: usd\n", "line 2: pricing.currency:"},
		{"pricing type", "pricing:\n  aws:\n    enabled: maybe\n", "line 3: pricing.aws.enabled"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			require.ErrorContains(t, err, tc.want)
		})
	}
}
