package topology

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
)

// loadText loads OpenMetrics text into a fresh embedded engine.
func loadText(t *testing.T, text string) *query.Embedded {
	t.Helper()
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	require.NoError(t, e.LoadOpenMetricsReader(strings.NewReader(text), "inline.om"))
	return e
}

// counterLines writes a counter series rising by perMinute over the ten minutes
// before fixtureAt.
func counterLines(series string, perMinute float64) string {
	var b strings.Builder
	for i := 10; i >= 0; i-- {
		fmt.Fprintf(&b, "%s %g %d\n", series, float64(10-i)*perMinute, fixtureAt.Unix()-int64(60*i))
	}
	return b.String()
}

func TestIstioAmbientCountsRequestsNotAlsoConnections(t *testing.T) {
	ids := `source_workload="web",source_workload_namespace="shop",source_cluster="eu",` +
		`destination_workload="api",destination_workload_namespace="shop",destination_cluster="eu"`
	q := loadText(t, "# TYPE istio_requests counter\n"+
		counterLines(`istio_requests_total{reporter="waypoint",`+ids+
			`,request_protocol="http",response_code="200",grpc_response_status=""}`, 6000)+
		"# TYPE istio_tcp_connections_opened counter\n"+
		counterLines(`istio_tcp_connections_opened_total{reporter="destination",`+ids+
			`,request_protocol="tcp"}`, 120)+
		counterLines(`istio_tcp_connections_opened_total{reporter="source",`+
			`source_workload="web",source_workload_namespace="shop",source_cluster="eu",`+
			`destination_workload="unknown",destination_service_name="pg",`+
			`destination_service_namespace="data",destination_cluster="unknown",`+
			`request_protocol="tcp"}`, 60)+"# EOF\n")
	rep, err := NewIstio(AdapterOptions{}).Observe(context.Background(), q, fixtureWindow)
	require.NoError(t, err)
	require.Len(t, rep.Observations, 2)
	http := rep.Observations[1]
	require.Equal(t, "api", http.Server.Name)
	require.Equal(t, "http", http.Protocol, "the waypoint's requests, not ztunnel's TCP too")
	require.InDelta(t, 100, http.RequestsPerSecond, 1e-9)
	tcp := rep.Observations[0]
	require.Equal(t, "pg", tcp.Server.Name, "TCP alone still makes an edge")
	require.Equal(t, "tcp", tcp.Protocol)
	require.InDelta(t, 1, tcp.RequestsPerSecond, 1e-9)
}

func TestIstioDefaultClusterNameIsNotACluster(t *testing.T) {
	a := NewIstio(AdapterOptions{})
	key, ok := a.edge(metricOf(map[string]string{
		"cluster": "prod", "source_workload": "web", "source_workload_namespace": "shop",
		"source_cluster": "Kubernetes", "destination_workload": "api",
		"destination_workload_namespace": "shop", "destination_cluster": "Kubernetes",
	}), "http")
	require.True(t, ok)
	require.Equal(t, fromScrape(ep("prod", "shop", "web")), key.client)
	require.Equal(t, fromScrape(ep("prod", "shop", "api")), key.server)
}

func TestLinkerdServerWithoutProxyIsNamedByItsService(t *testing.T) {
	q := loadText(t, "# TYPE request counter\n"+
		counterLines(`request_total{cluster="eu",direction="outbound",namespace="shop",`+
			`deployment="orders",dst_namespace="data",dst_service="postgres"}`, 60)+
		counterLines(`request_total{cluster="eu",direction="outbound",namespace="shop",`+
			`deployment="orders",dst_namespace="data"}`, 60)+"# EOF\n")
	rep, err := NewLinkerd(AdapterOptions{}).Observe(context.Background(), q, fixtureWindow)
	require.NoError(t, err)
	require.Len(t, rep.Observations, 1)
	require.Equal(t, ep("", "data", "postgres"), rep.Observations[0].Server)
	require.Equal(t, 1, rep.Dropped, "a destination with neither workload nor service")
}
