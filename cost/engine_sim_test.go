package cost_test

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
)

// simStart anchors every simulated world of these tests.
var simStart = time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)

// snapshotPrices are the embedded snapshot's prices of the simulated worlds'
// node types, as pricing/snapshot/compute.csv lists them.
var snapshotPrices = map[string]float64{
	"aws/us-east-1/m5.xlarge":       0.192,
	"gcp/us-central1/n2-standard-4": 0.194236,
	"azure/eastus/Standard_D4s_v5":  0.192,
}

// simWorld returns a world of an hour at one-minute steps fed into an embedded
// store the way the demo feeds it (staleness markers included), and its end.
// Only kube-state-metrics and cAdvisor are emitted: the cost engine reads
// nothing else, and the mesh families would only slow the test.
func simWorld(t testing.TB, opts sim.Options) (*query.Embedded, *sim.World, time.Time) {
	t.Helper()
	opts.Start, opts.Duration, opts.Step = simStart, time.Hour, time.Minute
	opts.Telemetry = []string{}
	w, err := sim.New(opts)
	require.NoError(t, err)
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	end := simStart.Add(time.Hour)
	batch := e.Appender(context.Background())
	require.NoError(t, w.Advance(end, batch.Append))
	require.NoError(t, batch.Commit())
	return e, w, end
}

// countingQuerier counts the queries an engine makes.
type countingQuerier struct {
	query.Querier
	queries atomic.Int64
}

func (q *countingQuerier) Query(ctx context.Context, expr string, ts time.Time) (model.Vector, error) {
	q.queries.Add(1)
	return q.Querier.Query(ctx, expr, ts)
}

func defaultBook(t testing.TB) *pricing.Book {
	t.Helper()
	book, err := pricing.NewBookFromConfig(pricing.Config{})
	require.NoError(t, err)
	return book
}

func runEngine(t testing.TB, q query.Querier, cfg cost.EngineConfig, at time.Time) *cost.Snapshot {
	t.Helper()
	e, err := cost.NewEngine(q, cfg)
	require.NoError(t, err)
	require.Equal(t, cost.EngineName, e.Name())
	v, err := e.Run(context.Background(), at)
	require.NoError(t, err)
	return v.(*cost.Snapshot)
}

// TestEngineSimulatedWorld runs the engine over simulated worlds, with and without
// kube-state-metrics' label allowlist, and checks conservation per cloud, that
// every running pod is charged to the service the truth gives it, and that nodes
// are priced from the embedded snapshot.
func TestEngineSimulatedWorld(t *testing.T) {
	for _, scenario := range []string{"startup", "steady"} {
		for _, allowlist := range []bool{true, false} {
			name := fmt.Sprintf("%s/allowlist=%v", scenario, allowlist)
			t.Run(name, func(t *testing.T) {
				e, w, at := simWorld(t, sim.Options{Scenario: scenario, Seed: 1,
					KSMLabelsAllowlist: allowlist})
				snap := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t)}, at)
				truth := w.Truth()
				truthPtr := &truth

				checkConservation(t, snap)
				checkPods(t, snap, truthPtr, at, allowlist)
				checkSnapshotPrices(t, snap, truthPtr)
				require.Equal(t, cost.QueriesPerCycle, snap.Queries)
				require.Empty(t, snap.Unpriced)
			})
		}
	}
}

// checkConservation sums the allocations per cloud independently of
// CheckConservation and compares them with the priced nodes, inventory
// resources, functions and tasks.
func checkConservation(t *testing.T, snap *cost.Snapshot) {
	t.Helper()
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))
	allocated := map[string]float64{}
	for _, a := range snap.Result.Allocations {
		allocated[a.Cloud] += a.CostPerHour
	}
	nodes := map[string]float64{}
	for _, n := range snap.Nodes {
		nodes[n.Cloud] += n.CostPerHour
	}
	for _, r := range snap.Resources {
		nodes[r.Cloud] += r.CostPerHour
	}
	for _, r := range snap.Result.Resources {
		if r.Type == cost.ResourceTypeFunction || r.Type == cost.ResourceTypeTask {
			nodes[r.Cloud] += r.CostPerHour
		}
	}
	require.Len(t, allocated, 3)
	for cloud, want := range nodes {
		require.InEpsilon(t, want, allocated[cloud], cost.ConservationTolerance, cloud)
	}
	report := snap.Report()
	sum := 0.0
	for _, s := range report.Services {
		sum += s.CostPerHour
	}
	require.InEpsilon(t, report.TotalPerHour, sum, cost.ConservationTolerance)
	t.Logf("total %.6f %s/h over %d nodes, %d services", report.TotalPerHour, report.Currency,
		len(snap.Nodes), len(report.Services))
}

// checkPods compares the pods charged with the truth: the same service for each,
// by label with the allowlist and by the owning Deployment without, and every
// pod running at the evaluation time is charged.
func checkPods(t *testing.T, snap *cost.Snapshot, truth *sim.Truth, at time.Time, labels bool) {
	t.Helper()
	type key struct{ cluster, namespace, pod string }
	truthPods := map[key]sim.TruthPod{}
	alive := map[key]bool{}
	for _, p := range truth.Pods {
		k := key{p.Cluster, p.Namespace, p.Name}
		truthPods[k] = p
		created, err := time.Parse(time.RFC3339, p.Created)
		require.NoError(t, err)
		// Pods take 20 s to become ready; at one-minute steps, one that was
		// created a step ago is running.
		if created.Add(time.Minute).After(at) {
			continue
		}
		if p.Deleted != "" {
			deleted, err := time.Parse(time.RFC3339, p.Deleted)
			require.NoError(t, err)
			if !deleted.After(at) {
				continue
			}
		}
		alive[k] = true
	}

	charged := map[key]bool{}
	for _, p := range snap.Pods {
		k := key{p.Cluster, p.Namespace, p.Pod}
		tp, ok := truthPods[k]
		require.True(t, ok, "pod %v is not in the truth", k)
		require.Equal(t, tp.Service, p.Service.Name, "pod %v", k)
		require.Equal(t, tp.Namespace, p.Service.Namespace)
		require.Equal(t, tp.Cluster, p.Service.Cluster)
		require.Equal(t, tp.Node, p.Node)
		if labels {
			require.True(t, strings.HasPrefix(p.Rule, cost.RuleLabel+":"), p.Rule)
		} else {
			require.Equal(t, cost.RuleOwner+":Deployment", p.Rule)
		}
		charged[k] = true
	}
	for k := range alive {
		require.True(t, charged[k], "running pod %v is not charged", k)
	}
	require.Len(t, charged, len(alive))

	for _, a := range snap.Result.Allocations {
		if a.Service.Name == cost.Unallocated {
			require.Zero(t, a.CostPerHour)
		}
	}
	t.Logf("%d running pods, each charged to its true service", len(charged))
}

// checkSnapshotPrices checks that every node of the truth is priced from the
// embedded snapshot at its CSV price.
func checkSnapshotPrices(t *testing.T, snap *cost.Snapshot, truth *sim.Truth) {
	t.Helper()
	priced := map[string]cost.PricedNode{}
	for _, n := range snap.Nodes {
		priced[n.ResourceID] = n
	}
	nodes := 0
	for _, r := range truth.Resources {
		if r.Kind != cost.ResourceTypeNode {
			continue
		}
		nodes++
		n, ok := priced[r.ID]
		require.True(t, ok, "node %s is not priced", r.ID)
		require.Equal(t, pricing.SourceSnapshot, n.PriceSource)
		require.Equal(t, r.Cloud, n.Cloud)
		require.Equal(t, snapshotPrices[r.Cloud+"/"+r.Region+"/"+r.Type], n.ListPricePerHour, r.ID)
		require.Equal(t, n.ListPricePerHour, n.CostPerHour)
	}
	require.Len(t, snap.Nodes, nodes)
	require.Len(t, snap.Result.Resources, nodes)
}

// TestEngineUnpricedNodeType prices a world with a book that lacks Azure's node
// type: the Azure nodes are counted unpriced with the book's reason, their cost
// is absent from every total, and the other clouds are still conserved.
func TestEngineUnpricedNodeType(t *testing.T) {
	e, _, at := simWorld(t, sim.Options{Scenario: "steady", Seed: 2})
	prices, _, err := pricing.SnapshotPrices()
	require.NoError(t, err)
	book := pricing.NewBook("")
	var kept []pricing.Price
	for _, p := range prices {
		if p.Product != "Standard_D4s_v5" {
			kept = append(kept, p)
		}
	}
	book.SetSnapshot(kept)

	snap := runEngine(t, e, cost.EngineConfig{Book: book}, at)
	require.NotEmpty(t, snap.Unpriced)
	for _, u := range snap.Unpriced {
		require.Equal(t, "azure", u.Cloud)
		require.Equal(t, pricing.ReasonUnknownProduct, u.Reason)
		require.Equal(t, "Standard_D4s_v5", u.InstanceType)
	}
	require.Equal(t, []cost.UnpricedCount{{Cloud: "azure", Reason: pricing.ReasonUnknownProduct,
		Count: len(snap.Unpriced)}}, snap.UnpricedCounts())
	for _, tot := range snap.Result.CloudTotals {
		require.NotEqual(t, "azure", tot.Cloud)
	}
	for _, a := range snap.Result.Allocations {
		require.NotEqual(t, "azure", a.Cloud)
	}
	for _, p := range snap.Pods {
		require.NotContains(t, p.Cluster, "azure")
	}
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))
	report := snap.Report()
	require.Len(t, report.Unpriced, len(snap.Unpriced))
	_, ok := report.ByCloud["azure"]
	require.False(t, ok)
}

// TestEngineDiscount applies a cloud's discount to its nodes before allocation:
// every figure of that cloud shrinks by it and conservation still holds.
func TestEngineDiscount(t *testing.T) {
	e, _, at := simWorld(t, sim.Options{Scenario: "steady", Seed: 1})
	book, err := pricing.NewBookFromConfig(pricing.Config{Discounts: []pricing.DiscountConfig{
		{Cloud: "aws", Percent: 25},
		{Cloud: "gcp", Service: "frontend", Percent: 50}, // a service's: not for shared nodes
	}})
	require.NoError(t, err)
	plain := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t)}, at)
	discounted := runEngine(t, e, cost.EngineConfig{Book: book}, at)

	for _, n := range discounted.Nodes {
		want := n.ListPricePerHour
		if n.Cloud == "aws" {
			want *= 0.75
			require.Equal(t, 25.0, n.DiscountPercent)
		}
		require.InEpsilon(t, want, n.CostPerHour, 1e-12)
	}
	before, after := plain.Report(), discounted.Report()
	require.InEpsilon(t, 0.75*before.ByCloud["aws"], after.ByCloud["aws"], 1e-12)
	require.InEpsilon(t, before.ByCloud["gcp"], after.ByCloud["gcp"], 1e-12)
	require.NoError(t, discounted.Result.CheckConservation(cost.ConservationTolerance))
}

// TestEngineQueriesIndependentOfSize runs a cycle over worlds of 40 and 400
// resources: the same number of queries.
func TestEngineQueriesIndependentOfSize(t *testing.T) {
	counts := map[int]int64{}
	pods := map[int]int{}
	for _, resources := range []int{40, 400} {
		e, _, at := simWorld(t, sim.Options{Scenario: "steady", Seed: 1, Resources: resources})
		q := &countingQuerier{Querier: e}
		snap := runEngine(t, q, cost.EngineConfig{Book: defaultBook(t)}, at)
		counts[resources] = q.queries.Load()
		pods[resources] = len(snap.Pods)
		require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))
	}
	require.Equal(t, counts[40], counts[400])
	require.EqualValues(t, cost.QueriesPerCycle, counts[40])
	require.Greater(t, pods[400], 5*pods[40])
	t.Logf("%d queries a cycle for %d and %d running pods", counts[40], pods[40], pods[400])
}

// TestCalibrationScalesNodePrices: a learned factor multiplies each node's price
// after the discount, and cost per service still adds up to it.
func TestCalibrationScalesNodePrices(t *testing.T) {
	e, _, at := simWorld(t, sim.Options{Scenario: "steady", Seed: 1})
	cal := cost.Calibration{Clouds: []cost.CloudCalibration{
		{Cloud: "aws", Currency: "USD", Factor: 0.9},
	}}
	snap := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t),
		Calibration: func() cost.Calibration { return cal }}, at)
	require.NotEmpty(t, snap.Nodes)
	for _, n := range snap.Nodes {
		want := 1.0
		if n.Cloud == "aws" {
			want = 0.9
		}
		require.Equal(t, want, n.CalibrationFactor, n.Name)
		require.InDelta(t, n.ListPricePerHour*want, n.CostPerHour, 1e-12, n.Name)
	}
	require.NoError(t, snap.Result.CheckConservation(cost.ConservationTolerance))

	engine, err := cost.NewEngine(e, cost.EngineConfig{Book: defaultBook(t),
		Calibration: func() cost.Calibration { return cal }})
	require.NoError(t, err)
	engine.DisableCalibration()
	v, err := engine.Run(context.Background(), at)
	require.NoError(t, err)
	for _, n := range v.(*cost.Snapshot).Nodes {
		require.Equal(t, 1.0, n.CalibrationFactor, "reconciliation prices uncalibrated")
	}
}
