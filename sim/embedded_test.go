package sim_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/value"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
)

// TestEmbeddedStoreDropsDeletedPods feeds a live world into the embedded store as
// the demo does, one 15 s step after another, and checks that a deleted pod leaves
// instant queries at once. A second store fed without the staleness markers shows
// what they prevent: the pod lingering for the 5 min lookback.
func TestEmbeddedStoreDropsDeletedPods(t *testing.T) {
	start := time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC)
	opts := sim.Options{Scenario: "startup", Seed: 7, Start: start, Duration: time.Hour,
		Step: 15 * time.Second, Resources: 20}
	w, err := sim.New(opts)
	require.NoError(t, err)
	open := func() *query.Embedded {
		e, err := query.NewEmbedded(query.EmbeddedOptions{})
		require.NoError(t, err)
		t.Cleanup(func() { require.NoError(t, e.Close()) })
		return e
	}
	store, control := open(), open()

	ctx := context.Background()
	end := start.Add(opts.Duration)
	// A backfill of the first half, then live steps.
	for until := start.Add(opts.Duration / 2); !until.After(end); until = until.Add(opts.Step) {
		batch, ctl := store.Appender(ctx), control.Appender(ctx)
		require.NoError(t, w.Advance(until, func(l labels.Labels, ts int64, v float64) error {
			if !value.IsStaleNaN(v) {
				if err := ctl.Append(l, ts, v); err != nil {
					return err
				}
			}
			return batch.Append(l, ts, v)
		}))
		require.NoError(t, batch.Commit())
		require.NoError(t, ctl.Commit())
	}

	truth := w.Truth()
	parse := func(s string) time.Time {
		at, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return at
	}
	var deletions []time.Time
	for _, p := range truth.Pods {
		if p.Deleted != "" {
			deletions = append(deletions, parse(p.Deleted))
		}
	}
	slices.SortFunc(deletions, time.Time.Compare)
	deletions = slices.Compact(deletions)
	require.NotEmpty(t, deletions)

	count := func(e *query.Embedded, at time.Time) int {
		vec, err := e.Query(ctx, "count(kube_pod_info)", at)
		require.NoError(t, err)
		require.Len(t, vec, 1)
		return int(vec[0].Value)
	}
	for _, del := range deletions {
		at := del.Add(time.Second)
		alive := 0
		for _, p := range truth.Pods {
			if !parse(p.Created).After(at) && (p.Deleted == "" || parse(p.Deleted).After(at)) {
				alive++
			}
		}
		require.Equal(t, alive, count(store, at), "pods alive at %s", at)
		require.Greater(t, count(control, at), alive, "without markers at %s", at)
	}
}
