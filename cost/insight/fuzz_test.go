package insight

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// FuzzScoreAnomaly builds a series from a few numbers — its length, step, level,
// daily swing, noise, a last value and how often a value is NaN — and scores and
// forecasts it: nothing may panic, and every result is inconclusive with a reason
// or finite.
func FuzzScoreAnomaly(f *testing.F) {
	f.Add(uint16(900), int64(3600), 10.0, 0.5, 0.05, 15.0, uint8(0), uint64(1), int64(0))
	f.Add(uint16(50), int64(300), 0.01, 0.0, 0.0, 0.04, uint8(7), uint64(2), int64(-30))
	f.Add(uint16(3), int64(86400), 1e300, 1e300, 1.0, 1e308, uint8(1), uint64(3), int64(3600))
	f.Add(uint16(2000), int64(1), 0.0, 0.0, 0.0, 0.0, uint8(2), uint64(4), int64(1))
	f.Add(uint16(700), int64(-3600), 5.0, 1.0, 3.0, math.Inf(1), uint8(3), uint64(5), int64(0))
	f.Fuzz(scoreAnything)
}

// TestScoreExtremes runs the fuzz body over random combinations of the numbers
// that break arithmetic.
func TestScoreExtremes(t *testing.T) {
	values := []float64{
		0, math.Copysign(0, -1), 5e-324, 1e-300, 0.01, 1, 20, 1e300, math.MaxFloat64,
		math.Inf(1), math.Inf(-1), nan, -1,
	}
	steps := []int64{1, 60, 300, 3600, 5400, 86400, 7 * 86400, -3600, 0}
	rng := rand.New(rand.NewPCG(9, 9))
	pick := func() float64 { return values[rng.IntN(len(values))] }
	for range 300 {
		scoreAnything(t, uint16(rng.IntN(1200)), steps[rng.IntN(len(steps))], pick(), pick(),
			pick(), pick(), uint8(rng.IntN(5)), rng.Uint64(), int64(rng.IntN(7200)-3600))
	}
}

// scoreAnything is the body of FuzzScoreAnomaly.
func scoreAnything(t *testing.T, n uint16, stepSeconds int64, level, swing, noise, last float64,
	nanEvery uint8, seed uint64, atOffsetSeconds int64) {
	rng := rand.New(rand.NewPCG(seed, seed))
	step := time.Duration(stepSeconds) * time.Second
	samples := make([]Sample, int(n)%2000)
	for i := range samples {
		ts := monday.Add(time.Duration(i) * step)
		v := level * (1 + swing*math.Sin(2*math.Pi*float64(ts.Hour())/24)) * (1 + noise*rng.NormFloat64())
		if nanEvery > 0 && i%int(nanEvery) == 0 {
			v = nan
		}
		samples[i] = Sample{Time: ts, Value: v}
	}
	if len(samples) > 0 {
		samples[len(samples)-1].Value = last
	}
	rng.Shuffle(len(samples), func(i, j int) { samples[i], samples[j] = samples[j], samples[i] })
	at := monday.Add(time.Duration(len(samples))*step + time.Duration(atOffsetSeconds)*time.Second)

	a, err := ScoreAnomaly(samples, at, DefaultOptions())
	require.NoError(t, err)
	if a.Inconclusive {
		require.NotEmpty(t, a.Reason)
		_, ok := a.GatedScore()
		require.False(t, ok)
	} else {
		for _, v := range []float64{a.Score, a.Baseline, a.Scale, a.DeviationPerHour, a.DeviationPerMonth} {
			require.True(t, finite(v), "%+v", a)
		}
		require.Greater(t, a.Scale, 0.0)
		score, ok := a.GatedScore()
		require.True(t, ok)
		require.True(t, finite(score))
	}

	f, err := ForecastMonthEnd(samples, at, DefaultOptions())
	require.NoError(t, err)
	if f.Inconclusive {
		require.NotEmpty(t, f.Reason)
		return
	}
	for _, v := range []float64{f.Spent, f.Total, f.Low, f.High, f.RatePerHour, f.GapHours} {
		require.True(t, finite(v), "%+v", f)
	}
	require.LessOrEqual(t, f.Spent, f.Low)
	require.LessOrEqual(t, f.Low, f.Total)
	require.LessOrEqual(t, f.Total, f.High)
}
