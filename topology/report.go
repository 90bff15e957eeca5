package topology

import "time"

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
