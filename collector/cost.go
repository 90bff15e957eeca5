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
	serviceInfo                                        *prometheus.Desc
	spotOnDemand, skipped                              *prometheus.Desc
	perRequest, featureCost                            *prometheus.Desc

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
			"Cost per hour of a priced resource (a Kubernetes node, or a resource of the "+
				"inventory such as a VM, a database or a volume), discounts applied, in the "+
				"currency of stratus_cost_info.",
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
				"cluster/namespace/service/container), idle_node, node_rightsizing or "+
				"spot_candidate (resource_id the node's), or commitment (resource_id "+
				"cluster/region/instance_type); service is the container's, or __idle__ of "+
				"the nodes' cluster.",
			[]string{"service", "namespace", "cluster", "resource_id", "kind"}, nil),
		serviceInfo: prometheus.NewDesc("stratus_service_info",
			"Always 1; the team and owner of a service (empty where unknown), from the team "+
				"and owner keys (cost.tag_keys) of its pods' labels and its resources' tags, "+
				"the majority where they disagree. One series per service the cost engine "+
				"charges, so that rules can join it with group_left.",
			[]string{"service", "namespace", "cluster", "team", "owner"}, nil),
		spotOnDemand: prometheus.NewDesc("stratus_cost_spot_nodes_priced_on_demand",
			"Spot nodes priced at their on-demand price at the latest cost cycle, per cloud, "+
				"because the price book has no spot price for them and cost.spot_discounts "+
				"none for their cloud: their cost is overstated.",
			[]string{"cloud"}, nil),
		skipped: prometheus.NewDesc("stratus_cost_recommendations_skipped",
			"Commitment and spot candidates found at the latest cost cycle that got no "+
				"recommendation, by kind and reason: no committed or spot price in the price "+
				"book and no configured discount, no on-demand price, or too short a history.",
			[]string{"kind", "reason"}, nil),
		perRequest: prometheus.NewDesc("stratus_service_cost_per_request",
			"Cost of one request to the service, in the currency of stratus_cost_info: its "+
				"cost per hour over the requests it serves in an hour (server spans of span "+
				"metrics, else HTTP server metrics, else Istio's server-side requests); absent "+
				"without requests.",
			[]string{"service", "namespace", "cluster"}, nil),
		featureCost: prometheus.NewDesc("stratus_service_feature_cost_per_hour",
			"The service's cost per hour split over its features (the span names of its "+
				"server spans, else the methods and routes of its HTTP server metrics) in "+
				"proportion to the time spent serving each (requests × mean latency); "+
				"feature=\"__other__\" sums those beyond cost.max_features.",
			[]string{"service", "namespace", "cluster", "feature"}, nil),
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
	ch <- c.serviceInfo
	ch <- c.spotOnDemand
	ch <- c.skipped
	ch <- c.perRequest
	ch <- c.featureCost
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
	resources := snap.SeriesResources
	if resources == nil {
		resources = snap.Result.Resources
	}
	for _, r := range resources {
		ch <- prometheus.MustNewConstMetric(c.resourceCost, prometheus.GaugeValue,
			r.CostPerHour, r.ID, r.Type, r.Cloud, r.Region)
	}

	for _, r := range snap.Recommendations {
		ch <- prometheus.MustNewConstMetric(c.savings, prometheus.GaugeValue,
			r.SavingsPerHour, r.Service.Name, r.Service.Namespace, r.Service.Cluster,
			r.ResourceID, r.Kind)
	}
	for _, s := range snap.Services() {
		md := snap.ServiceInfo[s]
		ch <- prometheus.MustNewConstMetric(c.serviceInfo, prometheus.GaugeValue, 1,
			s.Name, s.Namespace, s.Cluster, md.Team, md.Owner)
	}
	for _, n := range snap.SpotNodesPricedOnDemand() {
		ch <- prometheus.MustNewConstMetric(c.spotOnDemand, prometheus.GaugeValue,
			float64(n.Count), n.Cloud)
	}
	for _, u := range snap.UnitCosts {
		s := u.Service
		ch <- prometheus.MustNewConstMetric(c.perRequest, prometheus.GaugeValue,
			u.CostPerRequest, s.Name, s.Namespace, s.Cluster)
		for _, f := range u.Features {
			ch <- prometheus.MustNewConstMetric(c.featureCost, prometheus.GaugeValue,
				f.CostPerHour, s.Name, s.Namespace, s.Cluster, f.Route)
		}
	}
	for _, sc := range cost.SkippedCounts(snap.SkippedRecommendations) {
		ch <- prometheus.MustNewConstMetric(c.skipped, prometheus.GaugeValue,
			float64(sc.Count), sc.Kind, sc.Reason)
	}
	for _, u := range snap.UnpricedCounts() {
		ch <- prometheus.MustNewConstMetric(c.unpriced, prometheus.GaugeValue,
			float64(u.Count), u.Cloud, u.Reason)
	}
}
