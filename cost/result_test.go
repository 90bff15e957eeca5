package cost

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// world is a small input of every kind, in two clouds.
func world() Input {
	gke := withNode(node4x16, func(n *Node) {
		n.Cloud, n.Region, n.Cluster = "gcp", "europe-west1", "gke"
	})
	web := container("p1", "web", 1, 0.5, 2, 3)
	web.Cluster, web.Node = "gke", "n1"
	return Input{
		Nodes:      []Node{node4x16, gke},
		Containers: []Container{container("p1", "web", 1, 0.5, 2, 3), web},
		Resources:  []Resource{alb(share("web", 1), share("api", 3))},
		Tasks:      []Task{fargate},
		Functions:  []Function{lambda},
	}
}

func TestAllocate(t *testing.T) {
	r, err := Allocate(world())
	require.NoError(t, err)
	checkInvariants(t, r)

	// 0.192 + ALB 0.0225 + Fargate 0.0123425 + Lambda 0.06720012 on AWS.
	require.Len(t, r.CloudTotals, 2)
	require.Equal(t, "aws", r.CloudTotals[0].Cloud)
	require.InDelta(t, 0.192+0.0225+0.0123425+0.06720012, r.CloudTotals[0].CostPerHour, 1e-12)
	require.Equal(t, CloudTotal{Cloud: "gcp", CostPerHour: 0.192}, r.CloudTotals[1])
	require.Equal(t, []RegionTotal{
		{Cloud: "aws", Region: testRegion, CostPerHour: r.CloudTotals[0].CostPerHour},
		{Cloud: "gcp", Region: "europe-west1", CostPerHour: 0.192},
	}, r.RegionTotals)
	require.Len(t, r.Resources, 5)

	// Sorted by key: cluster, namespace, name, then cloud, region, component.
	for i := 1; i < len(r.Allocations); i++ {
		require.Negative(t, compareKeys(r.Allocations[i-1].Key, r.Allocations[i].Key))
	}
	again, err := Allocate(world())
	require.NoError(t, err)
	require.Equal(t, r, again)
}

func TestAllocateErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(*Input)
		err  string
	}{
		{"nodes", func(in *Input) { in.Nodes = append(in.Nodes, node4x16) }, "node"},
		{"resources", func(in *Input) { in.Resources = append(in.Resources, alb()) }, "alb-1"},
		{"tasks", func(in *Input) { in.Tasks = append(in.Tasks, fargate) }, "service/shop/cart"},
		{"functions", func(in *Input) { in.Functions = append(in.Functions, lambda) }, "thumbs"},
		{"across kinds", func(in *Input) { in.Resources[0].ID = "eu/n1" }, `"eu/n1"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := world()
			tc.edit(&in)
			r, err := Allocate(in)
			require.ErrorContains(t, err, "listed twice")
			require.ErrorContains(t, err, tc.err)
			require.Nil(t, r)
		})
	}
}

func TestMerge(t *testing.T) {
	nodes, err := AllocateNodeCost([]Node{node4x16}, []Container{
		container("p1", "web", nan, nan, 1, 1),
		onNode("x", container("p2", "web", 1, 1, 1, 1)),
	})
	require.NoError(t, err)
	resources, err := AllocateResourceCost([]Resource{alb(share("web", 1)), {ID: "bad",
		Component: ComponentStorage, CostPerHour: -1}})
	require.NoError(t, err)

	r, err := Merge(nil, resources, nodes)
	require.NoError(t, err)
	checkInvariants(t, r)
	require.Equal(t, []string{
		"container eu/shop/p2/web unknown_node",
		"resource bad invalid_price",
	}, reasons(r))
	require.Equal(t, nodes.Unmeasurable, r.Unmeasurable)
	require.InDelta(t, 0.2145, r.CloudTotals[0].CostPerHour, 1e-15)

	empty, err := Merge()
	require.NoError(t, err)
	require.Equal(t, &Result{}, empty)
	require.NoError(t, empty.CheckConservation(0))
}

func TestResultOverflow(t *testing.T) {
	huge := Resource{ID: "a", Cloud: "aws", Component: ComponentCompute, CostPerHour: 1e308}
	twice := huge
	twice.ID = "b"
	_, err := AllocateResourceCost([]Resource{huge, twice})
	require.EqualError(t, err, `cloud "aws": the total cost overflows`)
	// Finite, but near enough to the largest float64 that its parts could sum past it.
	huge.CostPerHour = math.MaxFloat64 / 2
	_, err = AllocateResourceCost([]Resource{huge})
	require.EqualError(t, err, `cloud "aws": the total cost overflows`)
}

func TestCheckConservation(t *testing.T) {
	alloc := func(cloud, region string, cost float64) Allocation {
		return Allocation{Key: Key{
			Service:   identity.Service{Name: "web"},
			Cloud:     cloud,
			Region:    region,
			Component: ComponentCompute,
		}, CostPerHour: cost}
	}
	balanced := Result{
		Allocations: []Allocation{alloc("aws", "a", 1), alloc("aws", "b", 2)},
		CloudTotals: []CloudTotal{{"aws", 3}},
		RegionTotals: []RegionTotal{
			{"aws", "a", 1},
			{"aws", "b", 2},
		},
	}
	for _, tc := range []struct {
		name      string
		edit      func(*Result)
		tolerance float64
		err       string
	}{
		{name: "balanced", edit: func(*Result) {}, tolerance: 0},
		{
			name:      "within tolerance",
			edit:      func(r *Result) { r.Allocations[0].CostPerHour = 1 + 1e-10 },
			tolerance: 1e-9,
		},
		{
			name: "over in one region",
			edit: func(r *Result) { r.Allocations[0].CostPerHour = 1.5 },
			err: `cloud "aws": allocations sum to 3.5 per hour, resources cost 3: ` +
				"difference 0.5\n" +
				`cloud "aws" region "a": allocations sum to 1.5 per hour, resources cost 1: ` +
				"difference 0.5",
		},
		{
			name: "moved between regions",
			edit: func(r *Result) {
				r.Allocations[0].CostPerHour, r.Allocations[1].CostPerHour = 2, 1
			},
			err: `cloud "aws" region "a": allocations sum to 2 per hour, resources cost 1: ` +
				"difference 1\n" +
				`cloud "aws" region "b": allocations sum to 1 per hour, resources cost 2: ` +
				"difference -1",
		},
		{
			name: "a cloud with no resources",
			edit: func(r *Result) {
				r.Allocations = append(r.Allocations, alloc("gcp", "c", 1e-3))
			},
			err: `cloud "gcp": allocations sum to 0.001 per hour, resources cost 0: ` +
				"difference 0.001\n" +
				`cloud "gcp" region "c": allocations sum to 0.001 per hour, resources cost 0: ` +
				"difference 0.001",
		},
		{
			name: "NaN fails",
			edit: func(r *Result) { r.CloudTotals[0].CostPerHour = nan },
			err:  `cloud "aws": allocations sum to 3 per hour, resources cost NaN: difference NaN`,
		},
		{
			name:      "bad tolerance",
			edit:      func(*Result) {},
			tolerance: math.Inf(1),
			err:       "conservation tolerance +Inf: want a finite number >= 0",
		},
		{
			name:      "NaN tolerance",
			edit:      func(*Result) {},
			tolerance: nan,
			err:       "conservation tolerance NaN: want a finite number >= 0",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := balanced
			r.Allocations = append([]Allocation(nil), balanced.Allocations...)
			r.CloudTotals = append([]CloudTotal(nil), balanced.CloudTotals...)
			tc.edit(&r)
			err := r.CheckConservation(tc.tolerance)
			if tc.err == "" {
				require.NoError(t, err)
				return
			}
			require.EqualError(t, err, tc.err)
		})
	}
}

func TestSplitProportional(t *testing.T) {
	for _, tc := range []struct {
		name    string
		total   float64
		weights []float64
		want    []float64
	}{
		{"none", 1, nil, []float64{}},
		{"one", 1, []float64{5}, []float64{1}},
		{"proportional", 6, []float64{1, 2, 3}, []float64{1, 2, 3}},
		{"equal", 6, []float64{0, 0, 0}, []float64{2, 2, 2}},
		{"huge weights", 4, []float64{1e308, 1e308, 1e308, 1e308}, []float64{1, 1, 1, 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := splitProportional(tc.total, tc.weights)
			require.InDeltaSlice(t, tc.want, got, 1e-15)
		})
	}
}
