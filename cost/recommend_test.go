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
		// A finished init container holds nothing: lowering its request saves
		// nothing. A running one (a native sidecar) is like any container.
		name: "init containers",
		containers: []Container{
			func() Container { c := recContainer("p1", 2, 4); c.Init = true; return c }(),
			func() Container {
				c := recContainer("p2", 2, 4)
				c.Init, c.Running = true, true
				return c
			}(),
		},
		usage: Usage{Containers: map[ContainerRef]UsageP95{
			ref:                        {CPUCores: 0.3, MemoryGiB: 1, History: week},
			{"c", "shop", "p2", "app"}: {CPUCores: 0.3, MemoryGiB: 1, History: week},
		}},
		want: []Recommendation{{Kind: KindOverRequested, ResourceID: "c/shop/api/app",
			SavingsPerHour: 0.050876 + 0.0108}},
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
		// The candidates' on-demand prices say nothing of a spot node's.
		name:       "spot node: no rightsizing",
		containers: []Container{recContainer("p1", 0.8, 1)},
		usage: Usage{Nodes: map[NodeRef]UsageP95{
			node: {CPUCores: 0.5, MemoryGiB: 1.2, History: week}}},
		cfg: RecommendConfig{IdleThreshold: 0.05},
		nodes: func(n *PricedNode) {
			n.Purchase, n.PricedAs, n.ListPricePerHour = pricing.Spot, PricedAsSpot, 0.08
		},
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

// odNode returns an on-demand node of recNode's type named name, with the
// discount percent.
func odNode(name string, discount float64) PricedNode {
	n := recNode()
	n.Name, n.ResourceID = name, "gce://p/z/"+name
	n.Purchase, n.PricedAs = pricing.OnDemand, PricedAsOnDemand
	n.DiscountPercent, n.CostPerHour = discount, n.ListPricePerHour*(1-discount/100)
	return n
}

// bookOf returns a Lookup over the given prices of recNode's cloud, region
// and type, by purchase option.
func bookOf(prices map[pricing.Purchase]float64) func(pricing.Key) (pricing.Price, error) {
	return func(k pricing.Key) (pricing.Price, error) {
		v, ok := prices[k.Purchase]
		if !ok || k.Cloud != "gcp" || k.Region != "us-central1" || k.Product != "n2-standard-4" {
			return pricing.Price{}, &pricing.NoPriceError{Key: k,
				Reason: pricing.ReasonNoPurchaseOption}
		}
		return pricing.Price{Key: k, Value: v, Source: "test-book"}, nil
	}
}

// TestCommitments checks the commitment recommendations: hand-computed savings,
// the history they need, and the prices they rest on.
func TestCommitments(t *testing.T) {
	week := 7 * 24 * time.Hour
	group := NodeGroupRef{"c", "us-central1", "n2-standard-4"}
	three := []PricedNode{odNode("n1", 0), odNode("n2", 0), odNode("n3", 0)}
	committed := bookOf(map[pricing.Purchase]float64{pricing.Committed: 0.122})
	for _, tc := range []struct {
		name     string
		nodes    []PricedNode
		steady   SteadyNodes
		lookup   func(pricing.Key) (pricing.Price, error)
		cfg      RecommendConfig
		want     float64 // savings per hour; 0 for no recommendation
		purchase pricing.Purchase
		skipped  string // reason of the skipped candidate, if any
	}{{
		// 3 × (0.194236 − 0.122) = 0.216708.
		name: "committed price of the book", nodes: three, lookup: committed,
		steady: SteadyNodes{Min: 3, History: week}, want: 0.216708,
		purchase: pricing.Committed,
	}, {
		// Never more than run now: 3, not 5.
		name: "count capped at the nodes running", nodes: three, lookup: committed,
		steady: SteadyNodes{Min: 5, History: week}, want: 0.216708,
		purchase: pricing.Committed,
	}, {
		// floor(2.5) = 2: 2 × 0.072236 = 0.144472.
		name: "a fraction of a node is not committed", nodes: three, lookup: committed,
		steady: SteadyNodes{Min: 2.5, History: week}, want: 0.144472,
		purchase: pricing.Committed,
	}, {
		// The node discount applies to both prices: 3 × 0.072236 × 0.8.
		name:   "node discount applied",
		nodes:  []PricedNode{odNode("n1", 20), odNode("n2", 20), odNode("n3", 20)},
		lookup: committed, steady: SteadyNodes{Min: 3, History: week},
		want: 3 * 0.072236 * 0.8, purchase: pricing.Committed,
	}, {
		// 3 × 0.194236 × 0.3 = 0.1748124.
		name: "configured commitment discount", nodes: three,
		lookup: bookOf(nil), cfg: RecommendConfig{CommitmentDiscounts: map[string]float64{
			"GCP": 30}}, steady: SteadyNodes{Min: 3, History: week}, want: 0.1748124,
		purchase: pricing.Committed,
	}, {
		name: "book price wins over the configured discount", nodes: three, lookup: committed,
		cfg:    RecommendConfig{CommitmentDiscounts: map[string]float64{"gcp": 90}},
		steady: SteadyNodes{Min: 3, History: week}, want: 0.216708,
		purchase: pricing.Committed,
	}, {
		name: "no committed price and no discount", nodes: three, lookup: bookOf(nil),
		steady: SteadyNodes{Min: 3, History: week}, skipped: SkipNoCommittedPrice,
	}, {
		name: "no lookup and no discount", nodes: three,
		steady: SteadyNodes{Min: 3, History: week}, skipped: SkipNoCommittedPrice,
	}, {
		name: "too little history", nodes: three, lookup: committed,
		steady: SteadyNodes{Min: 3, History: 6 * 24 * time.Hour}, skipped: SkipShortHistory,
	}, {
		// A shorter configured minimum lets the same history through.
		name: "configured minimum history", nodes: three, lookup: committed,
		cfg:    RecommendConfig{CommitmentMinHistory: 24 * time.Hour},
		steady: SteadyNodes{Min: 1, History: 6 * 24 * time.Hour}, want: 0.072236,
		purchase: pricing.Committed,
	}, {
		name: "nothing ran all the time", nodes: three, lookup: committed,
		steady: SteadyNodes{Min: 0, History: week},
	}, {
		name: "unknown minimum", nodes: three, lookup: committed,
		steady: SteadyNodes{Min: math.NaN(), History: week},
	}, {
		name: "committed price above on-demand", nodes: three,
		lookup: bookOf(map[pricing.Purchase]float64{pricing.Committed: 0.3}),
		steady: SteadyNodes{Min: 3, History: week},
	}, {
		name: "spot nodes are no basis", lookup: committed,
		nodes: func() []PricedNode {
			n := odNode("n1", 0)
			n.Purchase, n.PricedAs = pricing.Spot, PricedAsSpot
			return []PricedNode{n}
		}(),
		steady: SteadyNodes{Min: 1, History: week}, skipped: SkipNoOnDemandPrice,
	}} {
		t.Run(tc.name, func(t *testing.T) {
			got := FindRecommendations(RecommendInput{Nodes: tc.nodes, Lookup: tc.lookup,
				Usage:  Usage{SteadyNodes: map[NodeGroupRef]SteadyNodes{group: tc.steady}},
				Config: tc.cfg})
			if tc.want == 0 {
				require.Empty(t, got.Recommendations)
			} else {
				require.Len(t, got.Recommendations, 1)
				r := got.Recommendations[0]
				require.Equal(t, KindCommitment, r.Kind)
				require.Equal(t, "c/us-central1/n2-standard-4", r.ResourceID)
				require.Equal(t, identity.Service{Cluster: "c", Name: Idle}, r.Service)
				require.Equal(t, "n2-standard-4", r.InstanceType)
				require.Equal(t, tc.purchase, r.Purchase)
				require.InDelta(t, tc.want, r.SavingsPerHour, 1e-12)
				require.False(t, r.UpperBound)
			}
			if tc.skipped == "" {
				require.Empty(t, got.Skipped)
				return
			}
			require.Len(t, got.Skipped, 1)
			require.Equal(t, tc.skipped, got.Skipped[0].Reason)
			require.Equal(t, KindCommitment, got.Skipped[0].Kind)
			require.NotEmpty(t, got.Skipped[0].Detail)
		})
	}
}

// TestCommitmentReason checks that the reason carries the count, the type,
// the history and both prices, and that AWS is priced as reserved.
func TestCommitmentReason(t *testing.T) {
	n := odNode("n1", 20)
	n.Cloud, n.Region, n.InstanceType, n.ListPricePerHour = "aws", "us-east-1", "m5.xlarge", 0.192
	var asked []pricing.Purchase
	lookup := func(k pricing.Key) (pricing.Price, error) {
		asked = append(asked, k.Purchase)
		return pricing.Price{Key: k, Value: 0.121, Source: "override"}, nil
	}
	got := Recommend(RecommendInput{Nodes: []PricedNode{n}, Lookup: lookup,
		Usage: Usage{SteadyNodes: map[NodeGroupRef]SteadyNodes{
			{"c", "us-east-1", "m5.xlarge"}: {Min: 1, History: 7 * 24 * time.Hour},
		}}})
	require.Equal(t, []pricing.Purchase{pricing.Reserved}, asked)
	require.Len(t, got, 1)
	require.Equal(t, pricing.Reserved, got[0].Purchase)
	// (0.192 − 0.121) × 0.8 = 0.0568.
	require.InDelta(t, 0.0568, got[0].SavingsPerHour, 1e-12)
	require.Equal(t, "at least 1 on-demand m5.xlarge node(s) ran at every 5m step over 1w "+
		"of history (1 run now); committing to 1 at 0.121/hour each (reserved price of the "+
		"price book, override) instead of on-demand 0.192/hour, both less the 20% discount, "+
		"saves 0.0568/hour. A commitment binds for a year or more: it pays only while that "+
		"many keep running", got[0].Reason)

	require.Equal(t, []pricing.Purchase{pricing.Reserved, pricing.Committed},
		committedPurchases("onprem"))
	require.Equal(t, "us-east-1/m5.xlarge", NodeGroupRef{"", "us-east-1", "m5.xlarge"}.id())
}

// TestSpotCandidates checks which nodes are spot candidates and their
// hand-computed savings.
func TestSpotCandidates(t *testing.T) {
	deploy := func(pod string, replicas int) PodWorkload {
		return PodWorkload{Namespace: "shop", Pod: pod, Kind: WorkloadDeployment, Name: "web",
			Replicas: replicas}
	}
	ds := PodWorkload{Namespace: "kube-system", Pod: "node-exporter-x", Kind: "DaemonSet",
		Name: "node-exporter", Replicas: 3}
	static := PodWorkload{Namespace: "kube-system", Pod: "kube-proxy-n1", Kind: "Node",
		Name: "n1", Replicas: 1}
	spotBook := bookOf(map[pricing.Purchase]float64{pricing.Spot: 0.06})
	for _, tc := range []struct {
		name    string
		node    func(n *PricedNode)
		pods    []PodWorkload
		lookup  func(pricing.Key) (pricing.Price, error)
		cfg     RecommendConfig
		usage   Usage
		want    float64 // savings per hour; 0 for no recommendation
		skipped bool
	}{{
		// 0.194236 − 0.06 = 0.134236; the DaemonSet pod does not disqualify.
		name: "replicated deployment and a daemonset", lookup: spotBook,
		pods: []PodWorkload{deploy("web-1", 3), ds}, want: 0.134236,
	}, {
		name: "static pods go with the node", lookup: spotBook,
		pods: []PodWorkload{deploy("web-1", 2), static}, want: 0.134236,
	}, {
		// 0.194236 × 0.6 = 0.1165416.
		name: "configured spot discount", lookup: bookOf(nil),
		cfg:  RecommendConfig{SpotDiscounts: map[string]float64{"gcp": 60}},
		pods: []PodWorkload{deploy("web-1", 2)}, want: 0.1165416,
	}, {
		// (0.194236 − 0.06) × 0.75.
		name: "node discount applied", lookup: spotBook,
		node: func(n *PricedNode) { n.DiscountPercent = 25; n.CostPerHour *= 0.75 },
		pods: []PodWorkload{deploy("web-1", 2)}, want: 0.134236 * 0.75,
	}, {
		name: "no spot price and no discount", lookup: bookOf(nil),
		pods: []PodWorkload{deploy("web-1", 2)}, skipped: true,
	}, {
		name: "a StatefulSet pod disqualifies", lookup: spotBook,
		pods: []PodWorkload{deploy("web-1", 3), {Namespace: "data", Pod: "db-0",
			Kind: "StatefulSet", Name: "db", Replicas: 3}},
	}, {
		name: "a Job pod disqualifies", lookup: spotBook,
		pods: []PodWorkload{deploy("web-1", 3), {Namespace: "batch", Pod: "etl-x",
			Kind: "Job", Name: "etl", Replicas: 1}},
	}, {
		name: "a bare pod disqualifies", lookup: spotBook,
		pods: []PodWorkload{deploy("web-1", 3), {Namespace: "dev", Pod: "debug",
			Kind: WorkloadBare, Replicas: 1}},
	}, {
		name: "a single replica disqualifies", lookup: spotBook,
		pods: []PodWorkload{deploy("web-1", 1)},
	}, {
		name: "a ReplicaSet without a Deployment disqualifies", lookup: spotBook,
		pods: []PodWorkload{{Namespace: "shop", Pod: "rs-1", Kind: "ReplicaSet", Name: "rs",
			Replicas: 2}},
	}, {
		name: "daemonsets alone are no candidate", lookup: spotBook,
		pods: []PodWorkload{ds},
	}, {
		name: "no pods", lookup: spotBook,
	}, {
		name: "already spot", lookup: spotBook, pods: []PodWorkload{deploy("web-1", 2)},
		node: func(n *PricedNode) { n.Purchase, n.PricedAs = pricing.Spot, PricedAsSpot },
	}, {
		name: "spot price above on-demand", pods: []PodWorkload{deploy("web-1", 2)},
		lookup: bookOf(map[pricing.Purchase]float64{pricing.Spot: 0.5}),
	}, {
		// An idle node is to be drained, not moved to spot.
		name: "idle node", lookup: spotBook, pods: []PodWorkload{deploy("web-1", 2)},
		usage: Usage{Nodes: map[NodeRef]UsageP95{{"c", "n1"}: {CPUCores: 0.1, MemoryGiB: 1,
			History: 7 * 24 * time.Hour}}},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			n := odNode("n1", 0)
			if tc.node != nil {
				tc.node(&n)
			}
			got := FindRecommendations(RecommendInput{Nodes: []PricedNode{n},
				Lookup: tc.lookup, Usage: tc.usage, Config: tc.cfg,
				Workloads: map[NodeRef][]PodWorkload{{"c", "n1"}: tc.pods}})
			var spot []Recommendation
			for _, r := range got.Recommendations {
				if r.Kind == KindSpotCandidate {
					spot = append(spot, r)
				}
			}
			if tc.want == 0 {
				require.Empty(t, spot)
			} else {
				require.Len(t, spot, 1)
				require.Equal(t, "gce://p/z/n1", spot[0].ResourceID)
				require.Equal(t, pricing.Spot, spot[0].Purchase)
				require.Equal(t, "n2-standard-4", spot[0].InstanceType)
				require.True(t, spot[0].UpperBound, "spot capacity can be reclaimed")
				require.InDelta(t, tc.want, spot[0].SavingsPerHour, 1e-12)
				require.Contains(t, spot[0].Reason, "reclaimed")
			}
			if tc.skipped {
				require.Equal(t, []SkippedRecommendation{{Kind: KindSpotCandidate,
					ResourceID: "gce://p/z/n1", Reason: SkipNoSpotPrice,
					Detail: "no spot price of n2-standard-4 in gcp us-central1, and no spot " +
						"discount for gcp in cost.spot_discounts"}}, got.Skipped)
			} else {
				require.Empty(t, got.Skipped)
			}
		})
	}
}

// TestSpotWorkloads checks why a node does not qualify.
func TestSpotWorkloads(t *testing.T) {
	for _, tc := range []struct {
		pods []PodWorkload
		n    int
		why  string
	}{
		{[]PodWorkload{{Namespace: "a", Pod: "p", Kind: WorkloadDeployment, Name: "d",
			Replicas: 2}, {Namespace: "a", Pod: "q", Kind: WorkloadDeployment, Name: "e",
			Replicas: 4}}, 2, ""},
		{[]PodWorkload{{Namespace: "a", Pod: "p", Kind: WorkloadDeployment, Name: "d",
			Replicas: 1}}, 0, "deployment a/d has 1 running replica"},
		{[]PodWorkload{{Namespace: "a", Pod: "p", Kind: WorkloadBare}}, 0,
			"pod a/p has no controller"},
		{[]PodWorkload{{Namespace: "a", Pod: "db-0", Kind: "StatefulSet", Name: "db"}}, 0,
			"pod a/db-0 belongs to StatefulSet db"},
		{nil, 0, "no deployment pod runs on it"},
	} {
		n, why := spotWorkloads(tc.pods)
		require.Equal(t, tc.n, n)
		require.Equal(t, tc.why, why)
	}
}

// TestCapacityOf checks each capacity label and value that marks spot.
func TestCapacityOf(t *testing.T) {
	for _, tc := range []struct {
		labels map[string]string
		want   pricing.Purchase
	}{
		{map[string]string{"label_karpenter_sh_capacity_type": "spot"}, pricing.Spot},
		{map[string]string{"label_karpenter_sh_capacity_type": "on-demand"}, pricing.OnDemand},
		{map[string]string{"label_eks_amazonaws_com_capacity_type": "SPOT"}, pricing.Spot},
		{map[string]string{"label_eks_amazonaws_com_capacity_type": "ON_DEMAND"},
			pricing.OnDemand},
		{map[string]string{"label_cloud_google_com_gke_spot": "true"}, pricing.Spot},
		{map[string]string{"label_cloud_google_com_gke_preemptible": "true"}, pricing.Spot},
		{map[string]string{"label_cloud_google_com_gke_spot": "false"}, pricing.OnDemand},
		{map[string]string{"label_kubernetes_azure_com_scalesetpriority": "spot"}, pricing.Spot},
		{map[string]string{"label_kubernetes_azure_com_scalesetpriority": "regular"},
			pricing.OnDemand},
		{nil, pricing.OnDemand},
	} {
		got := capacityOf(func(name string) string { return tc.labels[name] })
		require.Equal(t, tc.want, got, "%v", tc.labels)
	}
}

// TestSkippedCounts counts skipped candidates per kind and reason.
func TestSkippedCounts(t *testing.T) {
	require.Equal(t, []SkippedCount{
		{Kind: KindCommitment, Reason: SkipNoCommittedPrice, Count: 2},
		{Kind: KindSpotCandidate, Reason: SkipNoSpotPrice, Count: 1},
	}, SkippedCounts([]SkippedRecommendation{
		{Kind: KindSpotCandidate, Reason: SkipNoSpotPrice},
		{Kind: KindCommitment, Reason: SkipNoCommittedPrice},
		{Kind: KindCommitment, Reason: SkipNoCommittedPrice},
	}))
}
