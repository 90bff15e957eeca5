package cost

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
)

// EngineName names the cost engine in self-metrics, logs and the snapshot.
const EngineName = "cost"

// DefaultUsageWindow is the range of rate() over CPU usage counters.
const DefaultUsageWindow = 5 * time.Minute

// DefaultPodLabelKeys are the pod label keys that name a service, in order.
var DefaultPodLabelKeys = []string{"app.kubernetes.io/name", "app", "service"}

// Reasons a node is not priced, besides the price book's own (pricing.Reason*)
// and the allocation's (SkipReason): they are values of the reason label of
// stratus_cost_unpriced_resources.
const (
	// ReasonNoCloud: the node's provider id names no known cloud and no default
	// cloud is configured.
	ReasonNoCloud = "no_cloud"
	// ReasonNoInstanceType: kube_node_labels gives the node no instance type
	// (kube-state-metrics needs --metric-labels-allowlist for it).
	ReasonNoInstanceType = "no_instance_type"
	// ReasonUnsplittablePrice: the price has no size and the node no capacity
	// to split it between CPU and memory with.
	ReasonUnsplittablePrice = "unsplittable_price"
)

// How a pod's service was found: values of PodAttribution.Rule.
const (
	// RuleLabel: a configured pod label key (RuleLabel + ":" + key).
	RuleLabel = "label"
	// RuleOwner: the owning workload (RuleOwner + ":" + kind).
	RuleOwner = "owner"
	// RuleNone: neither; the pod is charged to Unallocated.
	RuleNone = "none"
)

// EngineConfig configures an Engine.
type EngineConfig struct {
	// Book prices the nodes. Required.
	Book *pricing.Book
	// Identity names the cluster label and the aliases applied to every
	// service found.
	Identity identity.Config
	// PodLabelKeys are the Kubernetes pod label keys whose value names the
	// service, tried in order; empty means DefaultPodLabelKeys.
	PodLabelKeys []string
	// DefaultCloud is the cloud of nodes whose provider id names none (bare
	// metal, kind, k3s); empty leaves them unpriced.
	DefaultCloud string
	// UsageWindow is the rate() window of CPU usage; zero means
	// DefaultUsageWindow.
	UsageWindow time.Duration
	// TagKeys say which cloud tags name the service, team and owner of an
	// inventory resource; empty lists take identity's defaults. Their team and
	// owner keys are read from pod labels too.
	TagKeys identity.TagKeys
	// MaxResources is how many resources get a series of their own in
	// stratus_resource_cost_per_hour, the most expensive first; zero means
	// DefaultMaxResources. Every resource is in the totals whatever the cap.
	MaxResources int
	// MaxFeatures is how many features of a service are kept apart in the
	// cost per feature; zero means DefaultMaxFeatures.
	MaxFeatures int
	// Inventory, when set, returns the resources outside Kubernetes to price
	// (virtual machines, databases, volumes, ...). It is called once a cycle.
	Inventory func() []inventory.Resource
	// Recommendations sets the thresholds of the savings recommendations, or
	// turns them and their two queries off.
	Recommendations RecommendConfig
	// CloudUsage says how serverless functions and Fargate and Cloud Run tasks
	// are read from yace and stackdriver_exporter series (see
	// CloudUsageConfig); the zero value reads them with the defaults.
	CloudUsage CloudUsageConfig
	// Calibration, when set, gives the factors learned from billing exports
	// (see Calibration); each node's price is multiplied by its cloud's factor
	// after the discount. It is called once a cycle.
	Calibration func() Calibration
	Logger      *slog.Logger
}

// Engine is the cost engine: each cycle it reads nodes, pods, requests and
// usage from Prometheus with a fixed set of queries, prices the nodes from the
// price book and allocates their cost to services.
type Engine struct {
	querier query.Querier
	cfg     EngineConfig

	unitCostsDisabled bool
	// resourcesDropped counts the resources left without a series by
	// MaxResources, every cycle they are.
	resourcesDropped atomic.Int64

	// usage caches the p95 usage of the recommendations: a percentile over a
	// week moves little in an hour, and its subqueries are the heaviest a cycle
	// runs, so they run at most every UsageRefresh.
	mu      sync.Mutex
	usage   Usage
	usageAt time.Time
}

// UsageRefresh is how often the p95 usage behind the recommendations is read
// again; cycles in between reuse it.
const UsageRefresh = time.Hour

// NewEngine returns a cost engine that queries q.
func NewEngine(q query.Querier, cfg EngineConfig) (*Engine, error) {
	if cfg.Book == nil {
		return nil, errors.New("cost engine: no price book")
	}
	if len(cfg.PodLabelKeys) == 0 {
		cfg.PodLabelKeys = DefaultPodLabelKeys
	}
	if cfg.UsageWindow <= 0 {
		cfg.UsageWindow = DefaultUsageWindow
	}
	if cfg.Identity.ClusterLabel == "" {
		cfg.Identity.ClusterLabel = identity.DefaultClusterLabel
	}
	if !model.LegacyValidation.IsValidLabelName(cfg.Identity.ClusterLabel) {
		return nil, fmt.Errorf("cost engine: cluster label %q is not a valid label name",
			cfg.Identity.ClusterLabel)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Recommendations = cfg.Recommendations.withDefaults()
	if cfg.MaxFeatures <= 0 {
		cfg.MaxFeatures = DefaultMaxFeatures
	}
	if cfg.MaxResources <= 0 {
		cfg.MaxResources = DefaultMaxResources
	}
	return &Engine{querier: q, cfg: cfg}, nil
}

// DisableRecommendations turns the savings recommendations and their queries
// off, for engines run many times over past windows.
func (e *Engine) DisableRecommendations() { e.cfg.Recommendations.Disabled = true }

// DisableUnitCosts turns cost per request and per feature and their queries
// off, for engines run many times over past windows.
func (e *Engine) DisableUnitCosts() { e.unitCostsDisabled = true }

// DisableCalibration makes the engine price nodes without the learned
// calibration: reconciliation measures the estimates as they are, or it would
// learn from its own correction.
func (e *Engine) DisableCalibration() { e.cfg.Calibration = nil }

// Name implements analysis.Engine.
func (e *Engine) Name() string { return EngineName }

// Snapshot is the result of one cost cycle. It is immutable once returned.
type Snapshot struct {
	At       time.Time
	Currency string
	// Result is the allocation: every allocation, priced resource and total.
	Result *Result
	// Nodes are the nodes priced, with their list price and discount, sorted by
	// cluster and name.
	Nodes []PricedNode
	// Unpriced are the nodes whose cost is absent from every total: no price,
	// or data the allocation could not use. Sorted by cluster and name.
	Unpriced []UnpricedNode
	// Pods are the running pods charged, with the service each was charged
	// to and the rule that found it. Sorted.
	Pods []PodAttribution
	// SeriesResources are the resources that get a series of their own: all
	// of Result.Resources, or the MaxResources most expensive.
	SeriesResources []ResourceCost
	// ResourcesDropped counts, since the engine started, the resources a cycle
	// left without a series of their own (stratus_series_dropped_total).
	ResourcesDropped int64
	// UnitCosts are the cost per request and per feature of the services
	// that serve requests, sorted by service.
	UnitCosts []UnitCost
	// UnitCostError says why request rates could not be read.
	UnitCostError string
	// Resources are the inventory resources priced, sorted by cloud and id.
	Resources []PricedResource
	// ServiceInfo is the team and owner of each service whose pod labels or
	// resource tags say them.
	ServiceInfo map[identity.Service]identity.Metadata
	// Recommendations are the ways to save found, largest savings first.
	Recommendations []Recommendation
	// SkippedRecommendations are the commitment and spot candidates left
	// without a recommendation, and why (no price to rest on, short history).
	SkippedRecommendations []SkippedRecommendation
	// RecommendationError says why p95 usage could not be read; the cost
	// figures stand without it.
	RecommendationError string
	// Queries is how many PromQL queries the cycle ran.
	Queries int
}

// PricedNode is a node and the price it was charged at.
type PricedNode struct {
	Cluster, Name, ResourceID   string
	Cloud, Region, InstanceType string
	ListPricePerHour            float64
	DiscountPercent             float64
	// CalibrationFactor is the billed/estimated factor applied, 1 without one.
	CalibrationFactor float64
	// CostPerHour is ListPricePerHour less the discount, times the calibration.
	CostPerHour                   float64
	PriceSource, SplitSource      string
	CPUPerCoreHour, MemPerGiBHour float64
	// VCPU and MemoryGiB are the size of the node's type, from its price (or
	// its capacity where the price has none); AllocatableCores and
	// AllocatableMemoryGiB what Kubernetes lets pods use of it.
	VCPU, MemoryGiB                        float64
	AllocatableCores, AllocatableMemoryGiB float64

	// Purchase is how the node is bought, from its capacity labels:
	// pricing.Spot or pricing.OnDemand.
	Purchase pricing.Purchase
	// PricedAs says how ListPricePerHour was found (PricedAs*): a spot node
	// priced PricedAsOnDemand had no spot price.
	PricedAs string
}

// UnpricedNode is a node whose cost is unknown, and why.
type UnpricedNode struct {
	// Type is the resource_type of a resource that is not a node ("vm",
	// "function", ...); empty for a node.
	Type                        string
	Cluster, Name, ResourceID   string
	Cloud, Region, InstanceType string
	Reason                      string
	Detail                      string
}

// PodAttribution says which service a running pod was charged to.
type PodAttribution struct {
	Cluster, Namespace, Pod, Node string
	Service                       identity.Service
	// Rule is "label:<key>", "owner:<kind>" or "none".
	Rule string
	// CPURequest and MemoryRequestGiB are the sums of the known requests of the
	// pod's app containers and running init containers (native sidecars), in
	// cores and GiB: the size of one replica.
	CPURequest, MemoryRequestGiB float64
}

// UnpricedCount is the number of unpriced resources of one cloud and reason.
type UnpricedCount struct {
	Cloud, Reason string
	Count         int
}

// UnpricedCounts counts the unpriced nodes per cloud and reason, sorted.
func (s *Snapshot) UnpricedCounts() []UnpricedCount {
	return countPairs(s.Unpriced, func(u UnpricedNode) [2]string {
		return [2]string{u.Cloud, u.Reason}
	}, func(k [2]string, n int) UnpricedCount {
		return UnpricedCount{Cloud: k[0], Reason: k[1], Count: n}
	})
}

// countPairs counts items per pair of strings and returns one count per pair,
// sorted by the pair.
func countPairs[T, C any](items []T, key func(T) [2]string, count func([2]string, int) C) []C {
	counts := map[[2]string]int{}
	for _, it := range items {
		counts[key(it)]++
	}
	out := make([]C, 0, len(counts))
	for _, k := range slices.SortedFunc(maps.Keys(counts), func(a, b [2]string) int {
		return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1]))
	}) {
		out = append(out, count(k, counts[k]))
	}
	return out
}

// Run implements analysis.Engine: one cost cycle at at, returning a *Snapshot.
// A failed query fails the cycle (the scheduler keeps serving the last good
// result); so does a violation of conservation, which would be a bug.
func (e *Engine) Run(ctx context.Context, at time.Time) (any, error) {
	obs, err := e.observe(ctx, at)
	if err != nil {
		return nil, err
	}

	// The calibration is read once a cycle, for the nodes and the inventory.
	var cal Calibration // no factors: Factor answers 1
	if e.cfg.Calibration != nil {
		cal = e.cfg.Calibration()
	}
	nodes, priced, unpriced := e.priceNodes(obs, cal)
	containers, pods := e.containers(obs, priced)
	result, err := Allocate(Input{Nodes: nodes, Containers: containers})
	if err != nil {
		return nil, fmt.Errorf("cost allocation: %w", err)
	}
	// Bare names from tags join the services of the pods charged.
	resolver := podResolver(e.cfg.Identity, pods)
	var resources []inventory.Resource
	if e.cfg.Inventory != nil {
		resources = e.cfg.Inventory()
	}
	serverless, serverlessUnpriced, serverlessMeta, serverlessQueries, err :=
		e.observeCloudUsage(ctx, at, resolver, resources)
	obs.queries += serverlessQueries
	if err != nil {
		return nil, err
	}
	inv, err := e.allocateInventory(resources, nodes, resolver, serverless, cal)
	if err != nil {
		return nil, err
	}
	inv.metadata.Merge(serverlessMeta)
	unpriced = append(unpriced, inv.unpriced...)
	unpriced = append(unpriced, serverlessUnpriced...)
	if result, err = Merge(result, inv.result, serverless); err != nil {
		return nil, fmt.Errorf("cost allocation: %w", err)
	}
	if err := result.CheckConservation(ConservationTolerance); err != nil {
		return nil, fmt.Errorf("cost allocation is not conserved: %w", err)
	}

	// Nodes the allocation skipped are as absent from the totals as nodes
	// with no price.
	skipped := map[string]Skip{}
	for _, s := range result.Skipped {
		if s.Kind == "node" {
			skipped[s.ID] = s
		}
	}
	kept := priced[:0]
	for _, n := range priced {
		s, ok := skipped[Node{Cluster: n.Cluster, Name: n.Name}.id()]
		if !ok {
			kept = append(kept, n)
			continue
		}
		unpriced = append(unpriced, UnpricedNode{
			Cluster: n.Cluster, Name: n.Name, ResourceID: n.ResourceID,
			Cloud: n.Cloud, Region: n.Region, InstanceType: n.InstanceType,
			Reason: string(s.Reason), Detail: s.Detail,
		})
	}
	sortNodes(unpriced, func(u UnpricedNode) (string, string) { return u.Cluster, u.Name })
	for _, u := range unpriced {
		e.cfg.Logger.Debug("node not priced; its cost is left out of the totals",
			"cluster", u.Cluster, "node", u.Name, "cloud", u.Cloud, "region", u.Region,
			"instance_type", u.InstanceType, "reason", u.Reason)
	}

	snap := &Snapshot{
		At:       at,
		Currency: e.cfg.Book.Currency(),
		Result:   result,
		Nodes:    kept,
		Unpriced: unpriced,
		Pods:     pods,
		Queries:  obs.queries,

		Resources:   inv.priced,
		ServiceInfo: e.serviceInfo(obs, pods, &inv.metadata),
	}
	snap.SeriesResources = capResources(result.Resources, e.cfg.MaxResources)
	dropped := len(result.Resources) - len(snap.SeriesResources)
	snap.ResourcesDropped = e.resourcesDropped.Add(int64(dropped))
	if dropped > 0 {
		e.cfg.Logger.Debug("resources left without a series of their own; their cost is "+
			"in every total", "dropped", dropped, "max_resources", e.cfg.MaxResources)
	}
	if !e.unitCostsDisabled {
		e.addUnitCosts(ctx, snap, pods)
	}
	if !e.cfg.Recommendations.Disabled {
		e.recommend(ctx, snap, containers, obs)
	}
	return snap, nil
}

// DefaultMaxResources is the default of EngineConfig.MaxResources: the scale
// the design targets, 10 000 resources, without a configuration change.
const DefaultMaxResources = 10000

// capResources returns the max most expensive resources (ties by cloud and
// id), or all of them when there are no more.
func capResources(resources []ResourceCost, maxResources int) []ResourceCost {
	if len(resources) <= maxResources {
		return resources
	}
	sorted := slices.Clone(resources)
	slices.SortFunc(sorted, func(a, b ResourceCost) int {
		return cmp.Or(cmp.Compare(b.CostPerHour, a.CostPerHour), cmp.Compare(a.Cloud, b.Cloud),
			cmp.Compare(a.ID, b.ID))
	})
	return sorted[:maxResources]
}

// addUnitCosts adds cost per request and per feature to snap. A failed query
// leaves them out and says why: the cost figures do not depend on them.
func (e *Engine) addUnitCosts(ctx context.Context, snap *Snapshot, pods []PodAttribution) {
	units, queries, err := e.unitCosts(ctx, snap.At, snap.Result, pods)
	snap.Queries += queries
	if err != nil {
		snap.UnitCostError = err.Error()
		e.cfg.Logger.Warn("request rates not read; no cost per request or feature this cycle",
			"source", "prometheus", "err", err)
		return
	}
	snap.UnitCosts = units
}

// recommend reads p95 usage and adds the recommendations to snap. A failed
// query leaves the snapshot without them, and says why: the cost figures do
// not depend on them, and a week-long subquery is the likeliest to time out.
func (e *Engine) recommend(ctx context.Context, snap *Snapshot, containers []Container,
	obs *observations,
) {
	usage, queries, err := e.cachedUsage(ctx, snap.At)
	snap.Queries += queries
	if err != nil {
		snap.RecommendationError = err.Error()
		e.cfg.Logger.Warn("p95 usage not read; no savings recommendations this cycle",
			"source", "prometheus", "err", err)
		return
	}
	found := FindRecommendations(RecommendInput{
		Nodes: snap.Nodes, Containers: containers, Usage: usage,
		ComputePrices: e.cfg.Book.ComputePrices, Lookup: e.cfg.Book.Lookup,
		Workloads: nodeWorkloads(obs), Config: e.cfg.Recommendations,
	})
	snap.Recommendations = found.Recommendations
	snap.SkippedRecommendations = found.Skipped
	logSkippedRecommendations(e.cfg.Logger, found.Skipped)
}

// cachedUsage returns the p95 usage read at most UsageRefresh before at, or reads
// it again.
func (e *Engine) cachedUsage(ctx context.Context, at time.Time) (Usage, int, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if age := at.Sub(e.usageAt); !e.usageAt.IsZero() && age >= 0 && age < UsageRefresh {
		return e.usage, 0, nil
	}
	usage, queries, err := e.observeUsage(ctx, at)
	if err == nil {
		e.usage, e.usageAt = usage, at
	}
	return usage, queries, err
}

// observeUsage runs the two p95 queries and the commitment query. The history
// a percentile covers is the lookback clamped to the steps with data; memory
// has no count of its own and takes the CPU's.
func (e *Engine) observeUsage(ctx context.Context, at time.Time) (Usage, int, error) {
	cluster := e.cfg.Identity.ClusterLabel
	cpu, memory := p95Queries(cluster, e.cfg.UsageWindow, e.cfg.Recommendations.Lookback)
	containers := map[ContainerRef]*UsageP95{}
	nodes := map[NodeRef]*UsageP95{}
	// Series with a pod label are containers' and the others nodes'.
	usageOf := func(s *model.Sample) *UsageP95 {
		l := func(name string) string { return string(s.Metric[model.LabelName(name)]) }
		if _, ok := s.Metric["pod"]; ok {
			return getOrNewUsage(containers,
				ContainerRef{l(cluster), l("namespace"), l("pod"), l("container")})
		}
		return getOrNewUsage(nodes, NodeRef{l(cluster), l("node")})
	}
	lookback := e.cfg.Recommendations.Lookback
	steps := []struct {
		name, expr string
		each       func(s *model.Sample, u *UsageP95)
	}{
		{"p95 CPU usage", cpu, func(s *model.Sample, u *UsageP95) {
			if s.Metric[statLabel] == statSamples {
				u.History = min(lookback, time.Duration(s.Value)*recommendationStep)
				return
			}
			u.CPUCores = float64(s.Value)
		}},
		{"p95 memory usage", memory, func(s *model.Sample, u *UsageP95) {
			u.MemoryGiB = float64(s.Value) / bytesPerGiB
		}},
	}
	queries := 0
	for _, step := range steps {
		vec, err := e.querier.Query(ctx, step.expr, at)
		queries++
		if err != nil {
			return Usage{}, queries, fmt.Errorf("cost: querying %s: %w", step.name, err)
		}
		for _, s := range vec {
			step.each(s, usageOf(s))
		}
	}
	usage := Usage{Containers: map[ContainerRef]UsageP95{}, Nodes: map[NodeRef]UsageP95{}}
	for k, u := range containers {
		usage.Containers[k] = *u
	}
	for k, u := range nodes {
		usage.Nodes[k] = *u
	}
	steady, err := e.observeSteadyNodes(ctx, at)
	queries++
	if err != nil {
		return Usage{}, queries, err
	}
	usage.SteadyNodes = steady
	return usage, queries, nil
}

// getOrNewUsage returns the usage under k, unknown until a query says.
func getOrNewUsage[K comparable](m map[K]*UsageP95, k K) *UsageP95 {
	u, ok := m[k]
	if !ok {
		u = &UsageP95{CPUCores: math.NaN(), MemoryGiB: math.NaN()}
		m[k] = u
	}
	return u
}

// observedNode is what the queries said of one node.
type observedNode struct {
	cluster, name            string
	providerID               string
	instanceType, region     string
	purchase                 pricing.Purchase // from the capacity labels
	cpuCores, memoryGiB      float64
	hasCPU, hasMemory, known bool
}

type podKey struct{ cluster, namespace, pod string }

type observedContainer struct {
	pod                    podKey
	name                   string
	cpuRequest, memRequest float64
	cpuUsage, memUsage     float64
	// init marks an init container (kube_pod_init_container_*), running one
	// that runs now.
	init, running bool
}

type ownerRef struct{ kind, name string }

// observations is what one cycle read from Prometheus.
type observations struct {
	nodes      map[nodeKey]*observedNode
	podNode    map[podKey]string
	running    map[podKey]bool
	containers map[containerKey]*observedContainer
	podLabels  map[podKey]map[string]string // label key → value
	podOwner   map[podKey]ownerRef
	rsOwner    map[podKey]ownerRef // pod field holds the ReplicaSet name
	queries    int
}

// observe runs the cycle's queries.
func (e *Engine) observe(ctx context.Context, at time.Time) (*observations, error) {
	o := &observations{
		nodes:      map[nodeKey]*observedNode{},
		podNode:    map[podKey]string{},
		running:    map[podKey]bool{},
		containers: map[containerKey]*observedContainer{},
		podLabels:  map[podKey]map[string]string{},
		podOwner:   map[podKey]ownerRef{},
		rsOwner:    map[podKey]ownerRef{},
	}
	cl := model.LabelName(e.cfg.Identity.ClusterLabel)
	label := func(s *model.Sample, name model.LabelName) string { return string(s.Metric[name]) }
	node := func(s *model.Sample) *observedNode {
		k := nodeKey{label(s, cl), label(s, "node")}
		n, ok := o.nodes[k]
		if !ok {
			n = &observedNode{cluster: k.cluster, name: k.name}
			o.nodes[k] = n
		}
		return n
	}
	pod := func(s *model.Sample) podKey {
		return podKey{label(s, cl), label(s, "namespace"), label(s, "pod")}
	}
	container := func(s *model.Sample) *observedContainer {
		p := pod(s)
		k := containerKey{p.cluster, p.namespace, p.pod, label(s, "container")}
		c, ok := o.containers[k]
		if !ok {
			c = &observedContainer{pod: p, name: k.name, cpuRequest: math.NaN(),
				memRequest: math.NaN(), cpuUsage: math.NaN(), memUsage: math.NaN()}
			o.containers[k] = c
		}
		return c
	}
	cluster := e.cfg.Identity.ClusterLabel

	steps := []struct {
		name, expr string
		each       func(s *model.Sample)
	}{
		{"nodes", expr(queryNodeInfo, cluster), func(s *model.Sample) {
			n := node(s)
			n.known, n.providerID = true, label(s, "provider_id")
		}},
		{"node labels", expr(queryNodeLabels, cluster, capacityLabelGrouping()),
			func(s *model.Sample) {
				n := node(s)
				n.known = true
				n.instanceType = label(s, "label_node_kubernetes_io_instance_type")
				n.region = label(s, "label_topology_kubernetes_io_region")
				n.purchase = capacityOf(func(name string) string {
					return label(s, model.LabelName(name))
				})
			}},
		{"node capacity", expr(queryNodeCapacity, cluster), func(s *model.Sample) {
			n := node(s)
			switch label(s, "resource") {
			case "cpu":
				n.cpuCores, n.hasCPU = float64(s.Value), true
			case "memory":
				n.memoryGiB, n.hasMemory = float64(s.Value)/bytesPerGiB, true
			}
		}},
		{"pod nodes", expr(queryPodNode, cluster), func(s *model.Sample) {
			o.podNode[pod(s)] = label(s, "node")
		}},
		{"running pods", expr(queryRunning, cluster), func(s *model.Sample) {
			if label(s, initLabel) != "" {
				c := container(s)
				c.init, c.running = true, true
				return
			}
			o.running[pod(s)] = true
		}},
		{"requests", expr(queryRequests, cluster), func(s *model.Sample) {
			c := container(s)
			c.init = c.init || label(s, initLabel) != ""
			switch label(s, "resource") {
			case "cpu":
				c.cpuRequest = float64(s.Value)
			case "memory":
				c.memRequest = float64(s.Value) / bytesPerGiB
			}
		}},
		{"CPU usage", expr(queryCPUUsage, cluster, rangeSelector(e.cfg.UsageWindow)),
			func(s *model.Sample) { container(s).cpuUsage = float64(s.Value) }},
		{"memory usage", expr(queryMemoryUsage, cluster),
			func(s *model.Sample) { container(s).memUsage = float64(s.Value) / bytesPerGiB }},
		{"pod labels", expr(queryPodLabels, cluster, podLabelGrouping(e.podLabelKeys())),
			func(s *model.Sample) {
				values := map[string]string{}
				for _, key := range e.podLabelKeys() {
					if v := label(s, model.LabelName(podLabelName(key))); v != "" {
						values[key] = v
					}
				}
				if len(values) > 0 {
					o.podLabels[pod(s)] = values
				}
			}},
		{"pod owners", expr(queryPodOwner, cluster), func(s *model.Sample) {
			o.podOwner[pod(s)] = ownerRef{label(s, "owner_kind"), label(s, "owner_name")}
		}},
		{"replica set owners", expr(queryReplicaSetOwner, cluster), func(s *model.Sample) {
			k := podKey{label(s, cl), label(s, "namespace"), label(s, "replicaset")}
			o.rsOwner[k] = ownerRef{label(s, "owner_kind"), label(s, "owner_name")}
		}},
	}
	for _, step := range steps {
		vec, err := e.querier.Query(ctx, step.expr, at)
		o.queries++
		if err != nil {
			return nil, fmt.Errorf("cost: querying %s: %w", step.name, err)
		}
		for _, s := range vec {
			step.each(s)
		}
	}
	return o, nil
}

// cloudOf reads the cloud from a node's provider id.
func (e *Engine) cloudOf(providerID string) string {
	for prefix, cloud := range map[string]string{
		"aws://": "aws", "gce://": "gcp", "azure://": "azure",
	} {
		if strings.HasPrefix(providerID, prefix) {
			return cloud
		}
	}
	return e.cfg.DefaultCloud
}

// priceNodes looks up each node's price, applies its cloud's discount and
// splits it between CPU and memory.
//
// Discounts: a node is billed as one machine shared by many services, so the
// discount of its cloud (pricing.Book.Discount with no account and no service)
// lowers its price before allocation, and every service's share and idle
// shrink with it: conservation holds against the discounted price. Account-
// and service-scoped discounts do not apply to shared nodes.
func (e *Engine) priceNodes(o *observations, cal Calibration,
) ([]Node, []PricedNode, []UnpricedNode) {
	var (
		nodes    []Node
		priced   []PricedNode
		unpriced []UnpricedNode
	)
	for _, k := range slices.SortedFunc(maps.Keys(o.nodes), compareNodeKeys) {
		n := o.nodes[k]
		if !n.known {
			continue // capacity without the node's own series: a node going away
		}
		cloud := e.cloudOf(n.providerID)
		resourceID := Node{Cluster: n.cluster, Name: n.name, ResourceID: n.providerID}.resourceID()
		u := UnpricedNode{
			Cluster: n.cluster, Name: n.name, ResourceID: resourceID,
			Cloud: cloud, Region: n.region, InstanceType: n.instanceType,
		}
		if cloud == "" {
			u.Reason, u.Detail = ReasonNoCloud, fmt.Sprintf("provider id %q", n.providerID)
			unpriced = append(unpriced, u)
			continue
		}
		if n.instanceType == "" {
			u.Reason = ReasonNoInstanceType
			u.Detail = "kube_node_labels has no label_node_kubernetes_io_instance_type"
			unpriced = append(unpriced, u)
			continue
		}
		purchase := cmp.Or(n.purchase, pricing.OnDemand)
		price, pricedAs, err := e.lookupNodePrice(pricing.Key{
			Cloud: cloud, Region: n.region, Kind: pricing.KindCompute, Product: n.instanceType,
		}, purchase)
		if err != nil {
			u.Reason, u.Detail = pricing.NoPriceReason(err), err.Error()
			unpriced = append(unpriced, u)
			continue
		}

		capacity := func(v float64, ok bool) float64 {
			if !ok {
				return math.NaN() // the allocation skips it as an invalid quantity
			}
			return v
		}
		cores, mem := capacity(n.cpuCores, n.hasCPU), capacity(n.memoryGiB, n.hasMemory)
		if !(price.VCPU > 0 && price.MemoryGiB > 0) {
			// A price file may not size its machines: the node's capacity
			// does, for the split only.
			price.VCPU, price.MemoryGiB = cores, mem
		}
		cpuRate, memRate, split, err := e.splitNodePrice(price)
		if err != nil {
			u.Reason, u.Detail = ReasonUnsplittablePrice, err.Error()
			unpriced = append(unpriced, u)
			continue
		}

		discount := e.cfg.Book.Discount(cloud, "", "")
		calibration := cal.Factor(cloud, price.Currency)
		factor := (1 - discount/100) * calibration
		pn := PricedNode{
			Cluster: n.cluster, Name: n.name, ResourceID: resourceID,
			Cloud: cloud, Region: n.region, InstanceType: n.instanceType,
			ListPricePerHour: price.Value, DiscountPercent: discount,
			CalibrationFactor: calibration,
			CostPerHour:       price.Value * factor, PriceSource: price.Source, SplitSource: split,
			CPUPerCoreHour: cpuRate * factor, MemPerGiBHour: memRate * factor,
			VCPU: price.VCPU, MemoryGiB: price.MemoryGiB,
			AllocatableCores: cores, AllocatableMemoryGiB: mem,
			Purchase: purchase, PricedAs: pricedAs,
		}
		priced = append(priced, pn)
		nodes = append(nodes, Node{
			Name: n.name, Cluster: n.cluster, Cloud: cloud, Region: n.region,
			InstanceType: n.instanceType, ResourceID: resourceID,
			PricePerHour: pn.CostPerHour, CPURate: pn.CPUPerCoreHour, MemoryRate: pn.MemPerGiBHour,
			CPUCores: cores, MemoryGiB: mem,
		})
	}
	return nodes, priced, unpriced
}

// containers returns the containers of running pods on priced nodes, each with
// its service, and the pods charged. Containers on unpriced nodes are left
// out: their node's cost is not in the totals, so neither is their share.
func (e *Engine) containers(o *observations, priced []PricedNode) ([]Container, []PodAttribution) {
	onPriced := map[nodeKey]bool{}
	for _, n := range priced {
		onPriced[nodeKey{n.Cluster, n.Name}] = true
	}
	resolver := identity.NewResolver(e.cfg.Identity)
	services := map[podKey]PodAttribution{}

	var out []Container
	for _, k := range slices.SortedFunc(maps.Keys(o.containers), compareContainerKeys) {
		c := o.containers[k]
		if !o.running[c.pod] {
			continue
		}
		nodeName := o.podNode[c.pod]
		if !onPriced[nodeKey{c.pod.cluster, nodeName}] {
			continue
		}
		attr, ok := services[c.pod]
		if !ok {
			attr = e.attribute(o, c.pod, resolver)
			attr.Node = nodeName
		}
		if !c.init || c.running {
			attr.CPURequest += knownOrZero(c.cpuRequest)
			attr.MemoryRequestGiB += knownOrZero(c.memRequest)
		}
		services[c.pod] = attr
		out = append(out, Container{
			Service:   attr.Service,
			Cluster:   c.pod.cluster,
			Node:      nodeName,
			Namespace: c.pod.namespace,
			Pod:       c.pod.pod,
			Name:      c.name,
			// An init container holds its request while it runs: a native
			// sidecar for the life of the pod, a classic one at the start.
			Init:             c.init,
			Running:          c.running,
			CPURequest:       c.cpuRequest,
			CPUUsage:         c.cpuUsage,
			MemoryRequestGiB: c.memRequest,
			MemoryUsageGiB:   c.memUsage,
		})
	}

	pods := slices.Collect(maps.Values(services))
	slices.SortFunc(pods, func(a, b PodAttribution) int {
		return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace),
			cmp.Compare(a.Pod, b.Pod))
	})
	return out, pods
}

// attribute finds a pod's service: the first configured label key the pod
// carries; else its owning workload (a ReplicaSet's Deployment, or the
// StatefulSet, DaemonSet or Job itself); else Unallocated. The service takes
// the pod's namespace and cluster, and configured aliases apply.
func (e *Engine) attribute(o *observations, p podKey, r *identity.Resolver) PodAttribution {
	attr := PodAttribution{Cluster: p.cluster, Namespace: p.namespace, Pod: p.pod, Rule: RuleNone}
	name := ""
	labels := o.podLabels[p]
	for _, key := range e.cfg.PodLabelKeys {
		if v := labels[key]; v != "" {
			name, attr.Rule = v, RuleLabel+":"+key
			break
		}
	}
	if name == "" {
		if owner, ok := o.podOwner[p]; ok && owner.name != "" {
			switch owner.kind {
			case "ReplicaSet":
				name, attr.Rule = owner.name, RuleOwner+":ReplicaSet"
				rs := podKey{p.cluster, p.namespace, owner.name}
				if up, ok := o.rsOwner[rs]; ok && up.name != "" {
					name, attr.Rule = up.name, RuleOwner+":"+up.kind
				}
			case "StatefulSet", "DaemonSet", "Job", "ReplicationController":
				name, attr.Rule = owner.name, RuleOwner+":"+owner.kind
			}
		}
	}
	if name == "" {
		attr.Service = identity.Service{Cluster: p.cluster, Namespace: p.namespace,
			Name: Unallocated}
		return attr
	}
	attr.Service = r.Resolve(identity.Service{Cluster: p.cluster, Namespace: p.namespace,
		Name: name})
	return attr
}

// knownOrZero returns v, or 0 for an unknown (NaN) or invalid quantity.
func knownOrZero(v float64) float64 {
	if !(v >= 0) || math.IsInf(v, 1) {
		return 0
	}
	return v
}

func compareNodeKeys(a, b nodeKey) int {
	return cmp.Or(cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.name, b.name))
}

func compareContainerKeys(a, b containerKey) int {
	return cmp.Or(cmp.Compare(a.cluster, b.cluster), cmp.Compare(a.namespace, b.namespace),
		cmp.Compare(a.pod, b.pod), cmp.Compare(a.name, b.name))
}

func sortNodes[T any](s []T, key func(T) (string, string)) {
	slices.SortFunc(s, func(a, b T) int {
		ac, an := key(a)
		bc, bn := key(b)
		return cmp.Or(cmp.Compare(ac, bc), cmp.Compare(an, bn))
	})
}
