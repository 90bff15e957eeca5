package topology

import (
	"maps"
	"slices"
	"strings"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

func endpointService(e Endpoint) identity.Service {
	return identity.Service{Cluster: e.Cluster, Namespace: e.Namespace, Name: e.Name}
}

// resolves reports whether an endpoint's name is one the identity resolver may
// complete: unknown callers and external hosts are not services of the cluster.
func resolves(e Endpoint) bool {
	return e.Kind != graph.KindUnknown && e.Kind != graph.KindExternal
}

func isStore(k graph.Kind) bool {
	return k == graph.KindDatabase || k == graph.KindMessaging
}

// resolver completes the identities of one cycle: the shared identity resolver,
// plus what the dependency engine knows of endpoints.
type resolver struct {
	*identity.Resolver
	// stores lists, by name, the databases and brokers some source names without
	// a dot; hosts lists, by first label, the store names with dots. A host whose
	// first label names exactly one store, and which is the only host with that
	// first label, is that store.
	stores map[string][]identity.Service
	hosts  map[string]map[string]bool
}

// newResolver starts a cycle's resolver from what is already known: the workloads
// kube-state-metrics lists and the remembered nodes whose identity is not a guess.
func (d *Discoverer) newResolver(workloads []identity.Service) *resolver {
	r := &resolver{
		Resolver: identity.NewResolver(d.cfg.Identity),
		stores:   map[string][]identity.Service{},
		hosts:    map[string]map[string]bool{},
	}
	for _, w := range workloads {
		r.Learn(w)
	}
	for _, id := range slices.SortedFunc(maps.Keys(d.nodes), compareServices) {
		n := d.nodes[id]
		r.learn(Endpoint{Cluster: id.Cluster, Namespace: id.Namespace, Name: id.Name,
			Kind: n.kind, ClusterFromScrape: n.guessed})
	}
	return r
}

func compareServices(a, b identity.Service) int { return strings.Compare(a.String(), b.String()) }

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
	if !isStore(e.Kind) {
		return
	}
	if first, _, dotted := strings.Cut(svc.Name, "."); dotted {
		if r.hosts[first] == nil {
			r.hosts[first] = map[string]bool{}
		}
		r.hosts[first][svc.Name] = true
	} else if !slices.Contains(r.stores[svc.Name], svc) {
		r.stores[svc.Name] = append(r.stores[svc.Name], svc)
	}
}

// resolve maps an endpoint onto its service identity; guessed says the result's
// cluster is still only the scrape's.
//
// A cluster guessed from the scrape stands when a source or kube-state-metrics
// places the workload there; otherwise the workload's one known cluster replaces
// it. A database or broker named by a host ("orders-db.abc.eu-west-1.rds.amazonaws.com")
// is the store another source names by the host's first label, when exactly one
// store has that name and no other host shares the first label (db.prod.example.com
// and db.staging.example.com are two databases, whatever a third source calls "db").
func (r *resolver) resolve(e Endpoint) (svc identity.Service, guessed bool) {
	svc = endpointService(e)
	if !resolves(e) {
		return svc, false
	}
	if isStore(e.Kind) {
		first, _, dotted := strings.Cut(svc.Name, ".")
		if dotted && len(r.stores[first]) == 1 && len(r.hosts[first]) == 1 {
			return r.stores[first][0], false
		}
	}
	if !e.ClusterFromScrape {
		return r.Resolve(svc), false
	}
	if r.Knows(svc) {
		return svc, false
	}
	unplaced := svc
	unplaced.Cluster = ""
	if placed := r.Resolve(unplaced); placed.Cluster != "" {
		return placed, false
	}
	return r.Resolve(svc), true
}

// reresolve moves remembered edges onto identities that became known since they
// were found (a bare traced name whose namespace a mesh has now shown, a guessed
// cluster now placed), merging edges that turn out to be the same. A move is not a
// change of the graph.
func (d *Discoverer) reresolve(res *resolver) {
	moved := map[identity.Service]identity.Service{}
	for svc, n := range d.nodes {
		e := Endpoint{Cluster: svc.Cluster, Namespace: svc.Namespace, Name: svc.Name,
			Kind: n.kind, ClusterFromScrape: n.guessed}
		to, guessed := res.resolve(e)
		if to != svc {
			moved[svc] = to
		}
		n.guessed = guessed
	}
	if len(moved) == 0 {
		return
	}
	for _, from := range slices.SortedFunc(maps.Keys(moved), compareServices) {
		n := d.nodes[from]
		delete(d.nodes, from)
		d.touchNode(moved[from], n.kind, n.guessed, n.lastSeen)
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
