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
	}}

	job := analysis.Job{Engine: fixedCostEngine{snap}, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job},
		func() time.Time { return time.Unix(1_700_000_000, 0) }, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewCostCollector(sched.Snapshot, "USD")

	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_info Always 1; names the currency every cost figure is in.
# TYPE stratus_cost_info gauge
stratus_cost_info{currency="USD"} 1
`)), "only the currency before the first cycle")

	sched.RunOnce(context.Background(), job)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_info Always 1; names the currency every cost figure is in.
# TYPE stratus_cost_info gauge
stratus_cost_info{currency="EUR"} 1
# HELP stratus_cost_unpriced_resources Resources with no usable price at the latest cost cycle, by reason; their cost is absent from every cost figure, never counted as zero.
# TYPE stratus_cost_unpriced_resources gauge
stratus_cost_unpriced_resources{cloud="",reason="no_cloud"} 1
stratus_cost_unpriced_resources{cloud="gcp",reason="unknown_product"} 2
# HELP stratus_resource_cost_per_hour Cost per hour of a priced resource (a Kubernetes node), discounts applied, in the currency of stratus_cost_info.
# TYPE stratus_resource_cost_per_hour gauge
stratus_resource_cost_per_hour{cloud="aws",region="eu-west-1",resource_id="aws:///eu-west-1a/i-1",resource_type="kubernetes_node"} 2
# HELP stratus_service_cost_per_hour Cost per hour charged to the service, in the currency of stratus_cost_info, by cloud, region and component; service="__idle__" is capacity no container is charged for and "__unallocated__" cost whose service is not known, so that sum() equals the cost of every priced resource.
# TYPE stratus_service_cost_per_hour gauge
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="compute",namespace="",region="eu-west-1",service="__idle__"} 1.125
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="memory",namespace="",region="eu-west-1",service="__idle__"} 0.375
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="compute",namespace="shop",region="eu-west-1",service="web"} 0.375
stratus_service_cost_per_hour{cloud="aws",cluster="eu",component="memory",namespace="shop",region="eu-west-1",service="web"} 0.125
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
	job := analysis.Job{Engine: fixedCostEngine{snap}, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job},
		func() time.Time { return time.Unix(1_700_000_000, 0) }, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewCostCollector(sched.Snapshot, "USD")
	sched.RunOnce(context.Background(), job)

	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_cost_savings_per_hour Estimated savings per hour of a recommendation, in the currency of stratus_cost_info: kind is over_requested_container (resource_id cluster/namespace/service/container), idle_node or node_rightsizing (resource_id the node's); service is the container's, or __idle__ of the node's cluster.
# TYPE stratus_cost_savings_per_hour gauge
stratus_cost_savings_per_hour{cluster="eu",kind="idle_node",namespace="",resource_id="aws:///eu-west-1a/i-1",service="__idle__"} 0.192
stratus_cost_savings_per_hour{cluster="eu",kind="over_requested_container",namespace="shop",resource_id="eu/shop/web/web",service="web"} 0.0625
`), "stratus_cost_savings_per_hour"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}
