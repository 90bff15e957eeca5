package cost

import (
	"cmp"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

// Kinds of recommendation: the kind label of stratus_cost_savings_per_hour.
const (
	// KindOverRequested is a container of a service whose requests exceed
	// its p95 usage plus headroom, on every replica summed.
	KindOverRequested = "over_requested_container"
	// KindIdleNode is a node whose requests and p95 usage both stay below
	// the idle threshold of its capacity.
	KindIdleNode = "idle_node"
	// KindNodeRightsizing is a node that a cheaper instance type of the same
	// family, cloud and region would hold.
	KindNodeRightsizing = "node_rightsizing"
	// KindCommitment is a number of on-demand nodes of one type, cluster and
	// region that ran all the time, to buy as a commitment (reserved
	// instances or savings plans, committed use, reservations).
	KindCommitment = "commitment"
	// KindSpotCandidate is an on-demand node whose pods all belong to
	// replicated stateless workloads, which could run on spot capacity.
	KindSpotCandidate = "spot_candidate"
)

// Defaults of RecommendConfig.
const (
	// DefaultRecommendationLookback is how far back p95 usage is taken.
	DefaultRecommendationLookback = 7 * 24 * time.Hour
	// DefaultRecommendationHeadroom is the share above p95 usage a request or
	// a node keeps.
	DefaultRecommendationHeadroom = 0.3
	// DefaultIdleNodeThreshold is the share of a node's capacity below which
	// it counts as idle.
	DefaultIdleNodeThreshold = 0.1
	// DefaultRecommendationMinHistory is the least history a recommendation
	// rests on; with less, the usage is inconclusive.
	DefaultRecommendationMinHistory = time.Hour
	// DefaultCommitmentMinHistory is the least history a commitment rests
	// on: a commitment binds for a year or more, and a shorter history says
	// nothing of that.
	DefaultCommitmentMinHistory = 7 * 24 * time.Hour
	// MinSavingsPerHour leaves out recommendations worth less than 0.73 a
	// month: they are noise next to the estimate's own error.
	MinSavingsPerHour = 0.001
)

// RecommendConfig holds the thresholds of the recommendations.
type RecommendConfig struct {
	// Disabled turns recommendations and their queries off.
	Disabled bool
	// Lookback is the range p95 usage is taken over; zero means
	// DefaultRecommendationLookback.
	Lookback time.Duration
	// Headroom is kept above p95 usage, as a share of it; zero means
	// DefaultRecommendationHeadroom, negative none.
	Headroom float64
	// IdleThreshold is the share of a node's capacity below which the node is
	// idle; zero means DefaultIdleNodeThreshold.
	IdleThreshold float64
	// MinHistory is the least history usage must cover; zero means
	// DefaultRecommendationMinHistory.
	MinHistory time.Duration
	// CommitmentMinHistory is the least history the steady node count of a
	// commitment must cover; zero means DefaultCommitmentMinHistory. The
	// commitment query looks back over the longer of it and Lookback.
	CommitmentMinHistory time.Duration
	// SpotDiscounts are the expected spot discounts per cloud, in percent off
	// the on-demand price, for where the price book has no spot price: they
	// price spot nodes (PricedAsSpotDiscount; this applies even when the
	// recommendations are disabled) and spot candidates. A cloud without one
	// prices its spot nodes at on-demand and recommends no spot candidate.
	SpotDiscounts map[string]float64
	// CommitmentDiscounts are the expected commitment discounts per cloud, in
	// percent off the on-demand price, for where the price book has no
	// reserved or committed price. A cloud with neither gets no commitment
	// recommendation.
	CommitmentDiscounts map[string]float64
}

// withDefaults fills in the zero fields.
func (c RecommendConfig) withDefaults() RecommendConfig {
	if c.Lookback <= 0 {
		c.Lookback = DefaultRecommendationLookback
	}
	switch {
	case c.Headroom == 0:
		c.Headroom = DefaultRecommendationHeadroom
	case c.Headroom < 0:
		c.Headroom = 0
	}
	if c.IdleThreshold <= 0 {
		c.IdleThreshold = DefaultIdleNodeThreshold
	}
	if c.MinHistory <= 0 {
		c.MinHistory = DefaultRecommendationMinHistory
	}
	if c.CommitmentMinHistory <= 0 {
		c.CommitmentMinHistory = DefaultCommitmentMinHistory
	}
	return c
}

// UsageP95 is the 95th percentile of one resource's CPU (cores) and memory
// (GiB) usage, and how much history it covers: the lookback, or less where
// the data starts later. NaN is unknown.
type UsageP95 struct {
	CPUCores, MemoryGiB float64
	History             time.Duration
}

// ContainerRef names a container.
type ContainerRef struct{ Cluster, Namespace, Pod, Container string }

// NodeRef names a node.
type NodeRef struct{ Cluster, Name string }

// Usage is the p95 usage of containers and nodes over the lookback, and the
// steady count of on-demand nodes per type behind the commitments.
type Usage struct {
	Containers  map[ContainerRef]UsageP95
	Nodes       map[NodeRef]UsageP95
	SteadyNodes map[NodeGroupRef]SteadyNodes
}

// RecommendInput is what the recommendations are made from.
type RecommendInput struct {
	// Nodes are the priced nodes, with their rates and capacity.
	Nodes []PricedNode
	// Containers are the containers charged, with their requests.
	Containers []Container
	Usage      Usage
	// ComputePrices lists the compute prices of a cloud and region, for
	// rightsizing (pricing.Book.ComputePrices); nil means no rightsizing.
	ComputePrices func(cloud, region string) []pricing.Price
	// Lookup looks a price up (pricing.Book.Lookup), for the spot and
	// committed prices of nodes; nil means the configured discounts alone.
	Lookup func(pricing.Key) (pricing.Price, error)
	// Workloads are the workloads of the running pods of each node, for spot
	// candidates; a node without any is no candidate.
	Workloads map[NodeRef][]PodWorkload
	Config    RecommendConfig
}

// Recommendation is one way to save, with the numbers that justify it.
type Recommendation struct {
	Kind string
	// ResourceID is the node's resource id, or cluster/namespace/service/
	// container for an over-requested container.
	ResourceID string
	// Service is the service that would save: the container's, or the
	// node's cluster with the Idle name.
	Service        identity.Service
	SavingsPerHour float64
	// InstanceType is the cheaper type of a node rightsizing, the type to
	// commit to, or the type of a spot candidate.
	InstanceType string
	// Purchase is the purchase option recommended: pricing.Reserved or
	// pricing.Committed for a commitment, pricing.Spot for a spot candidate;
	// empty for the others.
	Purchase pricing.Purchase
	// UpperBound says the savings hold only if the rest fits elsewhere.
	UpperBound bool
	Reason     string
}

// SavingsPerMonth is SavingsPerHour over a month of pricing.HoursPerMonth.
func (r Recommendation) SavingsPerMonth() float64 {
	return r.SavingsPerHour * pricing.HoursPerMonth
}

// Recommend returns the recommendations of FindRecommendations.
func Recommend(in RecommendInput) []Recommendation {
	return FindRecommendations(in).Recommendations
}

// RecommendResult is what FindRecommendations found.
type RecommendResult struct {
	// Recommendations are largest savings first.
	Recommendations []Recommendation
	// Skipped are the commitment and spot candidates left without a
	// recommendation for want of history or a price, sorted by kind and id.
	Skipped []SkippedRecommendation
}

// FindRecommendations finds over-requested containers, idle nodes, nodes a
// cheaper type would hold, commitments and spot candidates, largest savings
// first. Usage that is unknown, NaN or shorter than the minimum history makes
// no recommendation, nor does a missing price: a missing figure never stands
// for zero. Savings are positive and finite.
func FindRecommendations(in RecommendInput) RecommendResult {
	cfg := in.Config.withDefaults()
	nodes := map[NodeRef]PricedNode{}
	for _, n := range in.Nodes {
		nodes[NodeRef{n.Cluster, n.Name}] = n
	}
	out := overRequested(in, cfg, nodes)
	byNode, idle := nodeRecommendations(in, cfg)
	out = append(out, byNode...)
	committed, skipped := commitments(in, cfg)
	out = append(out, committed...)
	spot, skippedSpot := spotCandidates(in, cfg, idle)
	out = append(out, spot...)
	skipped = append(skipped, skippedSpot...)
	slices.SortFunc(out, func(a, b Recommendation) int {
		return cmp.Or(cmp.Compare(b.SavingsPerHour, a.SavingsPerHour),
			cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ResourceID, b.ResourceID))
	})
	slices.SortFunc(skipped, func(a, b SkippedRecommendation) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.ResourceID, b.ResourceID))
	})
	return RecommendResult{Recommendations: out, Skipped: skipped}
}

// onDemandPriced reports whether a node is bought on demand and priced so:
// the basis on which rightsizing, commitments and spot candidates compare
// prices. A node built without the fields (a zero value) is on demand.
func onDemandPriced(n PricedNode) bool {
	return (n.Purchase == "" || n.Purchase == pricing.OnDemand) &&
		(n.PricedAs == "" || n.PricedAs == PricedAsOnDemand)
}

// usable returns the p95 usage if it is known and covers enough history.
func usable(u UsageP95, ok bool, cfg RecommendConfig) (UsageP95, bool) {
	return u, ok && u.History >= cfg.MinHistory && validAmount(u.CPUCores) && validAmount(u.MemoryGiB)
}

// spare is what a request holds beyond p95 usage plus headroom.
type spare struct {
	request, p95, excess, savings float64
}

func (s *spare) add(request, p95, headroom, rate float64) {
	s.request += request
	s.p95 = math.Max(s.p95, p95)
	if excess := request - p95*(1+headroom); excess > 0 {
		s.excess += excess
		s.savings += excess * rate
	}
}

// rate returns the mean rate of the excess.
func (s spare) rate() float64 { return s.savings / s.excess }

// overRequested sums the spare requests of each container of each service
// over its replicas.
func overRequested(in RecommendInput, cfg RecommendConfig, nodes map[NodeRef]PricedNode,
) []Recommendation {
	type group struct {
		service     identity.Service
		container   string
		replicas    int
		cpu, memory spare
		history     time.Duration
	}
	groups := map[string]*group{}
	for _, c := range in.Containers {
		n, onNode := nodes[NodeRef{c.Cluster, c.Node}]
		u, ok := usable(in.Usage.Containers[ContainerRef{c.Cluster, c.Namespace, c.Pod, c.Name}],
			hasContainer(in.Usage, c), cfg)
		if !onNode || !ok || !c.holdsRequest() ||
			!validAmount(c.CPURequest) && !validAmount(c.MemoryRequestGiB) {
			continue // a finished init container is charged nothing to save
		}
		s := c.service()
		id := strings.Join([]string{s.Namespace, s.Name, c.Name}, "/")
		if s.Cluster != "" {
			id = s.Cluster + "/" + id
		}
		g, seen := groups[id]
		if !seen {
			g = &group{service: s, container: c.Name, history: u.History}
			groups[id] = g
		}
		g.replicas++
		g.history = min(g.history, u.History)
		if validAmount(c.CPURequest) {
			g.cpu.add(c.CPURequest, u.CPUCores, cfg.Headroom, n.CPUPerCoreHour)
		}
		if validAmount(c.MemoryRequestGiB) {
			g.memory.add(c.MemoryRequestGiB, u.MemoryGiB, cfg.Headroom, n.MemPerGiBHour)
		}
	}

	var out []Recommendation
	for _, id := range slices.Sorted(maps.Keys(groups)) {
		g := groups[id]
		savings := g.cpu.savings + g.memory.savings
		if !(savings >= MinSavingsPerHour) || math.IsInf(savings, 1) {
			continue
		}
		var parts []string
		if g.cpu.savings > 0 {
			parts = append(parts, spareReason(g.cpu, "cores", "core", g.history))
		}
		if g.memory.savings > 0 {
			parts = append(parts, spareReason(g.memory, "GiB", "GiB", g.history))
		}
		out = append(out, Recommendation{
			Kind: KindOverRequested, ResourceID: id, Service: g.service,
			SavingsPerHour: savings,
			Reason: fmt.Sprintf("%d replica(s) of container %s: %s", g.replicas, g.container,
				strings.Join(parts, "; ")),
		})
	}
	return out
}

func hasContainer(u Usage, c Container) bool {
	_, ok := u.Containers[ContainerRef{c.Cluster, c.Namespace, c.Pod, c.Name}]
	return ok
}

// spareReason writes "requests 2 cores in all, p95 up to 0.3 cores per
// replica over 7d; 1.61 cores spare at 0.0316/core-hour".
func spareReason(s spare, unit, per string, history time.Duration) string {
	return fmt.Sprintf("requests %s %s in all, p95 up to %s %s per replica over %s; "+
		"%s %s spare at %s/%s-hour",
		num(s.request), unit, num(s.p95), unit, model.Duration(history), num(s.excess), unit,
		num(s.rate()), per)
}

// num writes a quantity or price with three significant digits.
func num(v float64) string { return fmt.Sprintf("%.3g", v) }

// nodeRecommendations finds idle nodes, and for the others a cheaper type. It
// also returns the idle nodes.
func nodeRecommendations(in RecommendInput, cfg RecommendConfig,
) ([]Recommendation, map[NodeRef]bool) {
	requested := map[NodeRef]*[2]float64{}
	for _, c := range in.Containers {
		if !c.holdsRequest() {
			continue
		}
		k := NodeRef{c.Cluster, c.Node}
		if requested[k] == nil {
			requested[k] = new([2]float64)
		}
		requested[k][0] += knownOrZero(c.CPURequest)
		requested[k][1] += knownOrZero(c.MemoryRequestGiB)
	}

	var out []Recommendation
	idle := map[NodeRef]bool{}
	for _, n := range in.Nodes {
		k := NodeRef{n.Cluster, n.Name}
		u, ok := usable(in.Usage.Nodes[k], hasNode(in.Usage, k), cfg)
		if !ok || !(n.CostPerHour > 0) || !(n.AllocatableCores > 0) ||
			!(n.AllocatableMemoryGiB > 0) {
			continue
		}
		req := requested[k]
		if req == nil {
			req = new([2]float64)
		}
		// Charged is what the allocation charges: max(requests, usage).
		cpuShare := math.Max(req[0], u.CPUCores) / n.AllocatableCores
		memShare := math.Max(req[1], u.MemoryGiB) / n.AllocatableMemoryGiB
		if share := math.Max(cpuShare, memShare); share < cfg.IdleThreshold {
			idle[k] = true
			out = append(out, Recommendation{
				Kind: KindIdleNode, ResourceID: n.ResourceID,
				Service:        identity.Service{Cluster: n.Cluster, Name: Idle},
				SavingsPerHour: n.CostPerHour, UpperBound: true,
				Reason: fmt.Sprintf("%s (%s) is %s%% used at most (CPU %s%%, memory %s%% "+
					"of allocatable, requests or p95 over %s), under the %s%% idle "+
					"threshold; draining it saves its %s/hour if its pods fit on other nodes",
					n.Name, n.InstanceType, num(100*share), num(100*cpuShare),
					num(100*memShare), model.Duration(u.History), num(100*cfg.IdleThreshold),
					num(n.CostPerHour)),
			})
			continue
		}
		if r, ok := rightsize(in, cfg, n, u, req); ok {
			out = append(out, r)
		}
	}
	return out, idle
}

func hasNode(u Usage, k NodeRef) bool {
	_, ok := u.Nodes[k]
	return ok
}

// rightsize looks for the cheapest on-demand type of an on-demand node's
// family, cloud and region whose allocatable capacity holds the node's requests and its p95
// usage plus headroom. A candidate's allocatable capacity is taken as its
// size times the node's allocatable share of its own size, as the kubelet
// reserves a similar share. Only the node's family is searched: a price says
// nothing of CPU architecture, burstable credits or GPUs, which a change of
// family may change.
func rightsize(in RecommendInput, cfg RecommendConfig, n PricedNode, u UsageP95,
	req *[2]float64,
) (Recommendation, bool) {
	// The candidates' prices are on-demand: a spot node's price is not
	// comparable with them.
	if in.ComputePrices == nil || !(n.VCPU > 0) || !(n.MemoryGiB > 0) || !onDemandPriced(n) {
		return Recommendation{}, false
	}
	needCPU := math.Max(req[0], u.CPUCores*(1+cfg.Headroom))
	needMem := math.Max(req[1], u.MemoryGiB*(1+cfg.Headroom))
	cpuShare := n.AllocatableCores / n.VCPU
	memShare := n.AllocatableMemoryGiB / n.MemoryGiB
	family := strings.ToLower(instanceFamily(n.Cloud, n.InstanceType))

	var best pricing.Price
	found := false
	for _, p := range in.ComputePrices(n.Cloud, n.Region) {
		if strings.ToLower(instanceFamily(p.Cloud, p.Product)) != family ||
			strings.EqualFold(p.Product, n.InstanceType) ||
			p.VCPU*cpuShare < needCPU || p.MemoryGiB*memShare < needMem ||
			!(p.Value < n.ListPricePerHour) {
			continue
		}
		if !found || p.Value < best.Value {
			best, found = p, true
		}
	}
	if !found {
		return Recommendation{}, false
	}
	savings := (n.ListPricePerHour - best.Value) * (1 - n.DiscountPercent/100)
	if !(savings >= MinSavingsPerHour) {
		return Recommendation{}, false
	}
	return Recommendation{
		Kind: KindNodeRightsizing, ResourceID: n.ResourceID,
		Service:        identity.Service{Cluster: n.Cluster, Name: Idle},
		SavingsPerHour: savings, InstanceType: best.Product,
		Reason: fmt.Sprintf("%s is a %s (%s vCPU, %s GiB, %s/hour); it needs %s cores "+
			"and %s GiB (requests, or p95 over %s plus %s%% headroom); %s (%s vCPU, "+
			"%s GiB, %s/hour) holds them", n.Name, n.InstanceType, num(n.VCPU),
			num(n.MemoryGiB), num(n.ListPricePerHour), num(needCPU), num(needMem),
			model.Duration(u.History), num(100*cfg.Headroom), best.Product, num(best.VCPU),
			num(best.MemoryGiB), num(best.Value)),
	}, true
}

// instanceFamily returns what a type may be changed within: the family of
// pricing.ComputeFamily ("m5", "n2"), or for Azure the series, the size name
// with its digits taken out ("Standard_Ds_v5" for Standard_D4s_v5).
func instanceFamily(cloud, product string) string {
	if !strings.EqualFold(cloud, "azure") {
		return pricing.ComputeFamily(product)
	}
	name, _ := strings.CutPrefix(product, "Standard_")
	i := strings.IndexAny(name, "0123456789")
	if i < 0 {
		return product
	}
	j := i
	for j < len(name) && name[j] >= '0' && name[j] <= '9' {
		j++
	}
	return "Standard_" + name[:i] + name[j:]
}
