package cost

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSplitByWork(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cost   float64
		routes []RouteWork
		want   []RouteCost
		err    string
	}{
		{
			name: "requests times latency",
			cost: 10,
			routes: []RouteWork{
				{Route: "/search", RequestsPerSecond: 10, MeanLatencySeconds: 1},
				{Route: "/home", RequestsPerSecond: 100, MeanLatencySeconds: 0.1},
			},
			want: []RouteCost{{"/home", 5}, {"/search", 5}},
		},
		{
			// Known work 10 + 10 over 110 requests: /c takes 50 × 20/110.
			name: "unknown latency at the mean latency",
			cost: 10,
			routes: []RouteWork{
				{Route: "/a", RequestsPerSecond: 100, MeanLatencySeconds: 0.1},
				{Route: "/b", RequestsPerSecond: 10, MeanLatencySeconds: 1},
				{Route: "/c", RequestsPerSecond: 50, MeanLatencySeconds: nan},
			},
			want: []RouteCost{{"/a", 3.4375}, {"/b", 3.4375}, {"/c", 3.125}},
		},
		{
			name: "no latency at all: by requests",
			cost: 3,
			routes: []RouteWork{
				{Route: "/a", RequestsPerSecond: 100, MeanLatencySeconds: nan},
				{Route: "/b", RequestsPerSecond: 50, MeanLatencySeconds: nan},
				{Route: "/idle", RequestsPerSecond: 0, MeanLatencySeconds: nan},
			},
			want: []RouteCost{{"/a", 2}, {"/b", 1}, {"/idle", 0}},
		},
		{
			name:   "no traffic",
			cost:   3,
			routes: []RouteWork{{Route: "/a", MeanLatencySeconds: 0.2}},
			err:    ErrNoTraffic.Error(),
		},
		{name: "no routes", cost: 3, err: ErrNoTraffic.Error()},
		{name: "bad cost", cost: nan, err: "cost per hour is NaN: want a finite number >= 0"},
		{
			name: "huge cost",
			cost: math.MaxFloat64,
			err:  "cost per hour 1.7976931348623157e+308 overflows",
		},
		{
			name: "twice",
			cost: 1,
			routes: []RouteWork{
				{Route: "/a", RequestsPerSecond: 1},
				{Route: "/a", RequestsPerSecond: 2},
			},
			err: `route "/a" is listed twice`,
		},
		{
			name:   "negative requests",
			cost:   1,
			routes: []RouteWork{{Route: "/a", RequestsPerSecond: -1}},
			err:    `route "/a": requests per second is -1`,
		},
		{
			name: "infinite latency",
			cost: 1,
			routes: []RouteWork{
				{Route: "/a", RequestsPerSecond: 1, MeanLatencySeconds: math.Inf(1)},
			},
			err: `route "/a": mean latency is +Inf seconds`,
		},
		{
			name: "overflow",
			cost: 1,
			routes: []RouteWork{
				{Route: "/a", RequestsPerSecond: 1e300, MeanLatencySeconds: 1e300},
			},
			err: "requests times latency overflow",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SplitByWork(tc.cost, tc.routes)
			if tc.err != "" {
				require.EqualError(t, err, tc.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, got, len(tc.want))
			sum := 0.0
			for i, w := range tc.want {
				require.Equal(t, w.Route, got[i].Route)
				require.InDelta(t, w.CostPerHour, got[i].CostPerHour, 1e-12)
				sum += got[i].CostPerHour
			}
			require.InDelta(t, tc.cost, sum, 1e-12*tc.cost)
		})
	}
	_, err := SplitByWork(1, nil)
	require.ErrorIs(t, err, ErrNoTraffic)
}

func TestPerRequest(t *testing.T) {
	for _, tc := range []struct {
		name      string
		cost, rps float64
		want      float64
	}{
		{"one request per second", 3.6, 1, 0.001},
		{"free", 0, 5, 0},
		{"no traffic", 3.6, 0, nan},
		{"unknown traffic", 3.6, nan, nan},
		{"negative traffic", 3.6, -1, nan},
		{"infinite traffic", 3.6, math.Inf(1), nan},
		{"unknown cost", nan, 1, nan},
		{"vanishing traffic", 1e300, 1e-300, nan},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := PerRequest(tc.cost, tc.rps)
			if math.IsNaN(tc.want) {
				require.True(t, math.IsNaN(got), "got %g", got)
				return
			}
			require.InDelta(t, tc.want, got, 1e-15)
		})
	}
}
