package identity

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTagKeysRead(t *testing.T) {
	keys := TagKeys{}.WithDefaults()
	require.Equal(t, DefaultServiceTagKeys, keys.Service)
	custom := TagKeys{Service: []string{"svc"}, Team: []string{"squad"}, Owner: []string{"contact"}}
	require.Equal(t, custom, custom.WithDefaults(), "given keys are kept")

	for _, tc := range []struct {
		name string
		keys TagKeys
		tags map[string]string
		want Tagged
	}{
		{"none", keys, nil, Tagged{}},
		{"first key wins", keys,
			map[string]string{"app": "a", "service": "s", "team": "t", "owner": "o"},
			Tagged{Service: "s", ServiceKey: "service", Team: "t", Owner: "o"}},
		{"empty value is absent", keys, map[string]string{"service": " ", "app": "a"},
			Tagged{Service: "a", ServiceKey: "app"}},
		{"case is ignored after an exact miss", keys,
			map[string]string{"Service": "s", "TEAM": " t "},
			Tagged{Service: "s", ServiceKey: "Service", Team: "t"}},
		{"exact match before case-insensitive", keys,
			map[string]string{"SERVICE": "upper", "service": "exact"},
			Tagged{Service: "exact", ServiceKey: "service"}},
		{"several spellings: the smallest key", keys,
			map[string]string{"Service": "b", "SERVICE": "a"},
			Tagged{Service: "a", ServiceKey: "SERVICE"}},
		{"an empty spelling is skipped", keys,
			map[string]string{"SERVICE": "", "Service": "b"},
			Tagged{Service: "b", ServiceKey: "Service"}},
		{"custom keys", custom, map[string]string{"svc": "x", "squad": "y", "contact": "z"},
			Tagged{Service: "x", ServiceKey: "svc", Team: "y", Owner: "z"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, tc.keys.Read(tc.tags))
		})
	}
}

func TestLabelName(t *testing.T) {
	require.Equal(t, "label_app_kubernetes_io_name", LabelName("label_", "app.kubernetes.io/name"))
	require.Equal(t, "tag_Cost_Center_2", LabelName("tag_", "Cost Center-2"))
	require.Equal(t, "tag_", LabelName("tag_", ""))
}

func TestMetadataVotes(t *testing.T) {
	var votes MetadataVotes
	require.Empty(t, votes.Result())
	a, b := Service{Name: "a"}, Service{Cluster: "c", Namespace: "n", Name: "b"}
	votes.Add(a, Metadata{}) // no vote
	votes.Add(a, Metadata{Team: "x", Owner: "o1"})
	votes.Add(a, Metadata{Team: "y"})
	votes.Add(a, Metadata{Team: "y", Owner: "o2"})
	votes.Add(b, Metadata{Team: "z", Owner: "p"})
	votes.Add(b, Metadata{Team: "w", Owner: "q"})
	votes.Add(Service{Name: "silent"}, Metadata{})
	require.Equal(t, map[Service]Metadata{
		a: {Team: "y", Owner: "o1"}, // o1 and o2 tie: the smallest
		b: {Team: "w", Owner: "p"},
	}, votes.Result())
}

func TestCompareServices(t *testing.T) {
	require.Negative(t, CompareServices(Service{Name: "b"}, Service{Cluster: "a", Name: "a"}))
	require.Negative(t, CompareServices(Service{Namespace: "a", Name: "z"},
		Service{Namespace: "b", Name: "a"}))
	require.Zero(t, CompareServices(Service{Name: "a"}, Service{Name: "a"}))
	require.Positive(t, CompareServices(Service{Name: "b"}, Service{Name: "a"}))
}

func TestMetadataVotesMerge(t *testing.T) {
	s := Service{Name: "a"}
	var vm, lambdas MetadataVotes
	vm.Add(s, Metadata{Team: "xrays"})
	for range 3 {
		lambdas.Add(s, Metadata{Team: "yankees", Owner: "o"})
	}
	vm.Merge(&lambdas)
	vm.Merge(nil)
	require.Equal(t, map[Service]Metadata{s: {Team: "yankees", Owner: "o"}}, vm.Result(),
		"three votes against one, not one settled vote against one")
}
