package cost_test

import (
	"fmt"
	"math"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
)

// A 4-core, 16-GiB node at $0.192 per hour, with one container that requests a core
// and uses 3 GiB, and one with no requests that uses a quarter core and 1 GiB.
func ExampleAllocateNodeCost() {
	node := cost.Node{
		Name: "n1", Cluster: "eu", Cloud: "aws", Region: "eu-west-1",
		PricePerHour: 0.192, CPURate: 0.032, MemoryRate: 0.004,
		CPUCores: 4, MemoryGiB: 16,
	}
	containers := []cost.Container{
		{
			Service: identity.Service{Namespace: "shop", Name: "web"},
			Cluster: "eu", Node: "n1", Namespace: "shop", Pod: "web-1", Name: "web",
			CPURequest: 1, CPUUsage: 0.5, MemoryRequestGiB: 2, MemoryUsageGiB: 3,
		},
		{
			Service: identity.Service{Namespace: "jobs", Name: "batch"},
			Cluster: "eu", Node: "n1", Namespace: "jobs", Pod: "batch-1", Name: "batch",
			CPURequest: math.NaN(), CPUUsage: 0.25,
			MemoryRequestGiB: math.NaN(), MemoryUsageGiB: 1,
		},
	}
	r, err := cost.AllocateNodeCost([]cost.Node{node}, containers)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, a := range r.Allocations {
		fmt.Printf("%-22s %-7s %.3f\n", a.Service, a.Component, a.CostPerHour)
	}
	fmt.Println(r.CheckConservation(cost.ConservationTolerance))
	// Output:
	// eu//__idle__           compute 0.088
	// eu//__idle__           memory  0.048
	// eu/jobs/batch          compute 0.008
	// eu/jobs/batch          memory  0.004
	// eu/shop/web            compute 0.032
	// eu/shop/web            memory  0.012
	// <nil>
}
