package cost

import (
	"fmt"
	"math"

	"github.com/stratus-monitoring/stratus/identity"
)

// Node is a Kubernetes node (or an ECS container instance) at one evaluation step.
type Node struct {
	Name         string
	Cluster      string
	Cloud        string
	Region       string
	InstanceType string
	// ResourceID is the id in stratus_resource_cost_per_hour, such as the instance
	// id from the node's providerID. Empty means "cluster/name" (or the name alone
	// when the cluster is empty), so that equal node names in two clusters stay
	// two resources.
	ResourceID string

	// PricePerHour is what the node costs per hour.
	PricePerHour float64
	// CPURate and MemoryRate are the price book's per-vCPU-hour and per-GiB-hour
	// rates for the node's type. Only their ratio is used, to split PricePerHour:
	// the CPU part is PricePerHour × CPURate×CPUCores / (CPURate×CPUCores +
	// MemoryRate×MemoryGiB), and the memory part the rest. Rates times capacity
	// rarely equal the price (allocatable is less than capacity, and list rates
	// are not the instance price), so both parts are scaled to sum to it.
	CPURate    float64
	MemoryRate float64

	// CPUCores and MemoryGiB are the node's allocatable capacity. The share of the
	// price that pays for the system-reserved capacity is thereby spread over what
	// the containers use and idle, in proportion.
	CPUCores  float64
	MemoryGiB float64
}

// id returns the node's name, qualified by its cluster.
func (n Node) id() string {
	if n.Cluster == "" {
		return n.Name
	}
	return n.Cluster + "/" + n.Name
}

// resourceID returns the id of the node's ResourceCost.
func (n Node) resourceID() string {
	if n.ResourceID != "" {
		return n.ResourceID
	}
	return n.id()
}

// Container is one container on a node at one evaluation step.
//
// Requests and usage are in cores and GiB. NaN means "unknown": kube-state-metrics
// emits no request series for a container without a request, and cAdvisor no usage
// for a container it has not seen. An unknown request charges the same as a zero
// one, but only a container with neither request nor usage of a resource is reported
// as Unmeasured.
type Container struct {
	// Service is the service the container belongs to. Empty Cluster and Namespace
	// are taken from the container's; an empty Name charges Unallocated.
	Service identity.Service

	Cluster   string
	Node      string
	Namespace string
	Pod       string
	Name      string

	// Init marks an init container. Kubernetes runs them one at a time before the
	// app containers, and native sidecars (restartPolicy Always) for the life of
	// the pod.
	Init bool
	// Running tells whether an init container is still running. One that is holds
	// resources and is charged like any container. One that has finished holds
	// nothing: its request is not charged (only any usage still reported), so that
	// a pod does not pay its init request on top of the app containers that
	// followed it. Running is ignored for app containers, which are charged while
	// they are listed.
	Running bool

	CPURequest       float64
	CPUUsage         float64
	MemoryRequestGiB float64
	MemoryUsageGiB   float64
}

// id returns "cluster/namespace/pod/container".
func (c Container) id() string {
	return c.Cluster + "/" + c.Namespace + "/" + c.Pod + "/" + c.Name
}

// holdsRequest reports whether the container's request reserves capacity now.
func (c Container) holdsRequest() bool {
	return !c.Init || c.Running
}

// service returns the identity the container is charged to.
func (c Container) service() identity.Service {
	s := serviceOrUnallocated(c.Service)
	if s.Cluster == "" {
		s.Cluster = c.Cluster
	}
	if s.Namespace == "" {
		s.Namespace = c.Namespace
	}
	return s
}

// nodeKey identifies a node: names are unique within a cluster.
type nodeKey struct{ cluster, name string }

// containerKey identifies a container: names are unique within a pod.
type containerKey struct{ cluster, namespace, pod, name string }

// nodeSplit is a node's price split into its CPU and memory parts.
type nodeSplit struct{ cpu, memory float64 }

// AllocateNodeCost charges the price of each node to the containers on it and to
// Idle, per component: compute for the CPU part of the price, memory for the memory
// part.
//
// A container is charged max(request, usage) of each resource, at the node's rate
// for it (the part divided by allocatable capacity); a container with no request is
// charged its usage. When the containers' charges of a resource exceed the node's
// part for it, every charge of that resource is scaled down in the same proportion
// so that they fill the part exactly and idle is zero. What is left is charged to
// Idle of the node's cluster, cloud and region, with no namespace; Idle is charged
// even when zero, so that its series do not come and go.
//
// A node listed twice, or a container listed twice (same cluster, namespace, pod and
// name), is an error. A node with an invalid price, rate or capacity is skipped with
// its containers; a container on an unknown node is skipped; a negative or infinite
// request or usage is ignored as unknown. All are reported in Result.Skipped.
func AllocateNodeCost(nodes []Node, containers []Container) (*Result, error) {
	b := newBuilder()

	index := make(map[nodeKey]int, len(nodes))
	splits := make([]nodeSplit, len(nodes))
	for i, n := range nodes {
		k := nodeKey{n.Cluster, n.Name}
		if _, dup := index[k]; dup {
			return nil, fmt.Errorf("node %q is listed twice", n.id())
		}
		index[k] = -1

		split, reason, detail := splitNodePrice(n)
		if reason != "" {
			b.skip("node", n.id(), n.Cloud, reason, detail)
			continue
		}
		err := b.addResource(ResourceCost{
			ID:           n.resourceID(),
			Type:         ResourceTypeNode,
			InstanceType: n.InstanceType,
			Cloud:        n.Cloud,
			Region:       n.Region,
			CostPerHour:  n.PricePerHour,
		})
		if err != nil {
			return nil, fmt.Errorf("node %q: %w", n.id(), err)
		}
		index[k], splits[i] = i, split
	}

	onNode := make([][]Container, len(nodes))
	seen := make(map[containerKey]bool, len(containers))
	for _, c := range containers {
		ck := containerKey{c.Cluster, c.Namespace, c.Pod, c.Name}
		if seen[ck] {
			return nil, fmt.Errorf("container %q is listed twice", c.id())
		}
		seen[ck] = true

		i, known := index[nodeKey{c.Cluster, c.Node}]
		switch {
		case !known:
			b.skip("container", c.id(), "", ReasonUnknownNode,
				fmt.Sprintf("node %q is not listed", c.Node))
		case i < 0:
			b.skip("container", c.id(), "", ReasonNodeSkipped,
				fmt.Sprintf("node %q was skipped", c.Node))
		default:
			onNode[i] = append(onNode[i], c)
		}
	}

	for i, n := range nodes {
		if index[nodeKey{n.Cluster, n.Name}] == i {
			b.chargeNode(n, splits[i], onNode[i])
		}
	}
	return b.result()
}

// splitNodePrice checks a node and splits its price into CPU and memory parts. A
// non-empty reason says why the node cannot be priced.
func splitNodePrice(n Node) (split nodeSplit, reason SkipReason, detail string) {
	if n.Name == "" {
		return nodeSplit{}, ReasonNoID, "node without a name"
	}
	if f, bad := firstInvalid(
		field{"price per hour", n.PricePerHour},
		field{"CPU rate", n.CPURate},
		field{"memory rate", n.MemoryRate},
	); bad {
		return nodeSplit{}, ReasonInvalidPrice, fmt.Sprintf("%s is %g", f.name, f.value)
	}
	if f, bad := firstInvalid(
		field{"allocatable CPU", n.CPUCores},
		field{"allocatable memory", n.MemoryGiB},
	); bad {
		return nodeSplit{}, ReasonInvalidQuantity, fmt.Sprintf("%s is %g", f.name, f.value)
	}

	cpuWeight := n.CPURate * n.CPUCores
	weight := cpuWeight + n.MemoryRate*n.MemoryGiB
	switch {
	case math.IsInf(weight, 1):
		return nodeSplit{}, ReasonUnsplittable, "rates times capacity overflow"
	case weight == 0 && n.PricePerHour > 0:
		return nodeSplit{}, ReasonUnsplittable,
			fmt.Sprintf("price %g per hour, but rates times capacity are zero", n.PricePerHour)
	case weight == 0:
		// A free node: nothing to split.
		return nodeSplit{}, "", ""
	}
	// share <= 1, so cpu <= price and the memory part is never negative.
	cpu := n.PricePerHour * (cpuWeight / weight)
	return nodeSplit{cpu: cpu, memory: n.PricePerHour - cpu}, "", ""
}

// chargeNode charges a node's CPU and memory parts to its containers and to Idle.
func (b *builder) chargeNode(n Node, split nodeSplit, containers []Container) {
	cpu := make([]float64, len(containers))
	memory := make([]float64, len(containers))
	for i, c := range containers {
		cpu[i] = b.quantity(n, c, ComponentCompute, "CPU", c.CPURequest, c.CPUUsage)
		memory[i] = b.quantity(n, c, ComponentMemory, "memory",
			c.MemoryRequestGiB, c.MemoryUsageGiB)
	}
	b.spread(n, containers, ComponentCompute, split.cpu, n.CPUCores, cpu)
	b.spread(n, containers, ComponentMemory, split.memory, n.MemoryGiB, memory)
}

// quantity returns how much of a resource a container is charged for:
// max(request, usage) of what is known, its usage alone when it has no request (or
// holds none), and zero, reported as Unmeasured, when neither is known.
func (b *builder) quantity(
	n Node,
	c Container,
	component Component,
	resource string,
	request, usage float64,
) float64 {
	request, hasRequest := b.measure(n, c, resource+" request", request)
	usage, hasUsage := b.measure(n, c, resource+" usage", usage)
	if !c.holdsRequest() {
		// A finished init container: its usage, if any, is all it costs, and
		// none is expected, so no usage is not a gap in the data.
		return usage
	}
	switch {
	case hasRequest && hasUsage:
		return math.Max(request, usage)
	case hasRequest:
		return request
	case hasUsage:
		return usage
	}
	b.unmeasured = append(b.unmeasured, Unmeasured{
		Container: c.id(),
		Cloud:     n.Cloud,
		Component: component,
	})
	return 0
}

// measure reads a request or usage: NaN is unknown; a negative or infinite value is
// ignored as unknown and reported.
func (b *builder) measure(n Node, c Container, name string, v float64) (float64, bool) {
	switch {
	case math.IsNaN(v):
		return 0, false
	case !validAmount(v):
		b.skip("container", c.id(), n.Cloud, ReasonInvalidQuantity,
			fmt.Sprintf("%s is %g; taken as unknown", name, v))
		return 0, false
	}
	return v, true
}

// spread charges part, the node's price for one resource, to the containers in
// proportion to the quantities they are charged for, and the rest to Idle.
func (b *builder) spread(
	n Node,
	containers []Container,
	component Component,
	part, capacity float64,
	quantities []float64,
) {
	charged := 0.0
	for _, q := range quantities {
		charged += q
	}

	var charges []float64
	idle := 0.0
	if charged > capacity || capacity == 0 {
		// Over-commit: the charges would exceed the part, so they share it in
		// proportion and nothing is idle. A zero capacity has a zero part (its
		// rate weight is zero), so every charge is zero too.
		charges = splitProportional(part, quantities)
	} else {
		charges = make([]float64, len(quantities))
		sum := 0.0
		for i, q := range quantities {
			// q/capacity <= 1: no overflow whatever the magnitudes.
			charges[i] = part * (q / capacity)
			sum += charges[i]
		}
		// Rounding may leave sum a hair above part; idle is never negative.
		idle = math.Max(0, part-sum)
	}

	for i, c := range containers {
		b.charge(Key{
			Service:   c.service(),
			Cloud:     n.Cloud,
			Region:    n.Region,
			Component: component,
		}, charges[i])
	}
	b.charge(Key{
		Service:   identity.Service{Cluster: n.Cluster, Name: Idle},
		Cloud:     n.Cloud,
		Region:    n.Region,
		Component: component,
	}, idle)
}
