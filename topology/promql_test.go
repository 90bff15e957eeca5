package topology

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology/graph"
)

// fixtureAt is the evaluation time of the testdata fixtures: their regular series
// have a sample every minute from five minutes before it to it.
var fixtureAt = time.Unix(1735693200, 0).UTC()

// fixtureWindow looks back a day for series and five minutes for rates.
var fixtureWindow = Window{At: fixtureAt, Presence: 24 * time.Hour, Rate: 5 * time.Minute}

func openFixture(t *testing.T, name string) *query.Embedded {
	t.Helper()
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	f, err := os.Open(filepath.Join("testdata", name))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, e.LoadOpenMetricsReader(f, name))
	return e
}

// countingQuerier counts the queries an adapter runs.
type countingQuerier struct {
	query.Querier
	queries atomic.Int64
}

func (c *countingQuerier) Query(
	ctx context.Context, expr string, ts time.Time,
) (model.Vector, error) {
	c.queries.Add(1)
	return c.Querier.Query(ctx, expr, ts)
}

func ep(cluster, namespace, name string) Endpoint {
	return Endpoint{Cluster: cluster, Namespace: namespace, Name: name, Kind: graph.KindService}
}

func epKind(name string, kind graph.Kind) Endpoint {
	return Endpoint{Name: name, Kind: kind}
}

var nan = math.NaN()

// requireObservations compares reports exactly, floats to 1e-9, NaN equal to NaN.
func requireObservations(t *testing.T, want, got []Observation) {
	t.Helper()
	require.Len(t, got, len(want), "got %+v", got)
	for i := range want {
		w, g := want[i], got[i]
		require.Equal(t, w.Client, g.Client, "observation %d", i)
		require.Equal(t, w.Server, g.Server, "observation %d", i)
		require.Equal(t, w.Protocol, g.Protocol, "observation %d", i)
		require.Equal(t, w.LatencyFromClient, g.LatencyFromClient, "observation %d", i)
		require.True(t, w.LastSeen.Equal(g.LastSeen), "observation %d: LastSeen %s, want %s",
			i, g.LastSeen, w.LastSeen)
		for _, f := range []struct {
			name      string
			want, got float64
		}{
			{"rate", w.RequestsPerSecond, g.RequestsPerSecond},
			{"error ratio", w.ErrorRatio, g.ErrorRatio},
			{"server error ratio", w.ServerErrorRatio, g.ServerErrorRatio},
			{"p95", w.LatencyP95Seconds, g.LatencyP95Seconds},
		} {
			if math.IsNaN(f.want) {
				require.True(t, math.IsNaN(f.got), "observation %d %s: %v, want NaN", i, f.name, f.got)
				continue
			}
			require.InDelta(t, f.want, f.got, 1e-9, "observation %d %s", i, f.name)
		}
	}
}

func TestPresenceStep(t *testing.T) {
	for _, tc := range []struct {
		presence, want time.Duration
	}{
		{time.Minute, 15 * time.Second},
		{2 * time.Hour, 24 * time.Second},
		{24 * time.Hour, 288 * time.Second},
		{30 * 24 * time.Hour, 5 * time.Minute},
	} {
		require.Equal(t, tc.want, presenceStep(tc.presence), "presence %s", tc.presence)
	}
}

// TestPresenceQueryFindsSingleSamples checks the presence query on the engine: a
// series with one sample anywhere in the window is found with that sample's time,
// including just before At (after the last subquery step) and just inside the
// window's start; one just outside is not.
func TestPresenceQueryFindsSingleSamples(t *testing.T) {
	e, err := query.NewEmbedded(query.EmbeddedOptions{Dir: t.TempDir()})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	at := fixtureAt
	for _, tc := range []struct {
		name     string
		presence time.Duration
		ago      time.Duration
		found    bool
	}{
		{"just before At", 24 * time.Hour, time.Second, true},
		{"at At", 24 * time.Hour, 0, true},
		{"mid window", 24 * time.Hour, 7*time.Hour + 13*time.Second, true},
		{"just inside", 24 * time.Hour, 24*time.Hour - time.Second, true},
		{"window start is excluded", 24 * time.Hour, 24 * time.Hour, false},
		{"20 min ago, 10 min window", 10 * time.Minute, 20 * time.Minute, false},
		{"20 min ago, 24h window", 24 * time.Hour, 20 * time.Minute, true},
		{"short window, inside", 2 * time.Minute, 90 * time.Second, true},
		{"short window, lookback only", 2 * time.Minute, 3 * time.Minute, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sample := at.Add(-tc.ago)
			om := "# TYPE sparse counter\nsparse_total{case=\"" + tc.name + "\"} 3 " +
				model.TimeFromUnixNano(sample.UnixNano()).String() + "\n# EOF\n"
			require.NoError(t, e.LoadOpenMetricsReader(strings.NewReader(om), tc.name))

			expr := presenceQuery([]string{`sparse_total{case="` + tc.name + `"}`},
				[]string{"case"}, tc.presence)
			vec, err := e.Query(context.Background(), expr, at)
			require.NoError(t, err)
			tab := newObsTable(Window{At: at, Presence: tc.presence, Rate: time.Minute})
			found := tab.addPresence(vec, func(m model.Metric) (obsKey, bool) {
				return obsKey{client: ep("", "", "c"), server: ep("", "", string(m["case"]))}, true
			})
			require.Equal(t, tc.found, found)
			if tc.found {
				rep := tab.report(singleView)
				require.Len(t, rep.Observations, 1)
				require.True(t, sample.Equal(rep.Observations[0].LastSeen),
					"LastSeen %s, want %s", rep.Observations[0].LastSeen, sample)
			}
		})
	}
}

func TestQueriesFailWithTheAdapterName(t *testing.T) {
	for _, a := range DefaultAdapters(AdapterOptions{}) {
		_, err := a.Observe(context.Background(), failingQuerier{}, fixtureWindow)
		require.ErrorIs(t, err, errStoreDown)
		require.ErrorContains(t, err, a.Name()+" adapter")
	}
}

func TestAbsentMetricsGiveEmptyReports(t *testing.T) {
	e := openFixture(t, "linkerd.om")
	for _, a := range DefaultAdapters(AdapterOptions{}) {
		if a.Name() == "linkerd" {
			continue
		}
		q := &countingQuerier{Querier: e}
		rep, err := a.Observe(context.Background(), q, fixtureWindow)
		require.NoError(t, err, a.Name())
		require.Empty(t, rep.Observations, a.Name())
		require.Zero(t, rep.Dropped, a.Name())
		// Only the presence queries run.
		require.LessOrEqual(t, q.queries.Load(), int64(2), a.Name())
	}
}

func TestOptionsValidate(t *testing.T) {
	require.NoError(t, AdapterOptions{}.Validate())
	require.NoError(t, AdapterOptions{ClusterLabel: "k8s_cluster"}.Validate())
	require.ErrorContains(t, AdapterOptions{ClusterLabel: `a"b`}.Validate(), "cluster label")
}

// TestOddClusterLabelStaysAName shows that a cluster label the classic syntax
// cannot hold is quoted, not spliced into the query.
func TestOddClusterLabelStaysAName(t *testing.T) {
	e := openFixture(t, "hubble.om")
	a := NewHubble(AdapterOptions{ClusterLabel: `x) or vector(1) or (y`})
	_, err := a.Observe(context.Background(), e, fixtureWindow)
	require.NoError(t, err)
}

var errStoreDown = errors.New("store down")

// failingQuerier answers every query with an error.
type failingQuerier struct{ query.Querier }

func (failingQuerier) Query(context.Context, string, time.Time) (model.Vector, error) {
	return nil, errStoreDown
}

func metricOf(m map[string]string) model.Metric {
	out := model.Metric{}
	for k, v := range m {
		out[model.LabelName(k)] = model.LabelValue(v)
	}
	return out
}
