package insight

import (
	"math"
	"math/rand/v2"
	"time"
)

// nan is a NaN for test tables.
var nan = math.NaN()

// monday is midnight UTC at the start of a Monday, early in a month.
var monday = time.Date(2025, time.March, 3, 0, 0, 0, 0, time.UTC)

// hourly returns one sample per hour from start with the given values.
func hourly(start time.Time, values ...float64) []Sample {
	samples := make([]Sample, len(values))
	for i, v := range values {
		samples[i] = Sample{Time: start.Add(time.Duration(i) * time.Hour), Value: v}
	}
	return samples
}

// constant returns n hourly samples of v from start.
func constant(start time.Time, n int, v float64) []Sample {
	values := make([]float64, n)
	for i := range values {
		values[i] = v
	}
	return hourly(start, values...)
}

// seasonalCost is the expected cost per hour of a service at t: a level of 20 per
// hour on weekdays with a business-hours peak of +80 % and a smaller evening one, half
// of that at weekends.
func seasonalCost(t time.Time) float64 {
	bump := func(centre, width float64) float64 {
		x := (float64(t.Hour()) - centre) / width
		return math.Exp(-x * x)
	}
	daily := 1 + 0.8*bump(11, 3) + 0.3*bump(20, 2)
	weekly := 1.0
	if wd := t.Weekday(); wd == time.Saturday || wd == time.Sunday {
		weekly = 0.5
	}
	return 20 * daily * weekly
}

// seasonalSeries returns weeks of hourly samples from monday: seasonalCost with
// multiplicative noise of the given relative standard deviation, autocorrelated from
// hour to hour (AR(1), coefficient 0.5), and now and then a heavier outlier.
func seasonalSeries(rng *rand.Rand, weeks int, noise float64) []Sample {
	n := weeks * 7 * 24
	samples := make([]Sample, n)
	var e float64
	for i := range samples {
		t := monday.Add(time.Duration(i) * time.Hour)
		e = 0.5*e + math.Sqrt(1-0.25)*rng.NormFloat64()
		if rng.Float64() < 0.01 {
			e += 2 * rng.NormFloat64()
		}
		samples[i] = Sample{Time: t, Value: seasonalCost(t) * max(0, 1+noise*e)}
	}
	return samples
}
