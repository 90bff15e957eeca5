package config

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/cost"
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
	seenFiles := map[string]bool{}
	for i, path := range c.BillingExports {
		field := fmt.Sprintf("billing_exports[%d]", i)
		switch {
		case strings.TrimSpace(path) == "":
			add(field, errors.New("is empty"))
		case seenFiles[path]:
			add(field, fmt.Errorf("%q is listed twice", path))
		}
		seenFiles[path] = true
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
	}
}
