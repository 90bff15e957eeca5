package cost

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// node4x16 is a 4-core, 16-GiB node at $0.192/h whose rates add up to its price:
// $0.032 per core-hour (CPU part $0.128) and $0.004 per GiB-hour (memory part $0.064).
var node4x16 = Node{
	Name:         "n1",
	Cluster:      "eu",
	Cloud:        testCloud,
	Region:       testRegion,
	InstanceType: "m5.xlarge",
	PricePerHour: 0.192,
	CPURate:      0.032,
	MemoryRate:   0.004,
	CPUCores:     4,
	MemoryGiB:    16,
}

// container returns a container on n1 in namespace shop, of service name.
func container(pod, name string, cpuReq, cpuUse, memReq, memUse float64) Container {
	return Container{
		Service:          identity.Service{Name: name},
		Cluster:          "eu",
		Node:             "n1",
		Namespace:        "shop",
		Pod:              pod,
		Name:             name,
		CPURequest:       cpuReq,
		CPUUsage:         cpuUse,
		MemoryRequestGiB: memReq,
		MemoryUsageGiB:   memUse,
	}
}

// withNode returns n with fields changed by edit.
func withNode(n Node, edit func(*Node)) Node {
	edit(&n)
	return n
}

func TestAllocateNodeCost(t *testing.T) {
	finishedInit := container("p3", "migrate", 2, nan, 4, nan)
	finishedInit.Init = true
	runningInit := container("p4", "warmup", 1, 0.1, 1, 0.5)
	runningInit.Init, runningInit.Running = true, true
	finishedWithUsage := container("p5", "copy", 2, 0.5, nan, nan)
	finishedWithUsage.Init = true
	unresolved := container("p6", "", 1, nan, 1, nan)
	otherCluster := container("p7", "api", 1, nan, 1, nan)
	otherCluster.Service = identity.Service{Cluster: "us", Namespace: "core", Name: "api"}

	for _, tc := range []struct {
		name         string
		nodes        []Node
		containers   []Container
		want         map[Key]float64
		skipped      []string
		unmeasurable []Unmeasured
	}{
		{
			name:  "empty node is all idle",
			nodes: []Node{node4x16},
			want: map[Key]float64{
				idleKey("eu", ComponentCompute): 0.128,
				idleKey("eu", ComponentMemory):  0.064,
			},
		},
		{
			name: "rates scaled to the price",
			// 0.03×4 + 0.003×16 = 0.168, not 0.192: both parts scale by 8/7.
			nodes: []Node{withNode(node4x16, func(n *Node) {
				n.CPURate, n.MemoryRate = 0.03, 0.003
			})},
			want: map[Key]float64{
				idleKey("eu", ComponentCompute): 0.192 * 0.12 / 0.168,
				idleKey("eu", ComponentMemory):  0.192 * 0.048 / 0.168,
			},
		},
		{
			name:  "max of request and usage, usage without request, idle",
			nodes: []Node{node4x16},
			containers: []Container{
				// 1 core (request over usage), 3 GiB (usage over request).
				container("p1", "web", 1, 0.5, 2, 3),
				// No requests: charged its usage, not zero.
				container("p2", "batch", nan, 0.25, nan, 1),
			},
			want: map[Key]float64{
				key("eu", "shop", "web", ComponentCompute):   0.032,
				key("eu", "shop", "web", ComponentMemory):    0.012,
				key("eu", "shop", "batch", ComponentCompute): 0.008,
				key("eu", "shop", "batch", ComponentMemory):  0.004,
				idleKey("eu", ComponentCompute):              0.128 - 0.040,
				idleKey("eu", ComponentMemory):               0.064 - 0.016,
			},
		},
		{
			name:  "neither request nor usage is unmeasurable",
			nodes: []Node{node4x16},
			containers: []Container{
				container("p1", "ghost", nan, nan, nan, nan),
				container("p2", "half", nan, nan, 1, nan),
			},
			want: map[Key]float64{
				key("eu", "shop", "ghost", ComponentCompute): 0,
				key("eu", "shop", "ghost", ComponentMemory):  0,
				key("eu", "shop", "half", ComponentCompute):  0,
				key("eu", "shop", "half", ComponentMemory):   0.004,
				idleKey("eu", ComponentCompute):              0.128,
				idleKey("eu", ComponentMemory):               0.060,
			},
			unmeasurable: []Unmeasured{
				{Container: "eu/shop/p1/ghost", Cloud: testCloud, Component: ComponentCompute},
				{Container: "eu/shop/p1/ghost", Cloud: testCloud, Component: ComponentMemory},
				{Container: "eu/shop/p2/half", Cloud: testCloud, Component: ComponentCompute},
			},
		},
		{
			name:  "over-commit scales charges and leaves no idle",
			nodes: []Node{node4x16},
			containers: []Container{
				// CPU: 5 + 1 = 6 cores on 4: shares 5/6 and 1/6 of $0.128.
				container("p1", "web", 3, 5, 12, nan),
				container("p2", "api", 1, nan, 12, 2),
			},
			want: map[Key]float64{
				key("eu", "shop", "web", ComponentCompute): 0.128 * 5 / 6,
				key("eu", "shop", "api", ComponentCompute): 0.128 / 6,
				// Memory: 24 GiB on 16: half each.
				key("eu", "shop", "web", ComponentMemory): 0.032,
				key("eu", "shop", "api", ComponentMemory): 0.032,
				idleKey("eu", ComponentCompute):           0,
				idleKey("eu", ComponentMemory):            0,
			},
		},
		{
			name:  "init containers: running charged, finished not",
			nodes: []Node{node4x16},
			containers: []Container{
				finishedInit,      // request ignored, no usage: nothing, not unmeasurable
				runningInit,       // 1 core, 1 GiB
				finishedWithUsage, // its usage of 0.5 core only
			},
			want: map[Key]float64{
				key("eu", "shop", "migrate", ComponentCompute): 0,
				key("eu", "shop", "migrate", ComponentMemory):  0,
				key("eu", "shop", "warmup", ComponentCompute):  0.032,
				key("eu", "shop", "warmup", ComponentMemory):   0.004,
				key("eu", "shop", "copy", ComponentCompute):    0.016,
				key("eu", "shop", "copy", ComponentMemory):     0,
				idleKey("eu", ComponentCompute):                0.128 - 0.048,
				idleKey("eu", ComponentMemory):                 0.060,
			},
		},
		{
			name:       "unresolved service is unallocated; a given cluster is kept",
			nodes:      []Node{node4x16},
			containers: []Container{unresolved, otherCluster},
			want: map[Key]float64{
				key("eu", "shop", Unallocated, ComponentCompute): 0.032,
				key("eu", "shop", Unallocated, ComponentMemory):  0.004,
				key("us", "core", "api", ComponentCompute):       0.032,
				key("us", "core", "api", ComponentMemory):        0.004,
				idleKey("eu", ComponentCompute):                  0.064,
				idleKey("eu", ComponentMemory):                   0.056,
			},
		},
		{
			name:  "zero capacity of one resource puts the whole price on the other",
			nodes: []Node{withNode(node4x16, func(n *Node) { n.MemoryGiB = 0 })},
			containers: []Container{
				container("p1", "web", 1, nan, 1, nan),
			},
			want: map[Key]float64{
				key("eu", "shop", "web", ComponentCompute): 0.048,
				key("eu", "shop", "web", ComponentMemory):  0,
				idleKey("eu", ComponentCompute):            0.144,
				idleKey("eu", ComponentMemory):             0,
			},
		},
		{
			name: "free node with no rates",
			nodes: []Node{withNode(node4x16, func(n *Node) {
				n.PricePerHour, n.CPURate, n.MemoryRate = 0, 0, 0
			})},
			containers: []Container{container("p1", "web", 1, nan, 1, nan)},
			want: map[Key]float64{
				key("eu", "shop", "web", ComponentCompute): 0,
				key("eu", "shop", "web", ComponentMemory):  0,
				idleKey("eu", ComponentCompute):            0,
				idleKey("eu", ComponentMemory):             0,
			},
		},
		{
			name:  "negative and infinite values ignored as unknown",
			nodes: []Node{node4x16},
			containers: []Container{
				container("p1", "web", 1, -0.5, math.Inf(1), 2),
			},
			want: map[Key]float64{
				key("eu", "shop", "web", ComponentCompute): 0.032,
				key("eu", "shop", "web", ComponentMemory):  0.008,
				idleKey("eu", ComponentCompute):            0.096,
				idleKey("eu", ComponentMemory):             0.056,
			},
			skipped: []string{
				"container eu/shop/p1/web invalid_quantity",
				"container eu/shop/p1/web invalid_quantity",
			},
		},
		{
			name: "bad nodes skipped with their containers",
			nodes: []Node{
				withNode(node4x16, func(n *Node) { n.Name = "" }),
				withNode(node4x16, func(n *Node) { n.Name, n.PricePerHour = "nan", nan }),
				withNode(node4x16, func(n *Node) { n.Name, n.CPURate = "inf", math.Inf(1) }),
				withNode(node4x16, func(n *Node) { n.Name, n.MemoryRate = "neg", -1 }),
				withNode(node4x16, func(n *Node) { n.Name, n.CPUCores = "cores", -4 }),
				withNode(node4x16, func(n *Node) { n.Name, n.MemoryGiB = "mem", nan }),
				withNode(node4x16, func(n *Node) {
					n.Name, n.CPURate, n.MemoryRate = "norates", 0, 0
				}),
				withNode(node4x16, func(n *Node) {
					n.Name, n.CPURate, n.CPUCores = "overflow", 1e300, 1e300
				}),
			},
			containers: []Container{
				onNode("nan", container("p1", "web", 1, 1, 1, 1)),
				onNode("gone", container("p2", "web", 1, 1, 1, 1)),
			},
			want: map[Key]float64{},
			skipped: []string{
				"container eu/shop/p1/web node_skipped",
				"container eu/shop/p2/web unknown_node",
				"node eu/ no_id",
				"node eu/cores invalid_quantity",
				"node eu/inf invalid_price",
				"node eu/mem invalid_quantity",
				"node eu/nan invalid_price",
				"node eu/neg invalid_price",
				"node eu/norates unsplittable_price",
				"node eu/overflow unsplittable_price",
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := AllocateNodeCost(tc.nodes, tc.containers)
			require.NoError(t, err)
			requireAllocations(t, tc.want, r)
			require.Equal(t, tc.skipped, reasons(r))
			require.Equal(t, tc.unmeasurable, r.Unmeasurable)
		})
	}
}

// onNode returns c placed on another node.
func onNode(node string, c Container) Container {
	c.Node = node
	return c
}

func TestAllocateNodeCostErrors(t *testing.T) {
	for _, tc := range []struct {
		name       string
		nodes      []Node
		containers []Container
		err        string
	}{
		{
			name:  "node twice",
			nodes: []Node{node4x16, node4x16},
			err:   `node "eu/n1" is listed twice`,
		},
		{
			name: "resource id twice",
			nodes: []Node{
				withNode(node4x16, func(n *Node) { n.ResourceID = "i-1" }),
				withNode(other(), func(n *Node) { n.ResourceID = "i-1" }),
			},
			err: `node "us/n1": resource "i-1" of cloud "aws" is listed twice`,
		},
		{
			name:  "container twice",
			nodes: []Node{node4x16},
			containers: []Container{
				container("p1", "web", 1, 1, 1, 1),
				container("p1", "web", 2, 2, 2, 2),
			},
			err: `container "eu/shop/p1/web" is listed twice`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := AllocateNodeCost(tc.nodes, tc.containers)
			require.EqualError(t, err, tc.err)
			require.Nil(t, r)
		})
	}
}

func TestNodeResources(t *testing.T) {
	bare := withNode(node4x16, func(n *Node) { n.Cluster, n.Name = "", "solo" })
	withID := withNode(other(), func(n *Node) { n.ResourceID = "i-0abc" })
	r, err := AllocateNodeCost([]Node{node4x16, bare, withID}, nil)
	require.NoError(t, err)
	require.Equal(t, []ResourceCost{
		{ID: "eu/n1", Type: ResourceTypeNode, InstanceType: "m5.xlarge", Cloud: testCloud,
			Region: testRegion, CostPerHour: 0.192},
		{ID: "i-0abc", Type: ResourceTypeNode, InstanceType: "m5.xlarge", Cloud: testCloud,
			Region: testRegion, CostPerHour: 0.192},
		{ID: "solo", Type: ResourceTypeNode, InstanceType: "m5.xlarge", Cloud: testCloud,
			Region: testRegion, CostPerHour: 0.192},
	}, r.Resources)
	require.Len(t, r.CloudTotals, 1)
	require.Equal(t, testCloud, r.CloudTotals[0].Cloud)
	require.InDelta(t, 0.576, r.CloudTotals[0].CostPerHour, 1e-15)
}

// other returns node4x16 in cluster us.
func other() Node {
	return withNode(node4x16, func(n *Node) { n.Cluster = "us" })
}
