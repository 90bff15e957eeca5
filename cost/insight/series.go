package insight

import (
	"math"
	"slices"
	"time"
)

// Sample is one point of a series of cost per hour, as a range query over
// stratus_service_cost_per_hour returns it.
type Sample struct {
	Time time.Time
	// Value is the cost per hour in the configured currency. NaN, infinite and
	// negative values are not costs (see the package documentation).
	Value float64
}

// Reason says why a result is inconclusive. The values are few and stable, so that
// they can be label values and JSON strings.
type Reason string

// Reasons for an inconclusive result.
const (
	// ReasonNoData is a series with no sample at or before the evaluation time.
	ReasonNoData Reason = "no_data"
	// ReasonStale is a series whose latest sample is older than Options.Staleness.
	ReasonStale Reason = "stale"
	// ReasonInvalidValue is a latest sample that is NaN, infinite or negative.
	ReasonInvalidValue Reason = "invalid_value"
	// ReasonShortHistory is less than Options.MinHistory of valid history before
	// the latest sample.
	ReasonShortHistory Reason = "short_history"
	// ReasonSparseHistory is history long enough but with too few samples for any
	// baseline.
	ReasonSparseHistory Reason = "sparse_history"
	// ReasonOverflow is a result too large for a float64.
	ReasonOverflow Reason = "overflow"
	// ReasonMemberInconclusive is a budget one of whose forecasts is inconclusive:
	// a sum without it would understate the spend.
	ReasonMemberInconclusive Reason = "member_inconclusive"
)

// series is a prepared series: the latest sample at or before the evaluation time,
// and the valid samples before it, sorted by time, one per time.
type series struct {
	current Sample
	history []Sample
}

// prepare sorts the samples at or before at, keeps the last one given for each time,
// and checks the latest. Invalid values are dropped from the history.
func prepare(samples []Sample, at time.Time, staleness time.Duration) (series, Reason) {
	var kept []Sample
	for _, s := range samples {
		if !s.Time.After(at) {
			kept = append(kept, s)
		}
	}
	if len(kept) == 0 {
		return series{}, ReasonNoData
	}

	slices.SortStableFunc(kept, func(a, b Sample) int { return a.Time.Compare(b.Time) })
	unique := kept[:1]
	for _, s := range kept[1:] {
		if s.Time.Equal(unique[len(unique)-1].Time) {
			unique[len(unique)-1] = s
			continue
		}
		unique = append(unique, s)
	}

	current := unique[len(unique)-1]
	if at.Sub(current.Time) > staleness {
		return series{}, ReasonStale
	}
	if !validCost(current.Value) {
		return series{}, ReasonInvalidValue
	}
	history := make([]Sample, 0, len(unique)-1)
	for _, s := range unique[:len(unique)-1] {
		if validCost(s.Value) {
			history = append(history, s)
		}
	}
	return series{current: current, history: history}, ""
}

// span is the time from the first valid sample to the latest one.
func (s series) span() time.Duration {
	if len(s.history) == 0 {
		return 0
	}
	return s.current.Time.Sub(s.history[0].Time)
}

// validCost reports whether v can be a cost per hour: finite and not negative.
func validCost(v float64) bool {
	return v >= 0 && !math.IsInf(v, 1)
}

// finite reports whether v is neither NaN nor infinite.
func finite(v float64) bool {
	return !math.IsNaN(v) && !math.IsInf(v, 0)
}

// nearest returns the value of the sample nearest to t within tolerance; of two at
// the same distance, the earlier.
func nearest(samples []Sample, t time.Time, tolerance time.Duration) (float64, bool) {
	i, _ := slices.BinarySearchFunc(samples, t, func(s Sample, t time.Time) int {
		return s.Time.Compare(t)
	})
	best, bestDistance := -1, tolerance+1
	for _, j := range [2]int{i - 1, i} {
		if j < 0 || j >= len(samples) {
			continue
		}
		if d := absDuration(samples[j].Time.Sub(t)); d < bestDistance {
			best, bestDistance = j, d
		}
	}
	if best < 0 {
		return 0, false
	}
	return samples[best].Value, true
}

// absDuration returns |d|.
func absDuration(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}

// median returns the median of xs, sorting xs in place. The mean of the middle two
// is taken half by half, so that it cannot overflow. xs must not be empty.
func median(xs []float64) float64 {
	slices.Sort(xs)
	n := len(xs)
	if n%2 == 1 {
		return xs[n/2]
	}
	return xs[n/2-1]/2 + xs[n/2]/2
}

// mean returns the mean of xs, which must not be empty.
func mean(xs []float64) float64 {
	var sum float64
	for _, x := range xs {
		sum += x
	}
	return sum / float64(len(xs))
}
