package topology_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
	"github.com/stratus-monitoring/stratus/topology"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// This file holds what the discovery benchmark and the recall tests share: a
// simulated world loaded into a fresh embedded engine, a Querier that records
// what the engine asked, and the comparison of a graph with the world's truth.

// worldStart anchors every simulated world; worldDuration and worldStep are long
// and fine enough that each sparse edge (about one call in ten minutes) calls.
var worldStart = time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)

const (
	worldDuration = time.Hour
	worldStep     = time.Minute
)

// worldCase is one simulated world and the Stratus configuration that reads it.
type worldCase struct {
	name string
	// opts is the world without its time range, which loadWorld sets.
	opts sim.Options
	// clusterLabel configures Stratus's identity and adapters; "" is the default.
	clusterLabel string
	// duration shortens the world where sparse edges do not matter; 0 means
	// worldDuration.
	duration time.Duration
}

// loadedWorld is a world fed into an embedded engine.
type loadedWorld struct {
	engine *query.Embedded
	truth  sim.Truth
	// emitted is the telemetry the world was built with.
	emitted []string
	at      time.Time
	samples int
	cfg     worldCase
}

// loadWorld builds the world and feeds it into a new embedded engine step by step,
// as the live demo does (staleness markers included). The caller closes the
// engine.
func loadWorld(tb testing.TB, wc worldCase) *loadedWorld {
	tb.Helper()
	opts := wc.opts
	opts.Scenario = "steady"
	opts.Start = worldStart
	opts.Duration = cmp.Or(wc.duration, worldDuration)
	opts.Step = worldStep
	w, err := sim.New(opts)
	if err != nil {
		tb.Fatalf("world %s: %v", wc.name, err)
	}
	e, err := query.NewEmbedded(query.EmbeddedOptions{})
	if err != nil {
		tb.Fatalf("world %s: %v", wc.name, err)
	}

	ctx := context.Background()
	end := opts.Start.Add(opts.Duration)
	samples := 0
	for until := opts.Start; !until.After(end); until = until.Add(opts.Step) {
		batch := e.Appender(ctx)
		err := w.Advance(until, func(l labels.Labels, ts int64, v float64) error {
			samples++
			return batch.Append(l, ts, v)
		})
		if err == nil {
			err = batch.Commit()
		}
		if err != nil {
			_ = e.Close()
			tb.Fatalf("world %s: feeding the engine: %v", wc.name, err)
		}
	}

	emitted := opts.Telemetry
	if emitted == nil {
		emitted = []string{sim.SourceIstio, sim.SourceLinkerd, sim.SourceServiceGraph}
	}
	return &loadedWorld{
		engine: e, truth: w.Truth(), emitted: slices.Clone(emitted), at: end,
		samples: samples, cfg: wc,
	}
}

// discoverer returns a Discoverer with default caps over q, reading the given
// sources (every built-in one when none are given), configured for the world's
// cluster label.
func (lw *loadedWorld) discoverer(q query.Querier, sources ...string) *topology.Discoverer {
	opts := topology.AdapterOptions{ClusterLabel: lw.cfg.clusterLabel}
	adapters := topology.DefaultAdapters(opts)
	if len(sources) > 0 {
		adapters = slices.DeleteFunc(adapters, func(a topology.Adapter) bool {
			return !slices.Contains(sources, a.Name())
		})
	}
	return topology.NewDiscoverer(q, topology.Config{
		Adapters: adapters,
		Identity: identity.Config{ClusterLabel: lw.cfg.clusterLabel},
	})
}

// recordingQuerier counts and keeps the instant queries a cycle runs, so that
// exactly the same strings can be run again without the engine around them.
type recordingQuerier struct {
	query.Querier
	mu      sync.Mutex
	queries []recordedQuery
	ranges  int
}

type recordedQuery struct {
	expr string
	at   time.Time
}

func (r *recordingQuerier) Query(
	ctx context.Context, expr string, ts time.Time,
) (model.Vector, error) {
	r.mu.Lock()
	r.queries = append(r.queries, recordedQuery{expr: expr, at: ts})
	r.mu.Unlock()
	return r.Querier.Query(ctx, expr, ts)
}

func (r *recordingQuerier) QueryRange(
	ctx context.Context, expr string, rg query.Range,
) (model.Matrix, error) {
	r.mu.Lock()
	r.ranges++
	r.mu.Unlock()
	return r.Querier.QueryRange(ctx, expr, rg)
}

// count is the number of queries of every kind the cycle ran.
func (r *recordingQuerier) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.queries) + r.ranges
}

// replay runs the recorded instant queries again against q and returns the time
// they took together.
func (r *recordingQuerier) replay(ctx context.Context, q query.Querier) (time.Duration, error) {
	var total time.Duration
	for _, rq := range r.queries {
		start := time.Now()
		if _, err := q.Query(ctx, rq.expr, rq.at); err != nil {
			return 0, fmt.Errorf("replaying %s: %w", rq.expr, err)
		}
		total += time.Since(start)
	}
	return total, nil
}

// truthScore compares a discovered graph with a world's truth.
//
// Names: truth edges name services only, graph nodes are cluster/namespace/name.
// A graph node stands for the truth service of the same name. A database or
// broker node whose name is a host (span metrics name a store by its
// server.address, "orders-db.c9akciq32.us-east-1.rds.amazonaws.com") stands for
// the store named by the host's first label, since the simulated hosts all start
// with the store's name. Graph nodes of kind unknown are the unnamed caller.
// Namespace and cluster do not take part in the match; misplaced counts the nodes
// whose namespace or cluster, where the graph has one, differs from the truth's.
type truthScore struct {
	// counted is the number of truth edges seen by an emitted source (named or
	// anonymous); found is how many of them the graph has.
	counted, found int
	missed         []string
	// falseEdges are graph edges that stand for no truth edge; an unknown caller
	// of a server is allowed where some truth edge into it is anonymous for a
	// source that was read.
	falseEdges []string
	// misplaced lists nodes named like a truth service but placed elsewhere.
	misplaced []string
	// duplicates lists truth services that two or more graph nodes stand for.
	duplicates []string
}

func (s truthScore) recall() float64 {
	if s.counted == 0 {
		return 1
	}
	return float64(s.found) / float64(s.counted)
}

// String summarises the score with a few examples of each problem.
func (s truthScore) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "recall %d/%d", s.found, s.counted)
	for _, p := range []struct {
		what string
		list []string
	}{
		{"missed", s.missed}, {"false", s.falseEdges},
		{"misplaced", s.misplaced}, {"duplicate", s.duplicates},
	} {
		if len(p.list) > 0 {
			fmt.Fprintf(&b, "; %d %s: %s", len(p.list), p.what,
				strings.Join(p.list[:min(len(p.list), 5)], ", "))
		}
	}
	return b.String()
}

// scoreGraph compares g with the truth, counting only what the sources read
// (a subset of the world's emitted telemetry) could show.
func scoreGraph(g *graph.Graph, truth sim.Truth, read []string) truthScore {
	services := map[string]sim.TruthService{}
	for _, s := range truth.Services {
		services[s.Name] = s
	}
	const unknown = "\x00unknown"
	nameOf := map[graph.NodeID]string{}
	standsFor := map[string][]graph.NodeID{}
	var score truthScore
	for _, n := range g.Nodes() {
		name := truthNameOf(n, services)
		if n.Kind == graph.KindUnknown {
			name = unknown
		}
		nameOf[n.ID] = name
		if name == unknown {
			continue
		}
		standsFor[name] = append(standsFor[name], n.ID)
		if ts, ok := services[name]; ok &&
			((n.Cluster != "" && n.Cluster != ts.Cluster) ||
				(n.Namespace != "" && n.Namespace != ts.Namespace)) {
			score.misplaced = append(score.misplaced,
				fmt.Sprintf("%s (truth %s/%s/%s)", n.ID, ts.Cluster, ts.Namespace, ts.Name))
		}
	}
	for name, ids := range standsFor {
		if len(ids) > 1 {
			slices.Sort(ids)
			score.duplicates = append(score.duplicates, fmt.Sprintf("%s as %v", name, ids))
		}
	}

	type pair struct{ client, server string }
	have := map[pair]bool{}
	for _, e := range g.Edges() {
		have[pair{nameOf[e.Client], nameOf[e.Server]}] = true
	}
	known := map[pair]bool{}
	anonymousOK := map[string]bool{}
	// Traffic from outside the world into a service nobody in it calls (an
	// ingress gateway) is real and shows as an unknown caller; the truth, made of
	// the topology's edges, has no edge for it.
	called := map[string]bool{}
	for _, te := range truth.Edges {
		called[te.Server] = true
	}
	for _, ts := range truth.Services {
		if !called[ts.Name] {
			anonymousOK[ts.Name] = true
		}
	}
	for _, te := range truth.Edges {
		known[pair{te.Client, te.Server}] = true
		named := intersects(te.Sources, read)
		anonymous := intersects(te.AnonymousSources, read)
		if anonymous {
			anonymousOK[te.Server] = true
		}
		if !named && !anonymous {
			continue
		}
		score.counted++
		want := pair{te.Client, te.Server}
		if !named {
			want.client = unknown
		}
		if have[want] {
			score.found++
		} else {
			score.missed = append(score.missed, te.Client+" -> "+te.Server)
		}
	}
	for _, e := range g.Edges() {
		p := pair{nameOf[e.Client], nameOf[e.Server]}
		if known[p] || (p.client == unknown && anonymousOK[p.server]) {
			continue
		}
		score.falseEdges = append(score.falseEdges,
			fmt.Sprintf("%s -> %s %v", e.Client, e.Server, e.Sources))
	}
	slices.Sort(score.missed)
	slices.Sort(score.falseEdges)
	slices.Sort(score.misplaced)
	slices.Sort(score.duplicates)
	return score
}

// truthNameOf names the truth service a graph node stands for, or returns the
// node's own name when none does.
func truthNameOf(n graph.Node, services map[string]sim.TruthService) string {
	if _, ok := services[n.Name]; ok {
		return n.Name
	}
	if n.Kind == graph.KindDatabase || n.Kind == graph.KindMessaging {
		if first, _, ok := strings.Cut(n.Name, "."); ok {
			if ts, ok := services[first]; ok && (ts.Kind == "database" || ts.Kind == "messaging") {
				return first
			}
		}
	}
	return n.Name
}

func intersects(a, b []string) bool {
	return slices.ContainsFunc(a, func(s string) bool { return slices.Contains(b, s) })
}
