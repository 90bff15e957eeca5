package topology

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// Snapshot is the result of one discovery cycle. It is immutable once returned.
type Snapshot struct {
	At        time.Time
	Retention time.Duration
	Graph     *graph.Graph
	Analysis  graph.Result
	// LastSeen is, per edge, the newest sample time of its series.
	LastSeen map[[2]graph.NodeID]time.Time
	// EdgesBySource counts the edges each adapter has seen within the retention;
	// every configured adapter is listed, with 0 if it found nothing.
	EdgesBySource map[string]int
	// Sources says, per configured adapter, whether its latest cycle succeeded and
	// when it last did (zero if never).
	Sources map[string]SourceStatus
	// Changes and Dropped are cumulative over the life of the Discoverer.
	Changes map[Change]float64
	// Dropped counts, by reason, observations left out of the graph.
	Dropped map[string]float64
}

// Dependents counts the services that call a node directly or transitively. The
// unknown caller is not one: it stands for callers that telemetry could not name,
// often the same calls another source names.
func (s *Snapshot) Dependents(id graph.NodeID) int {
	return s.countKnown(id, func(r graph.NodeResult) []graph.NodeID { return r.Dependents })
}

// Dependencies counts the services a node calls directly or transitively.
func (s *Snapshot) Dependencies(id graph.NodeID) int {
	return s.countKnown(id, func(r graph.NodeResult) []graph.NodeID { return r.Dependencies })
}

func (s *Snapshot) countKnown(id graph.NodeID, ids func(graph.NodeResult) []graph.NodeID) int {
	res, _ := s.Analysis.Node(id)
	n := 0
	for _, other := range ids(res) {
		if node, ok := s.Graph.Node(other); ok && node.Kind != graph.KindUnknown {
			n++
		}
	}
	return n
}

// SourceStatus is the health of one telemetry adapter.
type SourceStatus struct {
	Up          bool
	LastSuccess time.Time
	// Err is the latest failure while Up is false.
	Err string
}

// FailedSources lists, sorted, the adapters whose latest cycle failed: the graph
// holds what they found before, until the retention passes.
func (s *Snapshot) FailedSources() []string {
	var out []string
	for name, st := range s.Sources {
		if !st.Up {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// hpaSaturation is how close each autoscaled workload is to its maximum replicas:
// a service at its ceiling cannot absorb more load, which makes it a bottleneck.
// One query for the whole fleet; kube-state-metrics names the HPA, and an HPA
// named after its workload is the convention this relies on.
const hpaSaturation = `max by (%[1]s, namespace, horizontalpodautoscaler) ` +
	`(kube_horizontalpodautoscaler_status_current_replicas)` +
	` / max by (%[1]s, namespace, horizontalpodautoscaler) ` +
	`(kube_horizontalpodautoscaler_spec_max_replicas > 0)`

// workloadIdentities lists the workloads kube-state-metrics knows, with their
// namespace and cluster: the names a source gives without them (a Linkerd
// destination has no cluster, a trace no namespace) are completed from these.
const workloadIdentities = `group by (%[1]s, namespace, workload) (` +
	`label_replace(kube_deployment_spec_replicas, "workload", "$1", "deployment", "(.+)")` +
	` or label_replace(kube_statefulset_replicas, "workload", "$1", "statefulset", "(.+)")` +
	` or label_replace(kube_daemonset_status_desired_number_scheduled, ` +
	`"workload", "$1", "daemonset", "(.+)"))`

func (d *Discoverer) workloads(ctx context.Context, at time.Time) []identity.Service {
	label := d.cfg.Identity.ClusterLabel
	if !model.LegacyValidation.IsValidLabelName(label) {
		return nil
	}
	vec, err := d.querier.Query(ctx, fmt.Sprintf(workloadIdentities, label), at)
	if err != nil {
		d.cfg.Logger.Debug("workload query failed; names are completed from telemetry only",
			"err", err)
		return nil
	}
	out := make([]identity.Service, 0, len(vec))
	for _, s := range vec {
		out = append(out, identity.Service{
			Cluster:   string(s.Metric[model.LabelName(label)]),
			Namespace: string(s.Metric["namespace"]),
			Name:      string(s.Metric["workload"]),
		})
	}
	return out
}

func (d *Discoverer) saturation(ctx context.Context, at time.Time) map[graph.NodeID]float64 {
	label := d.cfg.Identity.ClusterLabel
	if !model.LegacyValidation.IsValidLabelName(label) {
		return nil // the configuration refuses such names; this keeps the query sound
	}
	vec, err := d.querier.Query(ctx, fmt.Sprintf(hpaSaturation, label), at)
	if err != nil {
		d.cfg.Logger.Debug("saturation query failed; bottleneck scores use traffic only",
			"err", err)
		return nil
	}
	out := make(map[graph.NodeID]float64, len(vec))
	for _, s := range vec {
		id := graph.MakeID(string(s.Metric[model.LabelName(label)]), string(s.Metric["namespace"]),
			string(s.Metric["horizontalpodautoscaler"]))
		out[id] = float64(s.Value)
	}
	return out
}

func nodeID(s identity.Service) graph.NodeID {
	return graph.MakeID(s.Cluster, s.Namespace, s.Name)
}

// snapshot builds the graph of the remembered edges, with this cycle's traffic
// where there was some, and analyses it.
func (d *Discoverer) snapshot(ctx context.Context, at time.Time, c *cycleObservations) *Snapshot {
	g := graph.New()
	for svc, n := range d.nodes {
		g.AddNode(graph.Node{Cluster: svc.Cluster, Namespace: svc.Namespace, Name: svc.Name,
			Kind: n.kind})
	}
	snap := &Snapshot{
		At:            at,
		Retention:     d.cfg.Retention,
		Graph:         g,
		LastSeen:      make(map[[2]graph.NodeID]time.Time, len(d.edges)),
		EdgesBySource: map[string]int{},
		Changes:       maps.Clone(d.changes),
		Dropped:       maps.Clone(d.dropped),
	}
	snap.Sources = d.SourceStatus()
	for _, a := range d.cfg.Adapters {
		snap.EdgesBySource[a.Name()] = 0
	}

	edges := make(map[edgeKey]graph.Edge, len(d.edges))
	for key, st := range d.edges {
		e := d.edgeTraffic(c.traffic[key])
		e.Client, e.Server = nodeID(key.client), nodeID(key.server)
		e.Protocol = strings.Join(slices.Sorted(maps.Keys(st.protocols)), ",")
		e.Sources = slices.Sorted(maps.Keys(st.sources))
		for _, s := range e.Sources {
			snap.EdgesBySource[s]++
		}
		edges[key] = e
	}
	for key := range d.explainUnknownCallers(edges) {
		delete(edges, key)
	}
	for key, e := range edges {
		g.AddEdge(e)
		snap.LastSeen[[2]graph.NodeID{e.Client, e.Server}] = d.edges[key].lastSeen
	}

	gateways := make([]graph.NodeID, 0, len(d.cfg.Gateways))
	for _, gw := range d.cfg.Gateways {
		if svc, err := identity.ParseService(gw); err == nil {
			gateways = append(gateways, d.gatewayIDs(svc)...)
		}
	}
	snap.Analysis = graph.Analyze(g, graph.Options{
		Gateways:   gateways,
		Saturation: d.saturation(ctx, at),
	})
	return snap
}

// gatewayIDs returns the nodes a configured gateway names: every node that agrees
// with each part it gives, so "istio-ingressgateway" names the gateway of every
// cluster.
func (d *Discoverer) gatewayIDs(gw identity.Service) []graph.NodeID {
	var out []graph.NodeID
	for svc := range d.nodes {
		if svc.Name == gw.Name && (gw.Namespace == "" || gw.Namespace == svc.Namespace) &&
			(gw.Cluster == "" || gw.Cluster == svc.Cluster) {
			out = append(out, nodeID(svc))
		}
	}
	slices.Sort(out)
	return out
}

// edgeTraffic picks an edge's figures from the sources that measured them this
// cycle, in the order of preference of the adapters: the same calls seen by a
// mesh and by traces are counted once. An edge without traffic this cycle has a
// zero rate and unmeasured ratios.
func (d *Discoverer) edgeTraffic(perSource map[string]Observation) graph.Edge {
	e := graph.Edge{
		ErrorRatio:        math.NaN(),
		ServerErrorRatio:  math.NaN(),
		LatencyP95Seconds: math.NaN(),
	}
	rateSet := false
	clientLatency := math.NaN()
	for _, a := range d.cfg.Adapters {
		o, ok := perSource[a.Name()]
		if !ok {
			continue
		}
		if !rateSet && !math.IsNaN(o.RequestsPerSecond) {
			e.RequestsPerSecond, rateSet = o.RequestsPerSecond, true
		}
		e.ErrorRatio = firstKnown(e.ErrorRatio, o.ErrorRatio)
		e.ServerErrorRatio = firstKnown(e.ServerErrorRatio, o.ServerErrorRatio)
		if o.LatencyFromClient {
			clientLatency = firstKnown(clientLatency, o.LatencyP95Seconds)
		} else {
			e.LatencyP95Seconds = firstKnown(e.LatencyP95Seconds, o.LatencyP95Seconds)
		}
	}
	// The server's own latency is what self-time estimates need; a client's
	// measure stands in only when no source has the server's.
	e.LatencyP95Seconds = firstKnown(e.LatencyP95Seconds, clientLatency)
	return e
}

func firstKnown(have, next float64) float64 {
	if math.IsNaN(have) {
		return next
	}
	return have
}

// unknownRateSlack is how far the rate of an unknown caller may exceed the calls of
// the named callers that explain it, for rates measured by two sources over the
// same window (a client proxy and a server proxy count the same calls a little
// apart: retries, calls in flight).
const unknownRateSlack = 1.25

// explainUnknownCallers finds the edges from the unknown node that are the same
// calls as edges other sources name. With mixed telemetry (a Linkerd client calling
// an Istio server, a traced caller without a proxy) the server's mesh reports its
// caller as unknown while another source names it: drawing both would invent a
// caller and double the server's traffic.
//
// An unknown → S edge seen by sources U is explained by the named callers C → S
// that U cannot name: no source of U reports C as the client of any edge (had C a
// proxy of that mesh, the mesh would have named it), and no source of U sees C → S.
// It must also carry traffic the named calls account for: both rates positive, the
// unknown one at most unknownRateSlack times theirs. Without traffic nothing tells
// the calls apart, and the unknown caller stays. The named edges take over the
// figures only the server's side measured (its latency and error ratio). It returns
// the explained unknown edges, which the graph leaves out.
func (d *Discoverer) explainUnknownCallers(edges map[edgeKey]graph.Edge) map[edgeKey]bool {
	namedInto := map[identity.Service][]edgeKey{}
	clientSources := map[identity.Service]map[string]bool{}
	for key, e := range edges {
		if n, ok := d.nodes[key.client]; !ok || n.kind == graph.KindUnknown {
			continue
		}
		if clientSources[key.client] == nil {
			clientSources[key.client] = map[string]bool{}
		}
		for _, src := range e.Sources {
			clientSources[key.client][src] = true
		}
		if key.client != key.server {
			namedInto[key.server] = append(namedInto[key.server], key)
		}
	}
	explained := map[edgeKey]bool{}
	for key, unknown := range edges {
		if n, ok := d.nodes[key.client]; !ok || n.kind != graph.KindUnknown {
			continue
		}
		var hidden []edgeKey
		rate := 0.0
		for _, named := range namedInto[key.server] {
			if !namesNone(clientSources[named.client], unknown.Sources) {
				continue
			}
			hidden = append(hidden, named)
			rate += edges[named].RequestsPerSecond
		}
		if len(hidden) == 0 || !(unknown.RequestsPerSecond > 0) || !(rate > 0) ||
			unknown.RequestsPerSecond > rate*unknownRateSlack {
			continue
		}
		explained[key] = true
		for _, named := range hidden {
			e := edges[named]
			// The server's own measure, preferred to a client's (see edgeTraffic).
			e.LatencyP95Seconds = firstKnown(unknown.LatencyP95Seconds, e.LatencyP95Seconds)
			e.ServerErrorRatio = firstKnown(e.ServerErrorRatio, unknown.ServerErrorRatio)
			if math.IsNaN(e.ServerErrorRatio) {
				e.ServerErrorRatio = unknown.ErrorRatio
			}
			edges[named] = e
		}
	}
	return explained
}

// namesNone reports whether none of the sources has named the client.
func namesNone(namedBy map[string]bool, sources []string) bool {
	for _, s := range sources {
		if namedBy[s] {
			return false
		}
	}
	return true
}
