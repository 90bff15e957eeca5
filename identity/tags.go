package identity

import (
	"cmp"
	"maps"
	"slices"
	"strings"
)

// Default tag keys: which cloud tag (or Kubernetes label) names a resource's
// service, team and owner, tried in order.
var (
	DefaultServiceTagKeys = []string{"service", "app", "app.kubernetes.io/name"}
	DefaultTeamTagKeys    = []string{"team"}
	DefaultOwnerTagKeys   = []string{"owner"}
)

// TagKeys says which tags of a cloud resource name its service, team and owner.
// Keys are matched exactly first and then ignoring case, because clouds leave the
// case of tag keys to whoever wrote them (`Service`, `service`).
type TagKeys struct {
	Service []string
	Team    []string
	Owner   []string
}

// WithDefaults returns k with each empty list replaced by its default.
func (k TagKeys) WithDefaults() TagKeys {
	if len(k.Service) == 0 {
		k.Service = DefaultServiceTagKeys
	}
	if len(k.Team) == 0 {
		k.Team = DefaultTeamTagKeys
	}
	if len(k.Owner) == 0 {
		k.Owner = DefaultOwnerTagKeys
	}
	return k
}

// Tagged is what a resource's tags say of it. Empty fields are not known.
type Tagged struct {
	// Service is the value of the first service key the tags carry, as a bare
	// name: cloud tags know no namespace or cluster.
	Service string
	Team    string
	Owner   string
	// ServiceKey is the tag key the service came from.
	ServiceKey string
}

// Read reads the service, team and owner from tags. Empty values count as
// absent, and surrounding spaces are dropped.
func (k TagKeys) Read(tags map[string]string) Tagged {
	var t Tagged
	t.ServiceKey, t.Service = lookupTag(tags, k.Service)
	_, t.Team = lookupTag(tags, k.Team)
	_, t.Owner = lookupTag(tags, k.Owner)
	return t
}

// lookupTag returns the first key of keys that tags carries with a non-empty
// value: an exact match first, else a match ignoring case (the smallest such key
// of tags, so that the answer does not depend on map order).
func lookupTag(tags map[string]string, keys []string) (key, value string) {
	for _, k := range keys {
		if v := strings.TrimSpace(tags[k]); v != "" {
			return k, v
		}
		for _, tk := range slices.Sorted(maps.Keys(tags)) {
			if strings.EqualFold(tk, k) {
				if v := strings.TrimSpace(tags[tk]); v != "" {
					return tk, v
				}
			}
		}
	}
	return "", ""
}

// LabelName returns the Prometheus label an exporter gives a tag or Kubernetes
// label key: prefix and the key with every character that may not appear in a
// label name replaced by "_". kube-state-metrics uses the prefix "label_"
// (app.kubernetes.io/name becomes label_app_kubernetes_io_name), yace "tag_".
func LabelName(prefix, key string) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range key {
		if !labelRune(r) {
			r = '_'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// labelRune reports whether r may appear in a label name after its first
// character.
func labelRune(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

// Metadata is the ownership of a service: metadata, never part of its name.
type Metadata struct {
	Team  string
	Owner string
}

// MetadataVotes gathers what several resources of one service say of its team and
// owner, and settles disagreements by majority (ties: the smallest value), so
// that one mistagged resource does not move a service to another team.
type MetadataVotes struct {
	votes map[Service]*[2]map[string]int
}

// Add counts what one resource says of s. Empty values are no vote.
func (m *MetadataVotes) Add(s Service, md Metadata) {
	if md.Team == "" && md.Owner == "" {
		return
	}
	v := m.of(s)
	if md.Team != "" {
		v[0][md.Team]++
	}
	if md.Owner != "" {
		v[1][md.Owner]++
	}
}

// of returns the team and owner counts of s, made on first use.
func (m *MetadataVotes) of(s Service) *[2]map[string]int {
	if m.votes == nil {
		m.votes = map[Service]*[2]map[string]int{}
	}
	v, ok := m.votes[s]
	if !ok {
		v = &[2]map[string]int{{}, {}}
		m.votes[s] = v
	}
	return v
}

// Merge adds every vote of other to m.
func (m *MetadataVotes) Merge(other *MetadataVotes) {
	if other == nil {
		return
	}
	for s, v := range other.votes {
		mine := m.of(s)
		for i := range v {
			for value, n := range v[i] {
				mine[i][value] += n
			}
		}
	}
}

// Result returns the settled metadata of every service that got a vote.
func (m *MetadataVotes) Result() map[Service]Metadata {
	out := make(map[Service]Metadata, len(m.votes))
	for s, v := range m.votes {
		out[s] = Metadata{Team: majority(v[0]), Owner: majority(v[1])}
	}
	return out
}

// majority returns the value with the most votes, the smallest on a tie, or ""
// with none.
func majority(votes map[string]int) string {
	best, n := "", 0
	for _, v := range slices.Sorted(maps.Keys(votes)) {
		if c := votes[v]; c > n {
			best, n = v, c
		}
	}
	return best
}

// CompareServices orders services by cluster, namespace and name.
func CompareServices(a, b Service) int {
	return cmp.Or(cmp.Compare(a.Cluster, b.Cluster), cmp.Compare(a.Namespace, b.Namespace),
		cmp.Compare(a.Name, b.Name))
}
