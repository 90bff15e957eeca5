package insight_test

import (
	"fmt"
	"time"

	"github.com/stratus-monitoring/stratus/cost/insight"
	"github.com/stratus-monitoring/stratus/identity"
)

// Two days of a service at 0.01 per hour, then 0.04: a rise of 300 % that scores
// high but costs about 22 a month, so the exposed score is 0. At 40 per hour instead
// of 10 it would be exposed.
func ExampleScoreAnomaly() {
	start := time.Date(2025, time.March, 3, 0, 0, 0, 0, time.UTC)
	series := func(level, last float64) []insight.Sample {
		var samples []insight.Sample
		for h := range 49 {
			samples = append(samples, insight.Sample{
				Time: start.Add(time.Duration(h) * time.Hour), Value: level,
			})
		}
		samples[48].Value = last
		return samples
	}
	at := start.Add(48 * time.Hour)

	for _, s := range [][]insight.Sample{series(0.01, 0.04), series(10, 40)} {
		a, err := insight.ScoreAnomaly(s, at, insight.DefaultOptions())
		if err != nil {
			fmt.Println(err)
			return
		}
		exposed, _ := a.GatedScore()
		fmt.Printf("%s baseline %.2f, score %.0f, %.1f per month, material %t, exposed %.0f\n",
			a.Kind, a.Baseline, a.Score, a.DeviationPerMonth, a.Material, exposed)
	}
	// Output:
	// trailing baseline 0.01, score 300, 21.9 per month, material false, exposed 0
	// trailing baseline 10.00, score 300, 21900.0 per month, material true, exposed 300
}

// Three days of 10 per hour by night and 20 by day in March (744 hours), and a
// budget of 10 000 for the month.
func ExampleBudgetStatus() {
	start := time.Date(2025, time.March, 1, 0, 0, 0, 0, time.UTC)
	var samples []insight.Sample
	for h := range 73 {
		t := start.Add(time.Duration(h) * time.Hour)
		v := 10.0
		if t.Hour() >= 12 {
			v = 20
		}
		samples = append(samples, insight.Sample{Time: t, Value: v})
	}
	at := start.Add(72 * time.Hour)

	f, err := insight.ForecastMonthEnd(samples, at, insight.DefaultOptions())
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%s profile: spent %.0f, month end %.0f (%.0f to %.0f)\n",
		f.Profile, f.Spent, f.Total, f.Low, f.High)

	b, err := insight.BudgetStatus(10000, f)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("spent %.1f %%, forecast %.1f %%, runs out %s\n",
		100*b.SpentRatio, 100*b.ForecastRatio, b.ExhaustsAt.Format(time.RFC3339))
	// Output:
	// daily profile: spent 1080, month end 11160 (11160 to 11160)
	// spent 10.8 %, forecast 111.6 %, runs out 2025-03-28T18:40:00Z
}

// After a feature launch: web runs 3 replicas instead of 2, and a new search
// service appeared.
func ExampleCompareWindows() {
	web := identity.Service{Namespace: "shop", Name: "web"}
	search := identity.Service{Namespace: "shop", Name: "search"}
	before := []insight.Line{
		{Service: web, Component: "compute", Cloud: "aws", CostPerHour: 10, Replicas: 2, Size: 2, UnitPrice: 2.5},
	}
	after := []insight.Line{
		{Service: web, Component: "compute", Cloud: "aws", CostPerHour: 15, Replicas: 3, Size: 2, UnitPrice: 2.5},
		{Service: search, Component: "compute", Cloud: "aws", CostPerHour: 4},
	}
	c, err := insight.CompareWindows(before, after)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("total %+.2f per hour: replicas %+.2f, new services %+.2f\n",
		c.Difference, c.Effects.Replicas, c.Effects.NewService)
	for _, s := range c.Services {
		fmt.Printf("%-12s %-10s %+.2f\n", s.Service, s.Status, s.Difference)
	}
	// Output:
	// total +9.00 per hour: replicas +5.00, new services +4.00
	// /shop/web    continuing +5.00
	// /shop/search new        +4.00
}
