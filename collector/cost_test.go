package collector

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

// fixedCostEngine returns the same cost snapshot every run.
type fixedCostEngine struct{ snap *cost.Snapshot }

func (fixedCostEngine) Name() string { return cost.EngineName }

func (e fixedCostEngine) Run(context.Context, time.Time) (any, error) { return e.snap, nil }

// fixedCostSchedule schedules a cost engine that always returns snap: the
// snapshots a collector reads, and a function that runs one cycle.
func fixedCostSchedule(t *testing.T, snap *cost.Snapshot) (func() *analysis.Snapshot, func()) {
	t.Helper()
	job := analysis.Job{Engine: fixedCostEngine{snap}, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job},
		func() time.Time { return time.Unix(1_700_000_000, 0) }, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	return sched.Snapshot, func() { sched.RunOnce(context.Background(), job) }
}

func TestCostCollector(t *testing.T) {
	// A 4-core, 16-GiB node at 2 per hour, split 1.5 CPU and 0.5 memory (numbers
	// that binary floating point holds exactly), with one container requesting
	// a core and 4 GiB.
	result, err := cost.AllocateNodeCost([]cost.Node{{
		Name: "n1", Cluster: "eu", Cloud: "aws", Region: "eu-west-1",
		ResourceID: "aws:///eu-west-1a/i-1", InstanceType: "m5.xlarge",
		PricePerHour: 2, CPURate: 0.375, MemoryRate: 0.03125, CPUCores: 4, MemoryGiB: 16,
	}}, []cost.Container{{
		Service: identity.Service{Name: "web"}, Cluster: "eu", Node: "n1",
		Namespace: "shop", Pod: "web-1", Name: "web",
		CPURequest: 1, CPUUsage: 0.5, MemoryRequestGiB: 4, MemoryUsageGiB: 1,
	}})
	require.NoError(t, err)
	snap := &cost.Snapshot{Currency: "EUR", Result: result, Unpriced: []cost.UnpricedNode{
		{Name: "a", Cloud: "gcp", Reason: "unknown_product"},
		{Name: "b", Cloud: "gcp", Reason: "unknown_product"},
		{Name: "c", Cloud: "", Reason: cost.ReasonNoCloud},
	}, ServiceInfo: map[identity.Service]identity.Metadata{
		{Cluster: "eu", Namespace: "shop", Name: "web"}: {Team: "payments", Owner: "ana"},
		{Name: "ledger"}: {Team: "finance"},
	}}

	snapshot, run := fixedCostSchedule(t, snap)
	c := NewCostCollector(snapshot, "USD")

	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_info Always 1; names the currency every cost figure is in.
# TYPE stratus_cost_info gauge
stratus_cost_info{currency="USD"} 1
`)), "only the currency before the first cycle")

	run()
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_info Always 1; names the currency every cost figure is in.
# TYPE stratus_cost_info gauge
stratus_cost_info{currency="EUR"} 1
# HELP stratus_cost_unpriced_resources Resources with no usable price at the latest cost cycle, by reason; their cost is absent from every cost figure, never counted as zero.
# TYPE stratus_cost_unpriced_resources gauge
stratus_cost_unpriced_resources{cloud="",reason="no_cloud"} 1
stratus_cost_unpriced_resources{cloud="gcp",reason="unknown_product"} 2
# HELP stratus_resource_cost_per_hour Cost per hour of a priced resource (a Kubernetes node, or a resource of the inventory such as a VM, a database or a volume), discounts applied, in the currency of stratus_cost_info.
# TYPE stratus_resource_cost_per_hour gauge
stratus_resource_cost_per_hour{cloud="aws",region="eu-west-1",resource_id="aws:///eu-west-1a/i-1",resource_type="kubernetes_node"} 2
# HELP stratus_service_cost_per_hour Cost per hour charged to the service, in the currency of stratus_cost_info, by cloud, region and component; service="__idle__" is capacity no container is charged for and "__unallocated__" cost whose service is not known, so that sum() equals the cost of every priced resource.
# TYPE stratus_service_cost_per_hour gauge
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="compute",namespace="",region="eu-west-1",service="__idle__"} 1.125
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="memory",namespace="",region="eu-west-1",service="__idle__"} 0.375
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="compute",namespace="shop",region="eu-west-1",service="web"} 0.375
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="memory",namespace="shop",region="eu-west-1",service="web"} 0.125
# HELP stratus_service_info Always 1; the team and owner of a service (empty where unknown), from the team and owner keys (cost.tag_keys) of its pods' labels and its resources' tags, the majority where they disagree. One series per service the cost engine charges, so that rules can join it with group_left.
# TYPE stratus_service_info gauge
stratus_service_info{cluster="",namespace="",owner="",service="ledger",team="finance"} 1
stratus_service_info{cluster="eu",namespace="shop",owner="ana",service="web",team="payments"} 1
`)))

	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestCostCollectorBillingError(t *testing.T) {
	sched, err := analysis.NewScheduler(nil, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewCostCollector(sched.Snapshot, "USD").WithBillingErrors(func() map[string]float64 {
		return map[string]float64{"aws": 0.05, "gcp": -0.02}
	})
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_billing_error_ratio (Estimated − billed) / billed usage cost matched to resources Stratus estimated, per cloud, from the latest reconciliation with the configured billing exports (cost.billing_exports); credits, commitments, refunds and taxes are not in it.
# TYPE stratus_cost_billing_error_ratio gauge
stratus_cost_billing_error_ratio{cloud="aws"} 0.05
stratus_cost_billing_error_ratio{cloud="gcp"} -0.02
`), "stratus_cost_billing_error_ratio"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestSourceHealthPriceSources checks that the price refresher can report into
// the same tracker as the query source: every source is known from the start,
// and one failing says nothing about another.
func TestSourceHealthPriceSources(t *testing.T) {
	h := NewSourceHealth(promslog.NewNopLogger(), "prometheus",
		pricing.AWSPriceListSource, pricing.AzureSource)
	var reporter pricing.StatusReporter = h

	reporter.ReportSuccess(pricing.AWSPriceListSource, time.Unix(1_700_000_000, 0))
	reporter.ReportFailure(pricing.AzureSource, time.Unix(1_700_000_000, 0),
		errors.New("HTTP 429"))
	h.ReportSuccess("prometheus", time.Unix(1_700_000_060, 0))
	require.NoError(t, testutil.CollectAndCompare(h, strings.NewReader(`
# HELP stratus_source_up Whether the latest request to the data source succeeded (1) or not (0).
# TYPE stratus_source_up gauge
stratus_source_up{source="aws-price-list"} 1
stratus_source_up{source="azure-retail-prices"} 0
stratus_source_up{source="prometheus"} 1
`), "stratus_source_up"))
}

// TestCostCollectorSavings checks stratus_cost_savings_per_hour: one series per
// recommendation, labelled with its service, resource and kind.
func TestCostCollectorSavings(t *testing.T) {
	result, err := cost.AllocateNodeCost(nil, nil)
	require.NoError(t, err)
	snap := &cost.Snapshot{Currency: "USD", Result: result, Recommendations: []cost.Recommendation{
		{Kind: cost.KindIdleNode, ResourceID: "aws:///eu-west-1a/i-1",
			Service: identity.Service{Cluster: "eu", Name: cost.Idle}, SavingsPerHour: 0.192},
		{Kind: cost.KindOverRequested, ResourceID: "eu/shop/web/web",
			Service:        identity.Service{Cluster: "eu", Namespace: "shop", Name: "web"},
			SavingsPerHour: 0.0625},
	}}
	snapshot, run := fixedCostSchedule(t, snap)
	c := NewCostCollector(snapshot, "USD")
	run()

	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_savings_per_hour Estimated savings per hour of a recommendation, in the currency of stratus_cost_info: kind is over_requested_container (resource_id cluster/namespace/service/container), idle_node, node_rightsizing or spot_candidate (resource_id the node's), or commitment (resource_id cluster/region/instance_type); service is the container's, or __idle__ of the nodes' cluster.
# TYPE stratus_cost_savings_per_hour gauge
stratus_cost_savings_per_hour{cluster="eu",kind="idle_node",namespace="",resource_id="aws:///eu-west-1a/i-1",service="__idle__"} 0.192
stratus_cost_savings_per_hour{cluster="eu",kind="over_requested_container",namespace="shop",resource_id="eu/shop/web/web",service="web"} 0.0625
`), "stratus_cost_savings_per_hour"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestCostCollectorSpotNodesPricedOnDemand checks
// stratus_cost_spot_nodes_priced_on_demand: per cloud, the spot nodes priced at
// on-demand for want of a spot price; spot nodes priced as spot and on-demand
// nodes are not counted, and a cloud with none has no series.
func TestCostCollectorSpotNodesPricedOnDemand(t *testing.T) {
	result, err := cost.AllocateNodeCost(nil, nil)
	require.NoError(t, err)
	snap := &cost.Snapshot{Currency: "USD", Result: result, Nodes: []cost.PricedNode{
		{Name: "a", Cloud: "aws", Purchase: pricing.Spot, PricedAs: cost.PricedAsOnDemand},
		{Name: "b", Cloud: "aws", Purchase: pricing.Spot, PricedAs: cost.PricedAsOnDemand},
		{Name: "c", Cloud: "gcp", Purchase: pricing.Spot, PricedAs: cost.PricedAsOnDemand},
		{Name: "d", Cloud: "gcp", Purchase: pricing.Spot, PricedAs: cost.PricedAsSpot},
		{Name: "e", Cloud: "azure", Purchase: pricing.Spot, PricedAs: cost.PricedAsSpotDiscount},
		{Name: "f", Cloud: "azure", Purchase: pricing.OnDemand, PricedAs: cost.PricedAsOnDemand},
	}}
	snapshot, run := fixedCostSchedule(t, snap)
	c := NewCostCollector(snapshot, "USD")
	run()

	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_spot_nodes_priced_on_demand Spot nodes priced at their on-demand price at the latest cost cycle, per cloud, because the price book has no spot price for them and cost.spot_discounts none for their cloud: their cost is overstated.
# TYPE stratus_cost_spot_nodes_priced_on_demand gauge
stratus_cost_spot_nodes_priced_on_demand{cloud="aws"} 2
stratus_cost_spot_nodes_priced_on_demand{cloud="gcp"} 1
`), "stratus_cost_spot_nodes_priced_on_demand"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestCostCollectorUnitCostsAndSkips checks the cost per request and feature,
// and the count of commitment and spot candidates left without a
// recommendation.
func TestCostCollectorUnitCostsAndSkips(t *testing.T) {
	result, err := cost.AllocateNodeCost(nil, nil)
	require.NoError(t, err)
	web := identity.Service{Cluster: "eu", Namespace: "shop", Name: "web"}
	snap := &cost.Snapshot{Currency: "USD", Result: result,
		UnitCosts: []cost.UnitCost{{Service: web, RequestsPerSecond: 2, CostPerRequest: 0.5,
			Features: []cost.RouteCost{{Route: "GET /cart", CostPerHour: 3},
				{Route: cost.OtherFeature, CostPerHour: 1}}}},
		SkippedRecommendations: []cost.SkippedRecommendation{
			{Kind: cost.KindCommitment, ResourceID: "a", Reason: cost.SkipNoCommittedPrice},
			{Kind: cost.KindCommitment, ResourceID: "b", Reason: cost.SkipNoCommittedPrice},
			{Kind: cost.KindSpotCandidate, ResourceID: "c", Reason: cost.SkipNoSpotPrice},
		}}
	snapshot, run := fixedCostSchedule(t, snap)
	c := NewCostCollector(snapshot, "USD")
	run()

	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_recommendations_skipped Commitment and spot candidates found at the latest cost cycle that got no recommendation, by kind and reason: no committed or spot price in the price book and no configured discount, no on-demand price, or too short a history.
# TYPE stratus_cost_recommendations_skipped gauge
stratus_cost_recommendations_skipped{kind="commitment",reason="no_committed_price"} 2
stratus_cost_recommendations_skipped{kind="spot_candidate",reason="no_spot_price"} 1
# HELP stratus_service_cost_per_request Cost of one request to the service, in the currency of stratus_cost_info: its cost per hour over the requests it serves in an hour (server spans of span metrics, else HTTP server metrics, else Istio's server-side requests); absent without requests.
# TYPE stratus_service_cost_per_request gauge
stratus_service_cost_per_request{cluster="eu",namespace="shop",service="web"} 0.5
# HELP stratus_service_feature_cost_per_hour The service's cost per hour split over its features (the span names of its server spans, else the methods and routes of its HTTP server metrics) in proportion to the time spent serving each (requests × mean latency); feature="__other__" sums those beyond cost.max_features.
# TYPE stratus_service_feature_cost_per_hour gauge
stratus_service_feature_cost_per_hour{cluster="eu",feature="GET /cart",namespace="shop",service="web"} 3
stratus_service_feature_cost_per_hour{cluster="eu",feature="__other__",namespace="shop",service="web"} 1
`), "stratus_cost_recommendations_skipped", "stratus_service_cost_per_request",
		"stratus_service_feature_cost_per_hour"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

// TestDroppedCollectorCost counts the resources left without a series by
// cost.max_resources; before any cycle there is nothing to count.
func TestDroppedCollectorCost(t *testing.T) {
	result, err := cost.AllocateNodeCost(nil, nil)
	require.NoError(t, err)
	snap := &cost.Snapshot{Currency: "USD", Result: result, ResourcesDropped: 7,
		SeriesResources: []cost.ResourceCost{}}
	snapshot, run := fixedCostSchedule(t, snap)
	c := NewDroppedCollector(snapshot)
	require.Zero(t, testutil.CollectAndCount(c))
	run()
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_series_dropped_total Series or observations an engine left out, by reason: invalid identities, or caps from the configuration.
# TYPE stratus_series_dropped_total counter
stratus_series_dropped_total{family="cost",reason="max_resources"} 7
`)))
}
