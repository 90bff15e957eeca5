package cost_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
)

var fixtureAt = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// store holds series written by hand, each with a sample a minute before
// fixtureAt and one at it (counters grow by value×60 in between).
type store struct {
	t testing.TB
	e *query.Embedded
	b *query.Batch
}

func newStore(t testing.TB) *store {
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return &store{t: t, e: e, b: e.Appender(context.Background())}
}

func (s *store) gauge(v float64, kv ...string) {
	l := labels.FromStrings(kv...)
	for _, ago := range []time.Duration{time.Minute, 0} {
		require.NoError(s.t, s.b.Append(l, fixtureAt.Add(-ago).UnixMilli(), v))
	}
}

// counter writes a counter whose rate is v.
func (s *store) counter(v float64, kv ...string) {
	l := labels.FromStrings(kv...)
	require.NoError(s.t, s.b.Append(l, fixtureAt.Add(-time.Minute).UnixMilli(), 1000))
	require.NoError(s.t, s.b.Append(l, fixtureAt.UnixMilli(), 1000+60*v))
}

func (s *store) node(name, providerID, instanceType, region string, cpu, memGiB float64) {
	s.gauge(1, "__name__", "kube_node_info", "cluster", "c1", "node", name,
		"provider_id", providerID)
	s.gauge(1, "__name__", "kube_node_labels", "cluster", "c1", "node", name,
		"label_node_kubernetes_io_instance_type", instanceType,
		"label_topology_kubernetes_io_region", region)
	if cpu > 0 {
		s.gauge(cpu, "__name__", "kube_node_status_capacity", "cluster", "c1", "node", name,
			"resource", "cpu", "unit", "core")
	}
	if memGiB > 0 {
		s.gauge(memGiB*(1<<30), "__name__", "kube_node_status_capacity", "cluster", "c1",
			"node", name, "resource", "memory", "unit", "byte")
	}
}

// pod writes a running pod with one container requesting cpu cores and using
// usage cores, its labels (as label_* pairs) and its owner.
func (s *store) pod(ns, name, node string, cpu, usage float64, ownerKind, owner string,
	podLabels ...string,
) {
	base := []string{"cluster", "c1", "namespace", ns, "pod", name}
	with := func(metric string, kv ...string) []string {
		return append(append([]string{"__name__", metric}, base...), kv...)
	}
	s.gauge(1, with("kube_pod_info", "node", node)...)
	s.gauge(1, with("kube_pod_status_phase", "phase", "Running")...)
	s.gauge(0, with("kube_pod_status_phase", "phase", "Pending")...)
	s.gauge(1, with("kube_pod_labels", podLabels...)...)
	if owner != "" {
		s.gauge(1, with("kube_pod_owner", "owner_kind", ownerKind, "owner_name", owner,
			"owner_is_controller", "true")...)
	}
	if cpu > 0 {
		s.gauge(cpu, with("kube_pod_container_resource_requests", "container", "main",
			"node", node, "resource", "cpu", "unit", "core")...)
	}
	s.counter(usage, with("container_cpu_usage_seconds_total", "container", "main")...)
	// cAdvisor's pod-level and pause rows, which must not be charged.
	s.counter(99, with("container_cpu_usage_seconds_total", "container", "")...)
	s.counter(99, with("container_cpu_usage_seconds_total", "container", "POD")...)
	s.gauge(1<<30, with("container_memory_working_set_bytes", "container", "main")...)
}

func (s *store) commit() *query.Embedded {
	require.NoError(s.t, s.b.Commit())
	return s.e
}

func podService(t *testing.T, snap *cost.Snapshot, pod string) cost.PodAttribution {
	t.Helper()
	for _, p := range snap.Pods {
		if p.Pod == pod {
			return p
		}
	}
	t.Fatalf("pod %s not charged", pod)
	return cost.PodAttribution{}
}

// TestEngineIdentityRules checks each rule that names a pod's service.
func TestEngineIdentityRules(t *testing.T) {
	s := newStore(t)
	s.node("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
	s.pod("shop", "web-abc-1", "n1", 0.5, 0.1, "ReplicaSet", "web-abc",
		"label_app", "web", "label_app_kubernetes_io_name", "storefront")
	s.pod("shop", "cart-1", "n1", 0.5, 0.1, "ReplicaSet", "cart-xyz", "label_service", "cart")
	s.pod("shop", "api-def-1", "n1", 0.5, 0.1, "ReplicaSet", "api-def")
	s.gauge(1, "__name__", "kube_replicaset_owner", "cluster", "c1", "namespace", "shop",
		"replicaset", "api-def", "owner_kind", "Deployment", "owner_name", "api",
		"owner_is_controller", "true")
	s.pod("shop", "orphan-rs-1", "n1", 0.5, 0.1, "ReplicaSet", "orphan-rs")
	s.pod("data", "db-0", "n1", 0.5, 0.1, "StatefulSet", "db")
	s.pod("kube-system", "static-1", "n1", 0.1, 0.1, "Node", "n1")
	s.pod("jobs", "bare-1", "n1", 0.1, 0.1, "", "")
	s.pod("shop", "old-name-1", "n1", 0.1, 0.1, "", "", "label_app", "old-name")
	e := s.commit()

	snap := runEngine(t, e, cost.EngineConfig{
		Book: defaultBook(t),
		Identity: identity.Config{Aliases: map[string]string{
			"old-name": "shop/new-name",
		}},
	}, fixtureAt)
	for _, tc := range []struct {
		pod, service, rule string
	}{
		{"web-abc-1", "storefront", "label:app.kubernetes.io/name"},
		{"cart-1", "cart", "label:service"},
		{"api-def-1", "api", "owner:Deployment"},
		{"orphan-rs-1", "orphan-rs", "owner:ReplicaSet"},
		{"db-0", "db", "owner:StatefulSet"},
		{"static-1", cost.Unallocated, cost.RuleNone},
		{"bare-1", cost.Unallocated, cost.RuleNone},
		{"old-name-1", "new-name", "label:app"},
	} {
		p := podService(t, snap, tc.pod)
		require.Equal(t, tc.service, p.Service.Name, tc.pod)
		require.Equal(t, tc.rule, p.Rule, tc.pod)
		require.Equal(t, "c1", p.Service.Cluster)
	}

	// The pod-level and pause rows of cAdvisor are not charged: 8 pods using a
	// tenth of a core or requesting half are far from the node's 4 cores.
	var idle float64
	for _, a := range snap.Result.Allocations {
		if a.Service.Name == cost.Idle && a.Component == cost.ComponentCompute {
			idle = a.CostPerHour
		}
	}
	require.Positive(t, idle)

	// Configured keys replace the defaults, in their order.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t),
		PodLabelKeys: []string{"app", "app.kubernetes.io/name"}}, fixtureAt)
	require.Equal(t, "web", podService(t, snap, "web-abc-1").Service.Name)
	require.Equal(t, "cart-xyz", podService(t, snap, "cart-1").Service.Name)
}

// TestEngineUnpricedReasons checks each way a node goes unpriced.
func TestEngineUnpricedReasons(t *testing.T) {
	s := newStore(t)
	s.node("metal", "", "m5.xlarge", "us-east-1", 4, 16)                   // no cloud
	s.node("untyped", "aws:///us-east-1a/i-2", "", "us-east-1", 4, 16)     // no type
	s.node("nowhere", "aws:///xx/i-3", "m5.xlarge", "mars-north-1", 4, 16) // unknown region
	s.node("nocap", "gce://p/us-central1-a/n", "n2-standard-4", "us-central1", 0, 0)
	s.node("ok", "azure:///subscriptions/x/vmss/1", "Standard_D4s_v5", "eastus", 4, 16)
	s.pod("shop", "on-metal", "metal", 1, 1, "", "", "label_app", "m")
	s.pod("shop", "on-ok", "ok", 1, 1, "", "", "label_app", "ok")
	// Capacity of a node kube-state-metrics no longer lists is ignored.
	s.gauge(4, "__name__", "kube_node_status_capacity", "cluster", "c1", "node", "gone",
		"resource", "cpu")
	e := s.commit()

	snap := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t)}, fixtureAt)
	reasons := map[string]string{}
	for _, u := range snap.Unpriced {
		reasons[u.Name] = u.Reason
	}
	require.Equal(t, map[string]string{
		"metal":   cost.ReasonNoCloud,
		"untyped": cost.ReasonNoInstanceType,
		"nowhere": pricing.ReasonUnknownRegion,
		"nocap":   string(cost.ReasonInvalidQuantity),
	}, reasons)
	require.Len(t, snap.Nodes, 1)
	require.Equal(t, "azure", snap.Nodes[0].Cloud)
	require.Len(t, snap.Pods, 1, "pods on unpriced nodes are not charged")
	require.Equal(t, "c1/metal", snap.Unpriced[0].ResourceID)
	require.Equal(t, []cost.UnpricedCount{
		{Cloud: "", Reason: cost.ReasonNoCloud, Count: 1},
		{Cloud: "aws", Reason: cost.ReasonNoInstanceType, Count: 1},
		{Cloud: "aws", Reason: pricing.ReasonUnknownRegion, Count: 1},
		{Cloud: "gcp", Reason: string(cost.ReasonInvalidQuantity), Count: 1},
	}, snap.UnpricedCounts())

	// With a default cloud, the bare-metal node is looked up there.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t), DefaultCloud: "aws"},
		fixtureAt)
	require.Len(t, snap.Nodes, 2)
	require.Len(t, snap.Pods, 2)
}

// TestEngineUnsizedPrice prices a node from an override that gives no size: the
// node's capacity splits it. A node with neither is unpriced.
func TestEngineUnsizedPrice(t *testing.T) {
	s := newStore(t)
	s.node("rack1", "", "dell-r650", "dc-fra1", 32, 256)
	s.node("rack2", "", "dell-r650", "dc-fra1", 0, 0)
	s.pod("ops", "p1", "rack1", 8, 1, "", "", "label_app", "ops")
	e := s.commit()

	book, err := pricing.NewBookFromConfig(pricing.Config{Overrides: []pricing.PriceEntry{{
		Cloud: "onprem", Region: "dc-fra1", Kind: "compute", Product: "dell-r650",
		Price: 1.5, Unit: "hour",
	}}})
	require.NoError(t, err)
	snap := runEngine(t, e, cost.EngineConfig{Book: book, DefaultCloud: "onprem"}, fixtureAt)
	require.Len(t, snap.Nodes, 1)
	require.Equal(t, 1.5, snap.Nodes[0].CostPerHour)
	require.Equal(t, pricing.SourceOverride, snap.Nodes[0].PriceSource)
	require.Len(t, snap.Unpriced, 1)
	require.Equal(t, cost.ReasonUnsplittablePrice, snap.Unpriced[0].Reason)
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))
}

// failingQuerier fails every query.
type failingQuerier struct{ query.Querier }

func (failingQuerier) Query(context.Context, string, time.Time) (model.Vector, error) {
	return nil, errors.New("connection refused")
}

func TestEngineErrors(t *testing.T) {
	_, err := cost.NewEngine(nil, cost.EngineConfig{})
	require.ErrorContains(t, err, "no price book")
	_, err = cost.NewEngine(nil, cost.EngineConfig{Book: defaultBook(t),
		Identity: identity.Config{ClusterLabel: "not a label"}})
	require.ErrorContains(t, err, "cluster label")

	e, err := cost.NewEngine(failingQuerier{}, cost.EngineConfig{Book: defaultBook(t)})
	require.NoError(t, err)
	_, err = e.Run(context.Background(), fixtureAt)
	require.ErrorContains(t, err, "querying nodes: connection refused")
}

// TestEngineEmpty runs over a store with no Kubernetes data: nothing priced,
// nothing allocated, no error.
func TestEngineEmpty(t *testing.T) {
	snap := runEngine(t, newStore(t).commit(), cost.EngineConfig{Book: defaultBook(t)},
		fixtureAt)
	require.Empty(t, snap.Result.Allocations)
	require.Empty(t, snap.Nodes)
	report := snap.Report()
	require.Zero(t, report.TotalPerHour)
	require.NotNil(t, report.Services)
	require.NotNil(t, report.Unpriced)
}

func TestServiceReportOrder(t *testing.T) {
	sr := cost.ServiceReport{
		ByComponent: map[string]float64{"memory": 1, "compute": 2, "network": 0},
		ByCloud:     map[string]float64{"gcp": 1, "aws": 2},
	}
	require.Equal(t, []string{"compute", "memory", "network"}, sr.Components())
	require.Equal(t, []string{"aws", "gcp"}, sr.Clouds())
}

// TestEngineInitContainers: a native sidecar (an init container that keeps
// running) is charged like an app container, a classic init container that
// has finished is not; the pod's size counts the sidecar.
func TestEngineInitContainers(t *testing.T) {
	run := func(sidecarAsInit bool) *cost.Snapshot {
		s := newStore(t)
		s.node("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
		s.pod("shop", "web-1", "n1", 1, 0.5, "", "", "label_app", "web")
		base := []string{"cluster", "c1", "namespace", "shop", "pod", "web-1"}
		with := func(metric string, kv ...string) []string {
			return append(append([]string{"__name__", metric}, base...), kv...)
		}
		requests := "kube_pod_container_resource_requests"
		if sidecarAsInit {
			requests = "kube_pod_init_container_resource_requests"
			s.gauge(1, with("kube_pod_init_container_status_running", "container", "proxy")...)
			// A classic init container, finished: its request holds nothing.
			s.gauge(2, with("kube_pod_init_container_resource_requests", "container", "migrate",
				"resource", "cpu", "unit", "core")...)
			s.gauge(0, with("kube_pod_init_container_status_running", "container", "migrate")...)
		}
		s.gauge(0.5, with(requests, "container", "proxy", "resource", "cpu", "unit", "core")...)
		s.gauge(1<<28, with(requests, "container", "proxy", "resource", "memory",
			"unit", "byte")...)
		s.counter(0.1, with("container_cpu_usage_seconds_total", "container", "proxy")...)
		s.gauge(1<<27, with("container_memory_working_set_bytes", "container", "proxy")...)
		return runEngine(t, s.commit(), cost.EngineConfig{Book: defaultBook(t)}, fixtureAt)
	}
	asInit, asApp := run(true), run(false)
	require.Equal(t, charges(asApp), charges(asInit),
		"a running sidecar costs what the same app container costs; a finished init nothing")
	web := podService(t, asInit, "web-1")
	require.InDelta(t, 1.5, web.CPURequest, 1e-12, "the sidecar is part of the pod's size")
	require.InDelta(t, 0.25, web.MemoryRequestGiB, 1e-12, "main has no memory request")
}

// TestEngineMaxResources: beyond cost.max_resources the cheapest resources get
// no series of their own, are counted every cycle, and stay in every total.
func TestEngineMaxResources(t *testing.T) {
	s := newStore(t)
	s.node("big", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
	s.node("small", "aws:///us-east-1a/i-2", "m5.large", "us-east-1", 2, 8)
	e, err := cost.NewEngine(s.commit(), cost.EngineConfig{Book: defaultBook(t), MaxResources: 1})
	require.NoError(t, err)
	e.DisableRecommendations()
	for cycle := int64(1); cycle <= 2; cycle++ {
		v, err := e.Run(context.Background(), fixtureAt)
		require.NoError(t, err)
		snap := v.(*cost.Snapshot)
		require.Len(t, snap.Result.Resources, 2)
		require.Len(t, snap.SeriesResources, 1)
		require.Equal(t, "aws:///us-east-1a/i-1", snap.SeriesResources[0].ID, "the dearest")
		require.Equal(t, cycle, snap.ResourcesDropped)
		require.InDelta(t, 0.192+0.096, snap.Report().TotalPerHour, 1e-12)
	}
}
