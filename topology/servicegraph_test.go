package topology

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/topology/graph"
)

func TestServiceGraphFixture(t *testing.T) {
	e := openFixture(t, "servicegraph.om")
	checkout := ep("", "shop", "checkout")
	at := fixtureAt
	rep, err := NewServiceGraph(AdapterOptions{}).Observe(context.Background(), e, fixtureWindow)
	require.NoError(t, err)
	requireObservations(t, []Observation{
		{Client: ep("", "", "frontend"), Server: ep("", "", "recommend"),
			LastSeen: at.Add(-20 * time.Minute), ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		// Tempo's "user" is a caller without spans.
		{Client: UnknownEndpoint, Server: ep("", "shop", "frontend"), LastSeen: at,
			RequestsPerSecond: 0.5, ServerErrorRatio: nan, LatencyP95Seconds: nan},
		{Client: checkout, Server: epKind("api.stripe.com", graph.KindExternal), LastSeen: at,
			RequestsPerSecond: 0.05, ServerErrorRatio: nan, LatencyP95Seconds: nan},
		{Client: checkout, Server: epKind("kafka", graph.KindMessaging), LastSeen: at,
			RequestsPerSecond: 0.1, ServerErrorRatio: nan, LatencyP95Seconds: nan},
		// No server histogram: the client's.
		{Client: checkout, Server: epKind("postgres", graph.KindDatabase), LastSeen: at,
			RequestsPerSecond: 2, ServerErrorRatio: nan, LatencyP95Seconds: 0.175},
		// Two http_method dimensions, one edge: 90 calls a minute, 9 failed.
		{Client: ep("", "shop", "frontend"), Server: checkout, LastSeen: at,
			RequestsPerSecond: 1.5, ErrorRatio: 0.1, ServerErrorRatio: nan,
			LatencyP95Seconds: 0.375},
	}, rep.Observations)
	// An empty client, a newline in a server name.
	require.Equal(t, 2, rep.Dropped)
}
