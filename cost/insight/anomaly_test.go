package insight

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// withLast returns samples with the value of the last one replaced by v.
func withLast(samples []Sample, v float64) []Sample {
	samples[len(samples)-1].Value = v
	return samples
}

// alternating returns n hourly samples from start: lo, hi, lo, hi, ...
func alternating(start time.Time, n int, lo, hi float64) []Sample {
	values := make([]float64, n)
	for i := range values {
		values[i] = lo
		if i%2 == 1 {
			values[i] = hi
		}
	}
	return hourly(start, values...)
}

// dailyPeak returns days×24+1 hourly samples from monday: 10 per hour, and 20 at
// the hour of day of the last sample.
func dailyPeak(days int) []Sample {
	samples := constant(monday, days*24+1, 10)
	for i := len(samples) - 1; i >= 0; i -= 24 {
		samples[i].Value = 20
	}
	return samples
}

// weeklyPeak returns weeks×168+1 hourly samples from monday: 10 per hour, 20 at the
// hour of day of the last sample, and 30 at its hour of week.
func weeklyPeak(weeks int) []Sample {
	samples := constant(monday, weeks*168+1, 10)
	for i := len(samples) - 1; i >= 0; i -= 24 {
		samples[i].Value = 20
	}
	for i := len(samples) - 1; i >= 0; i -= 168 {
		samples[i].Value = 30
	}
	return samples
}

// drop returns samples without those at the given hours before the last one.
func drop(samples []Sample, hoursBefore ...int) []Sample {
	last := samples[len(samples)-1].Time
	var kept []Sample
	for _, s := range samples {
		keep := true
		for _, h := range hoursBefore {
			if s.Time.Equal(last.Add(-time.Duration(h) * time.Hour)) {
				keep = false
			}
		}
		if keep {
			kept = append(kept, s)
		}
	}
	return kept
}

func TestScoreAnomaly(t *testing.T) {
	end := func(samples []Sample) time.Time { return samples[len(samples)-1].Time }
	cases := []struct {
		name    string
		samples []Sample
		at      time.Time // zero: the time of the last sample
		want    Anomaly   // Time and Value are filled in from the last sample
	}{
		{
			// Trailing: 24 h of 10, spread 0, so the scale is the 1 % floor:
			// 0.1. A rise of 0.5 scores 5 but is 5 %, under the 20 % gate.
			name:    "flat series, small rise: finite, not material",
			samples: withLast(constant(monday, 49, 10), 10.5),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, Scale: 0.1, Score: 5,
				DeviationPerHour: 0.5, DeviationPerMonth: 365,
			},
		},
		{
			name:    "flat series, rise of 30 %: material and anomalous",
			samples: withLast(constant(monday, 49, 10), 13),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, Scale: 0.1, Score: 30,
				DeviationPerHour: 3, DeviationPerMonth: 2190, Material: true, Anomalous: true,
			},
		},
		{
			// 0.01 → 0.04 per hour: 300 %. The scale is 1 % of max(0.01, 0.001):
			// 1e-4, so the score is 300; but 0.03 × 730 = 21.9 < 50.
			name:    "300 % rise of 0.01 per hour is gated",
			samples: withLast(constant(monday, 49, 0.01), 0.04),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 0.01, Scale: 1e-4, Score: 300,
				DeviationPerHour: 0.03, DeviationPerMonth: 21.9,
			},
		},
		{
			// Zero cost: the scale is 1 % of the 0.001 floor.
			name:    "flat series at zero",
			samples: withLast(constant(monday, 49, 0), 0),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 0, Scale: 1e-5, Score: 0,
			},
		},
		{
			// 9, 11, 9, ... : median 10, every deviation 10 %, spread 0.14826,
			// scale 1.4826; 16 is 6 above: score 4.0469, material.
			name:    "trailing spread, anomalous",
			samples: withLast(alternating(monday, 49, 9, 11), 16),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, SpreadRatio: 0.14826,
				Scale: 1.4826, Score: 6 / 1.4826, DeviationPerHour: 6,
				DeviationPerMonth: 4380, Material: true, Anomalous: true,
			},
		},
		{
			name:    "trailing spread, material but under the threshold",
			samples: withLast(alternating(monday, 49, 9, 11), 14),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, SpreadRatio: 0.14826,
				Scale: 1.4826, Score: 4 / 1.4826, DeviationPerHour: 4,
				DeviationPerMonth: 2920, Material: true,
			},
		},
		{
			name:    "a fall is scored too",
			samples: withLast(alternating(monday, 49, 9, 11), 4),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, SpreadRatio: 0.14826,
				Scale: 1.4826, Score: -6 / 1.4826, DeviationPerHour: -6,
				DeviationPerMonth: -4380, Material: true, Anomalous: true,
			},
		},
		{
			// Four days: the same hour on each is 20, the baseline. The past day's
			// samples have three lags each, and none deviates: spread 0.
			name:    "daily peak is normal",
			samples: dailyPeak(4),
			want: Anomaly{
				Kind: BaselineDaily, References: 4, Baseline: 20, Scale: 0.2,
			},
		},
		{
			name:    "daily peak doubled",
			samples: withLast(dailyPeak(4), 40),
			want: Anomaly{
				Kind: BaselineDaily, References: 4, Baseline: 20, Scale: 0.2, Score: 100,
				DeviationPerHour: 20, DeviationPerMonth: 14600, Material: true, Anomalous: true,
			},
		},
		{
			// Three days: the baseline has its three lags, but no past sample
			// does, so no spread can be measured: the trailing baseline is used,
			// and it calls the daily peak anomalous.
			name:    "three days fall back to trailing",
			samples: dailyPeak(3),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, SpreadRatio: 0,
				Scale: 0.1, Score: 100, DeviationPerHour: 10, DeviationPerMonth: 7300,
				Material: true, Anomalous: true,
			},
		},
		{
			name:    "weekly peak is normal",
			samples: weeklyPeak(4),
			want: Anomaly{
				Kind: BaselineWeekly, References: 4, Baseline: 30, Scale: 0.3,
			},
		},
		{
			// The same hour of week a week, two and three weeks ago is missing:
			// one weekly value is too few, and the daily baseline takes over,
			// with the six days of the past week that are there (all 20).
			name:    "weekly values missing fall back to daily",
			samples: drop(weeklyPeak(4), 168, 336, 504),
			want: Anomaly{
				Kind: BaselineDaily, References: 6, Baseline: 20, SpreadRatio: 0,
				Scale: 0.2, Score: 50, DeviationPerHour: 10, DeviationPerMonth: 7300,
				Material: true, Anomalous: true,
			},
		},
		{
			name: "invalid history is dropped",
			samples: func() []Sample {
				s := withLast(constant(monday, 49, 10), 13)
				s[30].Value, s[31].Value, s[32].Value = nan, math.Inf(1), -1
				return s
			}(),
			want: Anomaly{
				Kind: BaselineTrailing, References: 21, Baseline: 10, Scale: 0.1, Score: 30,
				DeviationPerHour: 3, DeviationPerMonth: 2190, Material: true, Anomalous: true,
			},
		},
		{
			// The latest time is given twice; the later entry counts. Samples
			// after the evaluation time are ignored.
			name: "duplicates and samples after at",
			samples: append(constant(monday, 49, 10),
				Sample{Time: monday.Add(48 * time.Hour), Value: 13},
				Sample{Time: monday.Add(49 * time.Hour), Value: 1000}),
			at: monday.Add(48*time.Hour + 30*time.Minute),
			want: Anomaly{
				Kind: BaselineTrailing, References: 24, Baseline: 10, Scale: 0.1, Score: 30,
				DeviationPerHour: 3, DeviationPerMonth: 2190, Material: true, Anomalous: true,
			},
		},
		{
			name:    "no samples",
			samples: nil,
			at:      monday,
			want:    Anomaly{Inconclusive: true, Reason: ReasonNoData},
		},
		{
			name:    "only samples after at",
			samples: constant(monday, 49, 10),
			at:      monday.Add(-time.Minute),
			want:    Anomaly{Inconclusive: true, Reason: ReasonNoData},
		},
		{
			name:    "stale",
			samples: constant(monday, 49, 10),
			at:      monday.Add(48*time.Hour + time.Hour + time.Second),
			want:    Anomaly{Inconclusive: true, Reason: ReasonStale},
		},
		{
			name:    "latest is NaN",
			samples: withLast(constant(monday, 49, 10), nan),
			want:    Anomaly{Inconclusive: true, Reason: ReasonInvalidValue},
		},
		{
			name:    "latest is infinite",
			samples: withLast(constant(monday, 49, 10), math.Inf(1)),
			want:    Anomaly{Inconclusive: true, Reason: ReasonInvalidValue},
		},
		{
			name:    "latest is negative",
			samples: withLast(constant(monday, 49, 10), -3),
			want:    Anomaly{Inconclusive: true, Reason: ReasonInvalidValue},
		},
		{
			name:    "one sample",
			samples: constant(monday, 1, 10),
			want:    Anomaly{Inconclusive: true, Reason: ReasonShortHistory},
		},
		{
			name:    "23 hours",
			samples: constant(monday, 24, 10),
			want:    Anomaly{Inconclusive: true, Reason: ReasonShortHistory},
		},
		{
			name: "history all NaN",
			samples: func() []Sample {
				s := constant(monday, 49, nan)
				s[48].Value = 10
				return s
			}(),
			want: Anomaly{Inconclusive: true, Reason: ReasonShortHistory},
		},
		{
			name:    "long but sparse",
			samples: drop(constant(monday, 49, 10), 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13),
			want:    Anomaly{Inconclusive: true, Reason: ReasonSparseHistory},
		},
		{
			// 1e308 over a scale of 1e-5 is more than a float64 holds.
			name:    "overflow",
			samples: withLast(constant(monday, 49, 0), 1e308),
			want:    Anomaly{Inconclusive: true, Reason: ReasonOverflow},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			at := c.at
			if at.IsZero() {
				at = end(c.samples)
			}
			got, err := ScoreAnomaly(c.samples, at, DefaultOptions())
			require.NoError(t, err)

			// The scored sample is kept unless the series failed before one was
			// chosen; the numbers behind the score check its value.
			want := c.want
			switch want.Reason {
			case ReasonNoData, ReasonStale, ReasonInvalidValue:
			default:
				require.False(t, got.Time.IsZero())
				want.Time, want.Value = got.Time, got.Value
			}
			requireAnomaly(t, want, got)
		})
	}
}

// requireAnomaly compares anomalies, numbers to 1e-9.
func requireAnomaly(t *testing.T, want, got Anomaly) {
	t.Helper()
	require.Equal(t, want.Inconclusive, got.Inconclusive, "inconclusive (%s)", got.Reason)
	require.Equal(t, want.Reason, got.Reason)
	require.Equal(t, want.Kind, got.Kind)
	require.Equal(t, want.References, got.References)
	require.True(t, want.Time.Equal(got.Time), "time %s, want %s", got.Time, want.Time)
	for _, f := range []struct {
		name      string
		want, got float64
	}{
		{"value", want.Value, got.Value},
		{"baseline", want.Baseline, got.Baseline},
		{"spread", want.SpreadRatio, got.SpreadRatio},
		{"scale", want.Scale, got.Scale},
		{"score", want.Score, got.Score},
		{"deviation per hour", want.DeviationPerHour, got.DeviationPerHour},
		{"deviation per month", want.DeviationPerMonth, got.DeviationPerMonth},
	} {
		require.InDelta(t, f.want, f.got, 1e-9*max(1, math.Abs(f.want)), f.name)
	}
	require.Equal(t, want.Material, got.Material, "material")
	require.Equal(t, want.Anomalous, got.Anomalous, "anomalous")
}

func TestGatedScore(t *testing.T) {
	score, ok := Anomaly{Inconclusive: true, Score: 3}.GatedScore()
	require.False(t, ok)
	require.True(t, math.IsNaN(score))

	score, ok = Anomaly{Score: 300}.GatedScore()
	require.True(t, ok)
	require.Zero(t, score)

	score, ok = Anomaly{Score: -4.5, Material: true}.GatedScore()
	require.True(t, ok)
	require.InDelta(t, -4.5, score, 0)
}

func TestNearest(t *testing.T) {
	samples := []Sample{
		{Time: monday, Value: 1},
		{Time: monday.Add(time.Hour), Value: 2},
	}
	cases := []struct {
		name   string
		t      time.Time
		want   float64
		wantOK bool
	}{
		{"before all, within", monday.Add(-29 * time.Minute), 1, true},
		{"before all, too far", monday.Add(-31 * time.Minute), 0, false},
		{"exact", monday.Add(time.Hour), 2, true},
		{"tie takes the earlier", monday.Add(30 * time.Minute), 1, true},
		{"nearer the later", monday.Add(31 * time.Minute), 2, true},
		{"after all", monday.Add(90 * time.Minute), 2, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := nearest(samples, c.t, 30*time.Minute)
			require.Equal(t, c.wantOK, ok)
			require.InDelta(t, c.want, got, 0)
		})
	}
	_, ok := nearest(nil, monday, time.Hour)
	require.False(t, ok)
}
