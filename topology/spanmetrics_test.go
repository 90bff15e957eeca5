package topology

import (
	"context"
	"testing"
	"time"

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
			RequestsPerSecond: 0.5, ServerErrorRatio: nan, LatencyP95Seconds: 0.175},
		{Client: frontend, Server: epKind("ads", graph.KindService),
			LastSeen: at.Add(-20 * time.Minute), ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		// 15 of 75 client spans had an error; the histogram is in milliseconds.
		{Client: frontend, Server: epKind("checkout", graph.KindService), LastSeen: at,
			RequestsPerSecond: 1.25, ErrorRatio: 0.2, ServerErrorRatio: nan,
			LatencyP95Seconds: 0.375},
	}, rep.Observations)
	// A client span without a callee; server spans are not read.
	require.Equal(t, 1, rep.Dropped)
}
