package collector

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

type fixedAdapter struct{ obs []topology.Observation }

func (fixedAdapter) Name() string { return "istio" }

func (a fixedAdapter) Observe(context.Context, query.Querier, topology.Window) (topology.Report, error) {
	return topology.Report{Observations: a.obs, Dropped: 3}, nil
}

func TestDependencyCollector(t *testing.T) {
	at := time.Unix(1_700_000_000, 0)
	ep := func(ns, name string) topology.Endpoint {
		return topology.Endpoint{Cluster: "eu", Namespace: ns, Name: name, Kind: graph.KindService}
	}
	failing := topology.Observation{Client: ep("shop", "frontend"), Server: ep("shop", "cart"),
		Protocol: "grpc", LastSeen: at.Add(-30 * time.Second), RequestsPerSecond: 4,
		ErrorRatio: 0.25, ServerErrorRatio: 0.25, LatencyP95Seconds: 0.5}
	quiet := topology.Observation{Client: topology.UnknownEndpoint, Server: ep("shop", "frontend"),
		Protocol: "http", LastSeen: at, RequestsPerSecond: 0, ErrorRatio: math.NaN(),
		ServerErrorRatio: math.NaN(), LatencyP95Seconds: math.NaN()}
	store, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	engine := topology.NewDiscoverer(store, topology.Config{
		Adapters: []topology.Adapter{fixedAdapter{[]topology.Observation{failing, quiet}}},
	})
	job := analysis.Job{Engine: engine, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job}, func() time.Time { return at },
		promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewDependencyCollector(sched.Snapshot)
	require.Equal(t, 0, testutil.CollectAndCount(c), "nothing before the first cycle")

	sched.RunOnce(context.Background(), job)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_dependency_error_ratio Share of the calls from client to server that the client saw fail.
# TYPE stratus_dependency_error_ratio gauge
stratus_dependency_error_ratio{client="frontend",client_cluster="eu",client_namespace="shop",server="cart",server_cluster="eu",server_namespace="shop"} 0.25
# HELP stratus_dependency_latency_p95_seconds 95th percentile server-side latency of the calls from client to server.
# TYPE stratus_dependency_latency_p95_seconds gauge
stratus_dependency_latency_p95_seconds{client="frontend",client_cluster="eu",client_namespace="shop",server="cart",server_cluster="eu",server_namespace="shop"} 0.5
# HELP stratus_dependency_requests_per_second Calls per second from client to server over the rate window; 0 for an edge whose series exist without recent calls.
# TYPE stratus_dependency_requests_per_second gauge
stratus_dependency_requests_per_second{client="frontend",client_cluster="eu",client_namespace="shop",protocol="grpc",server="cart",server_cluster="eu",server_namespace="shop"} 4
stratus_dependency_requests_per_second{client="unknown",client_cluster="",client_namespace="",protocol="http",server="frontend",server_cluster="eu",server_namespace="shop"} 0
# HELP stratus_dependency_last_seen_timestamp_seconds Time of the newest sample of any series showing the edge.
# TYPE stratus_dependency_last_seen_timestamp_seconds gauge
stratus_dependency_last_seen_timestamp_seconds{client="frontend",client_cluster="eu",client_namespace="shop",server="cart",server_cluster="eu",server_namespace="shop"} 1.69999997e+09
stratus_dependency_last_seen_timestamp_seconds{client="unknown",client_cluster="",client_namespace="",server="frontend",server_cluster="eu",server_namespace="shop"} 1.7e+09
# HELP stratus_dependency_changes_total Edges and services that appeared or disappeared while Stratus ran; the initial discovery is not counted.
# TYPE stratus_dependency_changes_total counter
stratus_dependency_changes_total{action="added",kind="edge"} 0
stratus_dependency_changes_total{action="added",kind="service"} 0
stratus_dependency_changes_total{action="removed",kind="edge"} 0
stratus_dependency_changes_total{action="removed",kind="service"} 0
# HELP stratus_dependency_edges Edges on the graph that each telemetry source has seen within the retention.
# TYPE stratus_dependency_edges gauge
stratus_dependency_edges{source="istio"} 2
# HELP stratus_dependency_source_up Whether the telemetry source's queries succeeded at the latest cycle (1) or not (0); a failed source's edges stay until the retention passes.
# TYPE stratus_dependency_source_up gauge
stratus_dependency_source_up{source="istio"} 1
# HELP stratus_dependency_source_last_success_timestamp_seconds Evaluation time of the latest cycle in which the telemetry source's queries succeeded; 0 if none has.
# TYPE stratus_dependency_source_last_success_timestamp_seconds gauge
stratus_dependency_source_last_success_timestamp_seconds{source="istio"} 1.7e+09
# HELP stratus_dependency_node_info A node of the dependency graph and its kind (service, database, messaging, external, unknown).
# TYPE stratus_dependency_node_info gauge
stratus_dependency_node_info{cluster="",kind="unknown",namespace="",service="unknown"} 1
stratus_dependency_node_info{cluster="eu",kind="service",namespace="shop",service="cart"} 1
stratus_dependency_node_info{cluster="eu",kind="service",namespace="shop",service="frontend"} 1
# HELP stratus_service_dependents Services that call this one directly or transitively: its blast radius.
# TYPE stratus_service_dependents gauge
stratus_service_dependents{cluster="",namespace="",service="unknown"} 0
stratus_service_dependents{cluster="eu",namespace="shop",service="cart"} 1
stratus_service_dependents{cluster="eu",namespace="shop",service="frontend"} 0
# HELP stratus_service_dependencies Services this one calls directly or transitively.
# TYPE stratus_service_dependencies gauge
stratus_service_dependencies{cluster="",namespace="",service="unknown"} 2
stratus_service_dependencies{cluster="eu",namespace="shop",service="cart"} 0
stratus_service_dependencies{cluster="eu",namespace="shop",service="frontend"} 1
# HELP stratus_service_error_origin 1 where the errors that callers see originate, 0 elsewhere.
# TYPE stratus_service_error_origin gauge
stratus_service_error_origin{cluster="",namespace="",service="unknown"} 0
stratus_service_error_origin{cluster="eu",namespace="shop",service="cart"} 1
stratus_service_error_origin{cluster="eu",namespace="shop",service="frontend"} 0
# HELP stratus_service_critical_path 1 for each service on the slowest chain of calls from the entry point (given as cluster/namespace/name).
# TYPE stratus_service_critical_path gauge
stratus_service_critical_path{cluster="eu",entrypoint="eu/shop/frontend",namespace="shop",service="cart"} 1
stratus_service_critical_path{cluster="eu",entrypoint="eu/shop/frontend",namespace="shop",service="frontend"} 1
`), "stratus_dependency_error_ratio", "stratus_dependency_latency_p95_seconds",
		"stratus_dependency_requests_per_second", "stratus_dependency_last_seen_timestamp_seconds",
		"stratus_dependency_changes_total", "stratus_series_dropped_total",
		"stratus_dependency_edges", "stratus_dependency_node_info",
		"stratus_dependency_source_up", "stratus_dependency_source_last_success_timestamp_seconds", "stratus_service_dependents",
		"stratus_service_dependencies", "stratus_service_error_origin",
		"stratus_service_critical_path"))

	// The series the adapter could not use, counted by the dropped collector.
	require.NoError(t, testutil.CollectAndCompare(NewDroppedCollector(sched.Snapshot),
		strings.NewReader(`
# HELP stratus_series_dropped_total Series or observations an engine left out, by reason: invalid identities, or caps from the configuration.
# TYPE stratus_series_dropped_total counter
stratus_series_dropped_total{family="dependencies",reason="invalid_identity"} 3
stratus_series_dropped_total{family="dependencies",reason="max_edges"} 0
stratus_series_dropped_total{family="dependencies",reason="max_services"} 0
`)))

	require.Equal(t, 3, testutil.CollectAndCount(c, "stratus_service_bottleneck_score"))
	require.Equal(t, 3, testutil.CollectAndCount(c, "stratus_service_betweenness_ratio"))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

type failingAdapter struct{}

func (failingAdapter) Name() string { return "linkerd" }

func (failingAdapter) Observe(context.Context, query.Querier, topology.Window) (topology.Report, error) {
	return topology.Report{}, errors.New("query timed out")
}

func TestDependencyCollectorFailedSource(t *testing.T) {
	store, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	engine := topology.NewDiscoverer(store, topology.Config{
		Adapters: []topology.Adapter{fixedAdapter{}, failingAdapter{}},
	})
	job := analysis.Job{Engine: engine, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	sched.RunOnce(context.Background(), job)

	c := NewDependencyCollector(sched.Snapshot)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_dependency_source_up Whether the telemetry source's queries succeeded at the latest cycle (1) or not (0); a failed source's edges stay until the retention passes.
# TYPE stratus_dependency_source_up gauge
stratus_dependency_source_up{source="istio"} 1
stratus_dependency_source_up{source="linkerd"} 0
`), "stratus_dependency_source_up"))
	require.Equal(t, 2, testutil.CollectAndCount(c,
		"stratus_dependency_source_last_success_timestamp_seconds"))
}

type toggledAdapter struct{ fail *bool }

func (toggledAdapter) Name() string { return "istio" }

func (a toggledAdapter) Observe(context.Context, query.Querier, topology.Window) (topology.Report, error) {
	if *a.fail {
		return topology.Report{}, errors.New("connection refused")
	}
	return topology.Report{}, nil
}

// TestDependencySourceDownWhenEveryCycleFails: a cycle in which every source
// fails leaves the last graph in place, but not the last health.
func TestDependencySourceDownWhenEveryCycleFails(t *testing.T) {
	fail := false
	store, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })
	engine := topology.NewDiscoverer(store, topology.Config{
		Adapters: []topology.Adapter{toggledAdapter{&fail}},
	})
	job := analysis.Job{Engine: engine, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewDependencyCollector(sched.Snapshot).WithSourceStatus(engine.SourceStatus)
	want := func(v string) string {
		return "# HELP stratus_dependency_source_up Whether the telemetry source's queries " +
			"succeeded at the latest cycle (1) or not (0); a failed source's edges stay until " +
			"the retention passes.\n# TYPE stratus_dependency_source_up gauge\n" +
			`stratus_dependency_source_up{source="istio"} ` + v + "\n"
	}

	sched.RunOnce(context.Background(), job)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want("1")),
		"stratus_dependency_source_up"))
	fail = true
	sched.RunOnce(context.Background(), job)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(want("0")),
		"stratus_dependency_source_up"))
}
