package cost_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
)

// labelledNode writes a node like store.node with extra kube_node_labels
// labels (capacity labels), in cluster c1.
func (s *store) labelledNode(name, providerID, instanceType, region string, extra ...string) {
	s.gauge(1, "__name__", "kube_node_info", "cluster", "c1", "node", name,
		"provider_id", providerID)
	s.gauge(1, append([]string{"__name__", "kube_node_labels", "cluster", "c1", "node", name,
		"label_node_kubernetes_io_instance_type", instanceType,
		"label_topology_kubernetes_io_region", region}, extra...)...)
	s.gauge(4, "__name__", "kube_node_status_capacity", "cluster", "c1", "node", name,
		"resource", "cpu", "unit", "core")
	s.gauge(16*(1<<30), "__name__", "kube_node_status_capacity", "cluster", "c1",
		"node", name, "resource", "memory", "unit", "byte")
}

func nodesByName(snap *cost.Snapshot) map[string]cost.PricedNode {
	out := map[string]cost.PricedNode{}
	for _, n := range snap.Nodes {
		out[n.Name] = n
	}
	return out
}

// TestEngineSpotNodes prices spot nodes, found by each cloud's capacity label,
// with and without a spot price in the book and with a configured discount.
func TestEngineSpotNodes(t *testing.T) {
	s := newStore(t)
	s.labelledNode("od", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1",
		"label_karpenter_sh_capacity_type", "on-demand")
	s.labelledNode("karpenter", "aws:///us-east-1a/i-2", "m5.xlarge", "us-east-1",
		"label_karpenter_sh_capacity_type", "spot")
	s.labelledNode("eks", "aws:///us-east-1a/i-3", "m5.xlarge", "us-east-1",
		"label_eks_amazonaws_com_capacity_type", "SPOT")
	s.labelledNode("gke", "gce://p/us-central1-a/gke", "n2-standard-4", "us-central1",
		"label_cloud_google_com_gke_spot", "true")
	s.labelledNode("aks", "azure:///subscriptions/x/vmss/1", "Standard_D4s_v5", "eastus",
		"label_kubernetes_azure_com_scalesetpriority", "spot")
	s.pod("shop", "web-1", "karpenter", 1, 0.5, "", "", "label_app", "web")
	s.pod("shop", "web-2", "gke", 1, 0.5, "", "", "label_app", "web")
	e := s.commit()

	// The embedded snapshot has no spot prices: every spot node is priced at
	// on-demand, says so, and is counted.
	snap := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t)}, fixtureAt)
	nodes := nodesByName(snap)
	require.Len(t, nodes, 5)
	require.Equal(t, pricing.OnDemand, nodes["od"].Purchase)
	for _, name := range []string{"karpenter", "eks", "gke", "aks"} {
		n := nodes[name]
		require.Equal(t, pricing.Spot, n.Purchase, name)
		require.Equal(t, cost.PricedAsOnDemand, n.PricedAs, name)
		require.Equal(t, pricing.SourceSnapshot, n.PriceSource, name)
	}
	require.InDelta(t, 0.192, nodes["karpenter"].CostPerHour, 1e-12)
	require.Equal(t, []cost.CloudCount{{Cloud: "aws", Count: 2}, {Cloud: "azure", Count: 1},
		{Cloud: "gcp", Count: 1}}, snap.SpotNodesPricedOnDemand())
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))

	// With a spot price for the AWS type, and an expected spot discount for
	// GCP, those nodes are priced as spot; Azure stays at on-demand.
	book, err := pricing.NewBookFromConfig(pricing.Config{Overrides: []pricing.PriceEntry{{
		Cloud: "aws", Region: "us-east-1", Kind: "compute", Product: "m5.xlarge",
		Purchase: "spot", Price: 0.07, Unit: "hour",
	}}, Discounts: []pricing.DiscountConfig{{Cloud: "aws", Percent: 10}}})
	require.NoError(t, err)
	snap = runEngine(t, e, cost.EngineConfig{Book: book, Recommendations: cost.RecommendConfig{
		SpotDiscounts: map[string]float64{"gcp": 60}}}, fixtureAt)
	nodes = nodesByName(snap)
	for _, name := range []string{"karpenter", "eks"} {
		n := nodes[name]
		require.Equal(t, cost.PricedAsSpot, n.PricedAs, name)
		require.Equal(t, pricing.SourceOverride, n.PriceSource, name)
		require.InDelta(t, 0.07, n.ListPricePerHour, 1e-12, name)
		require.InDelta(t, 0.07*0.9, n.CostPerHour, 1e-12, "the cloud discount applies")
		require.InDelta(t, n.CostPerHour, n.CPUPerCoreHour*n.VCPU+n.MemPerGiBHour*n.MemoryGiB,
			1e-12, "the split adds up to the spot price")
	}
	require.InDelta(t, 0.192*0.9, nodes["od"].CostPerHour, 1e-12)
	require.Equal(t, cost.PricedAsSpotDiscount, nodes["gke"].PricedAs)
	require.InDelta(t, 0.194236*0.4, nodes["gke"].CostPerHour, 1e-12)
	require.Equal(t, cost.PricedAsOnDemand, nodes["aks"].PricedAs)
	require.Equal(t, []cost.CloudCount{{Cloud: "azure", Count: 1}},
		snap.SpotNodesPricedOnDemand())
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))

	// The report shows the purchase option of every node.
	raw, err := json.Marshal(snap.Report())
	require.NoError(t, err)
	var generic struct {
		Resources []map[string]any `json:"resources"`
	}
	require.NoError(t, json.Unmarshal(raw, &generic))
	got := map[string][2]any{}
	for _, r := range generic.Resources {
		got[r["node"].(string)] = [2]any{r["purchase"], r["priced_as"]}
	}
	require.Equal(t, map[string][2]any{
		"od": {"on_demand", "on_demand"}, "karpenter": {"spot", "spot"},
		"eks": {"spot", "spot"}, "gke": {"spot", "spot_discount"},
		"aks": {"spot", "on_demand"},
	}, got)
}

// history writes a gauge every 5 minutes from the start before fixtureAt to
// fixtureAt, leaving out the steps for which skip answers true.
func (s *store) history(start time.Duration, skip func(ago time.Duration) bool, kv ...string) {
	l := labels.FromStrings(kv...)
	for ago := start; ago >= 0; ago -= 5 * time.Minute {
		if skip != nil && skip(ago) {
			continue
		}
		require.NoError(s.t, s.b.Append(l, fixtureAt.Add(-ago).UnixMilli(), 1))
	}
}

// historyNode writes a node's labels over a history, and its other series at
// fixtureAt when it runs then.
func (s *store) historyNode(cluster, name, instanceType string, start time.Duration,
	skip func(ago time.Duration) bool, extra ...string,
) {
	s.history(start, skip, append([]string{"__name__", "kube_node_labels", "cluster", cluster,
		"node", name, "label_node_kubernetes_io_instance_type", instanceType,
		"label_topology_kubernetes_io_region", "us-east-1"}, extra...)...)
	if skip != nil && skip(0) {
		return
	}
	s.gauge(1, "__name__", "kube_node_info", "cluster", cluster, "node", name,
		"provider_id", "aws:///us-east-1a/"+name)
	s.gauge(4, "__name__", "kube_node_status_capacity", "cluster", cluster, "node", name,
		"resource", "cpu", "unit", "core")
	s.gauge(16*(1<<30), "__name__", "kube_node_status_capacity", "cluster", cluster,
		"node", name, "resource", "memory", "unit", "byte")
}

// TestEngineCommitments runs the commitment query over eight days of node
// history: three m5.xlarge ran all week (a fourth only lately, and a spot one
// is not counted), the m5.large nodes of c1 scaled to zero for a day (those of
// c3 did not), and cluster c2 has three days of history only. Two days ago
// kube-state-metrics of c1 restarted: ten minutes without any series of the
// cluster, which must not cut the week short.
func TestEngineCommitments(t *testing.T) {
	day := 24 * time.Hour
	s := newStore(t)
	restart := func(ago time.Duration) bool { return ago > 2*day && ago <= 2*day+10*time.Minute }
	for _, name := range []string{"a", "b", "c"} {
		s.historyNode("c1", name, "m5.xlarge", 8*day, restart)
	}
	s.historyNode("c1", "burst", "m5.xlarge", day, nil)
	s.historyNode("c1", "spot", "m5.xlarge", 8*day, restart,
		"label_karpenter_sh_capacity_type", "spot")
	gap := func(ago time.Duration) bool {
		return ago > 3*day && ago <= 4*day || restart(ago)
	}
	s.historyNode("c1", "large-1", "m5.large", 8*day, gap)
	s.historyNode("c1", "large-2", "m5.large", 8*day, gap)
	s.historyNode("c3", "large-3", "m5.large", 8*day, nil) // the control: no gap
	s.historyNode("c2", "young-1", "m5.xlarge", 3*day, nil)
	s.historyNode("c2", "young-2", "m5.xlarge", 3*day, nil)
	e := s.commit()

	book, err := pricing.NewBookFromConfig(pricing.Config{Overrides: []pricing.PriceEntry{{
		Cloud: "aws", Region: "us-east-1", Kind: "compute", Product: "m5.xlarge",
		Purchase: "reserved", Price: 0.121, Unit: "hour",
	}}})
	require.NoError(t, err)
	commitments := func(snap *cost.Snapshot) map[string]cost.Recommendation {
		out := map[string]cost.Recommendation{}
		for _, r := range snap.Recommendations {
			if r.Kind == cost.KindCommitment {
				out[r.ResourceID] = r
			}
		}
		return out
	}

	// 3 × (0.192 − 0.121) = 0.213; c2's three days are too little history,
	// the m5.large nodes of c1 did not run at every step, and those of c3 have
	// no reserved price.
	snap := runEngine(t, e, cost.EngineConfig{Book: book}, fixtureAt)
	require.Empty(t, snap.RecommendationError)
	require.Equal(t, cost.QueriesPerCycle, snap.Queries)
	got := commitments(snap)
	require.Len(t, got, 1, "%+v", got)
	r := got["c1/us-east-1/m5.xlarge"]
	require.InDelta(t, 0.213, r.SavingsPerHour, 1e-12)
	require.Equal(t, pricing.Reserved, r.Purchase)
	require.Contains(t, r.Reason, "at least 3 on-demand m5.xlarge node(s) ran at every 5m "+
		"step over 7d16h40m of history (4 run now)")

	// A shorter minimum history lets c2 through; the m5.large type of c1 still
	// ran zero nodes for a day. Without a reserved price, a configured discount
	// prices the commitment: 2 × 0.192 × 0.3.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t),
		Recommendations: cost.RecommendConfig{CommitmentMinHistory: 2 * day,
			CommitmentDiscounts: map[string]float64{"aws": 30}}}, fixtureAt)
	got = commitments(snap)
	require.Len(t, got, 3, "%+v", got)
	require.InDelta(t, 0.096*0.3, got["c3/us-east-1/m5.large"].SavingsPerHour, 1e-12)
	require.InDelta(t, 2*0.192*0.3, got["c2/us-east-1/m5.xlarge"].SavingsPerHour, 1e-12)
	require.InDelta(t, 3*0.192*0.3, got["c1/us-east-1/m5.xlarge"].SavingsPerHour, 1e-12)

	// With neither a price nor a discount, nothing is recommended.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t)}, fixtureAt)
	require.Empty(t, commitments(snap))
}

// TestEngineSpotCandidates checks which on-demand nodes could run as spot: a
// StatefulSet pod disqualifies a node, a DaemonSet pod does not, and a
// Deployment needs two running replicas.
func TestEngineSpotCandidates(t *testing.T) {
	s := newStore(t)
	for _, n := range []string{"web-node", "db-node", "single-node"} {
		s.labelledNode(n, "aws:///us-east-1a/"+n, "m5.xlarge", "us-east-1")
	}
	s.labelledNode("spot-node", "aws:///us-east-1a/spot-node", "m5.xlarge", "us-east-1",
		"label_eks_amazonaws_com_capacity_type", "SPOT")
	deployment := func(rs, name string) {
		s.gauge(1, "__name__", "kube_replicaset_owner", "cluster", "c1", "namespace", "shop",
			"replicaset", rs, "owner_kind", "Deployment", "owner_name", name,
			"owner_is_controller", "true")
	}
	deployment("web-abc", "web")
	deployment("api-def", "api")
	s.pod("shop", "web-abc-1", "web-node", 1, 0.5, "ReplicaSet", "web-abc")
	s.pod("monitoring", "node-exporter-1", "web-node", 0.1, 0.1, "DaemonSet", "node-exporter")
	s.pod("shop", "web-abc-2", "db-node", 1, 0.5, "ReplicaSet", "web-abc")
	s.pod("data", "db-0", "db-node", 1, 0.5, "StatefulSet", "db")
	s.pod("shop", "api-def-1", "single-node", 1, 0.5, "ReplicaSet", "api-def")
	s.pod("shop", "web-abc-3", "spot-node", 1, 0.5, "ReplicaSet", "web-abc")
	e := s.commit()

	book, err := pricing.NewBookFromConfig(pricing.Config{Overrides: []pricing.PriceEntry{{
		Cloud: "aws", Region: "us-east-1", Kind: "compute", Product: "m5.xlarge",
		Purchase: "spot", Price: 0.07, Unit: "hour",
	}}})
	require.NoError(t, err)
	snap := runEngine(t, e, cost.EngineConfig{Book: book}, fixtureAt)
	var spot []cost.Recommendation
	for _, r := range snap.Recommendations {
		if r.Kind == cost.KindSpotCandidate {
			spot = append(spot, r)
		}
	}
	require.Len(t, spot, 1, "%+v", snap.Recommendations)
	require.Equal(t, "aws:///us-east-1a/web-node", spot[0].ResourceID)
	require.InDelta(t, 0.192-0.07, spot[0].SavingsPerHour, 1e-12)
	require.True(t, spot[0].UpperBound)

	report := snap.Report()
	var found bool
	for _, r := range report.Recommendations {
		if r.Kind == cost.KindSpotCandidate {
			found = true
			require.Equal(t, "spot", r.Purchase)
			require.InDelta(t, (0.192-0.07)*730, r.SavingsPerMonth, 1e-9)
		}
	}
	require.True(t, found)

	// Without a spot price or discount there is no candidate.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t)}, fixtureAt)
	for _, r := range snap.Recommendations {
		require.NotEqual(t, cost.KindSpotCandidate, r.Kind)
	}
}

// failOnQuerier fails the queries that contain a string.
type failOnQuerier struct {
	query.Querier
	contains string
}

func (q failOnQuerier) Query(ctx context.Context, expr string, ts time.Time) (model.Vector, error) {
	if strings.Contains(expr, q.contains) {
		return nil, errors.New("query timed out")
	}
	return q.Querier.Query(ctx, expr, ts)
}

// TestEngineCommitmentQueryFails: a failed commitment query leaves the cycle's
// cost standing and says why there are no recommendations.
func TestEngineCommitmentQueryFails(t *testing.T) {
	s := newStore(t)
	s.labelledNode("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1")
	e := s.commit()
	snap := runEngine(t, failOnQuerier{Querier: e, contains: "min_over_time"},
		cost.EngineConfig{Book: defaultBook(t)}, fixtureAt)
	require.Len(t, snap.Nodes, 1)
	require.Empty(t, snap.Recommendations)
	require.Equal(t, "cost: querying steady on-demand nodes: query timed out",
		snap.RecommendationError)
	require.Equal(t, cost.QueriesPerCycle, snap.Queries)
}

// TestEngineSpotSplit: a spot price is split between CPU and memory in the
// proportion of the family's on-demand unit prices when the book has no spot
// ones; a running pod that no node runs is no workload of any node.
func TestEngineSpotSplit(t *testing.T) {
	s := newStore(t)
	s.labelledNode("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1",
		"label_karpenter_sh_capacity_type", "spot")
	s.gauge(1, "__name__", "kube_pod_status_phase", "cluster", "c1", "namespace", "shop",
		"pod", "nowhere", "phase", "Running")
	e := s.commit()
	entry := func(kind, product, purchase string, price float64, unit string) pricing.PriceEntry {
		return pricing.PriceEntry{Cloud: "aws", Region: "us-east-1", Kind: kind,
			Product: product, Purchase: purchase, Price: price, Unit: unit}
	}
	book, err := pricing.NewBookFromConfig(pricing.Config{Overrides: []pricing.PriceEntry{
		entry("compute", "m5.xlarge", "spot", 0.08, "hour"),
		entry("vcpu", "m5", "", 0.03, "vcpu-hour"),
		entry("memory", "m5", "", 0.004, "gib-hour"),
	}})
	require.NoError(t, err)
	snap := runEngine(t, e, cost.EngineConfig{Book: book}, fixtureAt)
	require.Len(t, snap.Nodes, 1)
	n := snap.Nodes[0]
	require.Equal(t, cost.PricedAsSpot, n.PricedAs)
	require.Equal(t, pricing.SplitUnitPrices, n.SplitSource)
	// 0.08 split 0.03:0.004 per vCPU and GiB over 4 vCPU and 16 GiB:
	// scale = 0.08 / (0.12 + 0.064).
	require.InDelta(t, 0.03*0.08/0.184, n.CPUPerCoreHour, 1e-12)
	require.InDelta(t, 0.004*0.08/0.184, n.MemPerGiBHour, 1e-12)
}
