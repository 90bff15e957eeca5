package insight

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkScoreAnomaly scores the latest of six weeks of samples, one an hour and
// one every five minutes: the work of one service in one cycle.
func BenchmarkScoreAnomaly(b *testing.B) {
	for _, step := range []time.Duration{time.Hour, 5 * time.Minute} {
		b.Run(step.String(), func(b *testing.B) {
			rng := rand.New(rand.NewPCG(1, 1))
			var samples []Sample
			for ts := monday; ts.Before(monday.Add(6 * week)); ts = ts.Add(step) {
				samples = append(samples, Sample{Time: ts, Value: seasonalCost(ts) * (1 + 0.05*rng.NormFloat64())})
			}
			at := samples[len(samples)-1].Time
			for b.Loop() {
				if _, err := ScoreAnomaly(samples, at, DefaultOptions()); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkForecastMonthEnd forecasts from six weeks of hourly samples.
func BenchmarkForecastMonthEnd(b *testing.B) {
	samples := seasonalSeries(rand.New(rand.NewPCG(1, 1)), 6, 0.05)
	at := samples[len(samples)-1].Time
	for b.Loop() {
		if _, err := ForecastMonthEnd(samples, at, DefaultOptions()); err != nil {
			b.Fatal(err)
		}
	}
}
