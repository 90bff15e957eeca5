package insight

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Budget is the state of a monthly budget of one service, or of a team (the sum of
// its services), at the evaluation time of its forecasts.
type Budget struct {
	// Inconclusive is true when a forecast of the sum is inconclusive, and Reason
	// says why. PerMonth, At and MonthEnd are set even then.
	Inconclusive bool
	Reason       Reason

	// PerMonth is the budget of the calendar month, in the configured currency.
	PerMonth float64
	At       time.Time
	MonthEnd time.Time

	// Spent and Forecast are the spend so far and the month-end forecast, summed.
	// RatePerHour is the sum of the mean forecast rates of the remaining hours.
	Spent       float64
	Forecast    float64
	RatePerHour float64
	// SpentRatio and ForecastRatio are Spent and Forecast over PerMonth.
	SpentRatio    float64
	ForecastRatio float64
	// Exhausted is true when the spend so far has reached the budget.
	Exhausted bool
	// ExhaustsAt is when the budget will be spent at RatePerHour, to the second,
	// if that is before MonthEnd; zero if it is not, or if it already is
	// (Exhausted).
	ExhaustsAt time.Time
}

// BudgetStatus compares a budget for the calendar month with the sum of the
// forecasts: one for a service, those of its services for a team. The forecasts
// must be for the same evaluation time. An error is input the caller built wrong: a
// budget that is not a finite number > 0, no forecasts, or forecasts for different
// times.
func BudgetStatus(perMonth float64, forecasts ...Forecast) (Budget, error) {
	if !(perMonth > 0) || math.IsInf(perMonth, 1) {
		return Budget{}, fmt.Errorf("budget %g per month: want a finite number > 0", perMonth)
	}
	if len(forecasts) == 0 {
		return Budget{}, errors.New("budget with no forecast to compare")
	}
	at := forecasts[0].At
	for _, f := range forecasts[1:] {
		if !f.At.Equal(at) {
			return Budget{}, fmt.Errorf("forecasts for %s and %s: want one evaluation time",
				at.UTC().Format(time.RFC3339), f.At.UTC().Format(time.RFC3339))
		}
	}

	b := Budget{PerMonth: perMonth, At: at, MonthEnd: forecasts[0].MonthEnd}
	for _, f := range forecasts {
		if f.Inconclusive {
			return inconclusiveBudget(b, ReasonMemberInconclusive), nil
		}
		b.Spent += f.Spent
		b.Forecast += f.Total
		b.RatePerHour += f.RatePerHour
	}
	if !finite(b.Forecast) || !finite(b.RatePerHour) {
		return inconclusiveBudget(b, ReasonOverflow), nil
	}

	b.SpentRatio = b.Spent / perMonth
	b.ForecastRatio = b.Forecast / perMonth
	b.Exhausted = b.Spent >= perMonth
	if !b.Exhausted && b.RatePerHour > 0 {
		hours := (perMonth - b.Spent) / b.RatePerHour
		if hours < b.MonthEnd.Sub(at).Hours() {
			b.ExhaustsAt = at.Add(time.Duration(math.Round(hours*3600)) * time.Second)
		}
	}
	return b, nil
}

// inconclusiveBudget marks b as inconclusive, keeping the budget and its times.
func inconclusiveBudget(b Budget, reason Reason) Budget {
	return Budget{
		Inconclusive: true,
		Reason:       reason,
		PerMonth:     b.PerMonth,
		At:           b.At,
		MonthEnd:     b.MonthEnd,
	}
}
