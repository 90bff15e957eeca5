package insight

import (
	"flag"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

// seeds is how many random worlds the seasonal tests draw.
var seeds = flag.Int("insight.seeds", 40, "random series drawn by the seasonal tests")

// TestSeasonalFalsePositives scores every hour of the last week of seasonal series
// with daily and weekly peaks and noise: the regular peaks must not be anomalous.
func TestSeasonalFalsePositives(t *testing.T) {
	opts := DefaultOptions()
	var evaluated, rawHigh, anomalous, peakEvaluated, peakHigh int
	for seed := range *seeds {
		rng := rand.New(rand.NewPCG(uint64(seed), 7))
		samples := seasonalSeries(rng, 6, 0.05)
		for i := len(samples) - 7*24; i < len(samples); i++ {
			a, err := ScoreAnomaly(samples, samples[i].Time, opts)
			require.NoError(t, err)
			require.False(t, a.Inconclusive, "seed %d hour %d: %s", seed, i, a.Reason)
			require.Equal(t, BaselineWeekly, a.Kind)
			evaluated++
			high := math.Abs(a.Score) >= opts.Threshold
			if high {
				rawHigh++
			}
			if a.Anomalous {
				anomalous++
			}
			if h := samples[i].Time.Hour(); h >= 10 && h <= 12 {
				peakEvaluated++
				if high {
					peakHigh++
				}
			}
		}
	}
	rawRate := float64(rawHigh) / float64(evaluated)
	rate := float64(anomalous) / float64(evaluated)
	peakRate := float64(peakHigh) / float64(peakEvaluated)
	t.Logf("%d hours of %d series: |score| >= %g in %.3f%%, at the daily peak %.3f%%; "+
		"anomalous after the impact gate %.3f%%",
		evaluated, *seeds, opts.Threshold, 100*rawRate, 100*peakRate, 100*rate)
	require.Less(t, rawRate, 0.005)
	require.Less(t, peakRate, 0.005)
	require.Less(t, rate, 0.005)
}

// TestSeasonalSpike injects a rise into one hour of the last week of a seasonal
// series: a rise of half the expected cost must be anomalous.
func TestSeasonalSpike(t *testing.T) {
	opts := DefaultOptions()
	for _, rise := range []float64{0.25, 0.5, 1} {
		var detected int
		var scores []float64
		for seed := range *seeds {
			rng := rand.New(rand.NewPCG(uint64(seed), 11))
			samples := seasonalSeries(rng, 6, 0.05)
			i := len(samples) - 1 - rng.IntN(7*24)
			samples[i].Value += rise * seasonalCost(samples[i].Time)

			a, err := ScoreAnomaly(samples, samples[i].Time, opts)
			require.NoError(t, err)
			require.False(t, a.Inconclusive)
			scores = append(scores, a.Score)
			if a.Anomalous {
				detected++
			}
		}
		rate := float64(detected) / float64(*seeds)
		t.Logf("spike of +%.0f%%: anomalous in %d of %d series (%.1f%%), median score %.1f",
			100*rise, detected, *seeds, 100*rate, median(scores))
		if rise >= 0.5 {
			require.GreaterOrEqual(t, rate, 0.95)
		}
	}
}

// TestTrailingBaselineFlagsPeaks shows why the baseline is seasonal: on the same
// series, a plain trailing baseline calls the daily peaks anomalous.
func TestTrailingBaselineFlagsPeaks(t *testing.T) {
	seasonal, trailing := DefaultOptions(), DefaultOptions()
	trailing.Weeks, trailing.Days = 0, 0
	var seasonalHigh, trailingHigh, evaluated int
	for seed := range min(*seeds, 20) {
		rng := rand.New(rand.NewPCG(uint64(seed), 13))
		samples := seasonalSeries(rng, 5, 0.05)
		for i := len(samples) - 7*24; i < len(samples); i++ {
			if h := samples[i].Time.Hour(); h < 10 || h > 12 {
				continue
			}
			evaluated++
			for opts, count := range map[*Options]*int{&seasonal: &seasonalHigh, &trailing: &trailingHigh} {
				a, err := ScoreAnomaly(samples, samples[i].Time, *opts)
				require.NoError(t, err)
				if math.Abs(a.Score) >= opts.Threshold {
					*count++
				}
			}
		}
	}
	t.Logf("daily peak hours with |score| >= 3.5: seasonal baseline %d of %d, trailing %d of %d",
		seasonalHigh, evaluated, trailingHigh, evaluated)
	require.Greater(t, trailingHigh, 10*max(seasonalHigh, 1))
}
