package cost

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"
)

// ErrNoTraffic is returned by SplitByWork when no route has requests (or every
// request takes no time): the cost of an idle service has no split by feature, and
// inventing one would be a guess.
var ErrNoTraffic = errors.New("no requests to split by")

// RouteWork is the traffic of one route, operation or feature of a service over the
// step, as request metrics with a route label give it.
type RouteWork struct {
	Route string
	// RequestsPerSecond must be a finite number >= 0.
	RequestsPerSecond float64
	// MeanLatencySeconds is the mean time a request takes (rate of the duration
	// sum over rate of the count). NaN means unknown.
	MeanLatencySeconds float64
}

// RouteCost is the part of a service's cost per hour that one route causes.
type RouteCost struct {
	Route       string
	CostPerHour float64
}

// SplitByWork splits a service's cost per hour over its routes in proportion to the
// work each causes: requests per second × mean latency, the time the service spends
// serving it.
//
// A route whose latency is unknown is weighed by its requests alone: it is taken to
// take the service's request-weighted mean latency over the routes that have one,
// and when no route has one every route is weighed by its requests. The parts sum
// to costPerHour (to rounding) and are sorted by route.
//
// No requests at all is ErrNoTraffic. A NaN, negative or infinite cost, request
// rate or latency (other than a NaN latency), or a route listed twice, is an error
// naming the route; so is a cost or a total work too large for a float64.
func SplitByWork(costPerHour float64, routes []RouteWork) ([]RouteCost, error) {
	switch {
	case !validAmount(costPerHour):
		return nil, fmt.Errorf("cost per hour is %g: want a finite number >= 0", costPerHour)
	case costPerHour > maxTotal:
		return nil, fmt.Errorf("cost per hour %g overflows", costPerHour)
	}
	routes = slices.Clone(routes)
	slices.SortFunc(routes, func(a, b RouteWork) int { return cmp.Compare(a.Route, b.Route) })

	// Requests and request-weighted latency over the routes whose latency is known.
	timed, work := 0.0, 0.0
	for i, r := range routes {
		if i > 0 && routes[i-1].Route == r.Route {
			return nil, fmt.Errorf("route %q is listed twice", r.Route)
		}
		if !validAmount(r.RequestsPerSecond) {
			return nil, fmt.Errorf("route %q: requests per second is %g", r.Route,
				r.RequestsPerSecond)
		}
		if math.IsNaN(r.MeanLatencySeconds) {
			continue
		}
		if !validAmount(r.MeanLatencySeconds) {
			return nil, fmt.Errorf("route %q: mean latency is %g seconds", r.Route,
				r.MeanLatencySeconds)
		}
		timed += r.RequestsPerSecond
		work += r.RequestsPerSecond * r.MeanLatencySeconds
	}

	// With no latency known anywhere, a latency of 1 makes work equal requests.
	meanLatency := 1.0
	if timed > 0 {
		meanLatency = work / timed
	}
	weights := make([]float64, len(routes))
	total := 0.0
	for i, r := range routes {
		latency := r.MeanLatencySeconds
		if math.IsNaN(latency) {
			latency = meanLatency
		}
		weights[i] = r.RequestsPerSecond * latency
		total += weights[i]
	}
	switch {
	case math.IsInf(total, 1) || math.IsNaN(total):
		return nil, errors.New("requests times latency overflow")
	case total == 0:
		return nil, ErrNoTraffic
	}

	parts := splitProportional(costPerHour, weights)
	costs := make([]RouteCost, len(routes))
	for i, r := range routes {
		costs[i] = RouteCost{Route: r.Route, CostPerHour: parts[i]}
	}
	return costs, nil
}

// PerRequest returns the unit cost of a service, the cost of one request: cost per
// hour / (requests per second × 3600). With no traffic (a request rate that is
// zero, NaN, negative or infinite) or a cost that is not a finite number >= 0, the
// answer is NaN, "inconclusive": never a made-up zero or infinity.
func PerRequest(costPerHour, requestsPerSecond float64) float64 {
	if !validAmount(costPerHour) || !validAmount(requestsPerSecond) || requestsPerSecond == 0 {
		return math.NaN()
	}
	// Divided in two steps so that a huge request rate cannot overflow the
	// denominator; a vanishing one can still overflow the quotient.
	unit := costPerHour / secondsPerHour / requestsPerSecond
	if math.IsInf(unit, 1) {
		return math.NaN()
	}
	return unit
}
