package cost

import (
	"cmp"
	"fmt"
	"maps"
	"slices"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
)

// Reason an inventory resource is not priced, besides the price book's own.
const (
	// ReasonNoRegion: the resource names no region, and prices are per region.
	ReasonNoRegion = "no_region"
)

// PricedResource is an inventory resource and the price it was charged at.
type PricedResource struct {
	inventory.Resource
	// Service is the owner its tags name (aliases applied, a bare name
	// completed from the one Kubernetes service of that name), or Unallocated.
	Service identity.Service
	// ServiceTag is the tag key that named the service, empty without one.
	ServiceTag string
	// ListPricePerHour is the resource's list price per hour: the hourly
	// price, or the price per GiB-month times its size over 730 hours.
	ListPricePerHour float64
	// DiscountPercent is the discount of its cloud, account or service.
	DiscountPercent   float64
	CalibrationFactor float64
	// CostPerHour is ListPricePerHour less the discount, times the calibration.
	CostPerHour float64
	PriceSource string
}

// componentOf returns the component an inventory type's cost counts under.
func componentOf(resourceType string) Component {
	switch resourceType {
	case inventory.TypeVolume, inventory.TypeBucket:
		return ComponentStorage
	case inventory.TypeLoadBalancer, inventory.TypeNATGateway:
		return ComponentNetwork
	}
	return ComponentCompute
}

// pricedInventory is what priceInventory found.
type pricedInventory struct {
	resources []Resource
	priced    []PricedResource
	unpriced  []UnpricedNode
	metadata  identity.MetadataVotes
}

// priceInventory prices every inventory resource from the book, names its
// owner from its tags, and returns the resources to allocate. A resource that
// cannot be priced is reported and left out of every total. Each resource
// takes the discount of its cloud, account and service (it is billed to one
// account and owned by one service, unlike a node) and its cloud's calibration.
func (e *Engine) priceInventory(resources []inventory.Resource, resolver *identity.Resolver,
	cal Calibration,
) *pricedInventory {
	keys := e.cfg.TagKeys.WithDefaults()
	out := &pricedInventory{}
	for _, r := range resources {
		tagged := keys.Read(r.Tags)
		svc := identity.Service{}
		if tagged.Service != "" {
			svc = resolver.Resolve(identity.Service{Name: tagged.Service})
			out.metadata.Add(svc, identity.Metadata{Team: tagged.Team, Owner: tagged.Owner})
		}

		u := UnpricedNode{Type: r.Type, ResourceID: r.ID, Cloud: r.Cloud,
			Region: r.Region, InstanceType: cmp.Or(r.InstanceType, r.Product)}
		listPerHour, price, err := e.listPricePerHour(r)
		if err != nil {
			u.Reason, u.Detail = pricing.NoPriceReason(err), err.Error()
			if r.Region == "" {
				u.Reason = ReasonNoRegion
			}
			out.unpriced = append(out.unpriced, u)
			continue
		}

		discount := e.cfg.Book.Discount(r.Cloud, r.Account, svc.Name)
		calibration := cal.Factor(r.Cloud, price.Currency)
		p := PricedResource{
			Resource: r, Service: serviceOrUnallocated(svc), ServiceTag: tagged.ServiceKey,
			ListPricePerHour: listPerHour, DiscountPercent: discount,
			CalibrationFactor: calibration,
			CostPerHour:       listPerHour * (1 - discount/100) * calibration,
			PriceSource:       price.Source,
		}
		out.priced = append(out.priced, p)
		out.resources = append(out.resources, Resource{
			ID: r.ID, Type: r.Type, InstanceType: r.InstanceType, Cloud: r.Cloud,
			Region: r.Region, Component: componentOf(r.Type), CostPerHour: p.CostPerHour,
			Service: svc,
		})
	}
	slices.SortFunc(out.priced, func(a, b PricedResource) int {
		return cmp.Or(cmp.Compare(a.Cloud, b.Cloud), cmp.Compare(a.ID, b.ID))
	})
	return out
}

// listPricePerHour looks up a resource's price and returns its list cost per
// hour: the hourly price of its instance type, or the price per GiB-month of
// its product times its size.
func (e *Engine) listPricePerHour(r inventory.Resource) (float64, pricing.Price, error) {
	key := pricing.Key{Cloud: r.Cloud, Region: r.Region, Kind: pricing.KindCompute,
		Product: r.InstanceType, OS: r.OS, Purchase: pricing.Purchase(r.Purchase)}
	if !inventory.Hourly(r.Type) {
		key = pricing.Key{Cloud: r.Cloud, Region: r.Region, Kind: pricing.KindStorage,
			Product: r.Product}
	}
	price, err := e.cfg.Book.Lookup(key)
	if err != nil {
		return 0, price, err
	}
	// The book answers a compute or storage key with a price in that kind's
	// unit (per hour, per GiB-month), both of which have an hourly rate.
	hourly, _ := price.Hourly()
	if inventory.Hourly(r.Type) {
		return hourly, price, nil
	}
	return hourly * r.SizeGiB, price, nil
}

// inventoryAllocation is the inventory's part of a cycle.
type inventoryAllocation struct {
	result   *Result
	priced   []PricedResource
	unpriced []UnpricedNode
	metadata identity.MetadataVotes
}

// allocateInventory prices the resources of the configured inventory and
// allocates them to their owners. Bare service names from tags are completed
// from the services of the pods charged (a VM tagged "checkout" joins
// prod/shop/checkout when that is the only checkout). A resource that is also
// one of the nodes (its id, or the scale set of a node's VM), or one that
// the serverless part priced from its usage, is priced there only; one listed
// twice (the same id, or an ARN and the instance id it names) once.
func (e *Engine) allocateInventory(resources []inventory.Resource, nodes []Node,
	resolver *identity.Resolver, serverless *Result, cal Calibration,
) (*inventoryAllocation, error) {
	elsewhere := map[string]string{} // resource key → where it is priced
	for _, n := range nodes {
		for _, k := range BillingResourceKeys(n.ResourceID) {
			elsewhere[k] = "as a Kubernetes node"
		}
	}
	if serverless != nil {
		for _, r := range serverless.Resources {
			for _, k := range BillingResourceKeys(r.ID) {
				elsewhere[k] = "from its usage, as a " + r.Type
			}
		}
	}
	seen := map[[2]string]bool{}
	kept := make([]inventory.Resource, 0, len(resources))
	for _, r := range resources {
		if r.Type == inventory.TypeFunction {
			continue // priced from its usage; the inventory gives its memory
		}
		k := [2]string{r.Cloud, BillingResourceKeys(r.ID)[0]}
		switch where, priced := elsewhere[k[1]]; {
		case seen[k]:
			e.cfg.Logger.Warn("inventory resource listed twice; priced once",
				"resource_id", r.ID, "cloud", r.Cloud, "at", r.Where())
		case priced:
			e.cfg.Logger.Debug("inventory resource priced elsewhere", "resource_id", r.ID,
				"cloud", r.Cloud, "priced", where)
		default:
			kept = append(kept, r)
		}
		seen[k] = true
	}

	inv := e.priceInventory(kept, resolver, cal)
	result, err := AllocateResourceCost(inv.resources)
	if err != nil {
		return nil, fmt.Errorf("cost allocation of the inventory: %w", err)
	}
	return &inventoryAllocation{result: result, priced: inv.priced, unpriced: inv.unpriced,
		metadata: inv.metadata}, nil
}

// podResolver returns a resolver that knows the services of the pods
// charged, so that a bare name from a tag or a label joins the one Kubernetes
// service carrying it.
func podResolver(cfg identity.Config, pods []PodAttribution) *identity.Resolver {
	resolver := identity.NewResolver(cfg)
	for _, p := range pods {
		if p.Service.Name != Unallocated {
			resolver.Learn(p.Service)
		}
	}
	return resolver
}

// inventoryFunctionMemory returns the memory of the functions the inventory
// lists, for the serverless part: by id (the ARN), else by name in the
// function's region, else by name in an entry without a region, so that two
// functions of one name in two regions keep their own memory.
func inventoryFunctionMemory(resources []inventory.Resource) func(FunctionRef) (float64, bool) {
	byID, byName := map[[2]string]float64{}, map[[3]string]float64{}
	for _, r := range resources {
		if r.Type != inventory.TypeFunction || r.MemoryMiB <= 0 {
			continue
		}
		byID[[2]string{r.Cloud, r.ID}] = r.MemoryMiB
		if r.Name != "" {
			byName[[3]string{r.Cloud, r.Region, r.Name}] = r.MemoryMiB
		}
	}
	return func(f FunctionRef) (float64, bool) {
		if v, ok := byID[[2]string{f.Cloud, f.ID}]; ok {
			return v, true
		}
		if v, ok := byName[[3]string{f.Cloud, f.Region, f.Name}]; ok {
			return v, true
		}
		v, ok := byName[[3]string{f.Cloud, "", f.Name}]
		return v, ok
	}
}

// podLabelKeys returns the pod label keys the engine reads: those that name
// the service, then the team and owner keys.
func (e *Engine) podLabelKeys() []string {
	keys := e.cfg.TagKeys.WithDefaults()
	out := slices.Clone(e.cfg.PodLabelKeys)
	for _, k := range slices.Concat(keys.Team, keys.Owner) {
		if !slices.Contains(out, k) {
			out = append(out, k)
		}
	}
	return out
}

// serviceInfo settles the team and owner of every service from the labels of
// its running pods and the tags of its resources, by majority.
func (e *Engine) serviceInfo(o *observations, pods []PodAttribution,
	votes *identity.MetadataVotes,
) map[identity.Service]identity.Metadata {
	keys := e.cfg.TagKeys.WithDefaults()
	for _, p := range pods {
		if p.Service.Name == Unallocated {
			continue
		}
		t := keys.Read(o.podLabels[podKey{p.Cluster, p.Namespace, p.Pod}])
		votes.Add(p.Service, identity.Metadata{Team: t.Team, Owner: t.Owner})
	}
	return votes.Result()
}

// Services returns every service the snapshot charges or knows the team or
// owner of, Idle and Unallocated left out, sorted.
func (s *Snapshot) Services() []identity.Service {
	set := map[identity.Service]bool{}
	for _, a := range s.Result.Allocations {
		if a.Service.Name != Idle && a.Service.Name != Unallocated {
			set[a.Service] = true
		}
	}
	for svc := range s.ServiceInfo {
		set[svc] = true
	}
	return slices.SortedFunc(maps.Keys(set), identity.CompareServices)
}

// Measured reports whether the cycle priced anything it read from the data
// source (a node, a function, a task, a NAT gateway's data): a cycle in a gap
// of the data prices at most the inventory, which does not come from it.
func (s *Snapshot) Measured() bool {
	for _, r := range s.Result.Resources {
		switch r.Type {
		case ResourceTypeNode, ResourceTypeFunction, ResourceTypeTask, ResourceTypeNATData:
			return true
		}
	}
	return false
}
