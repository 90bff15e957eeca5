package config

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
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
		CommitmentMinHistory: 7 * 24 * time.Hour,
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
		CommitmentMinHistory:     model.Duration(cost.DefaultCommitmentMinHistory),
		BillingExports: []string{filepath.Join("testdata", "billing", "focus.csv"),
			"/srv/exports/cur.parquet"},
		Inventory:    []string{filepath.Join("testdata", "inventory.yaml")},
		TagKeys:      TagKeysConfig{Service: []string{"service", "Service"}, Team: []string{"team"}},
		MaxFeatures:  5,
		MaxResources: cost.DefaultMaxResources,
		Serverless: ServerlessConfig{Enabled: true, CloudWatchPeriod: model.Duration(time.Minute),
			StackdriverWindow: model.Duration(cost.DefaultStackdriverWindow),
			FunctionMemoryMiB: map[string]float64{"resize-images": 1024}},
	}, cfg.Cost, "billing exports and inventory files resolve against the config file's directory")
	require.Equal(t, identity.TagKeys{Service: []string{"service", "Service"},
		Team: []string{"team"}}, cfg.Cost.IdentityTagKeys())
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
		{"empty inventory", "cost:\n  inventory: [' ']\n", "line 2: cost.inventory[0]: is empty"},
		{"max features", "cost:\n  max_features: 0\n",
			"line 2: cost.max_features: 0 is not a positive number"},
		{"max resources", "cost:\n  max_resources: -1\n",
			"line 2: cost.max_resources: -1 is not a positive number"},
		{"cloudwatch period", "cost:\n  serverless:\n    cloudwatch_period: 1500ms\n",
			"line 3: cost.serverless.cloudwatch_period: 1.5s is not a whole number of seconds"},
		{"stackdriver window", "cost:\n  serverless:\n    stackdriver_window: 30s\n",
			"line 3: cost.serverless.stackdriver_window: 30s is shorter than 1m"},
		{"azure selector", "cost:\n  serverless:\n    azure_functions:\n      execution_count: 'x{'\n",
			`line 4: cost.serverless.azure_functions.execution_count: "x{"`},
		{"function memory", "cost:\n  serverless:\n    function_memory_mib: {f: 0}\n",
			`cost.serverless.function_memory_mib["f"]: 0 is not a positive number of MiB`},
		{"inventory twice", "cost:\n  inventory: [a.yaml, a.yaml]\n",
			`cost.inventory[1]: "a.yaml" is listed twice`},
		{"tag key twice", "cost:\n  tag_keys:\n    team: [team, team]\n",
			`line 3: cost.tag_keys.team[1]: "team" is listed twice`},
		{"unknown tag keys field", "cost:\n  tag_keys:\n    teams: [team]\n",
			"line 3: cost.tag_keys.teams: unknown field"},
		{"commitment history", "cost:\n  commitment_min_history: 0s\n",
			"line 2: cost.commitment_min_history: must be positive"},
		{"spot discount", "cost:\n  spot_discounts:\n    aws: 100\n",
			"line 3: cost.spot_discounts.aws: 100 is not a percentage in (0, 100)"},
		{"negative spot discount", "cost:\n  spot_discounts: {gcp: -5}\n",
			"line 2: cost.spot_discounts.gcp: -5 is not a percentage in (0, 100)"},
		{"spot discount cloud", "cost:\n  spot_discounts: {' aws': 60}\n",
			`line 2: cost.spot_discounts: cloud " aws" is not a cloud name`},
		{"commitment discount", "cost:\n  commitment_discounts:\n    azure: 0\n",
			"line 3: cost.commitment_discounts.azure: 0 is not a percentage in (0, 100)"},
		{"commitment discount twice", "cost:\n  commitment_discounts: {aws: 30, AWS: 40}\n",
			`cost.commitment_discounts.aws: cloud "aws" is listed twice`},
		{"commitment discount type", "cost:\n  commitment_discounts: {aws: lots}\n",
			"line 2: cost.commitment_discounts: cannot unmarshal"},
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

// TestSpotAndCommitmentConfig checks that the spot and commitment settings
// reach the engine's configuration, copied so that the engine cannot change
// the file's.
func TestSpotAndCommitmentConfig(t *testing.T) {
	cfg, err := Parse([]byte("cost:\n  commitment_min_history: 14d\n" +
		"  recommendation_lookback: 3d\n" +
		"  spot_discounts: {aws: 65, gcp: 70.5}\n  commitment_discounts: {azure: 35}\n"))
	require.NoError(t, err)
	rc := cfg.Cost.RecommendConfig()
	require.Equal(t, 14*24*time.Hour, rc.CommitmentMinHistory,
		"a commitment may need more history than the usage lookback")
	require.Equal(t, map[string]float64{"aws": 65, "gcp": 70.5}, rc.SpotDiscounts)
	require.Equal(t, map[string]float64{"azure": 35}, rc.CommitmentDiscounts)
	rc.SpotDiscounts["aws"] = 1
	require.InDelta(t, 65, cfg.Cost.SpotDiscounts["aws"], 0)
}

func TestServerlessConfig(t *testing.T) {
	cfg, err := Parse(nil)
	require.NoError(t, err)
	require.Equal(t, cost.CloudUsageConfig{CloudWatchPeriod: cost.DefaultCloudWatchPeriod,
		StackdriverWindow: cost.DefaultStackdriverWindow}, cfg.Cost.CloudUsageConfig())
	require.Equal(t, cost.DefaultMaxFeatures, cfg.Cost.MaxFeatures)

	cfg, err = Parse([]byte("cost:\n  serverless:\n    enabled: false\n" +
		"    ecs_ec2_clusters: [batch]\n"))
	require.NoError(t, err)
	got := cfg.Cost.CloudUsageConfig()
	require.True(t, got.Disabled)
	require.Equal(t, []string{"batch"}, got.ECSEC2Clusters)
	require.Equal(t, cost.DefaultCloudWatchPeriod, got.CloudWatchPeriod, "unset fields keep defaults")
}
