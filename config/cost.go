package config

import (
	"errors"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
)

// CostConfig configures the cost engine; prices come from `pricing:`.
type CostConfig struct {
	// PodLabelKeys are the Kubernetes pod label keys whose value names a pod's
	// service, tried in order. kube-state-metrics exposes them on
	// kube_pod_labels only when its --metric-labels-allowlist lists them;
	// without, the pod's owning workload names the service.
	PodLabelKeys []string `yaml:"pod_label_keys"`
	// DefaultCloud is the cloud of nodes whose providerID names none
	// (bare metal, kind, k3s), for looking up their price: onprem, or a
	// cloud of a price file. Empty leaves such nodes unpriced.
	DefaultCloud string `yaml:"default_cloud"`
	// UsageWindow is the rate() window over CPU usage counters.
	UsageWindow model.Duration `yaml:"usage_window"`
	// BillingExports are billing export files (any format `stratus cost
	// reconcile` reads) that serve reconciles its estimates with, exposing
	// stratus_cost_billing_error_ratio{cloud}. Each cost cycle checks whether a
	// file's size or modification time changed and re-reads them only then.
	BillingExports []string `yaml:"billing_exports"`
	// Inventory are inventory files (see package inventory) listing the
	// resources outside Kubernetes to price: virtual machines, databases,
	// caches, brokers, load balancers, NAT gateways, volumes and buckets.
	// Read at start and again whenever one changes.
	Inventory []string `yaml:"inventory"`
	// TagKeys say which tags of an inventory resource name its service, team
	// and owner; the team and owner keys are read from pod labels too.
	TagKeys TagKeysConfig `yaml:"tag_keys"`
	// Serverless configures the cost of Lambda functions, Fargate tasks and
	// Cloud Run services read from yace and stackdriver_exporter series.
	Serverless ServerlessConfig `yaml:"serverless"`
	// MaxFeatures is how many features (span names) of a service the cost per
	// feature keeps apart; the rest are summed into __other__.
	MaxFeatures int `yaml:"max_features"`
	// MaxResources is how many resources get a stratus_resource_cost_per_hour
	// series, the most expensive first; the rest stay in every total and are
	// counted in stratus_series_dropped_total.
	MaxResources int `yaml:"max_resources"`
	// ApplyCalibration multiplies node prices by the per-cloud factor the latest
	// reconciliation learned (<storage.path>/calibration.json), so that
	// estimates follow the bill. Off by default: a factor hides why the
	// estimate and the bill differ.
	ApplyCalibration bool `yaml:"apply_calibration"`
	// RecommendationLookback is how far back p95 usage is read for the
	// savings recommendations; a shorter history is used as it is, and the
	// reason says how long it was.
	RecommendationLookback model.Duration `yaml:"recommendation_lookback"`
	// RecommendationMinHistory is the least history a recommendation rests
	// on.
	RecommendationMinHistory model.Duration `yaml:"recommendation_min_history"`
	// RecommendationHeadroom is the share above p95 usage that requests and
	// nodes keep, 0 to 10.
	RecommendationHeadroom float64 `yaml:"recommendation_headroom"`
	// IdleNodeThreshold is the share of a node's allocatable capacity, above
	// 0 and below 1, under which its requests and p95 usage make it idle.
	IdleNodeThreshold float64 `yaml:"idle_node_threshold"`
	// CommitmentMinHistory is the least history the steady count of on-demand
	// nodes behind a commitment recommendation must cover: a commitment binds
	// for a year or more.
	CommitmentMinHistory model.Duration `yaml:"commitment_min_history"`
	// SpotDiscounts are expected spot discounts per cloud, in percent off the
	// on-demand price, for where the price book has no spot price: they price
	// spot nodes and spot candidates. No default: without one, spot nodes are
	// priced at on-demand and counted.
	SpotDiscounts map[string]float64 `yaml:"spot_discounts"`
	// CommitmentDiscounts are expected commitment discounts per cloud, in
	// percent off the on-demand price, for where the price book has no
	// reserved or committed price. No default: without either, no commitment
	// is recommended.
	CommitmentDiscounts map[string]float64 `yaml:"commitment_discounts"`
}

// ServerlessConfig configures the serverless part of the cost engine.
type ServerlessConfig struct {
	// Enabled runs the serverless queries each cycle.
	Enabled bool `yaml:"enabled"`
	// CloudWatchPeriod is the period of yace's CloudWatch statistics.
	CloudWatchPeriod model.Duration `yaml:"cloudwatch_period"`
	// StackdriverWindow is the rate() window over stackdriver_exporter's
	// counters.
	StackdriverWindow model.Duration `yaml:"stackdriver_window"`
	// FunctionMemoryMiB is the configured memory of functions by ARN or name.
	FunctionMemoryMiB map[string]float64 `yaml:"function_memory_mib"`
	// ECSEC2Clusters are ECS clusters whose tasks run on EC2, not Fargate.
	ECSEC2Clusters []string `yaml:"ecs_ec2_clusters"`
	// AzureFunctions says where the metrics of Azure Functions are.
	AzureFunctions AzureFunctionsConfig `yaml:"azure_functions"`
}

// AzureFunctionsConfig locates the Azure Functions metrics; empty fields take
// the defaults of webdevops' azure-metrics-exporter.
type AzureFunctionsConfig struct {
	ExecutionCount string         `yaml:"execution_count"`
	ExecutionUnits string         `yaml:"execution_units"`
	ResourceLabel  string         `yaml:"resource_label"`
	Interval       model.Duration `yaml:"interval"`
}

// CloudUsageConfig returns the serverless configuration for the engine.
func (c CostConfig) CloudUsageConfig() cost.CloudUsageConfig {
	s := c.Serverless
	return cost.CloudUsageConfig{
		Disabled:          !s.Enabled,
		CloudWatchPeriod:  time.Duration(s.CloudWatchPeriod),
		StackdriverWindow: time.Duration(s.StackdriverWindow),
		FunctionMemoryMiB: maps.Clone(s.FunctionMemoryMiB),
		ECSEC2Clusters:    slices.Clone(s.ECSEC2Clusters),
		AzureFunctions: cost.AzureFunctionsConfig{
			ExecutionCount: s.AzureFunctions.ExecutionCount,
			ExecutionUnits: s.AzureFunctions.ExecutionUnits,
			ResourceLabel:  s.AzureFunctions.ResourceLabel,
			Interval:       time.Duration(s.AzureFunctions.Interval),
		},
	}
}

// TagKeysConfig lists the tag keys of each piece of ownership, tried in order.
type TagKeysConfig struct {
	Service []string `yaml:"service"`
	Team    []string `yaml:"team"`
	Owner   []string `yaml:"owner"`
}

// IdentityTagKeys returns the tag keys for the engine.
func (c CostConfig) IdentityTagKeys() identity.TagKeys {
	return identity.TagKeys{Service: c.TagKeys.Service, Team: c.TagKeys.Team,
		Owner: c.TagKeys.Owner}
}

// RecommendConfig returns the recommendation thresholds for the engine.
func (c CostConfig) RecommendConfig() cost.RecommendConfig {
	headroom := c.RecommendationHeadroom
	if headroom == 0 {
		headroom = -1 // none, rather than the engine's default
	}
	return cost.RecommendConfig{
		Lookback:      time.Duration(c.RecommendationLookback),
		MinHistory:    time.Duration(c.RecommendationMinHistory),
		Headroom:      headroom,
		IdleThreshold: c.IdleNodeThreshold,

		CommitmentMinHistory: time.Duration(c.CommitmentMinHistory),
		SpotDiscounts:        maps.Clone(c.SpotDiscounts),
		CommitmentDiscounts:  maps.Clone(c.CommitmentDiscounts),
	}
}

// labelKey is what Kubernetes accepts as a label key: an optional DNS
// subdomain prefix and a name of letters, digits, '-', '_' and '.'.
var labelKey = regexp.MustCompile(
	`^([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$`)

func (c CostConfig) validate() []fieldError {
	var errs []fieldError
	add := func(field string, err error) { errs = append(errs, fieldError{"cost." + field, err}) }
	if len(c.PodLabelKeys) == 0 {
		add("pod_label_keys", errors.New("must list at least one key"))
	}
	seen := map[string]bool{}
	for i, k := range c.PodLabelKeys {
		switch {
		case !labelKey.MatchString(k):
			add(fmt.Sprintf("pod_label_keys[%d]", i),
				fmt.Errorf("%q is not a Kubernetes label key", k))
		case seen[k]:
			add(fmt.Sprintf("pod_label_keys[%d]", i), fmt.Errorf("%q is listed twice", k))
		}
		seen[k] = true
	}
	if c.DefaultCloud != strings.TrimSpace(c.DefaultCloud) {
		add("default_cloud", fmt.Errorf("%q has surrounding spaces", c.DefaultCloud))
	}
	if c.UsageWindow <= 0 {
		add("usage_window", errors.New("must be positive"))
	}
	if c.RecommendationLookback <= 0 {
		add("recommendation_lookback", errors.New("must be positive"))
	}
	if c.RecommendationMinHistory <= 0 || c.RecommendationMinHistory > c.RecommendationLookback {
		add("recommendation_min_history",
			errors.New("must be positive and at most recommendation_lookback"))
	}
	if !(c.RecommendationHeadroom >= 0 && c.RecommendationHeadroom <= 10) {
		add("recommendation_headroom", fmt.Errorf("%v is not in [0, 10]",
			c.RecommendationHeadroom))
	}
	if !(c.IdleNodeThreshold > 0 && c.IdleNodeThreshold < 1) {
		add("idle_node_threshold", fmt.Errorf("%v is not in (0, 1)", c.IdleNodeThreshold))
	}
	if c.CommitmentMinHistory <= 0 {
		add("commitment_min_history", errors.New("must be positive"))
	}
	errs = append(errs, validateCloudPercents("cost.spot_discounts", c.SpotDiscounts)...)
	errs = append(errs,
		validateCloudPercents("cost.commitment_discounts", c.CommitmentDiscounts)...)
	if c.MaxFeatures < 1 {
		add("max_features", fmt.Errorf("%d is not a positive number", c.MaxFeatures))
	}
	if c.MaxResources < 1 {
		add("max_resources", fmt.Errorf("%d is not a positive number", c.MaxResources))
	}
	if c.Serverless.CloudWatchPeriod <= 0 || c.Serverless.StackdriverWindow <= 0 {
		add("serverless", errors.New("cloudwatch_period and stackdriver_window must be positive"))
	}
	if err := c.CloudUsageConfig().Validate(); err != nil {
		for _, e := range flattenJoined(err) {
			field, msg, ok := strings.Cut(e.Error(), ": ")
			if !ok {
				field, msg = "", e.Error()
			}
			add(strings.TrimSuffix("serverless."+field, "."), errors.New(msg))
		}
	}
	for _, list := range []struct {
		field string
		items []string
	}{
		{"billing_exports", c.BillingExports},
		{"inventory", c.Inventory},
		{"tag_keys.service", c.TagKeys.Service},
		{"tag_keys.team", c.TagKeys.Team},
		{"tag_keys.owner", c.TagKeys.Owner},
		{"serverless.ecs_ec2_clusters", c.Serverless.ECSEC2Clusters},
	} {
		seen := map[string]bool{}
		for i, item := range list.items {
			field := fmt.Sprintf("%s[%d]", list.field, i)
			switch {
			case strings.TrimSpace(item) == "":
				add(field, errors.New("is empty"))
			case seen[item]:
				add(field, fmt.Errorf("%q is listed twice", item))
			}
			seen[item] = true
		}
	}
	return errs
}

// validateCloudPercents checks a map from cloud to a discount in percent:
// each cloud named without surrounding spaces, each percent in (0, 100).
func validateCloudPercents(field string, percents map[string]float64) []fieldError {
	var errs []fieldError
	seen := map[string]bool{}
	for _, cloud := range slices.Sorted(maps.Keys(percents)) {
		p := percents[cloud]
		folded := strings.ToLower(cloud)
		switch {
		case cloud == "" || cloud != strings.TrimSpace(cloud):
			errs = append(errs, fieldError{field, fmt.Errorf("cloud %q is not a cloud name",
				cloud)})
		case seen[folded]:
			errs = append(errs, fieldError{field + "." + cloud,
				fmt.Errorf("cloud %q is listed twice (clouds are compared without case)", cloud)})
		case !(p > 0 && p < 100):
			errs = append(errs, fieldError{field + "." + cloud,
				fmt.Errorf("%v is not a percentage in (0, 100)", p)})
		}
		seen[folded] = true
	}
	return errs
}

// validatePricing runs the price book's own validation and turns each of its
// errors, which start with the field's path under `pricing:`, into a field
// error, so that the message names the line.
func (c *Config) validatePricing() []fieldError {
	err := c.Pricing.Validate()
	if err == nil {
		return nil
	}
	var errs []fieldError
	for _, e := range flattenJoined(err) {
		field, msg, ok := strings.Cut(e.Error(), ": ")
		if !ok || strings.ContainsAny(field, " \t") {
			errs = append(errs, fieldError{"pricing", e})
			continue
		}
		errs = append(errs, fieldError{"pricing." + field, errors.New(msg)})
	}
	return errs
}

// flattenJoined returns the leaves of errors.Join trees.
func flattenJoined(err error) []error {
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range joined.Unwrap() {
		out = append(out, flattenJoined(e)...)
	}
	return out
}

// defaultCost is the cost section when the file leaves it out.
func defaultCost() CostConfig {
	return CostConfig{
		PodLabelKeys: append([]string(nil), cost.DefaultPodLabelKeys...),
		UsageWindow:  model.Duration(cost.DefaultUsageWindow),

		RecommendationLookback:   model.Duration(cost.DefaultRecommendationLookback),
		RecommendationMinHistory: model.Duration(cost.DefaultRecommendationMinHistory),
		RecommendationHeadroom:   cost.DefaultRecommendationHeadroom,
		IdleNodeThreshold:        cost.DefaultIdleNodeThreshold,
		CommitmentMinHistory:     model.Duration(cost.DefaultCommitmentMinHistory),
		MaxFeatures:              cost.DefaultMaxFeatures,
		MaxResources:             cost.DefaultMaxResources,
		Serverless: ServerlessConfig{
			Enabled:           true,
			CloudWatchPeriod:  model.Duration(cost.DefaultCloudWatchPeriod),
			StackdriverWindow: model.Duration(cost.DefaultStackdriverWindow),
		},
	}
}
