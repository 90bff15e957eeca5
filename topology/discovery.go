package topology

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// EngineName names the dependency engine in self-metrics and logs.
const EngineName = "dependencies"

// Defaults of Config.
const (
	DefaultRetention   = 24 * time.Hour
	DefaultRateWindow  = 5 * time.Minute
	DefaultMaxEdges    = 10000
	DefaultMaxServices = 2000
	// presenceOverlap is added to each incremental presence window, so that samples
	// that reach the store late (remote write, a slow scrape) are not missed between
	// two cycles. Seeing a sample twice is harmless.
	presenceOverlap = 2 * time.Minute
)

// Drop reasons of Snapshot.Dropped.
const (
	DropInvalidIdentity = "invalid_identity"
	DropMaxEdges        = "max_edges"
	DropMaxServices     = "max_services"
)

// Config configures a Discoverer. Zero values take the defaults.
type Config struct {
	// Adapters in order of preference: when several see the same edge, its traffic
	// figures come from the first that measured them.
	Adapters []Adapter
	Identity identity.Config
	// Retention is how long an edge stays on the graph after its series was last
	// seen, and how far back the first cycle looks.
	Retention time.Duration
	// RateWindow is the range of rate() for traffic figures.
	RateWindow time.Duration
	// MaxEdges and MaxServices cap the graph. Edges beyond them are refused (the
	// edges already known keep their place) and counted in Snapshot.Dropped.
	MaxEdges    int
	MaxServices int
	// Gateways are services treated as entry points although they have callers, as
	// "name", "namespace/name" or "cluster/namespace/name".
	Gateways []string
	Logger   *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Retention <= 0 {
		c.Retention = DefaultRetention
	}
	if c.RateWindow <= 0 {
		c.RateWindow = DefaultRateWindow
	}
	if c.MaxEdges <= 0 {
		c.MaxEdges = DefaultMaxEdges
	}
	if c.MaxServices <= 0 {
		c.MaxServices = DefaultMaxServices
	}
	if c.Identity.ClusterLabel == "" {
		c.Identity.ClusterLabel = identity.DefaultClusterLabel
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Discoverer is the dependency engine: it keeps every edge it discovered with its
// last-seen time, looks back over the whole retention once, then asks each cycle
// only for what is new, so an edge used once an hour stays on the map without
// hour-long queries every minute.
//
// Run may be called from several goroutines; runs are serialised.
type Discoverer struct {
	cfg     Config
	querier query.Querier

	mu sync.Mutex
	// watermark is, per adapter, the evaluation time of its last successful
	// cycle; zero until its first.
	watermark map[string]time.Time
	edges     map[edgeKey]*edgeState
	nodes     map[identity.Service]graph.Kind
	changes   map[Change]float64
	dropped   map[string]float64
}

// Change is a key of Snapshot.Changes: what changed (an edge or a service) and how.
type Change struct {
	Kind   string // "edge" or "service"
	Action string // "added" or "removed"
}

type edgeKey struct {
	client, server identity.Service
}

type edgeState struct {
	lastSeen  time.Time
	sources   map[string]time.Time
	protocols map[string]struct{}
}

// NewDiscoverer returns an engine that queries q.
func NewDiscoverer(q query.Querier, cfg Config) *Discoverer {
	return &Discoverer{
		cfg:       cfg.withDefaults(),
		querier:   q,
		watermark: map[string]time.Time{},
		edges:     map[edgeKey]*edgeState{},
		nodes:     map[identity.Service]graph.Kind{},
		changes:   map[Change]float64{},
		dropped:   map[string]float64{},
	}
}

// Name implements analysis.Engine.
func (d *Discoverer) Name() string { return EngineName }

// Run implements analysis.Engine: one discovery cycle at at, returning a *Snapshot.
// It fails only when every adapter failed; an adapter that failed asks for the
// whole gap since its last success on the next cycle.
func (d *Discoverer) Run(ctx context.Context, at time.Time) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	cycle, err := d.observe(ctx, at)
	if err != nil {
		return nil, err
	}
	d.merge(&cycle, at, d.workloads(ctx, at))
	return d.snapshot(ctx, at, &cycle), nil
}

// cycleObservations is what one cycle gathered.
type cycleObservations struct {
	// bySource holds each successful adapter's observations; initial marks the
	// adapters whose window was their first, which do not count as changes.
	bySource map[string][]Observation
	initial  map[string]bool
	dropped  int
	// traffic is filled by merge: each resolved edge's figures per source.
	traffic map[edgeKey]map[string]Observation
}

func (d *Discoverer) observe(ctx context.Context, at time.Time) (cycleObservations, error) {
	c := cycleObservations{bySource: map[string][]Observation{}, initial: map[string]bool{}}
	var errs []error
	for _, a := range d.cfg.Adapters {
		name := a.Name()
		w := Window{At: at, Presence: d.cfg.Retention, Rate: d.cfg.RateWindow}
		last, seen := d.watermark[name]
		if seen {
			w.Presence = min(max(at.Sub(last), 0)+presenceOverlap, d.cfg.Retention)
		}
		report, err := a.Observe(ctx, d.querier, w)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			d.cfg.Logger.Debug("dependency source failed", "source", name, "err", err)
			continue
		}
		d.watermark[name] = at
		c.bySource[name] = report.Observations
		c.initial[name] = !seen
		c.dropped += report.Dropped
	}
	if len(errs) == len(d.cfg.Adapters) && len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

// kindRank orders node kinds by how much they say: a store seen as a plain
// service by a mesh and as a database by traces is a database.
func kindRank(k graph.Kind) int {
	switch k {
	case graph.KindDatabase, graph.KindMessaging:
		return 3
	case graph.KindExternal:
		return 2
	case graph.KindUnknown:
		return 0
	}
	return 1
}

func endpointService(e Endpoint) identity.Service {
	return identity.Service{Cluster: e.Cluster, Namespace: e.Namespace, Name: e.Name}
}

// resolves reports whether an endpoint's name is one the identity resolver may
// complete: unknown callers and external hosts are not services of the cluster.
func resolves(e Endpoint) bool {
	return e.Kind != graph.KindUnknown && e.Kind != graph.KindExternal
}

// merge folds a cycle's observations into the remembered edges: identities are
// resolved, new edges added (and counted, unless found by an adapter's first look
// back), edges not seen for the retention removed, and the caps applied.
func (d *Discoverer) merge(c *cycleObservations, at time.Time, workloads []identity.Service) {
	base := identity.NewResolver(d.cfg.Identity)
	for _, w := range workloads {
		base.Learn(w)
	}
	for id, kind := range d.nodes {
		if kind != graph.KindUnknown && kind != graph.KindExternal {
			base.Learn(id)
		}
	}
	res := &resolver{Resolver: base, stores: map[string][]identity.Service{}}
	for id, kind := range d.nodes {
		res.learnStore(id, kind)
	}
	for _, obs := range c.bySource {
		for _, o := range obs {
			for _, e := range []Endpoint{o.Client, o.Server} {
				res.learn(e)
			}
		}
	}
	d.reresolve(res)

	c.traffic = map[edgeKey]map[string]Observation{}
	for _, source := range slices.Sorted(maps.Keys(c.bySource)) {
		for _, o := range c.bySource[source] {
			key, ok := d.admit(res, o, c.initial[source])
			if !ok {
				continue
			}
			d.record(key, source, o, at)
			perSource := c.traffic[key]
			if perSource == nil {
				perSource = map[string]Observation{}
				c.traffic[key] = perSource
			}
			if prev, ok := perSource[source]; ok {
				o = addTraffic(prev, o)
			}
			perSource[source] = o
		}
	}
	d.dropped[DropInvalidIdentity] += float64(c.dropped)
	d.expire(at)
}

// resolver completes the identities of one cycle: the shared identity resolver,
// plus what the dependency engine knows of endpoints.
type resolver struct {
	*identity.Resolver
	// stores lists, by name, the databases and brokers some source names without
	// a dot: a host name whose first label is one of them is that store.
	stores map[string][]identity.Service
}

// learn records what an endpoint says. A cluster guessed from the scrape is not
// learnt: it would vouch for itself.
func (r *resolver) learn(e Endpoint) {
	if !resolves(e) {
		return
	}
	svc := endpointService(e)
	if e.ClusterFromScrape {
		svc.Cluster = ""
	}
	r.Learn(svc)
	r.learnStore(svc, e.Kind)
}

func (r *resolver) learnStore(svc identity.Service, kind graph.Kind) {
	if (kind == graph.KindDatabase || kind == graph.KindMessaging) &&
		!strings.Contains(svc.Name, ".") && !slices.Contains(r.stores[svc.Name], svc) {
		r.stores[svc.Name] = append(r.stores[svc.Name], svc)
	}
}

// resolve maps an endpoint onto its service identity. A cluster guessed from the
// scrape stands when a source or kube-state-metrics places the workload there;
// otherwise the workload's one known cluster replaces it. A database or broker
// named by a host ("orders-db.abc.eu-west-1.rds.amazonaws.com") is the store
// another source names by the host's first label, when exactly one does.
func (r *resolver) resolve(e Endpoint) identity.Service {
	svc := endpointService(e)
	if !resolves(e) {
		return svc
	}
	if e.Kind == graph.KindDatabase || e.Kind == graph.KindMessaging {
		if first, _, dotted := strings.Cut(svc.Name, "."); dotted && len(r.stores[first]) == 1 {
			return r.stores[first][0]
		}
	}
	if e.ClusterFromScrape && !r.Knows(svc) {
		unplaced := svc
		unplaced.Cluster = ""
		if placed := r.Resolve(unplaced); placed.Cluster != "" {
			return placed
		}
	}
	return r.Resolve(svc)
}

// reresolve moves remembered edges onto identities that became known since they
// were found (a bare traced name whose namespace a mesh has now shown), merging
// edges that turn out to be the same. A move is not a change of the graph.
func (d *Discoverer) reresolve(res *resolver) {
	moved := map[identity.Service]identity.Service{}
	for svc, kind := range d.nodes {
		e := Endpoint{Cluster: svc.Cluster, Namespace: svc.Namespace, Name: svc.Name, Kind: kind}
		if to := res.resolve(e); to != svc {
			moved[svc] = to
		}
	}
	if len(moved) == 0 {
		return
	}
	for from, to := range moved {
		d.setKind(to, d.nodes[from])
		delete(d.nodes, from)
	}
	rename := func(s identity.Service) identity.Service {
		if to, ok := moved[s]; ok {
			return to
		}
		return s
	}
	for key, st := range d.edges {
		nk := edgeKey{rename(key.client), rename(key.server)}
		if nk == key {
			continue
		}
		delete(d.edges, key)
		if prev, ok := d.edges[nk]; ok {
			st = mergeStates(prev, st)
		}
		d.edges[nk] = st
	}
}

func mergeStates(a, b *edgeState) *edgeState {
	if b.lastSeen.After(a.lastSeen) {
		a.lastSeen = b.lastSeen
	}
	for s, t := range b.sources {
		if t.After(a.sources[s]) {
			a.sources[s] = t
		}
	}
	maps.Copy(a.protocols, b.protocols)
	return a
}

func (d *Discoverer) setKind(s identity.Service, k graph.Kind) {
	if prev, ok := d.nodes[s]; !ok || kindRank(k) > kindRank(prev) {
		d.nodes[s] = k
	}
}

// admit returns the key of an observation's edge, adding the edge if it is new and
// the caps allow it. initial says the observation comes from its adapter's first
// look back, which finds what existed before Stratus started: not a change.
func (d *Discoverer) admit(res *resolver, o Observation, initial bool) (edgeKey, bool) {
	key := edgeKey{res.resolve(o.Client), res.resolve(o.Server)}
	if key.client.Name == "" || key.server.Name == "" {
		d.dropped[DropInvalidIdentity]++
		return key, false
	}
	if _, ok := d.edges[key]; ok {
		d.setKind(key.client, o.Client.Kind)
		d.setKind(key.server, o.Server.Kind)
		return key, true
	}

	if len(d.edges) >= d.cfg.MaxEdges {
		d.dropped[DropMaxEdges]++
		return key, false
	}
	newNodes := 0
	for _, s := range []identity.Service{key.client, key.server} {
		if _, ok := d.nodes[s]; !ok {
			newNodes++
		}
	}
	if key.client == key.server && newNodes == 2 {
		newNodes = 1
	}
	if len(d.nodes)+newNodes > d.cfg.MaxServices {
		d.dropped[DropMaxServices]++
		return key, false
	}

	for _, e := range []struct {
		svc  identity.Service
		kind graph.Kind
	}{{key.client, o.Client.Kind}, {key.server, o.Server.Kind}} {
		if _, ok := d.nodes[e.svc]; !ok && !initial {
			d.changes[Change{Kind: "service", Action: "added"}]++
		}
		d.setKind(e.svc, cmp.Or(e.kind, graph.KindService))
	}
	d.edges[key] = &edgeState{sources: map[string]time.Time{}, protocols: map[string]struct{}{}}
	if !initial {
		d.changes[Change{Kind: "edge", Action: "added"}]++
	}
	return key, true
}

// record notes that source saw the edge.
func (d *Discoverer) record(key edgeKey, source string, o Observation, at time.Time) {
	st := d.edges[key]
	seen := o.LastSeen
	if seen.IsZero() || seen.After(at) {
		seen = at
	}
	if seen.After(st.lastSeen) {
		st.lastSeen = seen
	}
	if seen.After(st.sources[source]) {
		st.sources[source] = seen
	}
	if o.Protocol != "" {
		st.protocols[o.Protocol] = struct{}{}
	}
}

// expire removes edges not seen for the retention, then services left without
// edges, counting both.
func (d *Discoverer) expire(at time.Time) {
	cutoff := at.Add(-d.cfg.Retention)
	used := map[identity.Service]bool{}
	for key, st := range d.edges {
		if st.lastSeen.Before(cutoff) {
			delete(d.edges, key)
			d.changes[Change{Kind: "edge", Action: "removed"}]++
			continue
		}
		used[key.client], used[key.server] = true, true
	}
	for svc := range d.nodes {
		if !used[svc] {
			delete(d.nodes, svc)
			d.changes[Change{Kind: "service", Action: "removed"}]++
		}
	}
}

// addTraffic combines two observations of one source that resolve to the same edge
// (two protocols, two label sets): they are different calls, so rates add.
func addTraffic(a, b Observation) Observation {
	out := a
	out.RequestsPerSecond = nanAdd(a.RequestsPerSecond, b.RequestsPerSecond)
	out.ErrorRatio = weighted(a.ErrorRatio, a.RequestsPerSecond, b.ErrorRatio, b.RequestsPerSecond)
	out.ServerErrorRatio = weighted(a.ServerErrorRatio, a.RequestsPerSecond,
		b.ServerErrorRatio, b.RequestsPerSecond)
	out.LatencyP95Seconds = nanMax(a.LatencyP95Seconds, b.LatencyP95Seconds)
	if b.LastSeen.After(out.LastSeen) {
		out.LastSeen = b.LastSeen
	}
	return out
}

func nanAdd(x, y float64) float64 {
	switch {
	case math.IsNaN(x):
		return y
	case math.IsNaN(y):
		return x
	}
	return x + y
}

func nanMax(x, y float64) float64 {
	switch {
	case math.IsNaN(x):
		return y
	case math.IsNaN(y):
		return x
	}
	return max(x, y)
}

// weighted averages two ratios by their weights, ignoring an unmeasured one.
// Without traffic on either side it takes the larger, so a failing edge with a
// rate that rounds to zero is not hidden.
func weighted(x, wx, y, wy float64) float64 {
	switch {
	case math.IsNaN(x):
		return y
	case math.IsNaN(y):
		return x
	}
	wx, wy = zeroIfNaN(wx), zeroIfNaN(wy)
	if wx+wy <= 0 {
		return max(x, y)
	}
	return (x*wx + y*wy) / (wx + wy)
}

func zeroIfNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}
