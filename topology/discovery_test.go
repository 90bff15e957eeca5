package topology

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// scriptedAdapter answers each Observe with the next scripted report and
// remembers the windows it was asked for.
type scriptedAdapter struct {
	name    string
	reports []Report
	errs    []error
	windows []Window
}

func (a *scriptedAdapter) Name() string { return a.name }

func (a *scriptedAdapter) Observe(_ context.Context, _ query.Querier, w Window) (Report, error) {
	i := len(a.windows)
	a.windows = append(a.windows, w)
	if i < len(a.errs) && a.errs[i] != nil {
		return Report{}, a.errs[i]
	}
	if i < len(a.reports) {
		return a.reports[i], nil
	}
	return Report{}, nil
}

// stubQuerier answers the saturation query with vec (or err) and the workload
// query with workloads.
type stubQuerier struct {
	vec       model.Vector
	workloads model.Vector
	err       error
	queries   []string
}

func (q *stubQuerier) Query(_ context.Context, expr string, _ time.Time) (model.Vector, error) {
	q.queries = append(q.queries, expr)
	if strings.Contains(expr, "kube_deployment_spec_replicas") {
		return q.workloads, q.err
	}
	return q.vec, q.err
}

func (q *stubQuerier) QueryRange(context.Context, string, query.Range) (model.Matrix, error) {
	return nil, errors.New("not used")
}

func (q *stubQuerier) Series(context.Context, []string, time.Time, time.Time) ([]model.LabelSet, error) {
	return nil, errors.New("not used")
}

func (q *stubQuerier) LabelValues(
	context.Context, string, []string, time.Time, time.Time,
) ([]string, error) {
	return nil, errors.New("not used")
}

var t0 = time.Date(2026, 1, 5, 12, 0, 0, 0, time.UTC)

func svc(cluster, ns, name string) Endpoint {
	return Endpoint{Cluster: cluster, Namespace: ns, Name: name, Kind: graph.KindService}
}

func obs(client, server Endpoint, rps float64, seen time.Time) Observation {
	return Observation{Client: client, Server: server, Protocol: "http", LastSeen: seen,
		RequestsPerSecond: rps, ErrorRatio: math.NaN(), ServerErrorRatio: math.NaN(),
		LatencyP95Seconds: math.NaN()}
}

func run(t *testing.T, d *Discoverer, at time.Time) *Snapshot {
	t.Helper()
	v, err := d.Run(context.Background(), at)
	require.NoError(t, err)
	return v.(*Snapshot)
}

func edgeIDs(s *Snapshot) []string {
	var out []string
	for _, e := range s.Graph.Edges() {
		out = append(out, string(e.Client)+" -> "+string(e.Server))
	}
	return out
}

var (
	front = svc("eu", "shop", "frontend")
	cart  = svc("eu", "shop", "cart")
	redis = svc("eu", "shop", "redis")
)

func TestWindowsLookBackOnceThenOnlyNew(t *testing.T) {
	a := &scriptedAdapter{name: "istio", errs: []error{nil, nil, errors.New("down"), nil}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{a}})

	run(t, d, t0)
	run(t, d, t0.Add(time.Minute))
	_, err := d.Run(context.Background(), t0.Add(2*time.Minute))
	require.ErrorContains(t, err, "istio: down")
	run(t, d, t0.Add(12*time.Minute))

	require.Equal(t, []time.Duration{
		DefaultRetention,
		time.Minute + presenceOverlap,
		time.Minute + presenceOverlap,
		11*time.Minute + presenceOverlap, // the gap since the last success
	}, presences(a.windows))
	for _, w := range a.windows {
		require.Equal(t, DefaultRateWindow, w.Rate)
	}
}

func TestWindowNeverExceedsRetention(t *testing.T) {
	a := &scriptedAdapter{name: "istio"}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{a}, Retention: time.Hour})
	run(t, d, t0)
	run(t, d, t0.Add(5*time.Hour))
	run(t, d, t0.Add(4*time.Hour)) // a clock that went back asks for the overlap only
	require.Equal(t, []time.Duration{time.Hour, time.Hour, presenceOverlap}, presences(a.windows))
}

func presences(ws []Window) []time.Duration {
	out := make([]time.Duration, len(ws))
	for i, w := range ws {
		out[i] = w.Presence
	}
	return out
}

func TestChangesCountOnlyWhatHappensAfterStart(t *testing.T) {
	a := &scriptedAdapter{name: "istio", reports: []Report{
		{Observations: []Observation{obs(front, cart, 10, t0.Add(-time.Hour))}},
		{Observations: []Observation{obs(cart, redis, 1, t0.Add(time.Minute))}},
	}}
	late := &scriptedAdapter{name: "linkerd", errs: []error{errors.New("x")}, reports: []Report{
		{}, {Observations: []Observation{obs(front, svc("eu", "shop", "ads"), 1, t0)}},
	}}
	d := NewDiscoverer(&stubQuerier{}, Config{
		Adapters: []Adapter{a, late}, Retention: 2 * time.Hour,
	})

	s := run(t, d, t0)
	require.Empty(t, s.Changes, "the initial discovery is not a change")

	s = run(t, d, t0.Add(time.Minute))
	require.Equal(t, map[Change]float64{
		{Kind: ChangeEdge, Action: ActionAdded}:    1, // cart -> redis, found by istio after start
		{Kind: ChangeService, Action: ActionAdded}: 1, // redis
	}, s.Changes, "linkerd's first look back (frontend -> ads) is not counted either")
	require.Len(t, s.Graph.Edges(), 3)

	// frontend -> cart was last seen an hour before Stratus started: it leaves the
	// graph after the retention, but it went away before anyone watched.
	s = run(t, d, t0.Add(time.Hour+2*time.Minute))
	require.NotContains(t, edgeIDs(s), "eu/shop/frontend -> eu/shop/cart")
	require.Zero(t, s.Changes[Change{Kind: ChangeEdge, Action: ActionRemoved}])
	require.Zero(t, s.Changes[Change{Kind: ChangeService, Action: ActionRemoved}],
		"cart still has an edge")

	// The edges seen since start are removals when they expire, and so are their
	// services.
	s = run(t, d, t0.Add(3*time.Hour))
	require.Empty(t, s.Graph.Edges())
	require.Equal(t, 2.0, s.Changes[Change{Kind: ChangeEdge, Action: ActionRemoved}])
	require.Equal(t, 4.0, s.Changes[Change{Kind: ChangeService, Action: ActionRemoved}])
}

func TestGuessedClusterMovesOnceTheWorkloadIsPlaced(t *testing.T) {
	guess := func(e Endpoint) Endpoint { e.ClusterFromScrape = true; return e }
	a := &scriptedAdapter{name: "hubble", reports: []Report{
		{Observations: []Observation{obs(guess(front), guess(svc("eu", "shop", "cart")), 1, t0)}},
		{Observations: []Observation{obs(guess(front), guess(svc("eu", "shop", "cart")), 1, t0)}},
		{Observations: []Observation{obs(guess(front), guess(svc("eu", "shop", "cart")), 1, t0)}},
	}}
	q := &stubQuerier{err: errors.New("kube-state-metrics is down")}
	d := NewDiscoverer(q, Config{Adapters: []Adapter{a}})
	s := run(t, d, t0)
	require.Equal(t, []string{"eu/shop/frontend -> eu/shop/cart"}, edgeIDs(s),
		"nothing better known: the guesses stand")

	q.err = nil
	q.workloads = model.Vector{
		{Metric: model.Metric{"cluster": "us", "namespace": "shop", "workload": "cart"}},
		{Metric: model.Metric{"cluster": "eu", "namespace": "shop", "workload": "frontend"}},
	}
	s = run(t, d, t0.Add(time.Minute))
	require.Equal(t, []string{"eu/shop/frontend -> us/shop/cart"}, edgeIDs(s),
		"a remembered guess does not vouch for itself")
	require.Empty(t, s.Changes, "a move is not a change")

	q.err = errors.New("down again")
	s = run(t, d, t0.Add(2*time.Minute))
	require.Equal(t, []string{"eu/shop/frontend -> us/shop/cart"}, edgeIDs(s),
		"once placed, it stays placed")
}

func TestSparseEdgeStaysWithinRetention(t *testing.T) {
	a := &scriptedAdapter{name: "istio", reports: []Report{
		{Observations: []Observation{obs(front, cart, 0, t0.Add(-23*time.Hour))}},
	}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{a}})
	s := run(t, d, t0)
	require.Equal(t, []string{"eu/shop/frontend -> eu/shop/cart"}, edgeIDs(s))
	require.Equal(t, t0.Add(-23*time.Hour),
		s.LastSeen[[2]graph.NodeID{nodeID(endpointService(front)), nodeID(endpointService(cart))}])
	e, _ := s.Graph.Edge("eu/shop/frontend", "eu/shop/cart")
	require.Zero(t, e.RequestsPerSecond)

	s = run(t, d, t0.Add(59*time.Minute))
	require.Len(t, s.Graph.Edges(), 1, "23h59m after its last call the edge is still there")
	s = run(t, d, t0.Add(61*time.Minute))
	require.Empty(t, s.Graph.Edges())
}

func TestIdentityAcrossSources(t *testing.T) {
	traced := func(name string) Endpoint { return Endpoint{Cluster: "eu", Name: name} }
	mesh := &scriptedAdapter{name: "istio", reports: []Report{
		{}, {Observations: []Observation{obs(front, cart, 10, t0)}},
	}}
	traces := &scriptedAdapter{name: "servicegraph", reports: []Report{
		{Observations: []Observation{
			obs(traced("frontend"), traced("cart"), 9, t0),
			obs(traced("cart"), Endpoint{Name: "redis", Kind: graph.KindDatabase}, 4, t0),
			obs(traced("checkout-svc"), traced("cart"), 2, t0),
		}},
		{Observations: []Observation{obs(traced("frontend"), traced("cart"), 9, t0)}},
	}}
	d := NewDiscoverer(&stubQuerier{}, Config{
		Adapters: []Adapter{mesh, traces},
		Identity: identity.Config{Aliases: map[string]string{"checkout-svc": "shop/checkout"}},
	})

	s := run(t, d, t0)
	require.ElementsMatch(t, []string{
		"eu//cart -> //redis", "eu//frontend -> eu//cart", "eu/shop/checkout -> eu//cart",
	}, edgeIDs(s), "before the mesh shows namespaces, traced names stay as they are")

	s = run(t, d, t0.Add(time.Minute))
	require.ElementsMatch(t, []string{
		"eu/shop/cart -> //redis",
		"eu/shop/checkout -> eu/shop/cart",
		"eu/shop/frontend -> eu/shop/cart",
	}, edgeIDs(s), "one node per service once the mesh names it")
	e, ok := s.Graph.Edge("eu/shop/frontend", "eu/shop/cart")
	require.True(t, ok)
	require.Equal(t, []string{"istio", "servicegraph"}, e.Sources)
	require.Equal(t, 10.0, e.RequestsPerSecond, "the mesh's rate, not the sum of both")
	n, _ := s.Graph.Node("//redis")
	require.Equal(t, graph.KindDatabase, n.Kind)
	require.Empty(t, s.Changes, "a node moving to its full identity is not a change")
}

func TestTrafficPreferenceAndMerging(t *testing.T) {
	withFigures := func(o Observation, errRatio, srvErr, p95 float64) Observation {
		o.ErrorRatio, o.ServerErrorRatio, o.LatencyP95Seconds = errRatio, srvErr, p95
		return o
	}
	first := &scriptedAdapter{name: "linkerd", reports: []Report{{Observations: []Observation{
		withFigures(obs(front, cart, math.NaN(), t0), 0.5, math.NaN(), math.NaN()),
	}}}}
	second := &scriptedAdapter{name: "istio", reports: []Report{{Observations: []Observation{
		withFigures(obs(front, cart, 10, t0), 0.1, 0.2, 0.3),
		withFigures(Observation{Client: front, Server: cart, Protocol: "grpc",
			RequestsPerSecond: 30, LastSeen: t0}, 0.5, 0, 0.1),
	}}}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{first, second}})
	s := run(t, d, t0)
	e, ok := s.Graph.Edge("eu/shop/frontend", "eu/shop/cart")
	require.True(t, ok)
	require.Equal(t, 40.0, e.RequestsPerSecond, "linkerd measured no rate; istio's two add")
	require.InDelta(t, 0.5, e.ErrorRatio, 1e-12, "the first source's error ratio")
	require.InDelta(t, 0.05, e.ServerErrorRatio, 1e-12, "(0.2*10 + 0*30) / 40")
	require.InDelta(t, 0.3, e.LatencyP95Seconds, 1e-12)
	require.Equal(t, "grpc,http", e.Protocol)
}

func TestCapsRefuseNewEdgesAndCount(t *testing.T) {
	var many []Observation
	for i := range 50 {
		many = append(many, obs(front, svc("eu", "shop", "s"+itoa(i)), 1, t0))
	}
	a := &scriptedAdapter{name: "istio", reports: []Report{
		{Observations: many[:3], Dropped: 2},
		{Observations: many},
	}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{a}, MaxEdges: 10, MaxServices: 6})
	s := run(t, d, t0)
	require.Len(t, s.Graph.Edges(), 3)
	require.Equal(t, 2.0, s.Dropped[DropInvalidIdentity])

	s = run(t, d, t0.Add(time.Minute))
	require.Len(t, s.Graph.Edges(), 5, "six services: frontend and five callees")
	for _, id := range []string{"saa", "sab", "sac"} {
		require.Contains(t, edgeIDs(s), "eu/shop/frontend -> eu/shop/"+id, "known edges keep their place")
	}
	require.Equal(t, 45.0, s.Dropped[DropMaxServices])

	d = NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{
		&scriptedAdapter{name: "istio", reports: []Report{{Observations: many}}},
	}, MaxEdges: 10})
	s = run(t, d, t0)
	require.Len(t, s.Graph.Edges(), 10)
	require.Equal(t, 40.0, s.Dropped[DropMaxEdges])
}

func itoa(i int) string { return string(rune('a'+i/26)) + string(rune('a'+i%26)) }

func TestInvalidObservationsAreDropped(t *testing.T) {
	a := &scriptedAdapter{name: "istio", reports: []Report{{Observations: []Observation{
		obs(Endpoint{Namespace: "shop"}, cart, 1, t0),
		obs(front, front, 1, t0), // a self-loop is valid
	}}}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{a}})
	s := run(t, d, t0)
	require.Equal(t, []string{"eu/shop/frontend -> eu/shop/frontend"}, edgeIDs(s))
	require.Equal(t, 1.0, s.Dropped[DropInvalidIdentity])
	require.Equal(t, 1, s.Analysis.SelfLoops)
}

func TestOneFailingSourceKeepsTheOthers(t *testing.T) {
	ok := &scriptedAdapter{name: "istio", reports: []Report{
		{Observations: []Observation{obs(front, cart, 1, t0)}},
	}}
	bad := &scriptedAdapter{name: "linkerd", errs: []error{errors.New("boom")}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{ok, bad}})
	s := run(t, d, t0)
	require.Len(t, s.Graph.Edges(), 1)
	require.Equal(t, map[string]int{"istio": 1, "linkerd": 0}, s.EdgesBySource)
}

func TestSaturationAndGateways(t *testing.T) {
	gw := svc("eu", "istio-system", "ingress")
	a := &scriptedAdapter{name: "istio", reports: []Report{{Observations: []Observation{
		obs(UnknownEndpoint, gw, 5, t0),
		obs(svc("eu", "ops", "prober"), gw, 1, t0),
		obs(gw, front, 5, t0),
		obs(front, cart, 5, t0),
	}}}}
	q := &stubQuerier{vec: model.Vector{{
		Metric: model.Metric{"cluster": "eu", "namespace": "shop", "horizontalpodautoscaler": "cart"},
		Value:  1,
	}}}
	d := NewDiscoverer(q, Config{Adapters: []Adapter{a}, Gateways: []string{"ingress", "a/b/c/d"}})
	s := run(t, d, t0)
	require.Contains(t, s.Analysis.EntryPoints, graph.NodeID("eu/istio-system/ingress"))
	require.Len(t, q.queries, 2, "the workload and the saturation queries")
	require.Contains(t, q.queries[1], "max by (cluster, namespace, horizontalpodautoscaler)")

	cartRes, _ := s.Analysis.Node("eu/shop/cart")
	q.err = errors.New("no kube-state-metrics")
	a.reports = append(a.reports, a.reports[0])
	s = run(t, d, t0.Add(time.Minute))
	cartNoSat, _ := s.Analysis.Node("eu/shop/cart")
	require.Greater(t, cartRes.BottleneckScore, cartNoSat.BottleneckScore,
		"a service at its replica ceiling scores higher")

	d = NewDiscoverer(q, Config{Adapters: []Adapter{a},
		Identity: identity.Config{ClusterLabel: "bad-label"}})
	run(t, d, t0)
	require.Len(t, q.queries, 4, "an invalid cluster label skips both kube queries")
}

func TestWorkloadsCompleteIdentities(t *testing.T) {
	linkerdServer := Endpoint{Namespace: "shop", Name: "cart"}
	a := &scriptedAdapter{name: "linkerd", reports: []Report{{Observations: []Observation{
		obs(front, linkerdServer, 1, t0),
		obs(front, Endpoint{Namespace: "shop", Name: "twin"}, 1, t0),
	}}}}
	q := &stubQuerier{workloads: model.Vector{
		{Metric: model.Metric{"cluster": "us", "namespace": "shop", "workload": "cart"}},
		{Metric: model.Metric{"cluster": "us", "namespace": "shop", "workload": "twin"}},
		{Metric: model.Metric{"cluster": "eu", "namespace": "shop", "workload": "twin"}},
	}}
	d := NewDiscoverer(q, Config{Adapters: []Adapter{a}})
	s := run(t, d, t0)
	require.ElementsMatch(t, []string{
		"eu/shop/frontend -> us/shop/cart",
		"eu/shop/frontend -> /shop/twin", // two clusters run a twin: left as reported
	}, edgeIDs(s))

	q.err = errors.New("no kube-state-metrics")
	a.reports = append(a.reports, a.reports[0])
	s = run(t, d, t0.Add(time.Minute))
	require.Contains(t, edgeIDs(s), "eu/shop/frontend -> us/shop/cart",
		"what was resolved stays resolved")
}

func TestReportJSON(t *testing.T) {
	withErr := obs(front, cart, 2, t0.Add(-time.Minute))
	withErr.ErrorRatio, withErr.LatencyP95Seconds = 0.5, 0.25
	a := &scriptedAdapter{name: "istio", reports: []Report{{Observations: []Observation{
		obs(UnknownEndpoint, front, 2, t0), withErr,
	}}}}
	unused := &scriptedAdapter{name: "hubble"}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{a, unused}})
	r := run(t, d, t0).Report()

	require.Equal(t, []string{"istio"}, r.Sources)
	require.Equal(t, []string{"eu/shop/frontend"}, r.EntryPoints)
	require.Len(t, r.Nodes, 3)
	require.Equal(t, "//unknown", r.Nodes[0].ID)
	require.Equal(t, "unknown", r.Nodes[0].Kind)
	require.Equal(t, 1, r.Nodes[1].Dependents,
		"cart: frontend calls it, and the unknown caller is not a service")

	raw, err := json.Marshal(r)
	require.NoError(t, err)
	js := string(raw)
	require.Contains(t, js, `"client":"//unknown","server":"eu/shop/frontend","protocol":"http",`+
		`"requests_per_second":2,"error_ratio":null,"latency_p95_seconds":null`)
	require.Contains(t, js, `"error_ratio":0.5,"latency_p95_seconds":0.25,"sources":["istio"],`+
		`"last_seen":"2026-01-05T11:59:00Z"`)
	require.True(t, strings.HasPrefix(js, `{"at":"2026-01-05T12:00:00Z","retention_seconds":86400`))
	require.Equal(t, "eu/shop/frontend", r.CriticalPaths[0].EntryPoint)
	require.Equal(t, []string{"eu/shop/frontend", "eu/shop/cart"}, r.CriticalPaths[0].Nodes)
}

func TestMeasured(t *testing.T) {
	require.Nil(t, measured(math.NaN()))
	require.Nil(t, measured(math.Inf(1)))
	require.Equal(t, 0.0, *measured(0))
}

func TestWeightedRatios(t *testing.T) {
	require.Equal(t, 0.3, weighted(math.NaN(), 1, 0.3, 1))
	require.Equal(t, 0.3, weighted(0.3, 1, math.NaN(), 1))
	require.Equal(t, 0.5, weighted(0.5, 0, 0.1, 0), "no traffic: the larger")
	require.Equal(t, 0.5, weighted(0.5, math.NaN(), 0.1, 0))
	require.Equal(t, 3.0, nanAdd(math.NaN(), 3))
	require.Equal(t, 3.0, graph.MaxKnown(3, math.NaN()))
}

func TestScrapeClusterIsAGuess(t *testing.T) {
	guess := func(e Endpoint) Endpoint { e.ClusterFromScrape = true; return e }
	// A Hubble agent in eu reports a call from eu's frontend to cart, which runs
	// in us, under its own cluster; an agent in us reports a workload kube-state-
	// metrics does not list.
	a := &scriptedAdapter{name: "hubble", reports: []Report{{Observations: []Observation{
		obs(guess(front), guess(svc("eu", "shop", "cart")), 1, t0),
		obs(guess(svc("us", "shop", "cart")), guess(svc("us", "shop", "legacy")), 1, t0),
	}}}}
	q := &stubQuerier{workloads: model.Vector{
		{Metric: model.Metric{"cluster": "eu", "namespace": "shop", "workload": "frontend"}},
		{Metric: model.Metric{"cluster": "us", "namespace": "shop", "workload": "cart"}},
	}}
	s := run(t, NewDiscoverer(q, Config{Adapters: []Adapter{a}}), t0)
	require.ElementsMatch(t, []string{
		"eu/shop/frontend -> us/shop/cart",
		"us/shop/cart -> us/shop/legacy", // nothing better known: the guess stands
	}, edgeIDs(s))
}

func TestStoresNamedByHost(t *testing.T) {
	db := func(name string) Endpoint { return Endpoint{Name: name, Kind: graph.KindDatabase} }
	spans := &scriptedAdapter{name: "spanmetrics", reports: []Report{
		{Observations: []Observation{
			obs(cart, db("carts-db.abc.eu-west-1.rds.amazonaws.com"), 1, t0),
			obs(front, db("sessions.cache.example.com"), 1, t0),
		}},
		{Observations: []Observation{obs(cart, db("carts-db.abc.eu-west-1.rds.amazonaws.com"), 1, t0)}},
	}}
	graphs := &scriptedAdapter{name: "servicegraph", reports: []Report{
		{Observations: []Observation{obs(front, db("carts-db"), 1, t0)}},
		{Observations: []Observation{obs(front, db("sessions"), 1, t0)}},
	}}
	d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{spans, graphs}})
	s := run(t, d, t0)
	require.ElementsMatch(t, []string{
		"eu/shop/cart -> //carts-db",
		"eu/shop/frontend -> //carts-db",
		"eu/shop/frontend -> //sessions.cache.example.com",
	}, edgeIDs(s), "the host's first label names a store another source knows")

	s = run(t, d, t0.Add(time.Minute))
	require.ElementsMatch(t, []string{
		"eu/shop/cart -> //carts-db",
		"eu/shop/frontend -> //carts-db",
		"eu/shop/frontend -> //sessions",
	}, edgeIDs(s), "a remembered host moves when the store's name appears")
}

func TestServerLatencyIsPreferred(t *testing.T) {
	clientSide := obs(front, cart, 1, t0)
	clientSide.LatencyP95Seconds, clientSide.LatencyFromClient = 0.5, true
	serverSide := obs(front, cart, 1, t0)
	serverSide.LatencyP95Seconds = 0.2
	onlyClient := obs(front, redis, 1, t0)
	onlyClient.LatencyP95Seconds, onlyClient.LatencyFromClient = 0.7, true
	first := &scriptedAdapter{name: "linkerd", reports: []Report{
		{Observations: []Observation{clientSide, onlyClient}}}}
	second := &scriptedAdapter{name: "servicegraph", reports: []Report{
		{Observations: []Observation{serverSide}}}}
	s := run(t, NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{first, second}}), t0)
	e, _ := s.Graph.Edge("eu/shop/frontend", "eu/shop/cart")
	require.Equal(t, 0.2, e.LatencyP95Seconds, "the server's measure over an earlier client's")
	e, _ = s.Graph.Edge("eu/shop/frontend", "eu/shop/redis")
	require.Equal(t, 0.7, e.LatencyP95Seconds, "the client's when it is all there is")
}

func TestUnknownCallersExplainedByNamedOnes(t *testing.T) {
	ads := svc("eu", "shop", "ads")
	withLatency := func(o Observation, p95 float64, fromClient bool) Observation {
		o.LatencyP95Seconds, o.LatencyFromClient = p95, fromClient
		return o
	}
	for _, tc := range []struct {
		name        string
		linkerd     []Observation
		istio       []Observation
		wantEdges   []string
		wantLatency float64
	}{{
		name:        "a Linkerd caller of an Istio server",
		linkerd:     []Observation{withLatency(obs(front, ads, 10, t0), 0.5, true)},
		istio:       []Observation{withLatency(obs(UnknownEndpoint, ads, 11, t0), 0.2, false)},
		wantEdges:   []string{"eu/shop/frontend -> eu/shop/ads"},
		wantLatency: 0.2,
	}, {
		name:    "a caller the server's mesh names elsewhere is not the unknown one",
		linkerd: []Observation{obs(front, ads, 10, t0)},
		istio: []Observation{obs(UnknownEndpoint, ads, 10, t0),
			obs(front, cart, 1, t0)},
		wantEdges: []string{"//unknown -> eu/shop/ads", "eu/shop/frontend -> eu/shop/ads",
			"eu/shop/frontend -> eu/shop/cart"},
	}, {
		name:      "without traffic nothing tells them apart",
		linkerd:   []Observation{obs(front, ads, 0, t0)},
		istio:     []Observation{obs(UnknownEndpoint, ads, 0, t0)},
		wantEdges: []string{"//unknown -> eu/shop/ads", "eu/shop/frontend -> eu/shop/ads"},
	}, {
		name:      "more unknown calls than the named caller makes",
		linkerd:   []Observation{obs(front, ads, 10, t0)},
		istio:     []Observation{obs(UnknownEndpoint, ads, 30, t0)},
		wantEdges: []string{"//unknown -> eu/shop/ads", "eu/shop/frontend -> eu/shop/ads"},
	}} {
		t.Run(tc.name, func(t *testing.T) {
			d := NewDiscoverer(&stubQuerier{}, Config{Adapters: []Adapter{
				&scriptedAdapter{name: "istio", reports: []Report{{Observations: tc.istio}}},
				&scriptedAdapter{name: "linkerd", reports: []Report{{Observations: tc.linkerd}}},
			}})
			s := run(t, d, t0)
			require.ElementsMatch(t, tc.wantEdges, edgeIDs(s))
			if tc.wantLatency > 0 {
				e, _ := s.Graph.Edge("eu/shop/frontend", "eu/shop/ads")
				require.Equal(t, tc.wantLatency, e.LatencyP95Seconds,
					"the server's latency, which only the unknown view carried")
				require.Equal(t, 10.0, e.RequestsPerSecond)
			}
		})
	}
}
