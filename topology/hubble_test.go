package topology

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestHubbleFixture(t *testing.T) {
	e := openFixture(t, "hubble.om")
	// Hubble names no cluster: both ends carry the scrape's, as a guess.
	web := fromScrape(ep("prod-a", "shop", "web"))
	api := fromScrape(ep("prod-a", "shop", "api"))
	at := fixtureAt
	flowOnly := Observation{RequestsPerSecond: nan, ErrorRatio: nan, ServerErrorRatio: nan,
		LatencyP95Seconds: nan, LastSeen: at}
	with := func(o Observation, client, server Endpoint) Observation {
		o.Client, o.Server = client, server
		return o
	}
	sparse := with(flowOnly, web, fromScrape(ep("prod-a", "shop", "batch")))
	sparse.LastSeen = at.Add(-20 * time.Minute)

	rep, err := NewHubble(AdapterOptions{}).Observe(context.Background(), e, fixtureWindow)
	require.NoError(t, err)
	requireObservations(t, []Observation{
		with(flowOnly, UnknownEndpoint, api),
		// The server reporter's rate and p95; the client saw 12 of 66 fail, the
		// server 3 of 60.
		{Client: web, Server: api, Protocol: "http", LastSeen: at, RequestsPerSecond: 1,
			ErrorRatio: 12.0 / 66, ServerErrorRatio: 0.05, LatencyP95Seconds: 0.375},
		sparse,
		with(flowOnly, web, fromScrape(ep("prod-a", "shop", "postgres"))),
	}, rep.Observations)
	// A flow without a destination workload; dropped flows are no edge at all.
	require.Equal(t, 1, rep.Dropped)
}
