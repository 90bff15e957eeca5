package topology

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
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
	// startedAt is the evaluation time of the first successful cycle: what was
	// last seen before it happened before Stratus watched, and its removal is no
	// change either.
	startedAt time.Time
	sources   map[string]*sourceState
	edges     map[edgeKey]*edgeState
	nodes     map[identity.Service]*nodeState
	changes   map[Change]float64
	dropped   map[string]float64
	// status is the health of every adapter after the latest cycle, failed or
	// not, for readers that must not wait for a cycle to end.
	status atomic.Pointer[map[string]SourceStatus]
}

// Change is a key of Snapshot.Changes: what changed (an edge or a service) and how.
type Change struct {
	Kind   string // ChangeEdge or ChangeService
	Action string // ActionAdded or ActionRemoved
}

// Values of Change.
const (
	ChangeEdge    = "edge"
	ChangeService = "service"
	ActionAdded   = "added"
	ActionRemoved = "removed"
)

// sourceState is what the engine remembers of one adapter.
type sourceState struct {
	// watermark is the evaluation time of the last successful cycle; zero until
	// the first, which looks back over the whole retention.
	watermark time.Time
	// failing is set from a failure until the next success, so that a failing
	// source is logged once, not every cycle.
	failing bool
	lastErr error
}

type edgeKey struct {
	client, server identity.Service
}

type edgeState struct {
	lastSeen  time.Time
	sources   map[string]time.Time
	protocols map[string]struct{}
}

type nodeState struct {
	kind     graph.Kind
	lastSeen time.Time
	// guessed says that the node's cluster is only the scrape's (see
	// Endpoint.ClusterFromScrape) and nothing has confirmed it yet: it is not
	// learnt as a known identity, and it moves when the workload is placed.
	guessed bool
}

// NewDiscoverer returns an engine that queries q.
func NewDiscoverer(q query.Querier, cfg Config) *Discoverer {
	d := &Discoverer{
		cfg:     cfg.withDefaults(),
		querier: q,
		sources: map[string]*sourceState{},
		edges:   map[edgeKey]*edgeState{},
		nodes:   map[identity.Service]*nodeState{},
		changes: map[Change]float64{},
		dropped: map[string]float64{},
	}
	for _, a := range d.cfg.Adapters {
		d.sources[a.Name()] = &sourceState{}
	}
	return d
}

// Name implements analysis.Engine.
func (d *Discoverer) Name() string { return EngineName }

// Run implements analysis.Engine: one discovery cycle at at, returning a *Snapshot.
// It fails only when every adapter failed; an adapter that failed asks for the
// whole gap since its last success on the next cycle, and the snapshot says which
// sources failed.
func (d *Discoverer) Run(ctx context.Context, at time.Time) (any, error) {
	d.mu.Lock()
	defer d.mu.Unlock()

	cycle, err := d.observe(ctx, at)
	if err != nil {
		return nil, err
	}
	if d.startedAt.IsZero() {
		d.startedAt = at
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
		src := d.sources[name]
		w := Window{At: at, Presence: d.cfg.Retention, Rate: d.cfg.RateWindow}
		if !src.watermark.IsZero() {
			w.Presence = min(max(at.Sub(src.watermark), 0)+presenceOverlap, d.cfg.Retention)
		}
		report, err := a.Observe(ctx, d.querier, w)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			if !src.failing {
				d.cfg.Logger.Warn("dependency source failed; its edges are kept until the "+
					"retention passes and the gap is queried once it answers",
					"source", name, "err", err)
			}
			src.failing, src.lastErr = true, err
			continue
		}
		if src.failing {
			d.cfg.Logger.Info("dependency source answers again", "source", name)
		}
		c.initial[name] = src.watermark.IsZero()
		src.watermark, src.failing, src.lastErr = at, false, nil
		c.bySource[name] = report.Observations
		c.dropped += report.Dropped
	}
	d.publishStatus()
	if len(errs) == len(d.cfg.Adapters) && len(errs) > 0 {
		return c, errors.Join(errs...)
	}
	return c, nil
}

// publishStatus records the adapters' health for SourceStatus.
func (d *Discoverer) publishStatus() {
	status := make(map[string]SourceStatus, len(d.sources))
	for name, src := range d.sources {
		st := SourceStatus{Up: !src.failing, LastSuccess: src.watermark}
		if src.lastErr != nil {
			st.Err = src.lastErr.Error()
		}
		status[name] = st
	}
	d.status.Store(&status)
}

// SourceStatus returns the health of every adapter after the latest cycle, also
// when every adapter failed and the cycle produced no snapshot; nil before the
// first cycle. Safe to call while a cycle runs.
func (d *Discoverer) SourceStatus() map[string]SourceStatus {
	if p := d.status.Load(); p != nil {
		return *p
	}
	return nil
}
