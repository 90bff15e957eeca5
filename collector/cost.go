package collector

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost"
)

// CostCollector exposes the cost allocation of the latest cost cycle. Like
// every Stratus collector it reads the published snapshot and queries nothing.
type CostCollector struct {
	snapshot func() *analysis.Snapshot
	currency string

	serviceCost, resourceCost, unpriced, info, savings *prometheus.Desc

	billingErrors func() map[string]float64
	billingError  *prometheus.Desc
}

// WithBillingErrors makes the collector expose
// stratus_cost_billing_error_ratio{cloud} from what errors returns: the
// latest reconciliation's error per cloud. It returns c.
func (c *CostCollector) WithBillingErrors(errors func() map[string]float64) *CostCollector {
	c.billingErrors = errors
	return c
}

// NewCostCollector reads cost snapshots from the snapshots that snapshot
// returns. currency names the price book's currency in stratus_cost_info
// before the first cycle has finished.
func NewCostCollector(snapshot func() *analysis.Snapshot, currency string) *CostCollector {
	return &CostCollector{
		snapshot: snapshot,
		currency: currency,
		serviceCost: prometheus.NewDesc("stratus_service_cost_per_hour",
			"Cost per hour charged to the service, in the currency of stratus_cost_info, by "+
				"cloud, region and component; service=\"__idle__\" is capacity no container "+
				"is charged for and \"__unallocated__\" cost whose service is not known, so "+
				"that sum() equals the cost of every priced resource.",
			[]string{"service", "namespace", "cluster", "cloud", "region", "component"}, nil),
		resourceCost: prometheus.NewDesc("stratus_resource_cost_per_hour",
			"Cost per hour of a priced resource (a Kubernetes node), discounts applied, in "+
				"the currency of stratus_cost_info.",
			[]string{"resource_id", "resource_type", "cloud", "region"}, nil),
		unpriced: prometheus.NewDesc("stratus_cost_unpriced_resources",
			"Resources with no usable price at the latest cost cycle, by reason; their cost "+
				"is absent from every cost figure, never counted as zero.",
			[]string{"cloud", "reason"}, nil),
		billingError: prometheus.NewDesc("stratus_cost_billing_error_ratio",
			"(Estimated − billed) / billed usage cost matched to resources Stratus estimated, "+
				"per cloud, from the latest reconciliation with the configured billing exports "+
				"(cost.billing_exports); credits, commitments, refunds and taxes are not in it.",
			[]string{"cloud"}, nil),
		savings: prometheus.NewDesc("stratus_cost_savings_per_hour",
			"Estimated savings per hour of a recommendation, in the currency of "+
				"stratus_cost_info: kind is over_requested_container (resource_id "+
				"cluster/namespace/service/container), idle_node or node_rightsizing "+
				"(resource_id the node's); service is the container's, or __idle__ of the "+
				"node's cluster.",
			[]string{"service", "namespace", "cluster", "resource_id", "kind"}, nil),
		info: prometheus.NewDesc("stratus_cost_info",
			"Always 1; names the currency every cost figure is in.",
			[]string{"currency"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *CostCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.serviceCost
	ch <- c.resourceCost
	ch <- c.unpriced
	ch <- c.info
	ch <- c.billingError
	ch <- c.savings
}

// Collect implements prometheus.Collector. Before the first successful cycle
// it emits stratus_cost_info only.
func (c *CostCollector) Collect(ch chan<- prometheus.Metric) {
	snap, _, ok := analysis.Latest[*cost.Snapshot](c.snapshot(), cost.EngineName)
	currency := c.currency
	if ok {
		currency = snap.Currency
	}
	ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, currency)
	if c.billingErrors != nil {
		for cloud, ratio := range c.billingErrors() {
			ch <- prometheus.MustNewConstMetric(c.billingError, prometheus.GaugeValue, ratio, cloud)
		}
	}
	if !ok {
		return
	}

	for _, a := range snap.Result.Allocations {
		ch <- prometheus.MustNewConstMetric(c.serviceCost, prometheus.GaugeValue,
			a.CostPerHour, a.Service.Name, a.Service.Namespace, a.Service.Cluster,
			a.Cloud, a.Region, string(a.Component))
	}
	for _, r := range snap.Result.Resources {
		ch <- prometheus.MustNewConstMetric(c.resourceCost, prometheus.GaugeValue,
			r.CostPerHour, r.ID, r.Type, r.Cloud, r.Region)
	}
	for _, r := range snap.Recommendations {
		ch <- prometheus.MustNewConstMetric(c.savings, prometheus.GaugeValue,
			r.SavingsPerHour, r.Service.Name, r.Service.Namespace, r.Service.Cluster,
			r.ResourceID, r.Kind)
	}
	for _, u := range snap.UnpricedCounts() {
		ch <- prometheus.MustNewConstMetric(c.unpriced, prometheus.GaugeValue,
			float64(u.Count), u.Cloud, u.Reason)
	}
}
