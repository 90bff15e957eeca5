package cost_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
)

// unitCostStore holds a node, two services and their request telemetry: web
// with span metrics of two routes (2 and 1 requests a second, 0.1 and 0.5 s
// each), api with Istio's server-side requests only (4 a second), and a span
// series of a service nobody charges.
func unitCostStore(t *testing.T) *query.Embedded {
	s := newStore(t)
	s.node("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
	s.pod("shop", "web-1", "n1", 1, 0.5, "", "", "label_app", "web")
	s.pod("shop", "api-1", "n1", 1, 0.5, "", "", "label_app", "api")
	span := func(metric, name string, v float64) {
		// Counters far from zero, so that rate() extrapolates them alike.
		l := labels.FromStrings("__name__", metric, "service_name", "web",
			"k8s_namespace_name", "shop", "span_name", name, "span_kind", "SPAN_KIND_SERVER",
			"status_code", "STATUS_CODE_UNSET")
		require.NoError(t, s.b.Append(l, fixtureAt.Add(-time.Minute).UnixMilli(), 1e9))
		require.NoError(t, s.b.Append(l, fixtureAt.UnixMilli(), 1e9+60*v))
	}
	span("traces_span_metrics_calls_total", "GET /a", 2)
	span("traces_span_metrics_calls_total", "GET /b", 1)
	span("traces_span_metrics_duration_milliseconds_sum", "GET /a", 200)
	span("traces_span_metrics_duration_milliseconds_sum", "GET /b", 500)
	// A client span is no work the service serves.
	s.counter(50, "__name__", "traces_span_metrics_calls_total", "service_name", "web",
		"span_name", "GET", "span_kind", "SPAN_KIND_CLIENT")
	s.counter(9, "__name__", "traces_span_metrics_calls_total", "service_name", "ghost",
		"span_name", "GET /", "span_kind", "SPAN_KIND_SERVER")
	s.counter(4, "__name__", "istio_requests_total", "cluster", "c1", "reporter", "destination",
		"destination_workload", "api", "destination_workload_namespace", "shop",
		"response_code", "200")
	s.counter(7, "__name__", "istio_requests_total", "cluster", "c1", "reporter", "source",
		"destination_workload", "api", "destination_workload_namespace", "shop")
	return s.commit()
}

// window makes rate() over the store's two samples a minute apart exact.
const window = 2 * time.Minute

func TestEngineUnitCosts(t *testing.T) {
	e := unitCostStore(t)
	snap := runEngine(t, e, cost.EngineConfig{Book: defaultBook(t), UsageWindow: window}, fixtureAt)
	require.Empty(t, snap.UnitCostError)

	costs := map[identity.Service]float64{}
	for _, a := range snap.Result.Allocations {
		costs[a.Service] += a.CostPerHour
	}
	web := identity.Service{Cluster: "c1", Namespace: "shop", Name: "web"}
	api := identity.Service{Cluster: "c1", Namespace: "shop", Name: "api"}
	require.Len(t, snap.UnitCosts, 2)
	a, w := snap.UnitCosts[0], snap.UnitCosts[1]
	require.Equal(t, api, a.Service)
	require.Equal(t, "istio", a.Source)
	require.InDelta(t, 4, a.RequestsPerSecond, 1e-9)
	require.InEpsilon(t, costs[api]/(4*3600), a.CostPerRequest, 1e-9)
	require.Empty(t, a.Features, "Istio names no route")

	require.Equal(t, web, w.Service)
	require.Equal(t, "spanmetrics", w.Source)
	require.InDelta(t, 3, w.RequestsPerSecond, 1e-9)
	require.InEpsilon(t, costs[web]/(3*3600), w.CostPerRequest, 1e-9)
	require.Len(t, w.Features, 2)
	require.Equal(t, "GET /b", w.Features[0].Route, "largest first")
	require.InEpsilon(t, costs[web]*0.5/0.7, w.Features[0].CostPerHour, 1e-9)
	require.InEpsilon(t, costs[web]*0.2/0.7, w.Features[1].CostPerHour, 1e-9)

	// Capped at one feature, the rest is summed.
	snap = runEngine(t, e, cost.EngineConfig{Book: defaultBook(t), MaxFeatures: 1, UsageWindow: window}, fixtureAt)
	features := snap.UnitCosts[1].Features
	require.Equal(t, []string{"GET /b", cost.OtherFeature},
		[]string{features[0].Route, features[1].Route})
	require.InEpsilon(t, costs[web], features[0].CostPerHour+features[1].CostPerHour, 1e-12)

	// Turned off, the queries are not run.
	engine, err := cost.NewEngine(e, cost.EngineConfig{Book: defaultBook(t), UsageWindow: window})
	require.NoError(t, err)
	engine.DisableUnitCosts()
	engine.DisableRecommendations()
	v, err := engine.Run(context.Background(), fixtureAt)
	require.NoError(t, err)
	require.Empty(t, v.(*cost.Snapshot).UnitCosts)
	require.Equal(t, cost.QueriesPerCycle-cost.UnitCostQueries-cost.RecommendationQueries,
		v.(*cost.Snapshot).Queries)
}

// serverSpanFailure fails the queries of server spans.
type serverSpanFailure struct{ query.Querier }

func (q serverSpanFailure) Query(ctx context.Context, expr string, at time.Time) (model.Vector, error) {
	if strings.Contains(expr, "SPAN_KIND_SERVER") {
		return nil, errors.New("query timed out")
	}
	return q.Querier.Query(ctx, expr, at)
}

// TestEngineUnitCostFailure: the cost figures stand when request rates cannot
// be read, and the snapshot says why.
func TestEngineUnitCostFailure(t *testing.T) {
	e := unitCostStore(t)
	snap := runEngine(t, serverSpanFailure{e}, cost.EngineConfig{Book: defaultBook(t), UsageWindow: window}, fixtureAt)
	require.Contains(t, snap.UnitCostError, "query timed out")
	require.Empty(t, snap.UnitCosts)
	require.NotEmpty(t, snap.Result.Allocations)
}

func TestReportUnitCosts(t *testing.T) {
	snap := runEngine(t, unitCostStore(t), cost.EngineConfig{Book: defaultBook(t),
		UsageWindow: window}, fixtureAt)
	report := snap.Report()
	var web, idle cost.ServiceReport
	for _, s := range report.Services {
		switch s.Service {
		case "web":
			web = s
		case cost.Idle:
			idle = s
		}
	}
	require.NotNil(t, web.CostPerRequest)
	require.InDelta(t, 3, *web.RequestsPerSecond, 1e-9)
	require.Equal(t, "spanmetrics", web.RequestSource)
	require.Equal(t, "GET /b", web.Features[0].Feature)
	require.Nil(t, idle.CostPerRequest, "idle capacity serves nothing")
	require.Empty(t, idle.Features)
}

// TestEngineHTTPFeatures: without span metrics, OpenTelemetry's HTTP server
// histogram names the features (method and route), in seconds or, from older
// instrumentation, in milliseconds; the service comes from job
// (service.namespace/service.name).
func TestEngineHTTPFeatures(t *testing.T) {
	s := newStore(t)
	s.node("n1", "aws:///us-east-1a/i-1", "m5.xlarge", "us-east-1", 4, 16)
	s.pod("shop", "cart-1", "n1", 1, 0.5, "", "", "label_app", "cart")
	s.pod("shop", "pay-1", "n1", 1, 0.5, "", "", "label_app", "pay")
	series := func(metric, job, route, method string, v float64) {
		l := labels.FromStrings("__name__", metric, "job", job, "instance", "10.0.0.1:9464",
			"http_route", route, "http_request_method", method)
		require.NoError(t, s.b.Append(l, fixtureAt.Add(-time.Minute).UnixMilli(), 1e9))
		require.NoError(t, s.b.Append(l, fixtureAt.UnixMilli(), 1e9+60*v))
	}
	// cart: GET /cart 2/s × 0.1 s, POST /checkout 1/s × 0.6 s.
	series("http_server_request_duration_seconds_count", "shop/cart", "/cart", "GET", 2)
	series("http_server_request_duration_seconds_sum", "shop/cart", "/cart", "GET", 0.2)
	series("http_server_request_duration_seconds_count", "shop/cart", "/checkout", "POST", 1)
	series("http_server_request_duration_seconds_sum", "shop/cart", "/checkout", "POST", 0.6)
	// pay, older instrumentation in milliseconds: one route, 4/s.
	series("http_server_duration_milliseconds_count", "pay", "/pay", "POST", 4)
	series("http_server_duration_milliseconds_sum", "pay", "/pay", "POST", 400)
	snap := runEngine(t, s.commit(), cost.EngineConfig{Book: defaultBook(t),
		UsageWindow: window}, fixtureAt)
	require.Empty(t, snap.UnitCostError)

	costs := charges(snap)
	serviceCost := func(name string) float64 {
		var sum float64
		for k, v := range costs {
			if k.Service.Name == name {
				sum += v
			}
		}
		return sum
	}
	require.Len(t, snap.UnitCosts, 2)
	cart, pay := snap.UnitCosts[0], snap.UnitCosts[1]
	require.Equal(t, "cart", cart.Service.Name)
	require.Equal(t, "http", cart.Source)
	require.InDelta(t, 3, cart.RequestsPerSecond, 1e-9)
	require.Equal(t, "POST /checkout", cart.Features[0].Route, "0.6 s of work a second")
	require.InEpsilon(t, serviceCost("cart")*0.6/0.8, cart.Features[0].CostPerHour, 1e-9)
	require.Equal(t, "GET /cart", cart.Features[1].Route)
	require.Equal(t, "pay", pay.Service.Name)
	require.InDelta(t, 4, pay.RequestsPerSecond, 1e-9)
	require.InEpsilon(t, serviceCost("pay")/(4*3600), pay.CostPerRequest, 1e-9)
	require.Equal(t, []cost.RouteCost{{Route: "POST /pay", CostPerHour: serviceCost("pay")}},
		pay.Features)
}
