package sim

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func moments(xs []float64) (mean, variance, kurtosis float64) {
	for _, x := range xs {
		mean += x
	}
	mean /= float64(len(xs))
	m4 := 0.0
	for _, x := range xs {
		d := x - mean
		variance += d * d
		m4 += d * d * d * d
	}
	variance /= float64(len(xs))
	m4 /= float64(len(xs))
	return mean, variance, m4 / (variance * variance)
}

func lag1(xs []float64) float64 {
	mean, variance, _ := moments(xs)
	c := 0.0
	for i := 1; i < len(xs); i++ {
		c += (xs[i] - mean) * (xs[i-1] - mean)
	}
	return c / float64(len(xs)-1) / variance
}

func correlation(a, b []float64) float64 {
	ma, va, _ := moments(a)
	mb, vb, _ := moments(b)
	c := 0.0
	for i := range a {
		c += (a[i] - ma) * (b[i] - mb)
	}
	return c / float64(len(a)) / math.Sqrt(va*vb)
}

// TestLoadStatistics checks the shapes detectors rely on in the entry load of a
// two-day world: the daily cycle, autocorrelated noise and heavy-tailed shocks.
func TestLoadStatistics(t *testing.T) {
	step := 5 * time.Minute
	w, err := New(Options{Scenario: "steady", Seed: 3, Start: testStart, Duration: 48 * time.Hour,
		Step: step, Autocorrelation: 0.6, NoiseLevel: 0.15})
	require.NoError(t, err)
	var root *service
	for _, s := range w.services {
		if s.root && s.rootBase > 2 {
			root = s
			break
		}
	}
	require.NotNil(t, root)

	var logLoad, logShape, residual, shocks []float64
	for k := 0; k <= w.endStep; k++ {
		w.simulateStep(k)
		shape := diurnal(w.timeOf(k))
		logLoad = append(logLoad, math.Log(root.rps))
		logShape = append(logShape, math.Log(shape))
		residual = append(residual, math.Log(root.rps/(root.rootBase*shape)))
		shocks = append(shocks, root.noise.lastShock)
	}

	require.Greater(t, correlation(logLoad, logShape), 0.7, "diurnal pattern visible")
	require.Greater(t, lag1(residual), 0.3, "noise is autocorrelated")
	_, _, kurt := moments(shocks)
	require.Greater(t, kurt, 4.0, "shocks have heavier tails than a normal (kurtosis 3)")

	// Weekends are quieter than weekdays at the same hour.
	sat := time.Date(2025, 3, 8, 15, 0, 0, 0, time.UTC)
	require.InDelta(t, 0.7, diurnal(sat)/diurnal(sat.AddDate(0, 0, -3)), 1e-9)
}

func TestNoiseProcessIndependentWhenUncorrelated(t *testing.T) {
	p := newNoiseProcess(newRand(1, streamLoad), 0, 0.2)
	var xs []float64
	for range 5000 {
		xs = append(xs, math.Log(p.next()))
	}
	require.Less(t, math.Abs(lag1(xs)), 0.1)
}

func TestPoissonAndSplit(t *testing.T) {
	r := newRand(1, streamTraffic)
	for _, lambda := range []float64{0, 0.01, 3, 500} {
		sum := 0.0
		for range 4000 {
			sum += poisson(r, lambda)
		}
		require.InDelta(t, lambda, sum/4000, 0.1*lambda+0.01)
	}
	parts := splitCount(10, []float64{1, 1, 1})
	require.Equal(t, []float64{4, 3, 3}, parts)
	require.Equal(t, []float64{0, 0}, splitCount(5, []float64{0, 0}))
}
