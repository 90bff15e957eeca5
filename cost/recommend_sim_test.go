package cost_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/sim"
)

// TestRecommendSimulatedWorld runs the engine over the steady simulated world
// (an hour of data, so the history is clamped to it) and checks that
// over-requested containers and idle capacity are found with positive,
// finite savings, and that each recommendation says why.
func TestRecommendSimulatedWorld(t *testing.T) {
	e, _, at := simWorld(t, sim.Options{Scenario: "steady", Seed: 1, KSMLabelsAllowlist: true})
	snap := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t),
		Recommendations: cost.RecommendConfig{MinHistory: 30 * time.Minute}}, at)
	require.Empty(t, snap.RecommendationError)
	require.Equal(t, cost.QueriesPerCycle, snap.Queries)

	kinds := map[string]int{}
	for i, r := range snap.Recommendations {
		t.Logf("%s %s %.4f/h: %s", r.Kind, r.ResourceID, r.SavingsPerHour, r.Reason)
		require.Positive(t, r.SavingsPerHour)
		require.False(t, math.IsInf(r.SavingsPerHour, 0))
		require.NotEmpty(t, r.Reason)
		if i > 0 {
			require.GreaterOrEqual(t, snap.Recommendations[i-1].SavingsPerHour, r.SavingsPerHour)
		}
		kinds[r.Kind]++
	}
	require.Positive(t, kinds[cost.KindOverRequested])
	require.Positive(t, kinds[cost.KindNodeRightsizing], "the world's 4-vCPU nodes are half used")

	// Every type proposed is a real, cheaper type of the embedded snapshot.
	book := defaultBook(t)
	nodes := map[string]cost.PricedNode{}
	for _, n := range snap.Nodes {
		nodes[n.ResourceID] = n
	}
	for _, r := range snap.Recommendations {
		if r.Kind != cost.KindNodeRightsizing {
			continue
		}
		n := nodes[r.ResourceID]
		p, err := book.Lookup(pricing.Key{Cloud: n.Cloud, Region: n.Region,
			Kind: pricing.KindCompute, Product: r.InstanceType})
		require.NoError(t, err, r.InstanceType)
		require.Equal(t, pricing.SourceSnapshot, p.Source)
		require.InDelta(t, n.ListPricePerHour-p.Value, r.SavingsPerHour, 1e-12)
	}

	// With a threshold above the nodes' use, they are idle instead, each
	// saving its whole price at most.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t),
		Recommendations: cost.RecommendConfig{MinHistory: 30 * time.Minute,
			IdleThreshold: 0.9}}, at)
	idle := 0
	for _, r := range snap.Recommendations {
		if r.Kind == cost.KindIdleNode {
			idle++
			require.True(t, r.UpperBound)
			require.InDelta(t, nodes[r.ResourceID].CostPerHour, r.SavingsPerHour, 1e-12)
		}
	}
	require.Positive(t, idle)
}

// TestRecommendationUsageIsReadHourly: the week-long p95 queries run at most once
// an hour; the cycles in between reuse their answer and still recommend.
func TestRecommendationUsageIsReadHourly(t *testing.T) {
	e, _, at := simWorld(t, sim.Options{Scenario: "steady", Seed: 1, KSMLabelsAllowlist: true})
	engine, err := cost.NewEngine(e, cost.EngineConfig{Book: defaultBook(t),
		Recommendations: cost.RecommendConfig{MinHistory: 30 * time.Minute}})
	require.NoError(t, err)
	cycle := func(at time.Time) *cost.Snapshot {
		v, err := engine.Run(context.Background(), at)
		require.NoError(t, err)
		return v.(*cost.Snapshot)
	}
	first := cycle(at.Add(-10 * time.Minute))
	require.Equal(t, cost.QueriesPerCycle, first.Queries)
	second := cycle(at)
	require.Equal(t, cost.QueriesPerCycle-cost.RecommendationQueries, second.Queries, "usage reused")
	require.Equal(t, len(first.Recommendations), len(second.Recommendations))
	third := cycle(at.Add(-10 * time.Minute).Add(cost.UsageRefresh))
	require.Equal(t, cost.QueriesPerCycle, third.Queries, "read again after an hour")
}
