package cost

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/stratus-monitoring/stratus/identity"
)

// Sentinel service names. They stand where a service name would, so that the sum of
// stratus_service_cost_per_hour over services equals the total cost.
const (
	// Idle is the capacity of Kubernetes nodes that no container is charged for. It
	// carries the node's cluster and no namespace.
	Idle = "__idle__"
	// Unallocated is cost whose owner is not known: an untagged resource, a
	// container whose service was not resolved.
	Unallocated = "__unallocated__"
)

// Component says what part of a resource's cost a charge is for: the `component`
// label of stratus_service_cost_per_hour.
//
// The set is closed and matches the metric contract. A managed database is not a
// component of its own: its instance hours are compute (and memory, where the price
// book splits them) and its disks storage; the resource_type label of
// stratus_resource_cost_per_hour still says "database".
type Component string

// Components of cost.
const (
	// ComponentCompute is CPU time or whole machines: VMs, the CPU part of nodes,
	// the vCPU part of tasks, function invocations and duration.
	ComponentCompute Component = "compute"
	// ComponentMemory is the memory part of nodes and tasks.
	ComponentMemory Component = "memory"
	// ComponentStorage is block, file and object storage.
	ComponentStorage Component = "storage"
	// ComponentNetwork is load balancers, NAT gateways and egress traffic.
	ComponentNetwork Component = "network"
)

// valid reports whether c is one of the four components.
func (c Component) valid() bool {
	switch c {
	case ComponentCompute, ComponentMemory, ComponentStorage, ComponentNetwork:
		return true
	}
	return false
}

// Resource types of the resources this package prices itself. Resources given to
// AllocateResourceCost carry the caller's type.
const (
	// ResourceTypeNode is a Kubernetes node (or an ECS container instance).
	ResourceTypeNode = "kubernetes_node"
	// ResourceTypeTask is a task priced per vCPU-hour and GiB-hour (ECS on Fargate,
	// Cloud Run instances).
	ResourceTypeTask = "task"
	// ResourceTypeFunction is a serverless function priced per invocation and
	// GB-second.
	ResourceTypeFunction = "function"
)

// ConservationTolerance is the relative difference between allocations and resource
// cost that CheckConservation is held to in Stratus's own tests.
const ConservationTolerance = 1e-9

// maxTotal is the largest total cost a Result holds. Anything larger is reported as
// an overflow: sums of its parts could round past the largest float64, and no bill
// comes within hundreds of orders of magnitude of it.
const maxTotal = math.MaxFloat64 / 4

// conservationFloor is an absolute difference, in currency per hour, below which
// CheckConservation does not look at the relative one. Only subnormal numbers (under
// 1e-308) lose more than rounding error, and a cost that small means nothing.
const conservationFloor = 1e-300

// Key identifies one allocation: the labels of stratus_service_cost_per_hour.
type Key struct {
	Service   identity.Service
	Cloud     string
	Region    string
	Component Component
}

// compareKeys orders keys by service (cluster, namespace, name), then cloud, region
// and component.
func compareKeys(a, b Key) int {
	return cmp.Or(
		cmp.Compare(a.Service.Cluster, b.Service.Cluster),
		cmp.Compare(a.Service.Namespace, b.Service.Namespace),
		cmp.Compare(a.Service.Name, b.Service.Name),
		cmp.Compare(a.Cloud, b.Cloud),
		cmp.Compare(a.Region, b.Region),
		cmp.Compare(a.Component, b.Component),
	)
}

// Allocation is the cost per hour charged to one key.
type Allocation struct {
	Key
	CostPerHour float64
}

// ResourceCost is the cost per hour of one resource: the labels and value of
// stratus_resource_cost_per_hour.
type ResourceCost struct {
	ID           string
	Type         string
	InstanceType string // empty where the resource has none
	Cloud        string
	Region       string
	CostPerHour  float64
}

// CloudTotal is the cost per hour of every resource of one cloud.
type CloudTotal struct {
	Cloud       string
	CostPerHour float64
}

// RegionTotal is the cost per hour of every resource of one region of a cloud.
type RegionTotal struct {
	Cloud       string
	Region      string
	CostPerHour float64
}

// SkipReason says why input was left out. The values are few and stable, so that
// they can be label values of a counter.
type SkipReason string

// Reasons for skipping input.
const (
	// ReasonNoID is a node without a name, or a resource, task or function
	// without an id.
	ReasonNoID SkipReason = "no_id"
	// ReasonInvalidPrice is a price, rate or cost that is NaN, infinite or
	// negative. The resource is left out, with its containers.
	ReasonInvalidPrice SkipReason = "invalid_price"
	// ReasonInvalidQuantity is a capacity, usage, request or rate of use that is
	// NaN (where NaN does not mean unknown), infinite or negative. A node or task
	// with one is left out; a container's request or usage with one is ignored,
	// as if unknown, and the container is still charged.
	ReasonInvalidQuantity SkipReason = "invalid_quantity"
	// ReasonUnsplittable is a priced node whose rates times capacity are zero or
	// overflow, so its price has no CPU and memory split.
	ReasonUnsplittable SkipReason = "unsplittable_price"
	// ReasonUnknownNode is a container on a node that is not listed.
	ReasonUnknownNode SkipReason = "unknown_node"
	// ReasonNodeSkipped is a container on a node that was itself skipped.
	ReasonNodeSkipped SkipReason = "node_skipped"
	// ReasonInvalidWeights is a shared resource whose weights were ignored (one
	// negative or infinite, or some missing): it was split equally.
	ReasonInvalidWeights SkipReason = "invalid_weights"
	// ReasonOverflow is a task or function whose cost overflows a float64.
	ReasonOverflow SkipReason = "overflow"
)

// Skip records input that was left out, or a value that was ignored, and why.
type Skip struct {
	// Kind is "node", "container", "resource", "task" or "function".
	Kind string
	// ID names the input: a node's cluster/name, a container's
	// cluster/namespace/pod/container, a resource's id.
	ID string
	// Cloud is the cloud of the input where known.
	Cloud  string
	Reason SkipReason
	// Detail says what was wrong, with the value, for a person to read.
	Detail string
}

// Unmeasured is a container charged nothing for one component because neither its
// request nor its usage of that resource is known.
type Unmeasured struct {
	Container string // cluster/namespace/pod/container
	Cloud     string
	Component Component
}

// Result is the allocation of one evaluation step. Every slice is sorted, so that
// the same input gives the same result, element for element.
type Result struct {
	// Allocations are the charges per service, cloud, region and component,
	// including Idle and Unallocated, sorted by key.
	Allocations []Allocation
	// Resources are the priced resources, sorted by cloud and id.
	Resources []ResourceCost
	// CloudTotals and RegionTotals are summed from the resources' prices, not from
	// the allocations, sorted by cloud (and region).
	CloudTotals  []CloudTotal
	RegionTotals []RegionTotal
	// Skipped is the input left out or ignored, sorted by kind, id and reason.
	Skipped []Skip
	// Unmeasurable are the containers charged nothing for a component because
	// nothing is known of their use, sorted.
	Unmeasurable []Unmeasured
}

// CheckConservation compares the sum of allocations with the resources' cost per
// cloud and per cloud and region. A difference larger than tolerance times the
// resources' cost is an error naming the cloud (and region) and the difference;
// several are joined. tolerance must be a finite, non-negative number.
func (r *Result) CheckConservation(tolerance float64) error {
	if !(tolerance >= 0) || math.IsInf(tolerance, 1) {
		return fmt.Errorf("conservation tolerance %g: want a finite number >= 0", tolerance)
	}

	clouds := make(map[string]*[2]float64)
	regions := make(map[regionKey]*[2]float64)
	for _, a := range r.Allocations {
		sumInto(clouds, a.Cloud, 0, a.CostPerHour)
		sumInto(regions, regionKey{a.Cloud, a.Region}, 0, a.CostPerHour)
	}
	for _, t := range r.CloudTotals {
		sumInto(clouds, t.Cloud, 1, t.CostPerHour)
	}
	for _, t := range r.RegionTotals {
		sumInto(regions, regionKey{t.Cloud, t.Region}, 1, t.CostPerHour)
	}

	var errs []error
	for _, cloud := range slices.Sorted(maps.Keys(clouds)) {
		sums := clouds[cloud]
		if err := conserved(sums[0], sums[1], tolerance); err != nil {
			errs = append(errs, fmt.Errorf("cloud %q: %w", cloud, err))
		}
	}
	for _, k := range slices.SortedFunc(maps.Keys(regions), compareRegions) {
		sums := regions[k]
		if err := conserved(sums[0], sums[1], tolerance); err != nil {
			errs = append(errs, fmt.Errorf("cloud %q region %q: %w", k.cloud, k.region, err))
		}
	}
	return errors.Join(errs...)
}

// sumInto adds v to the i-th sum under k, creating the sums on first use.
func sumInto[K comparable](m map[K]*[2]float64, k K, i int, v float64) {
	sums, ok := m[k]
	if !ok {
		sums = new([2]float64)
		m[k] = sums
	}
	sums[i] += v
}

// conserved checks that allocated matches cost. The comparison is written so that a
// NaN fails it.
func conserved(allocated, cost, tolerance float64) error {
	diff := allocated - cost
	if math.Abs(diff) <= tolerance*math.Abs(cost) || math.Abs(diff) <= conservationFloor {
		return nil
	}
	return fmt.Errorf("allocations sum to %g per hour, resources cost %g: difference %g",
		allocated, cost, diff)
}

// regionKey identifies a region of a cloud.
type regionKey struct{ cloud, region string }

// compareRegions orders regions by cloud, then region.
func compareRegions(a, b regionKey) int {
	return cmp.Or(cmp.Compare(a.cloud, b.cloud), cmp.Compare(a.region, b.region))
}

// resourceKey identifies a resource: ids are unique within a cloud.
type resourceKey struct{ cloud, id string }

// builder accumulates a Result. Sums are added in input order, and maps are read only
// through sorted keys, so that floating-point sums do not depend on map order.
type builder struct {
	allocations map[Key]float64
	resources   map[resourceKey]ResourceCost
	clouds      map[string]float64
	regions     map[regionKey]float64
	skipped     []Skip
	unmeasured  []Unmeasured
}

// newBuilder returns an empty builder.
func newBuilder() *builder {
	return &builder{
		allocations: make(map[Key]float64),
		resources:   make(map[resourceKey]ResourceCost),
		clouds:      make(map[string]float64),
		regions:     make(map[regionKey]float64),
	}
}

// charge adds cost to the allocation under k.
func (b *builder) charge(k Key, cost float64) {
	b.allocations[k] += cost
}

// addResource records a priced resource and adds its cost to the totals. A resource
// already recorded is an error: its cost would be counted twice.
func (b *builder) addResource(rc ResourceCost) error {
	k := resourceKey{rc.Cloud, rc.ID}
	if _, dup := b.resources[k]; dup {
		return fmt.Errorf("resource %q of cloud %q is listed twice", rc.ID, rc.Cloud)
	}
	b.resources[k] = rc
	b.clouds[rc.Cloud] += rc.CostPerHour
	b.regions[regionKey{rc.Cloud, rc.Region}] += rc.CostPerHour
	return nil
}

// skip records input left out or ignored.
func (b *builder) skip(kind, id, cloud string, reason SkipReason, detail string) {
	b.skipped = append(b.skipped, Skip{
		Kind:   kind,
		ID:     id,
		Cloud:  cloud,
		Reason: reason,
		Detail: detail,
	})
}

// result sorts what was accumulated into a Result. A total that overflowed is an
// error: no allocation of it could be trusted.
func (b *builder) result() (*Result, error) {
	r := &Result{
		Skipped:      slices.Clone(b.skipped),
		Unmeasurable: slices.Clone(b.unmeasured),
	}
	for _, cloud := range slices.Sorted(maps.Keys(b.clouds)) {
		total := b.clouds[cloud]
		if !(total <= maxTotal) {
			return nil, fmt.Errorf("cloud %q: the total cost overflows", cloud)
		}
		r.CloudTotals = append(r.CloudTotals, CloudTotal{Cloud: cloud, CostPerHour: total})
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.regions), compareRegions) {
		r.RegionTotals = append(r.RegionTotals, RegionTotal{
			Cloud:       k.cloud,
			Region:      k.region,
			CostPerHour: b.regions[k],
		})
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.allocations), compareKeys) {
		r.Allocations = append(r.Allocations, Allocation{Key: k, CostPerHour: b.allocations[k]})
	}
	for _, k := range slices.SortedFunc(maps.Keys(b.resources), compareResources) {
		r.Resources = append(r.Resources, b.resources[k])
	}

	slices.SortFunc(r.Skipped, func(a, b Skip) int {
		return cmp.Or(
			cmp.Compare(a.Kind, b.Kind),
			cmp.Compare(a.ID, b.ID),
			cmp.Compare(a.Reason, b.Reason),
			cmp.Compare(a.Detail, b.Detail),
		)
	})
	slices.SortFunc(r.Unmeasurable, func(a, b Unmeasured) int {
		return cmp.Or(
			cmp.Compare(a.Container, b.Container),
			cmp.Compare(a.Component, b.Component),
		)
	})
	return r, nil
}

// compareResources orders resources by cloud, then id.
func compareResources(a, b resourceKey) int {
	return cmp.Or(cmp.Compare(a.cloud, b.cloud), cmp.Compare(a.id, b.id))
}

// Merge combines results of separate allocations (nodes, resources, tasks,
// functions) into one. Allocations under the same key are added; totals are summed
// again from the resources. A resource present in two parts is an error. Nil parts
// are ignored.
func Merge(parts ...*Result) (*Result, error) {
	b := newBuilder()
	for _, part := range parts {
		if part == nil {
			continue
		}
		for _, a := range part.Allocations {
			b.charge(a.Key, a.CostPerHour)
		}
		for _, rc := range part.Resources {
			if err := b.addResource(rc); err != nil {
				return nil, err
			}
		}
		b.skipped = append(b.skipped, part.Skipped...)
		b.unmeasured = append(b.unmeasured, part.Unmeasurable...)
	}
	return b.result()
}

// serviceOrUnallocated returns s, or s named Unallocated when its name is not known.
func serviceOrUnallocated(s identity.Service) identity.Service {
	if s.Name == "" {
		s.Name = Unallocated
	}
	return s
}

// field is a named number, for checks that report which value was bad.
type field struct {
	name  string
	value float64
}

// firstInvalid returns the first field that is not a finite, non-negative number.
func firstInvalid(fields ...field) (field, bool) {
	for _, f := range fields {
		if !validAmount(f.value) {
			return f, true
		}
	}
	return field{}, false
}

// validAmount reports whether v is a finite, non-negative number.
func validAmount(v float64) bool {
	return v >= 0 && !math.IsInf(v, 1)
}

// splitProportional splits total into parts proportional to weights, which must be
// finite and non-negative; all-zero weights split it equally. The largest part takes
// what rounding leaves, so that the parts sum to total as closely as floating point
// allows. Weights are divided by the largest first, so that their sum cannot
// overflow.
func splitProportional(total float64, weights []float64) []float64 {
	parts := make([]float64, len(weights))
	if len(weights) == 0 {
		return parts
	}
	largest := 0
	for i, w := range weights {
		if w > weights[largest] {
			largest = i
		}
	}
	norm := make([]float64, len(weights))
	sum := 0.0
	for i, w := range weights {
		norm[i] = 1
		if weights[largest] > 0 {
			norm[i] = w / weights[largest]
		}
		sum += norm[i]
	}

	assigned := 0.0
	for i := range weights {
		if i != largest {
			parts[i] = total * (norm[i] / sum)
			assigned += parts[i]
		}
	}
	parts[largest] = math.Max(0, total-assigned)
	return parts
}
