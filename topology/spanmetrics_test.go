package topology

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/topology/graph"
)

func TestSpanMetricsFixture(t *testing.T) {
	e := openFixture(t, "spanmetrics.om")
	checkout := ep("", "shop", "checkout")
	frontend := ep("", "shop", "frontend")
	at := fixtureAt
	rep, err := NewSpanMetrics(AdapterOptions{}).Observe(context.Background(), e, fixtureWindow)
	require.NoError(t, err)
	requireObservations(t, []Observation{
		{Client: checkout, Server: epKind("kafka", graph.KindMessaging), LastSeen: at,
			RequestsPerSecond: 0.1, ServerErrorRatio: nan, LatencyP95Seconds: nan},
		// server.address names the database; Tempo's histogram is in seconds.
		{Client: checkout, Server: epKind("orders-db", graph.KindDatabase), LastSeen: at,
			RequestsPerSecond: 0.5, ServerErrorRatio: nan, LatencyP95Seconds: 0.175,
			LatencyFromClient: true},
		{Client: frontend, Server: epKind("ads", graph.KindService),
			LastSeen: at.Add(-20 * time.Minute), ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		// 15 of 75 client spans had an error; the histogram is in milliseconds.
		{Client: frontend, Server: epKind("checkout", graph.KindService), LastSeen: at,
			RequestsPerSecond: 1.25, ErrorRatio: 0.2, ServerErrorRatio: nan,
			LatencyP95Seconds: 0.375, LatencyFromClient: true},
	}, rep.Observations)
	// A client span without a callee; server spans are not read.
	require.Equal(t, 1, rep.Dropped)
}

func TestSpanMetricsServerAddress(t *testing.T) {
	a := NewSpanMetrics(AdapterOptions{})
	client := model.Metric{"cluster": "eu", "service_name": "checkout", "k8s_namespace_name": "shop"}
	with := func(extra model.Metric) model.Metric {
		m := client.Clone()
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	for _, tc := range []struct {
		name   string
		labels model.Metric
		want   Endpoint
	}{
		{"a service DNS name gives name and namespace",
			with(model.Metric{"server_address": "cart.shop.svc.cluster.local:8080"}),
			Endpoint{Namespace: "shop", Name: "cart", Kind: graph.KindService}},
		{"another host is external", with(model.Metric{"server_address": "api.stripe.com:443"}),
			Endpoint{Name: "api.stripe.com", Kind: graph.KindExternal}},
		{"a database host stays a database",
			with(model.Metric{"server_address": "orders.abc.rds.amazonaws.com", "db_system": "postgresql"}),
			Endpoint{Name: "orders.abc.rds.amazonaws.com", Kind: graph.KindDatabase}},
		{"peer.service wins", with(model.Metric{"peer_service": "payments", "server_address": "x.y.z"}),
			Endpoint{Name: "payments", Kind: graph.KindService}},
		{"db.system alone names the database", with(model.Metric{"db_system": "redis"}),
			Endpoint{Name: "redis", Kind: graph.KindDatabase}},
		{"the database name comes before the system",
			with(model.Metric{"db_system": "postgresql", "db_name": "orders"}),
			Endpoint{Name: "orders", Kind: graph.KindDatabase}},
		{"db.namespace comes before db.name",
			with(model.Metric{"db_system": "postgresql", "db_namespace": "users",
				"db_name": "old"}),
			Endpoint{Name: "users", Kind: graph.KindDatabase}},
		{"the queue name comes before the broker",
			with(model.Metric{"messaging_system": "kafka",
				"messaging_destination_name": "orders-events"}),
			Endpoint{Name: "orders-events", Kind: graph.KindMessaging}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			key, ok := a.edge(tc.labels)
			require.True(t, ok)
			require.Equal(t, tc.want, key.server)
			require.Equal(t, Endpoint{Cluster: "eu", Namespace: "shop", Name: "checkout",
				Kind: graph.KindService, ClusterFromScrape: true}, key.client,
				"the collector's cluster is only a guess")
		})
	}
}
