package topology

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLinkerdFixture(t *testing.T) {
	e := openFixture(t, "linkerd.om")
	web := ep("prod-a", "shop", "web")
	at := fixtureAt
	rep, err := NewLinkerd(AdapterOptions{}).Observe(context.Background(), e, fixtureWindow)
	require.NoError(t, err)
	requireObservations(t, []Observation{
		// Two client pods add up; 6 of 90 responses failed. The TCP connections
		// under this HTTP traffic make no second edge.
		{Client: web, Server: ep("", "shop", "api"), Protocol: "http", LastSeen: at,
			RequestsPerSecond: 1.5, ErrorRatio: 6.0 / 90, ServerErrorRatio: nan,
			LatencyP95Seconds: 0.375, LatencyFromClient: true},
		{Client: web, Server: ep("", "shop", "postgres"), Protocol: "tcp", LastSeen: at,
			RequestsPerSecond: 2.0 / 60, ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		{Client: web, Server: ep("", "shop", "search"), Protocol: "http",
			LastSeen: at.Add(-20 * time.Minute), ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		{Client: ep("prod-a", "shop", "worker"), Server: ep("", "shop", "cache"),
			Protocol: "http", LastSeen: at, RequestsPerSecond: 0.2, ErrorRatio: nan,
			ServerErrorRatio: nan, LatencyP95Seconds: nan},
	}, rep.Observations)
	// No server workload, no client workload; inbound series are not read.
	require.Equal(t, 2, rep.Dropped)
}
