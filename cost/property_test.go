package cost

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// logUniform returns a number between lo and hi, uniform in its logarithm, so that
// cheap and expensive resources are equally likely.
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo * math.Pow(hi/lo, rng.Float64())
}

// maybeNaN returns NaN with probability p, else v.
func maybeNaN(rng *rand.Rand, p, v float64) float64 {
	if rng.Float64() < p {
		return nan
	}
	return v
}

// randomService returns one of a few services, or an unresolved one.
func randomService(rng *rand.Rand) identity.Service {
	names := []string{"", "web", "api", "cart", "search", "batch"}
	return identity.Service{Name: names[rng.IntN(len(names))]}
}

// randomWorld builds a world of nodes (each in a cluster of its own, so that its idle
// is its own series), containers that fill some nodes past capacity and leave others
// idle, shared and owned resources, tasks and functions. It returns the cost per
// cloud summed from the inputs.
func randomWorld(rng *rand.Rand) (Input, map[string]float64) {
	var in Input
	totals := make(map[string]float64)
	clouds := []string{"aws", "gcp", "azure", "onprem"}
	regions := []string{"r1", "r2", "r3"}
	place := func() (string, string) {
		return clouds[rng.IntN(len(clouds))], regions[rng.IntN(len(regions))]
	}

	for i := range rng.IntN(8) {
		cloud, region := place()
		n := Node{
			Name:         "node",
			Cluster:      fmt.Sprintf("c%d", i),
			Cloud:        cloud,
			Region:       region,
			PricePerHour: logUniform(rng, 1e-3, 40),
			CPURate:      logUniform(rng, 1e-3, 0.1),
			MemoryRate:   logUniform(rng, 1e-4, 0.01),
			CPUCores:     float64(1 + rng.IntN(96)),
			MemoryGiB:    float64(1 + rng.IntN(768)),
		}
		switch rng.IntN(10) {
		case 0:
			n.PricePerHour = 0
		case 1:
			n.MemoryRate = 0 // all of the price is CPU
		case 2:
			n.CPUCores = 0 // all of the price is memory
		}
		in.Nodes = append(in.Nodes, n)
		totals[cloud] += n.PricePerHour

		// Fill to a random fraction of capacity: some nodes over-commit.
		fill := []float64{0, 0.3, 0.9, 1.5, 4}[rng.IntN(5)]
		count := 1 + rng.IntN(12)
		cores := 2 * fill * n.CPUCores / float64(count)
		gib := 2 * fill * n.MemoryGiB / float64(count)
		for j := range count {
			c := Container{
				Service:          randomService(rng),
				Cluster:          n.Cluster,
				Node:             n.Name,
				Namespace:        "ns",
				Pod:              fmt.Sprintf("p%d", j),
				Name:             "main",
				CPURequest:       maybeNaN(rng, 0.3, rng.Float64()*cores),
				CPUUsage:         maybeNaN(rng, 0.3, rng.Float64()*cores),
				MemoryRequestGiB: maybeNaN(rng, 0.3, rng.Float64()*gib),
				MemoryUsageGiB:   maybeNaN(rng, 0.3, rng.Float64()*gib),
			}
			c.Init = rng.IntN(8) == 0
			c.Running = rng.IntN(2) == 0
			if rng.IntN(40) == 0 {
				c.Node = "elsewhere" // skipped, reported
			}
			in.Containers = append(in.Containers, c)
		}
	}

	components := []Component{
		ComponentCompute, ComponentMemory, ComponentStorage, ComponentNetwork,
	}
	for i := range rng.IntN(10) {
		cloud, region := place()
		r := Resource{
			ID:          fmt.Sprintf("res-%d", i),
			Type:        "vm",
			Cloud:       cloud,
			Region:      region,
			Component:   components[rng.IntN(len(components))],
			CostPerHour: logUniform(rng, 1e-4, 20),
		}
		switch rng.IntN(3) {
		case 0:
			r.Service = randomService(rng)
		case 1:
			for range 1 + rng.IntN(4) {
				weight := []float64{0, nan, rng.Float64() * 100}[rng.IntN(3)]
				r.Shares = append(r.Shares, Share{Service: randomService(rng), Weight: weight})
			}
		}
		in.Resources = append(in.Resources, r)
		totals[cloud] += r.CostPerHour
	}

	for i := range rng.IntN(4) {
		cloud, region := place()
		task := Task{
			ID:            fmt.Sprintf("task-%d", i),
			Service:       randomService(rng),
			Cloud:         cloud,
			Region:        region,
			VCPUs:         rng.Float64() * 16,
			MemoryGiB:     rng.Float64() * 64,
			VCPUHourPrice: 0.04048,
			GiBHourPrice:  0.004445,
		}
		in.Tasks = append(in.Tasks, task)
		totals[cloud] += task.VCPUs*task.VCPUHourPrice + task.MemoryGiB*task.GiBHourPrice
	}
	for i := range rng.IntN(4) {
		cloud, region := place()
		f := Function{
			ID:                   fmt.Sprintf("fn-%d", i),
			Service:              randomService(rng),
			Cloud:                cloud,
			Region:               region,
			InvocationsPerSecond: rng.Float64() * 1000,
			GBSecondsPerSecond:   rng.Float64() * 100,
			PricePerInvocation:   2e-7,
			PricePerGBSecond:     1.66667e-5,
		}
		in.Functions = append(in.Functions, f)
		totals[cloud] += 3600 * (f.InvocationsPerSecond*f.PricePerInvocation +
			f.GBSecondsPerSecond*f.PricePerGBSecond)
	}
	return in, totals
}

// chargedQuantities returns what the containers on a node are charged for, CPU and
// memory, by the rules restated: max of what is known, usage only for a finished
// init container.
func chargedQuantities(in Input, n Node) (cpu, memory float64) {
	known := func(v float64) float64 {
		if math.IsNaN(v) {
			return 0
		}
		return v
	}
	for _, c := range in.Containers {
		if c.Cluster != n.Cluster || c.Node != n.Name {
			continue
		}
		if c.Init && !c.Running {
			cpu += known(c.CPUUsage)
			memory += known(c.MemoryUsageGiB)
			continue
		}
		cpu += math.Max(known(c.CPURequest), known(c.CPUUsage))
		memory += math.Max(known(c.MemoryRequestGiB), known(c.MemoryUsageGiB))
	}
	return cpu, memory
}

// TestConservationProperty allocates many random worlds and checks conservation per
// cloud, charges that are finite and never negative, totals that match the inputs,
// and each node's idle against the over-commit rule.
func TestConservationProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 2026))
	overcommitted, idle := 0, 0
	for world := range 2000 {
		in, totals := randomWorld(rng)
		r, err := Allocate(in)
		require.NoError(t, err, "world %d", world)
		checkInvariants(t, r)

		require.Len(t, r.CloudTotals, len(totals), "world %d", world)
		for _, ct := range r.CloudTotals {
			require.InDelta(t, totals[ct.Cloud], ct.CostPerHour, 1e-12*totals[ct.Cloud])
		}

		allocated := make(map[Key]float64)
		for _, a := range r.Allocations {
			allocated[a.Key] = a.CostPerHour
		}
		for _, n := range in.Nodes {
			cpu, memory := chargedQuantities(in, n)
			split, _, _ := splitNodePrice(n)
			for _, rc := range []struct {
				component       Component
				part, used, cap float64
			}{
				{ComponentCompute, split.cpu, cpu, n.CPUCores},
				{ComponentMemory, split.memory, memory, n.MemoryGiB},
			} {
				k := Key{
					Service:   identity.Service{Cluster: n.Cluster, Name: Idle},
					Cloud:     n.Cloud,
					Region:    n.Region,
					Component: rc.component,
				}
				got, ok := allocated[k]
				require.True(t, ok, "world %d: no idle for %+v", world, k)
				if rc.used > rc.cap {
					overcommitted++
					require.Zero(t, got, "world %d: %+v", world, k)
					continue
				}
				if got > 0 {
					idle++
				}
				want := rc.part * (1 - rc.used/rc.cap)
				if rc.cap == 0 {
					want = 0
				}
				require.InDelta(t, want, got, 1e-12*n.PricePerHour+1e-15,
					"world %d: %+v", world, k)
			}
		}

		again, err := Allocate(in)
		require.NoError(t, err)
		require.Equal(t, r, again, "world %d: not deterministic", world)
	}
	require.Greater(t, overcommitted, 100)
	require.Greater(t, idle, 100)
}

// TestShuffledInput checks that the order of the input changes nothing but rounding.
func TestShuffledInput(t *testing.T) {
	rng := rand.New(rand.NewPCG(7, 7))
	for range 200 {
		in, _ := randomWorld(rng)
		r, err := Allocate(in)
		require.NoError(t, err)

		rng.Shuffle(len(in.Nodes), func(i, j int) {
			in.Nodes[i], in.Nodes[j] = in.Nodes[j], in.Nodes[i]
		})
		rng.Shuffle(len(in.Containers), func(i, j int) {
			in.Containers[i], in.Containers[j] = in.Containers[j], in.Containers[i]
		})
		rng.Shuffle(len(in.Resources), func(i, j int) {
			in.Resources[i], in.Resources[j] = in.Resources[j], in.Resources[i]
		})
		shuffled, err := Allocate(in)
		require.NoError(t, err)

		require.Len(t, shuffled.Allocations, len(r.Allocations))
		for i, a := range r.Allocations {
			require.Equal(t, a.Key, shuffled.Allocations[i].Key)
			require.InDelta(t, a.CostPerHour, shuffled.Allocations[i].CostPerHour,
				1e-12*(1+a.CostPerHour))
		}
		require.Equal(t, r.Resources, shuffled.Resources)
		require.Equal(t, r.Skipped, shuffled.Skipped)
		require.Equal(t, r.Unmeasurable, shuffled.Unmeasurable)
	}
}
