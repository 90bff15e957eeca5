package identity

import (
	"fmt"
	"maps"
	"slices"
)

// Config configures a Resolver.
type Config struct {
	// ClusterLabel is the label a multi-cluster setup adds to every series to name
	// its cluster (an external label or a relabelling).
	ClusterLabel string `yaml:"cluster_label"`
	// Aliases map a name as a source reports it to the service it stands for, as
	// "name", "namespace/name" or "cluster/namespace/name": a trace's service.name
	// that differs from the workload, a database host, a renamed service.
	Aliases map[string]string `yaml:"aliases"`
}

// DefaultClusterLabel is the cluster label unless configured otherwise.
const DefaultClusterLabel = "cluster"

// Validate checks the aliases, naming the one that is wrong.
func (c Config) Validate() error {
	for _, from := range slices.Sorted(maps.Keys(c.Aliases)) {
		if from == "" {
			return fmt.Errorf("aliases: an alias has an empty name")
		}
		if _, err := ParseService(c.Aliases[from]); err != nil {
			return fmt.Errorf("aliases.%s: %w", from, err)
		}
	}
	return nil
}

// Resolver maps reported identities onto services. Build one per analysis cycle with
// NewResolver, Learn every identity the cycle saw, then Resolve each.
type Resolver struct {
	aliases map[string]Service
	// byName holds, per name, the fully or partly qualified services seen with it.
	byName map[string]map[Service]struct{}
}

// NewResolver returns a resolver for the configuration. The configuration must
// have passed Validate; an alias that does not parse is ignored.
func NewResolver(cfg Config) *Resolver {
	r := &Resolver{aliases: map[string]Service{}, byName: map[string]map[Service]struct{}{}}
	for from, to := range cfg.Aliases {
		if svc, err := ParseService(to); err == nil {
			r.aliases[from] = svc
		}
	}
	return r
}

// Learn records an identity a source reported, so that bare names can be completed
// from it.
func (r *Resolver) Learn(s Service) {
	s = r.alias(s)
	if s.Name == "" || s.Bare() {
		return
	}
	set, ok := r.byName[s.Name]
	if !ok {
		set = map[Service]struct{}{}
		r.byName[s.Name] = set
	}
	set[s] = struct{}{}
}

// Knows reports whether s, after its alias, was learnt exactly.
func (r *Resolver) Knows(s Service) bool {
	s = r.alias(s)
	_, ok := r.byName[s.Name][s]
	return ok
}

// Resolve returns the service an identity stands for. An alias applies first. An
// identity missing its namespace or cluster is completed from the learnt services
// of the same name that agree with every part it has: when exactly one of them is
// the most specific (the others being less specific versions of it), that one is
// returned; when none or several are, the identity is returned as it is.
func (r *Resolver) Resolve(s Service) Service {
	s = r.alias(s)
	if s.Namespace != "" && s.Cluster != "" {
		return s
	}
	var best []Service
	for cand := range r.byName[s.Name] {
		if !refines(cand, s) || cand == s {
			continue
		}
		best = keepMostSpecific(best, cand)
	}
	if len(best) != 1 {
		return s
	}
	return best[0]
}

// refines reports whether a agrees with every part b has.
func refines(a, b Service) bool {
	return a.Name == b.Name &&
		(b.Namespace == "" || a.Namespace == b.Namespace) &&
		(b.Cluster == "" || a.Cluster == b.Cluster)
}

// keepMostSpecific adds cand to a set of candidates none of which refines
// another, dropping those that cand refines, or cand if one of them refines it.
func keepMostSpecific(set []Service, cand Service) []Service {
	for _, s := range set {
		if refines(s, cand) {
			return set
		}
	}
	return append(slices.DeleteFunc(set, func(s Service) bool {
		return refines(cand, s)
	}), cand)
}

// alias replaces a reported name by its configured service, keeping what the source
// knew where the alias leaves a part empty.
func (r *Resolver) alias(s Service) Service {
	to, ok := r.aliases[s.Name]
	if !ok {
		return s
	}
	out := to
	if out.Namespace == "" {
		out.Namespace = s.Namespace
	}
	if out.Cluster == "" {
		out.Cluster = s.Cluster
	}
	return out
}
