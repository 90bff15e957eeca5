package topology

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

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

// merge folds a cycle's observations into the remembered edges: identities are
// resolved, new edges added (and counted, unless found by an adapter's first look
// back), edges not seen for the retention removed, and the caps applied.
func (d *Discoverer) merge(c *cycleObservations, at time.Time, workloads []identity.Service) {
	res := d.newResolver(workloads)
	for _, source := range slices.Sorted(maps.Keys(c.bySource)) {
		for _, o := range c.bySource[source] {
			res.learn(o.Client)
			res.learn(o.Server)
		}
	}
	d.reresolve(res)

	c.traffic = map[edgeKey]map[string]Observation{}
	for _, source := range slices.Sorted(maps.Keys(c.bySource)) {
		for _, o := range c.bySource[source] {
			key, ok := d.admit(res, o, c.initial[source], at)
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

// touchNode adds a node or updates what is known of it: the most telling kind,
// the newest sighting, and whether its cluster is still a guess (only while every
// sighting guessed it).
func (d *Discoverer) touchNode(s identity.Service, k graph.Kind, guessed bool, seen time.Time) {
	n, ok := d.nodes[s]
	if !ok {
		d.nodes[s] = &nodeState{kind: cmp.Or(k, graph.KindService), guessed: guessed,
			lastSeen: seen}
		return
	}
	if kindRank(k) > kindRank(n.kind) {
		n.kind = k
	}
	n.guessed = n.guessed && guessed
	if seen.After(n.lastSeen) {
		n.lastSeen = seen
	}
}

// admit returns the key of an observation's edge, adding the edge if it is new and
// the caps allow it. initial says the observation comes from its adapter's first
// look back, which finds what existed before Stratus started: not a change.
func (d *Discoverer) admit(res *resolver, o Observation, initial bool, at time.Time) (edgeKey, bool) {
	client, clientGuessed := res.resolve(o.Client)
	server, serverGuessed := res.resolve(o.Server)
	key := edgeKey{client, server}
	if client.Name == "" || server.Name == "" {
		d.dropped[DropInvalidIdentity]++
		return key, false
	}
	seen := sightingTime(o, at)
	if _, ok := d.edges[key]; ok {
		d.touchNode(client, o.Client.Kind, clientGuessed, seen)
		d.touchNode(server, o.Server.Kind, serverGuessed, seen)
		return key, true
	}

	if len(d.edges) >= d.cfg.MaxEdges {
		d.dropped[DropMaxEdges]++
		return key, false
	}
	newNodes := 0
	for _, s := range []identity.Service{client, server} {
		if _, ok := d.nodes[s]; !ok {
			newNodes++
		}
	}
	if client == server && newNodes == 2 {
		newNodes = 1
	}
	if len(d.nodes)+newNodes > d.cfg.MaxServices {
		d.dropped[DropMaxServices]++
		return key, false
	}

	for _, end := range []struct {
		svc     identity.Service
		kind    graph.Kind
		guessed bool
	}{{client, o.Client.Kind, clientGuessed}, {server, o.Server.Kind, serverGuessed}} {
		if _, ok := d.nodes[end.svc]; !ok && !initial {
			d.changes[Change{Kind: ChangeService, Action: ActionAdded}]++
		}
		d.touchNode(end.svc, end.kind, end.guessed, seen)
	}
	d.edges[key] = &edgeState{sources: map[string]time.Time{}, protocols: map[string]struct{}{}}
	if !initial {
		d.changes[Change{Kind: ChangeEdge, Action: ActionAdded}]++
	}
	return key, true
}

// sightingTime is when an observation last saw its edge: its newest sample, or
// the evaluation time when the source gave none (or one in the future).
func sightingTime(o Observation, at time.Time) time.Time {
	if o.LastSeen.IsZero() || o.LastSeen.After(at) {
		return at
	}
	return o.LastSeen
}

// record notes that source saw the edge.
func (d *Discoverer) record(key edgeKey, source string, o Observation, at time.Time) {
	st := d.edges[key]
	seen := sightingTime(o, at)
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
// edges. Only what was seen while Stratus watched counts as removed: an edge the
// first look back found a day old was gone before Stratus started.
func (d *Discoverer) expire(at time.Time) {
	cutoff := at.Add(-d.cfg.Retention)
	used := map[identity.Service]bool{}
	for key, st := range d.edges {
		if st.lastSeen.Before(cutoff) {
			delete(d.edges, key)
			if !st.lastSeen.Before(d.startedAt) {
				d.changes[Change{Kind: ChangeEdge, Action: ActionRemoved}]++
			}
			continue
		}
		used[key.client], used[key.server] = true, true
	}
	for svc, n := range d.nodes {
		if used[svc] {
			continue
		}
		delete(d.nodes, svc)
		if !n.lastSeen.Before(d.startedAt) {
			d.changes[Change{Kind: ChangeService, Action: ActionRemoved}]++
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
	out.LatencyP95Seconds = graph.MaxKnown(a.LatencyP95Seconds, b.LatencyP95Seconds)
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

// weighted averages two ratios by their weights, as graph.WeightedRatio does,
// an unmeasured weight counting as no traffic.
func weighted(x, wx, y, wy float64) float64 {
	return graph.WeightedRatio(x, zeroIfNaN(wx), y, zeroIfNaN(wy))
}

func zeroIfNaN(x float64) float64 {
	if math.IsNaN(x) {
		return 0
	}
	return x
}
