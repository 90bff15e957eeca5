package insight

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// march is the start of March 2025, a Saturday; the month has 744 hours.
var march = time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)

// between returns hourly samples from `from` to `to`, both included, with the
// value value(t).
func between(from, to time.Time, value func(t time.Time) float64) []Sample {
	var samples []Sample
	for t := from; !t.After(to); t = t.Add(time.Hour) {
		samples = append(samples, Sample{Time: t, Value: value(t)})
	}
	return samples
}

// flat returns a value function that is always v.
func flat(v float64) func(time.Time) float64 {
	return func(time.Time) float64 { return v }
}

func TestForecastMonthEnd(t *testing.T) {
	day := func(d int, h int) time.Time { return time.Date(2025, time.March, d, h, 0, 0, 0, time.UTC) }
	weekdays := func(t time.Time) float64 {
		if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
			return 5
		}
		return 10
	}
	dayAndNight := func(t time.Time) float64 {
		if t.Hour() < 12 {
			return 10
		}
		return 20
	}

	cases := []struct {
		name    string
		samples []Sample
		at      time.Time
		want    Forecast // At, MonthStart and MonthEnd are filled in
	}{
		{
			// 252 hours of March at 10, 492 to go at 10.
			name:    "flat, daily profile",
			samples: between(day(1, 0).AddDate(0, 0, -3), day(11, 12), flat(10)),
			at:      day(11, 12),
			want: Forecast{
				Spent: 2520, Profile: ProfileDaily, RemainingHours: 492, RatePerHour: 10,
				Total: 7440, Low: 7440, High: 7440,
			},
		},
		{
			// Three days of 10 by night and 20 by day: 360 a day. The profile
			// has the factors 2/3 and 4/3 of a level of 15.
			name:    "daily profile",
			samples: between(day(1, 0), day(4, 0), dayAndNight),
			at:      day(4, 0),
			want: Forecast{
				Spent: 1080, Profile: ProfileDaily, RemainingHours: 672, RatePerHour: 15,
				Total: 11160, Low: 11160, High: 11160,
			},
		},
		{
			// Half an hour after the latest sample: its 10 holds, 5 more spent,
			// and 5 fewer to come.
			name:    "between samples",
			samples: between(day(1, 0), day(4, 0), dayAndNight),
			at:      day(4, 0).Add(30 * time.Minute),
			want: Forecast{
				Spent: 1085, Profile: ProfileDaily, RemainingHours: 671.5,
				RatePerHour: 10075 / 671.5, Total: 11160, Low: 11160, High: 11160,
			},
		},
		{
			// Three weeks of 10 on weekdays and 5 at weekends. March 1 and 2
			// are a weekend (240); 21 weekdays and 8 weekend days are left
			// (5040 + 960).
			name:    "weekly profile",
			samples: between(time.Date(2025, time.February, 10, 0, 0, 0, 0, time.UTC), day(3, 0), weekdays),
			at:      day(3, 0),
			want: Forecast{
				Spent: 240, Profile: ProfileWeekly, RemainingHours: 696, RatePerHour: 6000.0 / 696,
				Total: 6240, Low: 6240, High: 6240,
			},
		},
		{
			// 10 until March 5, nothing for 12 hours, then 20: the gap is
			// charged at 15. 960 + 180 + 144 × 20.
			name: "gap",
			samples: append(between(day(1, 0).AddDate(0, 0, -3), day(5, 0), flat(10)),
				between(day(5, 12), day(11, 12), flat(20))...),
			at: day(11, 12),
			want: Forecast{
				Spent: 4020, GapHours: 12, Profile: ProfileDaily, RemainingHours: 492,
			},
		},
		{
			// The gap from February 28, 20:00 to March 1, 04:00 is charged at 15
			// for its four hours in March.
			name: "gap across the month start",
			samples: append(between(day(1, 0).AddDate(0, 0, -2), day(1, -4), flat(10)),
				between(day(1, 4), day(2, 4), flat(20))...),
			at: day(2, 4),
			want: Forecast{
				Spent: 60 + 24*20, GapHours: 4, Profile: ProfileDaily, RemainingHours: 716,
			},
		},
		{
			// A service that appeared on March 10: 216 hours unmeasured, 30
			// hours of 9, 11, 9, ... (300), and a flat forecast at the level
			// of the last 24 hours, 10, whose buckets deviate by ±1:
			// σ = √(24/23), band 2σ√(498 + 498²/24).
			name:    "new service, band",
			samples: alternating(day(10, 0), 31, 9, 11),
			at:      day(11, 6),
			want: Forecast{
				Spent: 300, UnmeasuredHours: 216, Profile: ProfileFlat, RemainingHours: 498,
				RatePerHour: 10, Total: 5280, Low: 5067.374180470869, High: 5492.625819529131,
			},
		},
		{
			name:    "at the start of a month",
			samples: between(day(1, 0).AddDate(0, 0, -3), day(1, 0).AddDate(0, 1, 0), flat(10)),
			at:      day(1, 0).AddDate(0, 1, 0),
			want: Forecast{
				Spent: 0, Profile: ProfileWeekly, RemainingHours: 720, RatePerHour: 10,
				Total: 7200, Low: 7200, High: 7200,
			},
		},
		{
			// Five hours before midnight UTC on February 28 in New York is
			// already March in UTC: the month is March.
			name:    "month in UTC",
			samples: between(day(1, 0).AddDate(0, 0, -3), day(1, 2), flat(10)),
			at:      day(1, 2).In(time.FixedZone("EST", -5*3600)),
			want: Forecast{
				Spent: 20, Profile: ProfileDaily, RemainingHours: 742, RatePerHour: 10,
				Total: 7440, Low: 7440, High: 7440,
			},
		},
		{
			name: "no samples",
			at:   day(11, 12),
			want: Forecast{Inconclusive: true, Reason: ReasonNoData},
		},
		{
			name:    "stale",
			samples: between(day(1, 0), day(4, 0), flat(10)),
			at:      day(4, 2),
			want:    Forecast{Inconclusive: true, Reason: ReasonStale},
		},
		{
			name:    "latest NaN",
			samples: withLast(between(day(1, 0), day(4, 0), flat(10)), nan),
			at:      day(4, 0),
			want:    Forecast{Inconclusive: true, Reason: ReasonInvalidValue},
		},
		{
			name:    "short",
			samples: between(day(1, 0), day(1, 23), flat(10)),
			at:      day(1, 23),
			want:    Forecast{Inconclusive: true, Reason: ReasonShortHistory},
		},
		{
			name:    "overflow",
			samples: between(day(1, 0), day(3, 0), flat(1e306)),
			at:      day(3, 0),
			want:    Forecast{Inconclusive: true, Reason: ReasonOverflow},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := ForecastMonthEnd(c.samples, c.at, DefaultOptions())
			require.NoError(t, err)

			require.Equal(t, c.want.Inconclusive, got.Inconclusive, "inconclusive (%s)", got.Reason)
			require.Equal(t, c.want.Reason, got.Reason)
			require.True(t, got.At.Equal(c.at))
			utc := c.at.UTC()
			require.Equal(t, time.Date(utc.Year(), utc.Month(), 1, 0, 0, 0, 0, time.UTC), got.MonthStart)
			require.Equal(t, got.MonthStart.AddDate(0, 1, 0), got.MonthEnd)
			require.Equal(t, c.want.Profile, got.Profile)
			for _, f := range []struct {
				name      string
				want, got float64
			}{
				{"spent", c.want.Spent, got.Spent},
				{"gap hours", c.want.GapHours, got.GapHours},
				{"unmeasured hours", c.want.UnmeasuredHours, got.UnmeasuredHours},
				{"remaining hours", c.want.RemainingHours, got.RemainingHours},
			} {
				require.InDelta(t, f.want, f.got, 1e-9*max(1, math.Abs(f.want)), f.name)
			}
			if c.want.Total == 0 {
				return // only the spend was computed by hand
			}
			for _, f := range []struct {
				name      string
				want, got float64
			}{
				{"rate", c.want.RatePerHour, got.RatePerHour},
				{"total", c.want.Total, got.Total},
				{"low", c.want.Low, got.Low},
				{"high", c.want.High, got.High},
			} {
				require.InDelta(t, f.want, f.got, 1e-9*max(1, math.Abs(f.want)), f.name)
			}
		})
	}
}

// TestForecastBandNeverBelowSpent: near the end of a noisy month, the band is wider
// than what is left to spend, and its low end stops at the spend so far. (Flat:
// a profile would fit the alternation exactly.)
func TestForecastBandNeverBelowSpent(t *testing.T) {
	at := time.Date(2025, time.March, 31, 20, 0, 0, 0, time.UTC)
	opts := DefaultOptions()
	opts.Weeks, opts.Days = 0, 0
	got, err := ForecastMonthEnd(alternating(march, 741, 0, 100), at, opts)
	require.NoError(t, err)
	require.False(t, got.Inconclusive)
	require.InDelta(t, got.Spent, got.Low, 0)
	require.Greater(t, got.High, got.Total)
	require.Greater(t, got.Total, got.Spent)
}

// TestForecastProfileFallbacks: with weekly and daily profiles turned off, two
// weeks of history are forecast flat; a series that costs nothing has factors of 1.
func TestForecastProfileFallbacks(t *testing.T) {
	samples := between(march, march.AddDate(0, 0, 15), flat(0))
	got, err := ForecastMonthEnd(samples, march.AddDate(0, 0, 15), DefaultOptions())
	require.NoError(t, err)
	require.Equal(t, ProfileWeekly, got.Profile)
	require.Zero(t, got.Total)

	opts := DefaultOptions()
	opts.Weeks, opts.Days = 0, 0
	got, err = ForecastMonthEnd(between(march, march.AddDate(0, 0, 15), flat(3)),
		march.AddDate(0, 0, 15), opts)
	require.NoError(t, err)
	require.Equal(t, ProfileFlat, got.Profile)
	require.InDelta(t, 3*744, got.Total, 1e-9)
}

// TestForecastSubHourly: five-minute samples of a constant are averaged into hours
// and integrated exactly.
func TestForecastSubHourly(t *testing.T) {
	var samples []Sample
	for ts := march; !ts.After(march.AddDate(0, 0, 3)); ts = ts.Add(5 * time.Minute) {
		samples = append(samples, Sample{Time: ts, Value: 2})
	}
	got, err := ForecastMonthEnd(samples, march.AddDate(0, 0, 3), DefaultOptions())
	require.NoError(t, err)
	require.InDelta(t, 2*72, got.Spent, 1e-9)
	require.InDelta(t, 2*744, got.Total, 1e-9)
	require.Zero(t, got.GapHours)
}

// TestForecastTwoSamples: a day apart, two samples are enough history; the level is
// the one hour of the last day, and with one hour there is no spread to measure.
func TestForecastTwoSamples(t *testing.T) {
	samples := []Sample{{Time: march, Value: 4}, {Time: march.Add(25 * time.Hour), Value: 6}}
	got, err := ForecastMonthEnd(samples, march.Add(25*time.Hour), DefaultOptions())
	require.NoError(t, err)
	require.False(t, got.Inconclusive)
	require.Equal(t, ProfileFlat, got.Profile)
	require.InDelta(t, 4*25, got.Spent, 1e-9)
	require.InDelta(t, 4*25+6*(744-25), got.Total, 1e-9)
	require.InDelta(t, got.Total, got.High, 0)
}
