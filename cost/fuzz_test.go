package cost

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// FuzzAllocate feeds arbitrary numbers to every allocation rule: nothing may panic,
// and whatever is not an error conserves cost, with every charge finite and never
// negative.
func FuzzAllocate(f *testing.F) {
	f.Add(0.192, 0.032, 0.004, 4.0, 16.0, 1.0, 0.5, 2.0, 3.0, false, false, 0.0225, 30.0, 70.0)
	f.Add(0.192, 0.03, 0.003, 4.0, 16.0, 3.0, 5.0, 12.0, nan, true, true, 1.0, nan, 1.0)
	f.Add(1.0, 0.0, 0.0, 0.0, 0.0, nan, nan, nan, nan, true, false, 0.0, 0.0, 0.0)
	f.Add(nan, -1.0, math.Inf(1), -4.0, 1e308, -1.0, math.Inf(-1), 1e-310, 5e-324,
		false, true, math.MaxFloat64, math.Copysign(0, -1), 1e300)

	f.Fuzz(allocateAnything)
}

// TestAllocateExtremes runs the fuzz body over random combinations of the numbers
// that break arithmetic: zero, subnormals, the largest float, infinities, NaN.
func TestAllocateExtremes(t *testing.T) {
	extremes := []float64{
		0, math.Copysign(0, -1), 5e-324, 1e-310, 1e-300, 1e-9, 0.5, 1, 3, 1e9, 1e300,
		math.MaxFloat64, math.Inf(1), math.Inf(-1), nan, -1,
	}
	rng := rand.New(rand.NewPCG(1, 1))
	pick := func() float64 { return extremes[rng.IntN(len(extremes))] }
	for range 20000 {
		allocateAnything(t, pick(), pick(), pick(), pick(), pick(), pick(), pick(), pick(),
			pick(), rng.IntN(2) == 0, rng.IntN(2) == 0, pick(), pick(), pick())
	}
}

// allocateAnything allocates a world built from the given numbers and checks what
// must hold whatever they are.
func allocateAnything(t *testing.T,
	price, cpuRate, memRate, cores, mem,
	cpuReq, cpuUse, memReq, memUse float64,
	init, running bool,
	cost, w1, w2 float64,
) {
	t.Helper()
	{
		node := Node{
			Name: "n", Cluster: "c", Cloud: "aws", Region: "r",
			PricePerHour: price, CPURate: cpuRate, MemoryRate: memRate,
			CPUCores: cores, MemoryGiB: mem,
		}
		containers := []Container{
			{
				Service: identity.Service{Name: "a"}, Cluster: "c", Node: "n", Pod: "p", Name: "a",
				CPURequest: cpuReq, CPUUsage: cpuUse,
				MemoryRequestGiB: memReq, MemoryUsageGiB: memUse,
			},
			{
				Service: identity.Service{Name: "b"}, Cluster: "c", Node: "n", Pod: "p", Name: "b",
				Init: init, Running: running,
				CPURequest: memUse, CPUUsage: memReq,
				MemoryRequestGiB: cpuUse, MemoryUsageGiB: cpuReq,
			},
		}
		in := Input{
			Nodes:      []Node{node},
			Containers: containers,
			Resources: []Resource{
				{ID: "lb", Cloud: "aws", Region: "r", Component: ComponentNetwork,
					CostPerHour: cost,
					Shares: []Share{
						{Service: identity.Service{Name: "a"}, Weight: w1},
						{Service: identity.Service{Name: "b"}, Weight: w2},
					}},
				{ID: "vol", Cloud: "gcp", Region: "r", Component: ComponentStorage,
					CostPerHour: w1},
			},
			Tasks: []Task{{ID: "t", Cloud: "aws", Region: "r", VCPUs: cpuUse, MemoryGiB: memUse,
				VCPUHourPrice: cpuRate, GiBHourPrice: memRate}},
			Functions: []Function{{ID: "f", Cloud: "azure", Region: "r",
				InvocationsPerSecond: cpuReq, GBSecondsPerSecond: memReq,
				PricePerInvocation: price, PricePerGBSecond: cost}},
		}
		r, err := Allocate(in)
		if err == nil {
			checkInvariants(t, r)
		}

		routes := []RouteWork{
			{Route: "/a", RequestsPerSecond: cpuReq, MeanLatencySeconds: cpuUse},
			{Route: "/b", RequestsPerSecond: memReq, MeanLatencySeconds: memUse},
			{Route: "/c", RequestsPerSecond: w1, MeanLatencySeconds: nan},
		}
		parts, err := SplitByWork(cost, routes)
		if err == nil {
			sum := 0.0
			for _, p := range parts {
				require.True(t, validAmount(p.CostPerHour), "part %+v", p)
				sum += p.CostPerHour
			}
			require.NoError(t, conserved(sum, cost, ConservationTolerance))
		}

		unit := PerRequest(price, w2)
		require.True(t, math.IsNaN(unit) || validAmount(unit), "cost per request %g", unit)
	}
}
