package topology

import (
	"maps"
	"math"
	"slices"
	"time"

	"github.com/stratus-monitoring/stratus/topology/graph"
)

// GraphReport is the dependency graph as `stratus deps graph --output=json` and
// /api/v1/graph present it. Its JSON form is a documented, stable schema: times
// are RFC 3339 UTC, durations seconds, and figures that were not measured are null.
type GraphReport struct {
	// At is the evaluation time of the cycle that produced the graph.
	At time.Time `json:"at"`
	// Retention is how long an edge stays on the graph after its series was last seen.
	RetentionSeconds float64 `json:"retention_seconds"`
	// Sources lists the telemetry adapters that found at least one edge.
	Sources []string `json:"sources"`
	// Nodes, sorted by ID.
	Nodes []NodeReport `json:"nodes"`
	// Edges, sorted by client, then server.
	Edges []EdgeReport `json:"edges"`
	// EntryPoints, sorted; CriticalPaths in the same order.
	EntryPoints   []string             `json:"entry_points"`
	CriticalPaths []CriticalPathReport `json:"critical_paths"`
	// ErrorOrigins are the nodes where the errors callers see originate, sorted.
	ErrorOrigins []string `json:"error_origins"`
}

// NodeReport is one node of a GraphReport.
type NodeReport struct {
	// ID is "cluster/namespace/name" with empty parts kept.
	ID        string `json:"id"`
	Name      string `json:"name"`
	Namespace string `json:"namespace"`
	Cluster   string `json:"cluster"`
	// Kind is service, database, messaging, external or unknown.
	Kind string `json:"kind"`
	// Dependents counts the transitive callers (the blast radius).
	Dependents      int      `json:"dependents"`
	Dependencies    int      `json:"dependencies"`
	FanIn           int      `json:"fan_in"`
	FanOut          int      `json:"fan_out"`
	Betweenness     float64  `json:"betweenness"`
	BottleneckScore float64  `json:"bottleneck_score"`
	SelfTimeSeconds *float64 `json:"self_time_seconds"`
	ErrorOrigin     bool     `json:"error_origin"`
	EntryPoint      bool     `json:"entry_point"`
}

// EdgeReport is one edge of a GraphReport.
type EdgeReport struct {
	Client string `json:"client"`
	Server string `json:"server"`
	// Protocol lists the protocols seen, sorted and comma-separated; empty if none.
	Protocol          string   `json:"protocol"`
	RequestsPerSecond float64  `json:"requests_per_second"`
	ErrorRatio        *float64 `json:"error_ratio"`
	LatencyP95Seconds *float64 `json:"latency_p95_seconds"`
	// Sources lists the telemetry that saw the edge, sorted.
	Sources  []string  `json:"sources"`
	LastSeen time.Time `json:"last_seen"`
}

// CriticalPathReport is the slowest chain from one entry point.
type CriticalPathReport struct {
	EntryPoint string `json:"entrypoint"`
	// Nodes along the chain, in call order.
	Nodes           []string `json:"nodes"`
	SelfTimeSeconds float64  `json:"self_time_seconds"`
}

// Report presents the snapshot as a GraphReport.
func (s *Snapshot) Report() GraphReport {
	r := GraphReport{
		At:               s.At.UTC(),
		RetentionSeconds: s.Retention.Seconds(),
		Sources:          []string{},
		Nodes:            []NodeReport{},
		Edges:            []EdgeReport{},
		EntryPoints:      []string{},
		CriticalPaths:    []CriticalPathReport{},
		ErrorOrigins:     []string{},
	}
	for _, name := range slices.Sorted(maps.Keys(s.EdgesBySource)) {
		if s.EdgesBySource[name] > 0 {
			r.Sources = append(r.Sources, name)
		}
	}
	for _, n := range s.Graph.Nodes() {
		res, _ := s.Analysis.Node(n.ID)
		nr := NodeReport{
			ID: string(n.ID), Name: n.Name, Namespace: n.Namespace, Cluster: n.Cluster,
			Kind: string(n.Kind), Dependents: s.Dependents(n.ID),
			Dependencies: s.Dependencies(n.ID), FanIn: res.FanIn, FanOut: res.FanOut,
			Betweenness: res.Betweenness, BottleneckScore: res.BottleneckScore,
			ErrorOrigin: res.ErrorOrigin, EntryPoint: res.EntryPoint,
		}
		if res.SelfTimeKnown {
			nr.SelfTimeSeconds = measured(res.SelfTimeSeconds)
		}
		r.Nodes = append(r.Nodes, nr)
	}
	for _, e := range s.Graph.Edges() {
		r.Edges = append(r.Edges, EdgeReport{
			Client: string(e.Client), Server: string(e.Server), Protocol: e.Protocol,
			RequestsPerSecond: e.RequestsPerSecond,
			ErrorRatio:        measured(e.ErrorRatio),
			LatencyP95Seconds: measured(e.LatencyP95Seconds),
			Sources:           slices.Clone(e.Sources),
			LastSeen:          s.LastSeen[[2]graph.NodeID{e.Client, e.Server}].UTC(),
		})
	}
	for _, id := range s.Analysis.EntryPoints {
		r.EntryPoints = append(r.EntryPoints, string(id))
	}
	for _, p := range s.Analysis.CriticalPaths {
		cp := CriticalPathReport{EntryPoint: string(p.EntryPoint), Nodes: []string{},
			SelfTimeSeconds: p.SelfTimeSeconds}
		for _, id := range p.Nodes {
			cp.Nodes = append(cp.Nodes, string(id))
		}
		r.CriticalPaths = append(r.CriticalPaths, cp)
	}
	for _, id := range s.Analysis.ErrorOrigins {
		r.ErrorOrigins = append(r.ErrorOrigins, string(id))
	}
	return r
}

// measured returns a pointer to x, or nil when x is NaN or infinite: JSON has no
// NaN, and null says "not measured".
func measured(x float64) *float64 {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return nil
	}
	return &x
}
