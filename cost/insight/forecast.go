package insight

import (
	"math"
	"time"
)

// ProfileKind says which seasonal profile shaped a forecast.
type ProfileKind string

// Kinds of forecast profile.
const (
	// ProfileWeekly is a factor for each hour of the week.
	ProfileWeekly ProfileKind = "weekly"
	// ProfileDaily is a factor for each hour of the day.
	ProfileDaily ProfileKind = "daily"
	// ProfileFlat is no profile: every hour is forecast at the level.
	ProfileFlat ProfileKind = "flat"
)

// minProfileCycles is how many whole cycles a profile needs: with one, the profile
// would be the last cycle's noise.
const minProfileCycles = 2

// Forecast is the cost of the calendar month of the evaluation time for one series.
// Amounts are in the configured currency.
type Forecast struct {
	// Inconclusive is true when there is not enough valid data to forecast, and
	// Reason says why. At, MonthStart and MonthEnd are set even then.
	Inconclusive bool
	Reason       Reason

	// At is the evaluation time; the month is [MonthStart, MonthEnd) in UTC.
	At         time.Time
	MonthStart time.Time
	MonthEnd   time.Time

	// Spent is the cost from MonthStart to At.
	Spent float64
	// GapHours are the hours of the month so far charged across gaps in the series.
	GapHours float64
	// UnmeasuredHours are the hours of the month so far before the first sample of
	// the series, charged nothing.
	UnmeasuredHours float64

	// Profile is the seasonal profile of the forecast.
	Profile ProfileKind
	// RemainingHours are the hours from At to MonthEnd, and RatePerHour the mean
	// forecast cost per hour over them.
	RemainingHours float64
	RatePerHour    float64
	// Total is Spent plus the forecast of the remaining hours: the value of
	// stratus_cost_forecast_month_end. Low and High bound it.
	Total float64
	Low   float64
	High  float64
}

// ForecastMonthEnd forecasts the cost of the calendar month (UTC) of at from the
// samples at or before at (see the package documentation). The error is for invalid
// options only; too little data gives an inconclusive Forecast.
func ForecastMonthEnd(samples []Sample, at time.Time, opts Options) (Forecast, error) {
	if err := opts.Validate(); err != nil {
		return Forecast{}, err
	}

	utc := at.UTC()
	monthStart := time.Date(utc.Year(), utc.Month(), 1, 0, 0, 0, 0, time.UTC)
	f := Forecast{At: at, MonthStart: monthStart, MonthEnd: monthStart.AddDate(0, 1, 0)}
	s, reason := prepare(samples, at, opts.Staleness)
	if reason != "" {
		return inconclusiveForecast(f, reason), nil
	}
	if s.span() < opts.MinHistory {
		return inconclusiveForecast(f, ReasonShortHistory), nil
	}

	all := append(s.history, s.current)
	f.Spent, f.GapHours, f.UnmeasuredHours = integrate(all, f.MonthStart, at)

	p := fitProfile(all, opts)
	f.Profile = p.kind
	f.RemainingHours = f.MonthEnd.Sub(at).Hours()
	var remaining float64
	for t := at; t.Before(f.MonthEnd); {
		next := t.Truncate(time.Hour).Add(time.Hour)
		remaining += next.Sub(t).Hours() * p.rate(t)
		t = next
	}
	f.RatePerHour = remaining / f.RemainingHours
	f.Total = f.Spent + remaining

	halfWidth := opts.BandSigmas * p.sigma *
		math.Sqrt(f.RemainingHours+f.RemainingHours*f.RemainingHours/float64(p.levelHours))
	f.Low = max(f.Total-halfWidth, f.Spent)
	f.High = f.Total + halfWidth
	if !finite(f.Total) || !finite(f.High) || !finite(f.RatePerHour) {
		return inconclusiveForecast(f, ReasonOverflow), nil
	}
	return f, nil
}

// inconclusiveForecast marks f as inconclusive, keeping its times.
func inconclusiveForecast(f Forecast, reason Reason) Forecast {
	return Forecast{
		Inconclusive: true,
		Reason:       reason,
		At:           f.At,
		MonthStart:   f.MonthStart,
		MonthEnd:     f.MonthEnd,
	}
}

// integrate returns the cost of the sorted samples from `from` to `to` (the latest
// sample's value holds until `to`, which is not before it), the hours of it charged
// across gaps, and the hours before the first sample.
func integrate(samples []Sample, from, to time.Time) (cost, gapHours, unmeasured float64) {
	gapLimit := 2 * medianIntervalSeconds(samples)
	unmeasured = max(0, samples[0].Time.Sub(from).Hours())

	for i, s := range samples {
		end, rate, gap := to, s.Value, false
		if i+1 < len(samples) {
			next := samples[i+1]
			end = next.Time
			if end.Sub(s.Time).Seconds() > gapLimit {
				rate, gap = s.Value/2+next.Value/2, true
			}
		}
		hours := end.Sub(maxTime(s.Time, from)).Hours()
		if hours <= 0 {
			continue
		}
		cost += rate * hours
		if gap {
			gapHours += hours
		}
	}
	return cost, gapHours, unmeasured
}

// medianIntervalSeconds is the median time between consecutive samples, of which
// there are at least two.
func medianIntervalSeconds(samples []Sample) float64 {
	intervals := make([]float64, len(samples)-1)
	for i := range intervals {
		intervals[i] = samples[i+1].Time.Sub(samples[i].Time).Seconds()
	}
	return median(intervals)
}

// maxTime returns the later of two times.
func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// profile is the forecast model: a level times a factor for each slot of a cycle.
type profile struct {
	kind    ProfileKind
	factors []float64
	level   float64
	// sigma is the standard deviation of the hourly means behind the level
	// around the model, and levelHours how many there are.
	sigma      float64
	levelHours int
}

// slot returns the slot of the hour of t: its hour of week, hour of day, or 0.
func (p profile) slot(t time.Time) int {
	u := t.UTC()
	switch p.kind {
	case ProfileWeekly:
		return int(u.Weekday())*24 + u.Hour()
	case ProfileDaily:
		return u.Hour()
	}
	return 0
}

// rate is the forecast cost per hour of the hour of t.
func (p profile) rate(t time.Time) float64 {
	return p.level * p.factors[p.slot(t)]
}

// hourMean is the mean value of the samples of one hour.
type hourMean struct {
	hour time.Time
	mean float64
}

// fitProfile fits the weekly, daily or flat model that the span of the sorted
// samples supports.
func fitProfile(samples []Sample, o Options) profile {
	latest := samples[len(samples)-1].Time
	span := latest.Sub(samples[0].Time)
	p := profile{kind: ProfileFlat, factors: []float64{1}}
	cycles, period := 1, o.TrailingWindow
	switch {
	case o.Weeks >= minProfileCycles && span >= minProfileCycles*week:
		p.kind, p.factors = ProfileWeekly, make([]float64, 7*24)
		cycles, period = min(o.Weeks, int(span/week)), week
	case o.Days >= minProfileCycles && span >= minProfileCycles*day:
		p.kind, p.factors = ProfileDaily, make([]float64, 24)
		cycles, period = min(o.Days, int(span/day)), day
	}

	last := latest.Truncate(time.Hour)
	hours := hourlyMeans(samples, last.Add(-time.Duration(cycles)*period))
	if p.kind != ProfileFlat {
		p.fitFactors(hours)
	}

	levelFrom := last.Add(-period)
	var level []float64
	for _, h := range hours {
		if h.hour.After(levelFrom) {
			level = append(level, h.mean)
		}
	}
	p.level, p.levelHours = mean(level), len(level)

	var residuals []float64
	for _, h := range hours {
		if h.hour.After(levelFrom) {
			residuals = append(residuals, h.mean-p.rate(h.hour))
		}
	}
	p.sigma = standardDeviation(residuals)
	return p
}

// fitFactors sets each slot's factor to the mean of its hours over the mean of all
// slots that have hours. A slot with no hours, or a profile of a series that costs
// nothing, has the factor 1.
func (p *profile) fitFactors(hours []hourMean) {
	sums := make([]float64, len(p.factors))
	counts := make([]int, len(p.factors))
	for _, h := range hours {
		slot := p.slot(h.hour)
		sums[slot] += h.mean
		counts[slot]++
	}

	var slotMeans []float64
	for slot, n := range counts {
		if n > 0 {
			sums[slot] /= float64(n)
			slotMeans = append(slotMeans, sums[slot])
		}
	}
	overall := mean(slotMeans)
	for slot, n := range counts {
		p.factors[slot] = 1
		if n > 0 && overall > 0 {
			p.factors[slot] = sums[slot] / overall
		}
	}
}

// hourlyMeans averages the sorted samples by the hour they fall in, for the hours
// after `after`.
func hourlyMeans(samples []Sample, after time.Time) []hourMean {
	var hours []hourMean
	var n int
	for _, s := range samples {
		hour := s.Time.Truncate(time.Hour)
		if !hour.After(after) {
			continue
		}
		if len(hours) > 0 && hours[len(hours)-1].hour.Equal(hour) {
			last := &hours[len(hours)-1]
			n++
			last.mean += (s.Value - last.mean) / float64(n)
			continue
		}
		hours = append(hours, hourMean{hour: hour, mean: s.Value})
		n = 1
	}
	return hours
}

// standardDeviation is the sample standard deviation of xs, 0 for fewer than two.
func standardDeviation(xs []float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	m := mean(xs)
	var squares float64
	for _, x := range xs {
		squares += (x - m) * (x - m)
	}
	return math.Sqrt(squares / float64(len(xs)-1))
}
