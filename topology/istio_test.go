package topology

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestIstioFixture(t *testing.T) {
	e := openFixture(t, "istio.om")
	frontend := ep("prod-a", "shop", "frontend")
	checkout := ep("prod-a", "shop", "checkout")
	at := fixtureAt
	sparse := Observation{Client: frontend, Server: ep("prod-a", "shop", "adservice"),
		Protocol: "http", LastSeen: at.Add(-20 * time.Minute),
		ErrorRatio: nan, ServerErrorRatio: nan, LatencyP95Seconds: nan}
	recent := []Observation{
		// No proxy on the caller: the server's view is the only one.
		{Client: UnknownEndpoint, Server: frontend, Protocol: "http", LastSeen: at,
			RequestsPerSecond: 2.5, ErrorRatio: 0.2, ServerErrorRatio: 0.2, LatencyP95Seconds: nan},
		// No sidecar on the server: named by its service; code 0 is a failure. Its
		// proxy-less side has no destination_cluster: the scrape's is a guess.
		{Client: checkout, Server: fromScrape(ep("prod-a", "billing", "payments-api")),
			Protocol: "http",
			LastSeen: at, RequestsPerSecond: 0.55, ErrorRatio: 3.0 / 33, ServerErrorRatio: nan,
			LatencyP95Seconds: 0.175, LatencyFromClient: true},
		{Client: checkout, Server: fromScrape(ep("prod-a", "data", "redis-cart")), Protocol: "tcp",
			LastSeen: at, RequestsPerSecond: 0.05, ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		// One sample 10 s before At: present, no rate.
		{Client: frontend, Server: ep("prod-a", "shop", "currency"), Protocol: "http",
			LastSeen: at.Add(-10 * time.Second), ErrorRatio: nan, ServerErrorRatio: nan,
			LatencyP95Seconds: nan},
		{Client: frontend, Server: frontend, Protocol: "http", LastSeen: at,
			RequestsPerSecond: 0.1, LatencyP95Seconds: nan},
		// Both reporters: the rate and p95 from the server, ErrorRatio from the
		// client (12 of 72 failed), ServerErrorRatio from the server (6 of 66).
		{Client: frontend, Server: ep("prod-b", "shop", "cartservice"), Protocol: "grpc",
			LastSeen: at, RequestsPerSecond: 1.1, ErrorRatio: 1.0 / 6, ServerErrorRatio: 1.0 / 11,
			LatencyP95Seconds: 0.375},
	}

	for _, tc := range []struct {
		name     string
		presence time.Duration
		want     []Observation
	}{
		{"a day finds the sparse edge", 24 * time.Hour,
			append(recent[:3:3], append([]Observation{sparse}, recent[3:]...)...)},
		{"ten minutes does not", 10 * time.Minute, recent},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := fixtureWindow
			w.Presence = tc.presence
			rep, err := NewIstio(AdapterOptions{}).Observe(context.Background(), e, w)
			require.NoError(t, err)
			requireObservations(t, tc.want, rep.Observations)
			// Unknown on both sides, no source_workload, a quote and a newline in a
			// name, PassthroughCluster.
			require.Equal(t, 4, rep.Dropped)
		})
	}
}

func TestIstioFailed(t *testing.T) {
	for _, tc := range []struct {
		code, grpc string
		failed     bool
	}{
		{"200", "", false},
		{"200", "0", false},
		{"200", "14", true},
		{"503", "", true},
		{"503", "14", true},
		{"0", "", true},
		{"404", "", false},
		{"5000", "", false},
	} {
		m := map[string]string{"response_code": tc.code, "grpc_response_status": tc.grpc}
		require.Equal(t, tc.failed, istioFailed(metricOf(m)), "%v", m)
	}
}
