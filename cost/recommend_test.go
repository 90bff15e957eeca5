package cost

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
)

// recNode is a 4-vCPU, 16-GiB n2-standard-4 at 0.194236/hour with 3.9 cores
// and 15 GiB allocatable, at the n2 rates of the embedded snapshot.
func recNode() PricedNode {
	return PricedNode{
		Cluster: "c", Name: "n1", ResourceID: "gce://p/z/n1", Cloud: "gcp",
		Region: "us-central1", InstanceType: "n2-standard-4",
		ListPricePerHour: 0.194236, CostPerHour: 0.194236,
		CPUPerCoreHour: 0.0316, MemPerGiBHour: 0.004,
		VCPU: 4, MemoryGiB: 16, AllocatableCores: 3.9, AllocatableMemoryGiB: 15,
	}
}

func recContainer(pod string, cpu, mem float64) Container {
	return Container{
		Service: identity.Service{Name: "api"}, Cluster: "c", Node: "n1",
		Namespace: "shop", Pod: pod, Name: "app", CPURequest: cpu, MemoryRequestGiB: mem,
	}
}

func recPrices(cloud, region string) []pricing.Price {
	if cloud != "gcp" || region != "us-central1" {
		return nil
	}
	p := func(product string, vcpu, mem, value float64) pricing.Price {
		return pricing.Price{Key: pricing.Key{Cloud: cloud, Region: region,
			Kind: pricing.KindCompute, Product: product}, VCPU: vcpu, MemoryGiB: mem, Value: value}
	}
	return []pricing.Price{
		p("e2-standard-2", 2, 8, 0.067), // another family: never proposed
		p("n2-highcpu-2", 2, 2, 0.071696),
		p("n2-standard-2", 2, 8, 0.097118),
		p("n2-standard-4", 4, 16, 0.194236),
		p("n2-standard-8", 8, 32, 0.388472),
	}
}

func TestRecommend(t *testing.T) {
	week := 7 * 24 * time.Hour
	ref := ContainerRef{"c", "shop", "p1", "app"}
	node := NodeRef{"c", "n1"}
	for _, tc := range []struct {
		name       string
		containers []Container
		usage      Usage
		cfg        RecommendConfig
		nodes      func(n *PricedNode)
		prices     func(cloud, region string) []pricing.Price
		want       []Recommendation // compared on kind, id, savings, type and bound
	}{{
		// (2 − 0.3×1.3) × 0.0316 = 0.050876; (4 − 1×1.3) × 0.004 = 0.0108.
		name:       "over-requested CPU and memory",
		containers: []Container{recContainer("p1", 2, 4)},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref: {CPUCores: 0.3, MemoryGiB: 1, History: week}}},
		want: []Recommendation{{Kind: KindOverRequested, ResourceID: "c/shop/api/app",
			SavingsPerHour: 0.050876 + 0.0108}},
	}, {
		// Two replicas: (1 − 0.2×1.3) + (1 − 0.5×1.3) = 1.09 cores at 0.0316;
		// memory below p95 plus headroom saves nothing.
		name: "replicas summed",
		containers: []Container{recContainer("p1", 1, 1), recContainer("p2", 1, 1),
			{Cluster: "c", Node: "n1", Namespace: "shop", Pod: "p3", Name: "app",
				CPURequest: math.NaN(), MemoryRequestGiB: math.NaN()}},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref:                        {CPUCores: 0.2, MemoryGiB: 0.9, History: week},
			{"c", "shop", "p2", "app"}: {CPUCores: 0.5, MemoryGiB: 0.9, History: week},
			{"c", "shop", "p3", "app"}: {CPUCores: 0.5, MemoryGiB: 0.9, History: week},
		}},
		want: []Recommendation{{Kind: KindOverRequested, ResourceID: "c/shop/api/app",
			SavingsPerHour: 1.09 * 0.0316}},
	}, {
		name:       "no headroom",
		containers: []Container{recContainer("p1", 1, math.NaN())},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref: {CPUCores: 0.5, MemoryGiB: 1, History: week}}},
		cfg: RecommendConfig{Headroom: -1},
		want: []Recommendation{{Kind: KindOverRequested, ResourceID: "c/shop/api/app",
			SavingsPerHour: 0.5 * 0.0316}},
	}, {
		name:       "NaN usage is inconclusive",
		containers: []Container{recContainer("p1", 2, 4)},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref: {CPUCores: math.NaN(), MemoryGiB: 1, History: week}}},
	}, {
		name:       "missing usage is inconclusive",
		containers: []Container{recContainer("p1", 2, 4)},
	}, {
		name:       "short history is inconclusive",
		containers: []Container{recContainer("p1", 2, 4)},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref: {CPUCores: 0.3, MemoryGiB: 1, History: 30 * time.Minute}}},
	}, {
		name: "container on an unpriced node",
		containers: []Container{{Cluster: "c", Node: "gone", Namespace: "shop", Pod: "p1",
			Name: "app", CPURequest: 2, MemoryRequestGiB: 4}},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref: {CPUCores: 0.3, MemoryGiB: 1, History: week}}},
	}, {
		name:       "savings below the minimum",
		containers: []Container{recContainer("p1", 0.01, 0.01)},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref: {CPUCores: 0, MemoryGiB: 0, History: week}}},
	}, {
		// max(0.2 requested, 0.1 used)/3.9 = 5.1% CPU, max(0.5, 1)/15 = 6.7%.
		name:       "idle node",
		containers: []Container{recContainer("p1", 0.2, 0.5)},
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.1, MemoryGiB: 1, History: week}}},
		want: []Recommendation{{Kind: KindIdleNode, ResourceID: "gce://p/z/n1",
			SavingsPerHour: 0.194236, UpperBound: true}},
	}, {
		// Needs max(0.8, 0.5×1.3) = 0.8 cores and max(1, 1.2×1.3) = 1.56 GiB;
		// n2-highcpu-2 holds 1.95 cores and 1.875 GiB allocatable.
		name:       "rightsizing",
		containers: []Container{recContainer("p1", 0.8, 1)},
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.5, MemoryGiB: 1.2, History: week}}},
		cfg: RecommendConfig{IdleThreshold: 0.05},
		want: []Recommendation{{Kind: KindNodeRightsizing, ResourceID: "gce://p/z/n1",
			SavingsPerHour: 0.194236 - 0.071696, InstanceType: "n2-highcpu-2"}},
	}, {
		// With a 25 % discount the savings shrink by a quarter; memory of 6
		// GiB rules out n2-highcpu-2.
		name:       "rightsizing discounted",
		containers: []Container{recContainer("p1", 0.8, 6)},
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.5, MemoryGiB: 1.2, History: week}}},
		cfg:   RecommendConfig{IdleThreshold: 0.05},
		nodes: func(n *PricedNode) { n.DiscountPercent = 25; n.CostPerHour *= 0.75 },
		want: []Recommendation{{Kind: KindNodeRightsizing, ResourceID: "gce://p/z/n1",
			SavingsPerHour: (0.194236 - 0.097118) * 0.75, InstanceType: "n2-standard-2"}},
	}, {
		name: "busy node: nothing cheaper holds it",
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 2.5, MemoryGiB: 3, History: week}}},
	}, {
		name: "no price list",
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.5, MemoryGiB: 1, History: week}}},
		cfg:    RecommendConfig{IdleThreshold: 0.05},
		prices: func(string, string) []pricing.Price { return nil },
	}, {
		name: "node of unknown size",
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.5, MemoryGiB: 1, History: week}}},
		cfg:   RecommendConfig{IdleThreshold: 0.05},
		nodes: func(n *PricedNode) { n.VCPU = 0 },
	}, {
		name: "free node",
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.1, MemoryGiB: 1, History: week}}},
		nodes: func(n *PricedNode) { n.CostPerHour = 0 },
	}, {
		name: "rightsizing below the minimum",
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.5, MemoryGiB: 1, History: week}}},
		cfg:   RecommendConfig{IdleThreshold: 0.05},
		nodes: func(n *PricedNode) { n.ListPricePerHour = 0.0720 },
	}} {
		t.Run(tc.name, func(t *testing.T) {
			n := recNode()
			if tc.nodes != nil {
				tc.nodes(&n)
			}
			prices := recPrices
			if tc.prices != nil {
				prices = tc.prices
			}
			got := Recommend(RecommendInput{Nodes: []PricedNode{n}, Containers: tc.containers,
				Usage: tc.usage, ComputePrices: prices, Config: tc.cfg})
			require.Len(t, got, len(tc.want))
			for i, w := range tc.want {
				g := got[i]
				require.Equal(t, w.Kind, g.Kind)
				require.Equal(t, w.ResourceID, g.ResourceID)
				require.InDelta(t, w.SavingsPerHour, g.SavingsPerHour, 1e-12)
				require.InDelta(t, w.SavingsPerHour*730, g.SavingsPerMonth(), 1e-9)
				require.Equal(t, w.InstanceType, g.InstanceType)
				require.Equal(t, w.UpperBound, g.UpperBound)
				require.NotEmpty(t, g.Reason)
			}
		})
	}
}

// TestRecommendReasonAndOrder checks the reason's numbers and that the
// largest savings come first, whatever the input order.
func TestRecommendReasonAndOrder(t *testing.T) {
	n := recNode()
	n.Cluster = ""
	c := recContainer("p1", 2, math.NaN())
	c.Cluster = ""
	small := Container{Service: identity.Service{Name: "web"}, Node: "n1", Namespace: "shop",
		Pod: "w1", Name: "app", CPURequest: 0.5, MemoryRequestGiB: math.NaN()}
	got := Recommend(RecommendInput{Nodes: []PricedNode{n}, Containers: []Container{small, c},
		Usage: Usage{Containers: map[ContainerRef]UsageP95{
			{"", "shop", "p1", "app"}: {CPUCores: 0.3, MemoryGiB: 1, History: 7 * 24 * time.Hour},
			{"", "shop", "w1", "app"}: {CPUCores: 0.1, MemoryGiB: 1, History: 7 * 24 * time.Hour},
		}}})
	require.Len(t, got, 2)
	require.Equal(t, "shop/api/app", got[0].ResourceID)
	require.Equal(t, "1 replica(s) of container app: requests 2 cores in all, p95 up to 0.3 "+
		"cores per replica over 1w; 1.61 cores spare at 0.0316/core-hour", got[0].Reason)
	require.Equal(t, "shop/web/app", got[1].ResourceID)
}

func TestInstanceFamily(t *testing.T) {
	for product, want := range map[string]string{
		"Standard_D4s_v5": "Standard_Ds_v5",
		"Standard_B2ms":   "Standard_Bms",
		"Standard_Fancy":  "Standard_Fancy",
	} {
		require.Equal(t, want, instanceFamily("azure", product))
	}
	require.Equal(t, "m5", instanceFamily("aws", "m5.xlarge"))
}
