package topology

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
)

// edgeSeries returns, per adapter, the series of one edge from service i to
// service i+1: a calls counter, a failure counter and a histogram bucket.
var edgeSeries = map[string]func(c, s string) []labels.Labels{
	"istio": func(c, s string) []labels.Labels {
		l := func(name string, extra ...string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", name, "reporter", "destination",
				"source_workload", c, "source_workload_namespace", "ns",
				"destination_workload", s, "destination_workload_namespace", "ns",
				"request_protocol", "http"}, extra...)...)
		}
		return []labels.Labels{
			l("istio_requests_total", "response_code", "200"),
			l("istio_requests_total", "response_code", "503"),
			l("istio_request_duration_milliseconds_bucket", "le", "+Inf"),
			l("istio_tcp_connections_opened_total"),
		}
	},
	"linkerd": func(c, s string) []labels.Labels {
		l := func(name string, extra ...string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", name, "direction", "outbound",
				"namespace", "ns", "deployment", c, "dst_namespace", "ns", "dst_deployment", s},
				extra...)...)
		}
		return []labels.Labels{
			l("request_total"),
			l("response_total", "classification", "failure"),
			l("response_latency_ms_bucket", "le", "+Inf"),
			l("tcp_open_total", "peer", "dst"),
		}
	},
	"servicegraph": func(c, s string) []labels.Labels {
		l := func(name string, extra ...string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", name, "client", c, "server", s},
				extra...)...)
		}
		return []labels.Labels{
			l("traces_service_graph_request_total"),
			l("traces_service_graph_request_failed_total"),
			l("traces_service_graph_request_server_seconds_bucket", "le", "+Inf"),
		}
	},
	"spanmetrics": func(c, s string) []labels.Labels {
		l := func(name string, extra ...string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", name, "service_name", c,
				"span_name", "call", "span_kind", "SPAN_KIND_CLIENT", "peer_service", s},
				extra...)...)
		}
		return []labels.Labels{
			l("traces_span_metrics_calls_total", "status_code", "STATUS_CODE_ERROR"),
			l("traces_span_metrics_duration_milliseconds_bucket", "le", "+Inf"),
		}
	},
	"hubble": func(c, s string) []labels.Labels {
		l := func(name string, extra ...string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", name,
				"source_namespace", "ns", "source_workload", c,
				"destination_namespace", "ns", "destination_workload", s}, extra...)...)
		}
		return []labels.Labels{
			l("hubble_flows_processed_total", "verdict", "FORWARDED"),
			l("hubble_http_requests_total", "reporter", "server"),
			l("hubble_http_responses_total", "reporter", "server", "status", "500"),
			l("hubble_http_request_duration_seconds_bucket", "reporter", "server", "le", "+Inf"),
		}
	},
	"custom": func(c, s string) []labels.Labels {
		l := func(name string, extra ...string) labels.Labels {
			return labels.FromStrings(append([]string{"__name__", name, "direction", "outbound",
				"namespace", "ns", "deployment", c, "dst_namespace", "ns", "dst_deployment", s},
				extra...)...)
		}
		return []labels.Labels{
			l("response_total", "classification", "failure"),
			l("response_latency_ms_bucket", "le", "+Inf"),
		}
	},
}

// TestQueriesDoNotGrowWithServices runs every adapter over a chain of 3 and of 300
// services: the number of queries is the same, and every edge is found.
func TestQueriesDoNotGrowWithServices(t *testing.T) {
	generic, err := NewGeneric(linkerdAsGeneric(), AdapterOptions{})
	require.NoError(t, err)
	adapters := append(DefaultAdapters(AdapterOptions{}), generic)
	require.Len(t, edgeSeries, len(adapters))

	for _, a := range adapters {
		t.Run(a.Name(), func(t *testing.T) {
			counts := map[int]int64{}
			for _, services := range []int{3, 300} {
				e := chainStore(t, edgeSeries[a.Name()], services)
				q := &countingQuerier{Querier: e}
				rep, err := a.Observe(context.Background(), q, fixtureWindow)
				require.NoError(t, err)
				pairs := map[[2]Endpoint]bool{}
				for _, o := range rep.Observations {
					pairs[[2]Endpoint{o.Client, o.Server}] = true
				}
				require.Len(t, pairs, services-1)
				require.Zero(t, rep.Dropped)
				counts[services] = q.queries.Load()
			}
			require.Equal(t, counts[3], counts[300])
			t.Logf("%s: %d queries per Observe", a.Name(), counts[3])
		})
	}
}

// chainStore stores a chain of services, each calling the next, with two samples
// a minute apart ending at fixtureAt.
func chainStore(t *testing.T, series func(c, s string) []labels.Labels, n int) *query.Embedded {
	t.Helper()
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	b := e.Appender(context.Background())
	for i := range n - 1 {
		for _, l := range series(fmt.Sprintf("svc-%d", i), fmt.Sprintf("svc-%d", i+1)) {
			for k, ago := range []time.Duration{time.Minute, 0} {
				require.NoError(t, b.Append(l, fixtureAt.Add(-ago).UnixMilli(), float64(10*k)))
			}
		}
	}
	require.NoError(t, b.Commit())
	return e
}
