package insight

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
)

// logUniform returns a number between lo and hi, uniform in its logarithm.
func logUniform(rng *rand.Rand, lo, hi float64) float64 {
	return lo * math.Pow(hi/lo, rng.Float64())
}

// randomFactor returns a factor, unknown one time in five.
func randomFactor(rng *rand.Rand, lo, hi float64) float64 {
	switch rng.IntN(10) {
	case 0:
		return 0
	case 1:
		return nan
	}
	return logUniform(rng, lo, hi)
}

// randomWindows returns two windows over a few services, components and clouds:
// lines that appear, disappear, stay, or cost nothing, with factors that change
// or not.
func randomWindows(rng *rand.Rand) (before, after []Line) {
	components := []string{"compute", "memory", "storage", "network"}
	clouds := []string{"aws", "gcp", "azure"}
	for s := range 1 + rng.IntN(8) {
		service := identity.Service{Namespace: "ns", Name: fmt.Sprintf("svc%d", s)}
		for _, component := range components {
			for _, cloud := range clouds {
				if rng.IntN(3) == 0 {
					continue
				}
				b := Line{
					Service: service, Component: component, Cloud: cloud,
					CostPerHour: logUniform(rng, 1e-4, 1e4),
					Replicas:    randomFactor(rng, 1, 50),
					Size:        randomFactor(rng, 0.1, 64),
					UnitPrice:   randomFactor(rng, 1e-3, 1),
				}
				a := b
				if rng.IntN(2) == 0 {
					a.Replicas = randomFactor(rng, 1, 50)
				}
				if rng.IntN(2) == 0 {
					a.Size = randomFactor(rng, 0.1, 64)
				}
				if rng.IntN(3) == 0 {
					a.UnitPrice = randomFactor(rng, 1e-3, 1)
				}
				a.CostPerHour = b.CostPerHour * logUniform(rng, 0.2, 5)
				switch rng.IntN(8) {
				case 0:
					b.CostPerHour = 0
				case 1:
					a.CostPerHour = 0
				case 2:
					a.CostPerHour = b.CostPerHour
				}
				if rng.IntN(6) != 0 {
					before = append(before, b)
				}
				if rng.IntN(6) != 0 {
					after = append(after, a)
				}
			}
		}
	}
	rng.Shuffle(len(before), func(i, j int) { before[i], before[j] = before[j], before[i] })
	rng.Shuffle(len(after), func(i, j int) { after[i], after[j] = after[j], after[i] })
	return before, after
}

// TestCompareWindowsExact: over many random pairs of windows the effects sum to
// the total difference, and each service's, component's, cloud's and line's to
// its own, to 1e-9 of the costs involved. Swapping the windows negates every effect.
func TestCompareWindowsExact(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for i := range 3000 {
		before, after := randomWindows(rng)
		c, err := CompareWindows(before, after)
		require.NoError(t, err)

		tolerance := 1e-9 * max(1, c.Before+c.After)
		require.InDelta(t, c.After-c.Before, c.Difference, tolerance, "world %d", i)
		require.InDelta(t, c.Difference, c.Effects.Sum(), tolerance, "world %d", i)
		var sum float64
		for _, s := range c.Services {
			require.InDelta(t, s.Difference, s.Effects.Sum(), tolerance, "world %d", i)
			sum += s.Difference
		}
		require.InDelta(t, c.Difference, sum, tolerance, "world %d", i)
		for _, g := range append(c.Components, c.Clouds...) {
			require.InDelta(t, g.Difference, g.Effects.Sum(), tolerance, "world %d", i)
		}
		for _, l := range c.Lines {
			require.InDelta(t, l.Difference, l.Effects.Sum(), 1e-9*max(1, l.Before+l.After))
		}

		reverse, err := CompareWindows(after, before)
		require.NoError(t, err)
		require.InDelta(t, -c.Effects.Replicas, reverse.Effects.Replicas, tolerance)
		require.InDelta(t, -c.Effects.Size, reverse.Effects.Size, tolerance)
		require.InDelta(t, -c.Effects.Price, reverse.Effects.Price, tolerance)
		require.InDelta(t, -c.Effects.Other, reverse.Effects.Other, tolerance)
		require.InDelta(t, -c.Effects.NewService, reverse.Effects.RemovedService, tolerance)
		require.InDelta(t, -c.Effects.Added, reverse.Effects.Removed, tolerance)
	}
}
