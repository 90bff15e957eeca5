package cost

import (
	"fmt"
	"math"

	"github.com/stratus-monitoring/stratus/identity"
)

// Resource is a priced resource outside Kubernetes node allocation: a virtual
// machine, a managed database, a volume, a bucket, a load balancer, a NAT gateway,
// or the egress of a region. The caller prices it (storage per GiB-month is divided
// by 730 hours, egress per GiB is multiplied by GiB per hour) before it comes here.
type Resource struct {
	// ID is the resource's id within its cloud: an instance id, an ARN, a
	// self-link. Egress, which has none, needs one made up (say "egress/eu-west-1").
	ID string
	// Type is the resource_type label, such as "vm", "database", "volume",
	// "load_balancer" or "egress".
	Type         string
	InstanceType string
	Cloud        string
	Region       string
	// Component is one of the four components; see Component for databases.
	Component   Component
	CostPerHour float64

	// Service is the owner, where tags or the inventory name one. An empty Name
	// (with no Shares) charges the cost to Unallocated.
	Service identity.Service
	// Shares lists the services sharing the resource, where the data says who
	// uses it (a load balancer's backends, a volume's pods), with weights such as
	// requests per second or bytes. The cost is split in proportion to the weights;
	// when no service has a weight (all zero or NaN), equally. Setting both
	// Service and Shares is an error.
	Shares []Share
}

// Share is one service's part in a shared resource.
type Share struct {
	Service identity.Service
	// Weight is the service's use of the resource, in any unit the shares of one
	// resource have in common. NaN means unknown. A negative or infinite weight,
	// or an unknown one beside known positive ones, makes the whole resource split
	// equally, reported with ReasonInvalidWeights: there is no fair way to give an
	// unknown user a part of known weights.
	Weight float64
}

// AllocateResourceCost charges each resource's cost to its owner, to the services
// sharing it, or to Unallocated, under the resource's component, cloud and region.
//
// A resource listed twice (same cloud and id), one with an unknown component, or one
// with both an owner and shares is an error. A resource without an id or with a NaN,
// negative or infinite cost is skipped and reported.
func AllocateResourceCost(resources []Resource) (*Result, error) {
	b := newBuilder()
	for _, r := range resources {
		if !r.Component.valid() {
			return nil, fmt.Errorf("resource %q: unknown component %q", r.ID, r.Component)
		}
		if r.Service.Name != "" && len(r.Shares) > 0 {
			return nil, fmt.Errorf("resource %q: both an owner (%s) and %d shares",
				r.ID, r.Service, len(r.Shares))
		}
		if r.ID == "" {
			b.skip("resource", "", r.Cloud, ReasonNoID,
				fmt.Sprintf("%s resource in %q without an id", r.Type, r.Region))
			continue
		}
		if !validAmount(r.CostPerHour) {
			b.skip("resource", r.ID, r.Cloud, ReasonInvalidPrice,
				fmt.Sprintf("cost per hour is %g", r.CostPerHour))
			continue
		}
		if err := b.addResource(ResourceCost{
			ID:           r.ID,
			Type:         r.Type,
			InstanceType: r.InstanceType,
			Cloud:        r.Cloud,
			Region:       r.Region,
			CostPerHour:  r.CostPerHour,
		}); err != nil {
			return nil, err
		}

		key := Key{Cloud: r.Cloud, Region: r.Region, Component: r.Component}
		if len(r.Shares) == 0 {
			key.Service = serviceOrUnallocated(r.Service)
			b.charge(key, r.CostPerHour)
			continue
		}
		weights, detail := shareWeights(r.Shares)
		if detail != "" {
			b.skip("resource", r.ID, r.Cloud, ReasonInvalidWeights, detail)
		}
		for i, part := range splitProportional(r.CostPerHour, weights) {
			key.Service = serviceOrUnallocated(r.Shares[i].Service)
			b.charge(key, part)
		}
	}
	return b.result()
}

// shareWeights returns the weights to split a shared resource by: the shares' own,
// or all zero (an equal split) when none is known or some are invalid, with a
// detail saying why they were ignored.
func shareWeights(shares []Share) (weights []float64, detail string) {
	weights = make([]float64, len(shares))
	unknown, positive := 0, false
	for i, s := range shares {
		switch {
		case math.IsNaN(s.Weight):
			unknown++
		case !validAmount(s.Weight):
			return make([]float64, len(shares)),
				fmt.Sprintf("weight %g of %s; split equally", s.Weight, s.Service)
		default:
			weights[i] = s.Weight
			positive = positive || s.Weight > 0
		}
	}
	if unknown > 0 && positive {
		return make([]float64, len(shares)),
			fmt.Sprintf("%d of %d weights unknown; split equally", unknown, len(shares))
	}
	return weights, ""
}
