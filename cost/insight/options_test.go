package insight

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, DefaultOptions().Validate())

	cases := []struct {
		field  string
		modify func(o *Options)
	}{
		{"Weeks", func(o *Options) { o.Weeks = -1 }},
		{"Weeks", func(o *Options) { o.Weeks = 521 }},
		{"Days", func(o *Options) { o.Days = 3651 }},
		{"TrailingWindow", func(o *Options) { o.TrailingWindow = 0 }},
		{"MinHistory", func(o *Options) { o.MinHistory = -time.Hour }},
		{"ScaleWindow", func(o *Options) { o.ScaleWindow = 11 * 365 * 24 * time.Hour }},
		{"Staleness", func(o *Options) { o.Staleness = 0 }},
		{"Tolerance", func(o *Options) { o.Tolerance = 12 * time.Hour }},
		{"Tolerance", func(o *Options) { o.Tolerance = 0 }},
		{"MinReferences", func(o *Options) { o.MinReferences = 0 }},
		{"MinResiduals", func(o *Options) { o.MinResiduals = 0 }},
		{"ScaleFloorRatio", func(o *Options) { o.ScaleFloorRatio = nan }},
		{"ScaleFloorPerHour", func(o *Options) { o.ScaleFloorPerHour = 0 }},
		{"ScaleFloorPerHour", func(o *Options) { o.ScaleFloorPerHour = math.Inf(1) }},
		{"Threshold", func(o *Options) { o.Threshold = 0 }},
		{"MinImpactPerMonth", func(o *Options) { o.MinImpactPerMonth = -1 }},
		{"MinImpactRatio", func(o *Options) { o.MinImpactRatio = math.Inf(1) }},
		{"BandSigmas", func(o *Options) { o.BandSigmas = -2 }},
	}
	for _, c := range cases {
		t.Run(c.field, func(t *testing.T) {
			o := DefaultOptions()
			c.modify(&o)
			require.ErrorContains(t, o.Validate(), "option "+c.field+" = ")

			_, err := ScoreAnomaly(nil, monday, o)
			require.Error(t, err)
			_, err = ForecastMonthEnd(nil, monday, o)
			require.Error(t, err)
		})
	}

	// Every problem is reported, not only the first.
	require.ErrorContains(t, Options{}.Validate(), "option Threshold")
	require.ErrorContains(t, Options{}.Validate(), "option TrailingWindow")

	// Zero turns the gate off; it is valid.
	o := DefaultOptions()
	o.MinImpactPerMonth, o.MinImpactRatio, o.Weeks, o.Days = 0, 0, 0, 0
	require.NoError(t, o.Validate())
}

func TestOptionsLookback(t *testing.T) {
	// Four weeks of lags and a week of deviations before them.
	require.Equal(t, 35*24*time.Hour, DefaultOptions().Lookback())

	// At least the month so far.
	o := DefaultOptions()
	o.Weeks, o.Days = 0, 3
	require.Equal(t, 31*24*time.Hour, o.Lookback())

	o.Days = 30
	require.Equal(t, 37*24*time.Hour, o.Lookback())

	o.Days, o.TrailingWindow = 0, 40*24*time.Hour
	require.Equal(t, 40*24*time.Hour, o.Lookback())
}
