package cost

import (
	"cmp"
	"maps"
	"slices"
	"time"

	"github.com/stratus-monitoring/stratus/identity"
)

// Report is the JSON schema of `stratus cost report --output=json` and of
// /api/v1/cost. Costs are per hour in Currency; times are RFC 3339 UTC.
type Report struct {
	At       string `json:"at"`
	Currency string `json:"currency"`
	// TotalPerHour is the cost of every priced resource, discounts applied. It
	// equals the sum of services[].cost_per_hour (conservation).
	TotalPerHour float64 `json:"total_per_hour"`
	// ByCloud is TotalPerHour per cloud.
	ByCloud  map[string]float64 `json:"by_cloud"`
	Services []ServiceReport    `json:"services"`
	// Resources are the priced nodes and inventory resources.
	Resources []ResourceReport `json:"resources"`
	// Unpriced are the resources whose cost is absent from every figure above.
	Unpriced []UnpricedReport `json:"unpriced"`
	// Recommendations are the ways to save, largest savings first.
	Recommendations []RecommendationReport `json:"recommendations"`
	// RecommendationError says why there are no recommendations, when p95
	// usage could not be read.
	RecommendationError string `json:"recommendation_error,omitempty"`
	Queries             int    `json:"queries"`
}

// RecommendationReport is one recommendation: savings are in Currency.
type RecommendationReport struct {
	Kind         string `json:"kind"`
	ResourceID   string `json:"resource_id"`
	Service      string `json:"service"`
	Namespace    string `json:"namespace"`
	Cluster      string `json:"cluster"`
	InstanceType string `json:"instance_type,omitempty"`
	// Purchase is the purchase option recommended (reserved, committed,
	// spot); empty for the other kinds.
	Purchase        string  `json:"purchase,omitempty"`
	SavingsPerHour  float64 `json:"savings_per_hour"`
	SavingsPerMonth float64 `json:"savings_per_month"`
	// UpperBound: the savings hold only if the rest fits elsewhere.
	UpperBound bool   `json:"upper_bound"`
	Reason     string `json:"reason"`
}

// ServiceReport is one service's cost, Idle and Unallocated included.
type ServiceReport struct {
	Service     string             `json:"service"`
	Namespace   string             `json:"namespace"`
	Cluster     string             `json:"cluster"`
	CostPerHour float64            `json:"cost_per_hour"`
	ByComponent map[string]float64 `json:"by_component"`
	ByCloud     map[string]float64 `json:"by_cloud"`
	// RequestsPerSecond and CostPerRequest are set where the service serves
	// requests (see UnitCost); RequestSource says from which telemetry.
	RequestsPerSecond *float64 `json:"requests_per_second,omitempty"`
	CostPerRequest    *float64 `json:"cost_per_request,omitempty"`
	RequestSource     string   `json:"request_source,omitempty"`
	// Features is the cost per hour split by feature, largest first.
	Features []FeatureReport `json:"features,omitempty"`
}

// PriceSourceUsage is the price_source of functions, tasks and NAT gateways'
// data in the report: their cost is their usage times prices of the book, not
// one list price.
const PriceSourceUsage = "usage"

// FeatureReport is the part of a service's cost per hour one feature causes.
type FeatureReport struct {
	Feature     string  `json:"feature"`
	CostPerHour float64 `json:"cost_per_hour"`
}

// ResourceReport is a priced resource.
type ResourceReport struct {
	ResourceID       string  `json:"resource_id"`
	ResourceType     string  `json:"resource_type"`
	Cluster          string  `json:"cluster"`
	Node             string  `json:"node"`
	Cloud            string  `json:"cloud"`
	Region           string  `json:"region"`
	InstanceType     string  `json:"instance_type"`
	ListPricePerHour float64 `json:"list_price_per_hour"`
	DiscountPercent  float64 `json:"discount_percent"`
	// CalibrationFactor is the billed/estimated factor applied (1 without one).
	CalibrationFactor float64 `json:"calibration_factor"`
	CostPerHour       float64 `json:"cost_per_hour"`
	PriceSource       string  `json:"price_source"`
	// Service, Namespace and ServiceCluster name the owner of a resource
	// outside Kubernetes, from its tags; empty for nodes, which many services
	// share.
	Service        string `json:"service,omitempty"`
	Namespace      string `json:"namespace,omitempty"`
	ServiceCluster string `json:"service_cluster,omitempty"`
	// Purchase is how a node is bought: on_demand or spot. PricedAs says how
	// its list price was found: on_demand, spot (the book's spot price) or
	// spot_discount (on-demand less cost.spot_discounts). Empty for resources
	// outside Kubernetes.
	Purchase string `json:"purchase,omitempty"`
	PricedAs string `json:"priced_as,omitempty"`
}

// UnpricedReport is a resource left out of the totals, and why.
type UnpricedReport struct {
	ResourceID   string `json:"resource_id"`
	ResourceType string `json:"resource_type"`
	Cluster      string `json:"cluster"`
	Node         string `json:"node"`
	Cloud        string `json:"cloud"`
	Region       string `json:"region"`
	InstanceType string `json:"instance_type"`
	Reason       string `json:"reason"`
	Detail       string `json:"detail"`
}

// Report summarises the snapshot per service, most expensive first.
func (s *Snapshot) Report() Report {
	r := Report{
		At:        s.At.UTC().Format(time.RFC3339),
		Currency:  s.Currency,
		ByCloud:   map[string]float64{},
		Services:  []ServiceReport{},
		Resources: []ResourceReport{},
		Unpriced:  []UnpricedReport{},
		Queries:   s.Queries,

		Recommendations:     []RecommendationReport{},
		RecommendationError: s.RecommendationError,
	}
	for _, rec := range s.Recommendations {
		r.Recommendations = append(r.Recommendations, RecommendationReport{
			Kind: rec.Kind, ResourceID: rec.ResourceID, Service: rec.Service.Name,
			Namespace: rec.Service.Namespace, Cluster: rec.Service.Cluster,
			InstanceType: rec.InstanceType, Purchase: string(rec.Purchase),
			SavingsPerHour:  rec.SavingsPerHour,
			SavingsPerMonth: rec.SavingsPerMonth(), UpperBound: rec.UpperBound,
			Reason: rec.Reason,
		})
	}
	for _, t := range s.Result.CloudTotals {
		r.ByCloud[t.Cloud] += t.CostPerHour
		r.TotalPerHour += t.CostPerHour
	}

	services := map[identity.Service]*ServiceReport{}
	for _, a := range s.Result.Allocations {
		sr, ok := services[a.Service]
		if !ok {
			sr = &ServiceReport{
				Service: a.Service.Name, Namespace: a.Service.Namespace,
				Cluster:     a.Service.Cluster,
				ByComponent: map[string]float64{}, ByCloud: map[string]float64{},
			}
			services[a.Service] = sr
		}
		sr.CostPerHour += a.CostPerHour
		sr.ByComponent[string(a.Component)] += a.CostPerHour
		sr.ByCloud[a.Cloud] += a.CostPerHour
	}
	for _, u := range s.UnitCosts {
		sr, ok := services[u.Service]
		if !ok {
			continue
		}
		rps, perRequest := u.RequestsPerSecond, u.CostPerRequest
		sr.RequestsPerSecond, sr.CostPerRequest, sr.RequestSource = &rps, &perRequest, u.Source
		for _, f := range u.Features {
			sr.Features = append(sr.Features, FeatureReport{Feature: f.Route,
				CostPerHour: f.CostPerHour})
		}
	}
	for _, sr := range services {
		r.Services = append(r.Services, *sr)
	}
	slices.SortFunc(r.Services, func(a, b ServiceReport) int {
		return cmp.Or(cmp.Compare(b.CostPerHour, a.CostPerHour),
			cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Service, b.Service))
	})

	for _, n := range s.Nodes {
		r.Resources = append(r.Resources, ResourceReport{
			ResourceID: n.ResourceID, ResourceType: ResourceTypeNode, Cluster: n.Cluster,
			Node: n.Name, Cloud: n.Cloud, Region: n.Region, InstanceType: n.InstanceType,
			ListPricePerHour: n.ListPricePerHour, DiscountPercent: n.DiscountPercent,
			CalibrationFactor: n.CalibrationFactor,
			CostPerHour:       n.CostPerHour, PriceSource: n.PriceSource,
			Purchase: string(n.Purchase), PricedAs: n.PricedAs,
		})
	}
	for _, p := range s.Resources {
		r.Resources = append(r.Resources, ResourceReport{
			ResourceID: p.ID, ResourceType: p.Type, Cloud: p.Cloud, Region: p.Region,
			InstanceType: cmp.Or(p.InstanceType, p.Product), Service: p.Service.Name,
			Namespace: p.Service.Namespace, ServiceCluster: p.Service.Cluster,
			ListPricePerHour: p.ListPricePerHour, DiscountPercent: p.DiscountPercent,
			CalibrationFactor: p.CalibrationFactor,
			CostPerHour:       p.CostPerHour, PriceSource: p.PriceSource,
		})
	}
	// Functions, tasks and NAT gateways' data are priced from their usage,
	// not a list price: every priced resource not listed above.
	listed := map[[2]string]bool{}
	for _, n := range s.Nodes {
		listed[[2]string{n.Cloud, n.ResourceID}] = true
	}
	for _, p := range s.Resources {
		listed[[2]string{p.Cloud, p.ID}] = true
	}
	for _, rc := range s.Result.Resources {
		if !listed[[2]string{rc.Cloud, rc.ID}] {
			r.Resources = append(r.Resources, ResourceReport{
				ResourceID: rc.ID, ResourceType: rc.Type, Cloud: rc.Cloud, Region: rc.Region,
				InstanceType: rc.InstanceType, CalibrationFactor: 1,
				CostPerHour: rc.CostPerHour, PriceSource: PriceSourceUsage,
			})
		}
	}
	for _, u := range s.Unpriced {
		r.Unpriced = append(r.Unpriced, UnpricedReport{
			ResourceID: u.ResourceID, ResourceType: cmp.Or(u.Type, ResourceTypeNode),
			Cluster: u.Cluster, Node: nodeName(u), Cloud: u.Cloud, Region: u.Region,
			InstanceType: u.InstanceType, Reason: u.Reason, Detail: u.Detail,
		})
	}
	return r
}

// Components returns the components of a service report in a fixed order,
// those with a cost only.
func (sr ServiceReport) Components() []string {
	order := []Component{ComponentCompute, ComponentMemory, ComponentStorage, ComponentNetwork}
	var out []string
	for _, c := range order {
		if _, ok := sr.ByComponent[string(c)]; ok {
			out = append(out, string(c))
		}
	}
	return out
}

// Clouds returns the clouds of a service report, sorted.
func (sr ServiceReport) Clouds() []string {
	return slices.Sorted(maps.Keys(sr.ByCloud))
}

// nodeName is the node of an unpriced resource: its name when it is a node,
// nothing for the functions and tasks the name of which is in the resource id.
func nodeName(u UnpricedNode) string {
	if u.Type != "" {
		return ""
	}
	return u.Name
}
