package insight

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestBudgetStatus(t *testing.T) {
	at := time.Date(2025, time.March, 11, 12, 0, 0, 0, time.UTC)
	end := time.Date(2025, time.April, 1, 0, 0, 0, 0, time.UTC)
	forecast := func(spent, rate float64) Forecast {
		return Forecast{
			At: at, MonthStart: march, MonthEnd: end, Spent: spent,
			RemainingHours: 492, RatePerHour: rate, Total: spent + 492*rate,
		}
	}

	cases := []struct {
		name      string
		perMonth  float64
		forecasts []Forecast
		want      Budget
	}{
		{
			// 2520 spent, 7440 forecast. 2480 left at 10 per hour: 248 hours,
			// March 21, 20:00.
			name:      "exhausted within the month",
			perMonth:  5000,
			forecasts: []Forecast{forecast(2520, 10)},
			want: Budget{
				Spent: 2520, Forecast: 7440, RatePerHour: 10, SpentRatio: 0.504,
				ForecastRatio: 1.488, ExhaustsAt: time.Date(2025, time.March, 21, 20, 0, 0, 0, time.UTC),
			},
		},
		{
			name:      "enough for the month",
			perMonth:  10000,
			forecasts: []Forecast{forecast(2520, 10)},
			want: Budget{
				Spent: 2520, Forecast: 7440, RatePerHour: 10, SpentRatio: 0.252, ForecastRatio: 0.744,
			},
		},
		{
			name:      "already spent",
			perMonth:  2000,
			forecasts: []Forecast{forecast(2520, 10)},
			want: Budget{
				Spent: 2520, Forecast: 7440, RatePerHour: 10, SpentRatio: 1.26, ForecastRatio: 3.72,
				Exhausted: true,
			},
		},
		{
			name:      "nothing more to spend",
			perMonth:  3000,
			forecasts: []Forecast{forecast(2520, 0)},
			want:      Budget{Spent: 2520, Forecast: 2520, SpentRatio: 0.84, ForecastRatio: 0.84},
		},
		{
			// A team of two: 3000 spent, 20 per hour; 1000 left lasts 50 hours.
			name:      "team",
			perMonth:  4000,
			forecasts: []Forecast{forecast(2520, 10), forecast(480, 10)},
			want: Budget{
				Spent: 3000, Forecast: 3000 + 492*20, RatePerHour: 20, SpentRatio: 0.75,
				ForecastRatio: (3000 + 492*20) / 4000.0,
				ExhaustsAt:    at.Add(50 * time.Hour),
			},
		},
		{
			name:     "a member is inconclusive",
			perMonth: 4000,
			forecasts: []Forecast{forecast(2520, 10), {
				Inconclusive: true, Reason: ReasonStale, At: at, MonthStart: march, MonthEnd: end,
			}},
			want: Budget{Inconclusive: true, Reason: ReasonMemberInconclusive},
		},
		{
			name:      "overflow",
			perMonth:  4000,
			forecasts: []Forecast{forecast(1e308, 0), forecast(1e308, 0)},
			want:      Budget{Inconclusive: true, Reason: ReasonOverflow},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := BudgetStatus(c.perMonth, c.forecasts...)
			require.NoError(t, err)
			want := c.want
			want.PerMonth, want.At, want.MonthEnd = c.perMonth, at, end
			require.Equal(t, want, got)
		})
	}
}

func TestBudgetStatusErrors(t *testing.T) {
	at := time.Date(2025, time.March, 11, 12, 0, 0, 0, time.UTC)
	f := Forecast{At: at}
	for _, perMonth := range []float64{0, -1, nan, math.Inf(1)} {
		_, err := BudgetStatus(perMonth, f)
		require.ErrorContains(t, err, "want a finite number > 0")
	}
	_, err := BudgetStatus(100)
	require.ErrorContains(t, err, "no forecast")
	_, err = BudgetStatus(100, f, Forecast{At: at.Add(time.Hour)})
	require.ErrorContains(t, err, "want one evaluation time")
}
