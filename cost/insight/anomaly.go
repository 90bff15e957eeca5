package insight

import (
	"math"
	"time"
)

// madToSigma turns a median absolute deviation into an estimate of the standard
// deviation of normally distributed values.
const madToSigma = 1.4826

// BaselineKind says which past values a baseline was taken from.
type BaselineKind string

// Kinds of baseline, in the order they are tried.
const (
	// BaselineWeekly is the same hour of the same weekday in past weeks.
	BaselineWeekly BaselineKind = "weekly"
	// BaselineDaily is the same hour of day on past days.
	BaselineDaily BaselineKind = "daily"
	// BaselineTrailing is every sample of a trailing window.
	BaselineTrailing BaselineKind = "trailing"
)

// Anomaly is the score of the latest sample of one series.
type Anomaly struct {
	// Inconclusive is true when there is not enough valid data to score, and
	// Reason says why. The other fields below are then meaningless.
	Inconclusive bool
	Reason       Reason

	// Time and Value are the scored sample.
	Time  time.Time
	Value float64
	// Kind is the baseline used, and References how many past values it is the
	// median of.
	Kind       BaselineKind
	References int
	// Baseline is the expected cost per hour.
	Baseline float64
	// SpreadRatio is the robust spread of past values around their baselines, as
	// a fraction of the baseline, before the floor.
	SpreadRatio float64
	// Scale is the divisor of the score, in currency per hour, after the floors.
	Scale float64
	// Score is (Value − Baseline) / Scale, before the impact gate.
	Score float64
	// DeviationPerHour is Value − Baseline; DeviationPerMonth is that times 730.
	DeviationPerHour  float64
	DeviationPerMonth float64
	// Material is true when the deviation passes the impact gate.
	Material bool
	// Anomalous is true when the deviation is material and |Score| is at least
	// Options.Threshold.
	Anomalous bool
}

// GatedScore is the value of stratus_cost_anomaly_score: the score when the change
// is material, 0 when it is not. ok is false when the anomaly is inconclusive, and
// no series should be exposed; the value is then NaN.
func (a Anomaly) GatedScore() (score float64, ok bool) {
	switch {
	case a.Inconclusive:
		return math.NaN(), false
	case !a.Material:
		return 0, true
	}
	return a.Score, true
}

// ScoreAnomaly scores the latest sample at or before at against a seasonal baseline
// of the samples before it (see the package documentation). The error is for
// invalid options only; too little data gives an inconclusive Anomaly.
func ScoreAnomaly(samples []Sample, at time.Time, opts Options) (Anomaly, error) {
	if err := opts.Validate(); err != nil {
		return Anomaly{}, err
	}

	s, reason := prepare(samples, at, opts.Staleness)
	if reason != "" {
		return Anomaly{Inconclusive: true, Reason: reason}, nil
	}
	a := Anomaly{Time: s.current.Time, Value: s.current.Value}
	if s.span() < opts.MinHistory {
		return inconclusiveAnomaly(a, ReasonShortHistory), nil
	}
	f, ok := fitBaseline(s, opts)
	if !ok {
		return inconclusiveAnomaly(a, ReasonSparseHistory), nil
	}

	a.Kind, a.References, a.Baseline, a.SpreadRatio = f.kind, f.references, f.baseline, f.spread
	a.Scale = max(f.spread, opts.ScaleFloorRatio) * max(f.baseline, opts.ScaleFloorPerHour)
	a.DeviationPerHour = a.Value - a.Baseline
	a.DeviationPerMonth = a.DeviationPerHour * HoursPerMonth
	a.Score = a.DeviationPerHour / a.Scale
	if !finite(a.Scale) || !finite(a.Score) || !finite(a.DeviationPerMonth) {
		return inconclusiveAnomaly(a, ReasonOverflow), nil
	}

	deviation := math.Abs(a.DeviationPerHour)
	a.Material = deviation*HoursPerMonth > opts.MinImpactPerMonth &&
		deviation > opts.MinImpactRatio*a.Baseline
	a.Anomalous = a.Material && math.Abs(a.Score) >= opts.Threshold
	return a, nil
}

// inconclusiveAnomaly marks a as inconclusive, keeping the scored sample.
func inconclusiveAnomaly(a Anomaly, reason Reason) Anomaly {
	return Anomaly{Inconclusive: true, Reason: reason, Time: a.Time, Value: a.Value}
}

// baselineFit is a baseline and its relative spread.
type baselineFit struct {
	kind       BaselineKind
	baseline   float64
	spread     float64
	references int
}

// fitBaseline tries the weekly, daily and trailing baselines in turn and returns the
// first the history supports.
func fitBaseline(s series, o Options) (baselineFit, bool) {
	t := s.current.Time
	reachesWeeks := !s.history[0].Time.After(t.Add(-time.Duration(o.Weeks)*week + o.Tolerance))
	if o.Weeks > 0 && reachesWeeks {
		if f, ok := fitSeasonal(s, o, BaselineWeekly, week, o.Weeks); ok {
			return f, true
		}
	}
	if o.Days > 0 {
		if f, ok := fitSeasonal(s, o, BaselineDaily, day, o.Days); ok {
			return f, true
		}
	}
	return fitTrailing(s, o)
}

// fitSeasonal takes the baseline from the values one to lags periods before the
// latest sample, and its spread from the deviations of the samples of the scale
// window from the same kind of baseline.
func fitSeasonal(s series, o Options, kind BaselineKind, period time.Duration,
	lags int) (baselineFit, bool) {
	need := min(o.MinReferences, lags)
	refs := lagValues(nil, s.history, s.current.Time, period, lags, o.Tolerance)
	if len(refs) < need {
		return baselineFit{}, false
	}
	references := len(refs)
	baseline := median(refs)

	var deviations, pastRefs []float64
	from := s.current.Time.Add(-o.ScaleWindow)
	for _, past := range s.history {
		if past.Time.Before(from) {
			continue
		}
		pastRefs = lagValues(pastRefs, s.history, past.Time, period, lags, o.Tolerance)
		if len(pastRefs) < need {
			continue
		}
		deviations = append(deviations, relativeDeviation(past.Value, median(pastRefs), o))
	}
	if len(deviations) < o.MinResiduals {
		return baselineFit{}, false
	}
	return baselineFit{
		kind:       kind,
		baseline:   baseline,
		spread:     madToSigma * median(deviations),
		references: references,
	}, true
}

// fitTrailing takes the median of the trailing window as the baseline and the
// median deviation from it as the spread.
func fitTrailing(s series, o Options) (baselineFit, bool) {
	from := s.current.Time.Add(-o.TrailingWindow)
	var values []float64
	for _, past := range s.history {
		if !past.Time.Before(from) {
			values = append(values, past.Value)
		}
	}
	if len(values) < o.MinResiduals {
		return baselineFit{}, false
	}
	baseline := median(values)
	deviations := make([]float64, len(values))
	for i, v := range values {
		deviations[i] = relativeDeviation(v, baseline, o)
	}
	return baselineFit{
		kind:       BaselineTrailing,
		baseline:   baseline,
		spread:     madToSigma * median(deviations),
		references: len(values),
	}, true
}

// lagValues returns the values at t − k × period for k from 1 to lags, where there
// is a sample near enough, in values[:0].
func lagValues(values []float64, history []Sample, t time.Time, period time.Duration,
	lags int, tolerance time.Duration) []float64 {
	values = values[:0]
	for k := 1; k <= lags; k++ {
		if v, ok := nearest(history, t.Add(-time.Duration(k)*period), tolerance); ok {
			values = append(values, v)
		}
	}
	return values
}

// relativeDeviation is |v − baseline| as a fraction of the baseline, or of the
// floor when the baseline is smaller.
func relativeDeviation(v, baseline float64, o Options) float64 {
	return math.Abs(v-baseline) / max(baseline, o.ScaleFloorPerHour)
}
