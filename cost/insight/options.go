package insight

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// HoursPerMonth is what "per month" means in Stratus: 730 hours, a year over twelve.
const HoursPerMonth = 730

// Lengths of the seasonal cycles.
const (
	day  = 24 * time.Hour
	week = 7 * day
)

// Limits of the options, so that no window overflows a time.Duration.
const (
	maxWeeks  = 520
	maxDays   = 3650
	maxWindow = 10 * 365 * day
)

// Options tune the anomaly score and the forecast. Start from DefaultOptions: a zero
// Options is not valid.
type Options struct {
	// Weeks is how many past weeks the weekly baseline takes the same hour of week
	// from, and the most weeks a weekly forecast profile spans. 0 turns the weekly
	// baseline and profile off.
	Weeks int
	// Days is how many past days the daily baseline takes the same hour of day
	// from, and the most days a daily forecast profile spans. 0 turns them off.
	Days int
	// TrailingWindow is the window of the trailing baseline, and of the level of a
	// forecast without a profile.
	TrailingWindow time.Duration
	// MinHistory is the history, before the latest sample, below which a result is
	// inconclusive.
	MinHistory time.Duration
	// MinReferences is how many past values a seasonal baseline needs (fewer if it
	// has fewer lags).
	MinReferences int
	// MinResiduals is how many past deviations, or samples of the trailing window,
	// a baseline needs to measure its spread.
	MinResiduals int
	// ScaleWindow is how far back past deviations from a seasonal baseline are
	// taken to measure its spread.
	ScaleWindow time.Duration
	// Tolerance is how far from a past time a sample may be to stand for it. It
	// must be less than 12 hours, so that a lag never lands on another day.
	Tolerance time.Duration
	// Staleness is how old the latest sample may be at the evaluation time.
	Staleness time.Duration

	// ScaleFloorRatio is the smallest spread, as a fraction of the baseline.
	ScaleFloorRatio float64
	// ScaleFloorPerHour is the smallest baseline, in currency per hour, that the
	// spread is taken relative to. It must be positive, so that a flat series at
	// zero scores finite numbers.
	ScaleFloorPerHour float64
	// Threshold is the |score| from which a material change is anomalous.
	Threshold float64
	// MinImpactPerMonth is the deviation per month (730 hours), in currency, that
	// a change must exceed to be material.
	MinImpactPerMonth float64
	// MinImpactRatio is the deviation, as a fraction of the baseline, that a
	// change must exceed to be material.
	MinImpactRatio float64

	// BandSigmas is the half-width of the forecast band in standard deviations.
	BandSigmas float64
}

// DefaultOptions returns the defaults described in the package documentation.
func DefaultOptions() Options {
	return Options{
		Weeks:             4,
		Days:              7,
		TrailingWindow:    24 * time.Hour,
		MinHistory:        24 * time.Hour,
		MinReferences:     3,
		MinResiduals:      12,
		ScaleWindow:       week,
		Tolerance:         30 * time.Minute,
		Staleness:         time.Hour,
		ScaleFloorRatio:   0.01,
		ScaleFloorPerHour: 0.001,
		Threshold:         3.5,
		MinImpactPerMonth: 50,
		MinImpactRatio:    0.2,
		BandSigmas:        2,
	}
}

// Validate reports every option out of its range, naming the field.
func (o Options) Validate() error {
	var errs []error
	check := func(ok bool, field string, value any, want string) {
		if !ok {
			errs = append(errs, fmt.Errorf("option %s = %v: want %s", field, value, want))
		}
	}

	check(o.Weeks >= 0 && o.Weeks <= maxWeeks, "Weeks", o.Weeks, "0 to 520")
	check(o.Days >= 0 && o.Days <= maxDays, "Days", o.Days, "0 to 3650")
	check(window(o.TrailingWindow), "TrailingWindow", o.TrailingWindow, "more than 0, at most 10 years")
	check(window(o.MinHistory), "MinHistory", o.MinHistory, "more than 0, at most 10 years")
	check(window(o.ScaleWindow), "ScaleWindow", o.ScaleWindow, "more than 0, at most 10 years")
	check(window(o.Staleness), "Staleness", o.Staleness, "more than 0, at most 10 years")
	check(o.Tolerance > 0 && o.Tolerance < 12*time.Hour, "Tolerance", o.Tolerance,
		"more than 0 and less than 12h")
	check(o.MinReferences >= 1, "MinReferences", o.MinReferences, "at least 1")
	check(o.MinResiduals >= 1, "MinResiduals", o.MinResiduals, "at least 1")

	check(nonNegative(o.ScaleFloorRatio), "ScaleFloorRatio", o.ScaleFloorRatio, "a finite number >= 0")
	check(nonNegative(o.ScaleFloorPerHour) && o.ScaleFloorPerHour > 0, "ScaleFloorPerHour",
		o.ScaleFloorPerHour, "a finite number > 0")
	check(nonNegative(o.Threshold) && o.Threshold > 0, "Threshold", o.Threshold, "a finite number > 0")
	check(nonNegative(o.MinImpactPerMonth), "MinImpactPerMonth", o.MinImpactPerMonth,
		"a finite number >= 0")
	check(nonNegative(o.MinImpactRatio), "MinImpactRatio", o.MinImpactRatio, "a finite number >= 0")
	check(nonNegative(o.BandSigmas), "BandSigmas", o.BandSigmas, "a finite number >= 0")
	return errors.Join(errs...)
}

// Lookback is how far before the evaluation time the caller should read samples:
// enough for the baselines, the deviations that measure their spread, and the whole
// calendar month so far.
func (o Options) Lookback() time.Duration {
	return max(
		time.Duration(o.Weeks)*week+o.ScaleWindow,
		time.Duration(o.Days)*day+o.ScaleWindow,
		o.TrailingWindow,
		o.MinHistory,
		31*day,
	)
}

// window reports whether d is a usable window.
func window(d time.Duration) bool {
	return d > 0 && d <= maxWindow
}

// nonNegative reports whether v is a finite number >= 0. NaN is not.
func nonNegative(v float64) bool {
	return v >= 0 && !math.IsInf(v, 1)
}
