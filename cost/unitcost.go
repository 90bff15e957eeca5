package cost

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
)

// UnitCostQueries is how many queries a cycle runs for cost per request and
// per feature: server span calls and time, HTTP server requests and time
// (OpenTelemetry's http.server.request.duration), and Istio's server-side
// requests.
const UnitCostQueries = 5

// DefaultMaxFeatures is how many features of a service are kept apart; the
// rest are summed into OtherFeature.
const DefaultMaxFeatures = 20

// OtherFeature names the features beyond the cap, summed.
const OtherFeature = "__other__"

// The span metrics read for features: the calls counter and the duration
// histogram's sum, under the names of the OpenTelemetry Collector's
// spanmetrics connector (with and without its namespace) and Tempo's metrics
// generator, and in both of their units. Only server and consumer spans: the
// work a service does for its callers.
var (
	featureCalls = spanServerSelectors(
		"traces_span_metrics_calls_total", "traces_spanmetrics_calls_total", "calls_total")
	featureTimeMilliseconds = spanServerSelectors(
		"traces_span_metrics_duration_milliseconds_sum", "duration_milliseconds_sum",
		"latency_sum")
	featureTimeSeconds = spanServerSelectors(
		"traces_span_metrics_duration_seconds_sum", "duration_seconds_sum",
		"traces_spanmetrics_latency_sum")
)

func spanServerSelectors(names ...string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf(
			`%s{span_kind=~"SPAN_KIND_SERVER|SPAN_KIND_CONSUMER",span_name!=""}`, n)
	}
	return out
}

// The OpenTelemetry HTTP server duration histogram, in seconds (semantic
// conventions 1.20 and later) and in milliseconds (earlier ones), with the
// route a request matched.
var (
	httpCountSeconds      = `http_server_request_duration_seconds_count{http_route!=""}`
	httpSumSeconds        = `http_server_request_duration_seconds_sum{http_route!=""}`
	httpCountMilliseconds = `http_server_duration_milliseconds_count{http_route!=""}`
	httpSumMilliseconds   = `http_server_duration_milliseconds_sum{http_route!=""}`
)

// httpQueries returns requests per second and seconds of serving per second
// per service, route and method from the HTTP server histograms.
func httpQueries(cluster string, window time.Duration) (calls, busy string) {
	by := cluster + ", job, service_name, service_namespace, k8s_namespace_name, " +
		"http_route, http_request_method, http_method"
	rate := func(sel, scale string) string {
		return fmt.Sprintf("sum by (%s) (rate(%s[%s]))%s", by, sel, rangeSelector(window), scale)
	}
	calls = rate(httpCountSeconds, "") + " or " + rate(httpCountMilliseconds, "")
	busy = rate(httpSumSeconds, "") + " or " + rate(httpSumMilliseconds, " / 1000")
	return calls, busy
}

// unitCostQueries returns the span queries: calls per second and seconds of
// serving per second per service and span name, and Istio's requests per
// second per destination workload.
func unitCostQueries(cluster string, window time.Duration) (calls, busy, istio string) {
	by := fmt.Sprintf("%s, service_name, k8s_namespace_name, service_namespace, span_name",
		cluster)
	rate := func(selectors []string, scale string) string {
		parts := make([]string, len(selectors))
		for i, s := range selectors {
			parts[i] = fmt.Sprintf("sum by (%s) (rate(%s[%s]))%s", by, s,
				rangeSelector(window), scale)
		}
		return strings.Join(parts, " or ")
	}
	calls = rate(featureCalls, "")
	busy = rate(featureTimeMilliseconds, " / 1000") + " or " + rate(featureTimeSeconds, "")
	istio = fmt.Sprintf(`sum by (%[1]s, destination_workload_namespace, destination_workload) `+
		`(rate(istio_requests_total{reporter="destination",destination_workload!=""}[%[2]s]))`,
		cluster, rangeSelector(window))
	return calls, busy, istio
}

// UnitCost is what one service's requests cost: its cost per request, and its
// cost per hour split over its features (routes, operations) in proportion to
// the work each causes.
type UnitCost struct {
	Service identity.Service
	// RequestsPerSecond is what the service serves; Source says from which
	// telemetry ("spanmetrics" or "istio").
	RequestsPerSecond float64
	Source            string
	// CostPerRequest is the service's cost per hour over its requests in an
	// hour; absent (NaN) without requests.
	CostPerRequest float64
	// Features is the service's cost per hour per feature, largest first, at
	// most MaxFeatures of them plus OtherFeature; empty where no span metrics
	// name the service's operations.
	Features []RouteCost
}

// unitCosts reads request rates and span work and returns the unit cost of
// every charged service that serves requests, sorted by service.
func (e *Engine) unitCosts(ctx context.Context, at time.Time, result *Result,
	pods []PodAttribution,
) ([]UnitCost, int, error) {
	calls, busy, istio := unitCostQueries(e.cfg.Identity.ClusterLabel, e.cfg.UsageWindow)
	httpCalls, httpBusy := httpQueries(e.cfg.Identity.ClusterLabel, e.cfg.UsageWindow)
	var vecs [UnitCostQueries]model.Vector
	for i, expr := range []string{calls, busy, istio, httpCalls, httpBusy} {
		vec, err := e.querier.Query(ctx, expr, at)
		if err != nil {
			return nil, i + 1, fmt.Errorf("cost: querying request rates: %w", err)
		}
		vecs[i] = vec
	}

	costs := map[identity.Service]float64{}
	for _, a := range result.Allocations {
		if a.Service.Name != Idle && a.Service.Name != Unallocated {
			costs[a.Service] += a.CostPerHour
		}
	}
	match := serviceMatcher(costs, pods, e.cfg.Identity)
	cl := model.LabelName(e.cfg.Identity.ClusterLabel)

	spanName := func(m model.Metric) (string, string, string, string) {
		return string(m[cl]), firstOf(m, "k8s_namespace_name", "service_namespace"),
			string(m["service_name"]), string(m["span_name"])
	}
	spans := collectWork(vecs[0], vecs[1], spanName, match)
	routes := collectWork(vecs[3], vecs[4], func(m model.Metric) (string, string, string, string) {
		namespace, name := jobService(string(m["job"]))
		route := string(m["http_route"])
		if method := firstOf(m, "http_request_method", "http_method"); method != "" {
			route = method + " " + route
		}
		return string(m[cl]), cmp.Or(firstOf(m, "k8s_namespace_name", "service_namespace"),
			namespace), cmp.Or(string(m["service_name"]), name), route
	}, match)
	mesh := map[identity.Service]float64{}
	for _, s := range vecs[2] {
		svc, ok := match(string(s.Metric[cl]), string(s.Metric["destination_workload_namespace"]),
			string(s.Metric["destination_workload"]))
		if ok && validAmount(float64(s.Value)) {
			mesh[svc] += float64(s.Value)
		}
	}

	var out []UnitCost
	for _, svc := range slices.SortedFunc(maps.Keys(costs), identity.CompareServices) {
		u := UnitCost{Service: svc, CostPerRequest: math.NaN()}
		features, source := spans[svc], "spanmetrics"
		if len(features) == 0 {
			features, source = routes[svc], "http"
		}
		var work []RouteWork
		for name, w := range features {
			latency := math.NaN()
			if w.calls > 0 && !math.IsNaN(w.busy) {
				latency = w.busy / w.calls
			}
			work = append(work, RouteWork{Route: name, RequestsPerSecond: w.calls,
				MeanLatencySeconds: latency})
			u.RequestsPerSecond += w.calls
		}
		u.Source = source
		if u.RequestsPerSecond == 0 {
			work = nil
			u.RequestsPerSecond, u.Source = mesh[svc], "istio"
		}
		if u.RequestsPerSecond <= 0 {
			continue
		}
		u.CostPerRequest = PerRequest(costs[svc], u.RequestsPerSecond)
		if len(work) > 0 {
			split, err := SplitByWork(costs[svc], work)
			if err == nil {
				u.Features = capFeatures(split, e.cfg.MaxFeatures)
			}
		}
		out = append(out, u)
	}
	return out, UnitCostQueries, nil
}

// featureWork is the requests and seconds of serving per second of a feature.
type featureWork struct{ calls, busy float64 }

// collectWork sums calls and busy time per charged service and feature; name
// reads a series' cluster, namespace, service and feature. Series of services
// not charged, and values that are not finite numbers ≥ 0, are left out.
func collectWork(calls, busy model.Vector,
	name func(model.Metric) (cluster, namespace, service, feature string),
	match func(cluster, namespace, name string) (identity.Service, bool),
) map[identity.Service]map[string]*featureWork {
	out := map[identity.Service]map[string]*featureWork{}
	add := func(s *model.Sample, into func(w *featureWork, v float64)) {
		cluster, namespace, service, feature := name(s.Metric)
		svc, ok := match(cluster, namespace, service)
		if !ok || !validAmount(float64(s.Value)) {
			return
		}
		if out[svc] == nil {
			out[svc] = map[string]*featureWork{}
		}
		if out[svc][feature] == nil {
			out[svc][feature] = &featureWork{busy: math.NaN()}
		}
		into(out[svc][feature], float64(s.Value))
	}
	for _, s := range calls {
		add(s, func(w *featureWork, v float64) { w.calls += v })
	}
	for _, s := range busy {
		add(s, func(w *featureWork, v float64) {
			if math.IsNaN(w.busy) {
				w.busy = 0
			}
			w.busy += v
		})
	}
	return out
}

// jobService reads OpenTelemetry's job label, service.namespace/service.name
// or service.name alone.
func jobService(job string) (namespace, name string) {
	if i := strings.LastIndex(job, "/"); i >= 0 {
		return job[:i], job[i+1:]
	}
	return "", job
}

// capFeatures sorts features by cost, largest first, and sums those beyond
// max into OtherFeature.
func capFeatures(features []RouteCost, maxFeatures int) []RouteCost {
	slices.SortFunc(features, func(a, b RouteCost) int {
		return cmp.Or(cmp.Compare(b.CostPerHour, a.CostPerHour), cmp.Compare(a.Route, b.Route))
	})
	if len(features) <= maxFeatures {
		return features
	}
	other := RouteCost{Route: OtherFeature}
	for _, f := range features[maxFeatures:] {
		other.CostPerHour += f.CostPerHour
	}
	return append(features[:maxFeatures:maxFeatures], other)
}

// serviceMatcher returns a function that finds the charged service a
// telemetry source names: the exact cluster, namespace and name; else the
// namespace and name in any cluster, or the name alone, when exactly one
// charged service carries them (aliases applied first). Telemetry collected
// centrally may carry the collector's cluster, not the service's.
func serviceMatcher(costs map[identity.Service]float64, pods []PodAttribution,
	cfg identity.Config,
) func(cluster, namespace, name string) (identity.Service, bool) {
	resolver := podResolver(cfg, pods)
	byNamespace := map[[2]string][]identity.Service{}
	byName := map[string][]identity.Service{}
	for svc := range costs {
		resolver.Learn(svc)
		byNamespace[[2]string{svc.Namespace, svc.Name}] = append(
			byNamespace[[2]string{svc.Namespace, svc.Name}], svc)
		byName[svc.Name] = append(byName[svc.Name], svc)
	}
	return func(cluster, namespace, name string) (identity.Service, bool) {
		if name == "" {
			return identity.Service{}, false
		}
		svc := resolver.Resolve(identity.Service{Cluster: cluster, Namespace: namespace,
			Name: name})
		if _, ok := costs[svc]; ok {
			return svc, true
		}
		candidates := byName[svc.Name]
		if svc.Namespace != "" {
			candidates = byNamespace[[2]string{svc.Namespace, svc.Name}]
		}
		if len(candidates) == 1 {
			return candidates[0], true
		}
		return identity.Service{}, false
	}
}

// firstOf returns the first non-empty value of the labels.
func firstOf(m model.Metric, names ...model.LabelName) string {
	for _, n := range names {
		if v := m[n]; v != "" {
			return string(v)
		}
	}
	return ""
}
