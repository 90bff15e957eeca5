package graph

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestErrorOrigins(t *testing.T) {
	for _, tc := range []struct {
		name     string
		edges    []Edge
		opts     Options
		origins  []string
		symptoms map[[2]string][]string // client, server -> origins
	}{
		{
			// The database fails 20% of payment's calls; everyone above passes the
			// failures on. Only the database leaves them unexplained.
			name: "failure passed up a chain",
			edges: []Edge{
				failing("front", "checkout", 10, 0.2, 0.2),
				failing("checkout", "payment", 10, 0.2, 0.2),
				failing("payment", "db", 10, 0.2, nan),
			},
			origins: []string{"db"},
			symptoms: map[[2]string][]string{
				{"front", "checkout"}:   {"db"},
				{"checkout", "payment"}: {"db"},
				{"payment", "db"}:       {"db"},
			},
		},
		{
			name: "callee fails by itself",
			edges: []Edge{
				failing("front", "checkout", 10, 0.1, 0.1),
				failing("checkout", "payment", 10, 0, 0),
			},
			origins:  []string{"checkout"},
			symptoms: map[[2]string][]string{{"front", "checkout"}: {"checkout"}},
		},
		{
			name:  "ratio under the gate",
			edges: []Edge{failing("front", "checkout", 1000, 0.005, 0.005)},
		},
		{
			name:  "rate under the gate",
			edges: []Edge{failing("front", "checkout", 0.05, 0.1, 0.1)},
		},
		{
			name:    "gates are options",
			edges:   []Edge{failing("front", "checkout", 0.05, 0.005, 0.005)},
			opts:    Options{MinErrorRatio: 0.001, MinErrorsPerSecond: 0.0001, MinUnexplainedShare: 0.9},
			origins: []string{"checkout"},
			symptoms: map[[2]string][]string{
				{"front", "checkout"}: {"checkout"},
			},
		},
		{
			// The client sees 10% failures the server never answered (timeouts,
			// resets): nothing downstream explains them, so they stay on the server.
			name:     "failures lost in transit",
			edges:    []Edge{failing("front", "checkout", 10, 0.1, 0)},
			origins:  []string{"checkout"},
			symptoms: map[[2]string][]string{{"front", "checkout"}: {"checkout"}},
		},
		{
			// The server reports failures but its callers retry and see none.
			name:  "failures nobody sees",
			edges: []Edge{failing("front", "checkout", 10, 0, 0.3)},
		},
		{
			// checkout fails 10%, of which 9 points come from payment: 10% of its
			// failures unexplained is under the 25% share.
			name: "mostly explained",
			edges: []Edge{
				failing("front", "checkout", 100, 0.10, 0.10),
				failing("checkout", "payment", 100, 0.09, nan),
			},
			origins: []string{"payment"},
			symptoms: map[[2]string][]string{
				{"front", "checkout"}:   {"payment"},
				{"checkout", "payment"}: {"payment"},
			},
		},
		{
			// Both fail on their own: checkout 10% of 100 req/s with only 4 explained.
			name: "two origins on one chain",
			edges: []Edge{
				failing("front", "checkout", 100, 0.10, 0.10),
				failing("checkout", "payment", 100, 0.04, 0.04),
			},
			origins: []string{"checkout", "payment"},
			symptoms: map[[2]string][]string{
				{"front", "checkout"}:   {"checkout", "payment"},
				{"checkout", "payment"}: {"payment"},
			},
		},
		{
			// a and b pass failures round a cycle, so each explains the other's; the
			// rule leaves the unexplained part on a, where front's calls enter the
			// cycle. The walk ends all the same.
			name: "failing cycle",
			edges: []Edge{
				failing("front", "a", 10, 0.5, 0.5),
				failing("a", "b", 10, 0.5, 0.5),
				failing("b", "a", 10, 0.5, 0.5),
			},
			origins: []string{"a"},
			symptoms: map[[2]string][]string{
				{"front", "a"}: {"a"}, {"a", "b"}: {"a"}, {"b", "a"}: {"a"},
			},
		},
		{
			name: "self-loop failures are not a symptom",
			edges: []Edge{
				failing("a", "a", 10, 0.5, 0.5),
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Analyze(graphOf(t, tc.edges...), tc.opts)

			require.Equal(t, tc.origins, names(res.ErrorOrigins))
			for _, n := range res.Nodes {
				require.Equal(t, contains(tc.origins, string(n.ID[2:])), n.ErrorOrigin, n.ID)
			}
			got := map[[2]string][]string{}
			for _, s := range res.ErrorSymptoms {
				got[[2]string{string(s.Client[2:]), string(s.Server[2:])}] = names(s.Origins)
				require.GreaterOrEqual(t, s.ErrorRatio, 0.001)
			}
			if tc.symptoms == nil {
				tc.symptoms = map[[2]string][]string{}
			}
			require.Equal(t, tc.symptoms, got)
		})
	}
}

func TestErrorRatios(t *testing.T) {
	res := Analyze(graphOf(t,
		failing("a", "s", 3, 0.1, 0.3),  // 0.9 failed
		failing("b", "s", 1, 0.5, nan),  // 0.5 failed
		failing("s", "t", 4, 0.25, nan), // 1 explained
		failing("x", "quiet", 0, 0.5, 0.5),
		failing("x", "blind", 1, nan, nan),
	), Options{})

	s := nodeResult(t, res, "s")
	require.InDelta(t, 1.4/4, s.InboundErrorRatio, 1e-12)
	require.InDelta(t, 0.4/4, s.UnexplainedErrorRatio, 1e-12)
	for _, name := range []string{"quiet", "blind", "x"} {
		n := nodeResult(t, res, name)
		require.True(t, math.IsNaN(n.InboundErrorRatio), name)
		require.True(t, math.IsNaN(n.UnexplainedErrorRatio), name)
		require.False(t, n.ErrorOrigin, name)
	}
}
