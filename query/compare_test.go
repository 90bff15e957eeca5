package query

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestCompare(t *testing.T) {
	a := loadedEmbedded(t)
	b := loadedEmbedded(t)
	at := fixtureStart.Add(20 * time.Minute)
	ctx := context.Background()

	exprs := []string{
		`rate(http_requests_total[5m])`,
		`histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))`,
		`0/0`,
		`1/0`,
	}
	require.Empty(t, Compare(ctx, a, b, exprs, at, 1e-9))

	// A comparison that compares nothing does not pass: both failing, or
	// both answering with no series.
	diffs := Compare(ctx, a, b, []string{`sum(`, `absent_metric`}, at, 1e-9)
	require.Len(t, diffs, 2)
	require.Equal(t, DiffError, diffs[0].Kind)
	require.Equal(t, DiffNothingCompared, diffs[1].Kind)
	require.Equal(t, "absent_metric: both answers are empty", diffs[1].String())

	// Make b differ: a value just outside the tolerance, and an extra series.
	b2 := newEmbedded(t, EmbeddedOptions{})
	require.NoError(t, b2.LoadOpenMetrics(filepath.Join("testdata", "basic.om")))
	ts := at.UnixMilli()
	require.NoError(t, b2.Append(labels.FromStrings("__name__", "extra", "service", "x"), ts, 1))
	require.NoError(t, a.Append(labels.FromStrings("__name__", "extra", "service", "y"), ts, 1))
	require.NoError(t, b2.Append(labels.FromStrings("__name__", "gauge_x"), ts, 100.5))
	require.NoError(t, a.Append(labels.FromStrings("__name__", "gauge_x"), ts, 100))
	require.NoError(t, a.Append(labels.FromStrings("__name__", "nan_x"), ts, 1))
	require.NoError(t, b2.Append(labels.FromStrings("__name__", "nan_x"), ts, 0))

	diffs = Compare(ctx, a, b2, []string{`extra`, `gauge_x`, `nan_x / 0`, `extra{service="y"} / 1`}, at, 0.001)
	type kindSeries struct {
		kind   DifferenceKind
		series string
	}
	var got []kindSeries
	for _, d := range diffs {
		got = append(got, kindSeries{d.Kind, d.Series})
	}
	require.Equal(t, []kindSeries{
		{DiffOnlyInA, `extra{service="y"}`},
		{DiffOnlyInB, `extra{service="x"}`},
		{DiffValue, `gauge_x`},
		{DiffValue, `{}`},
		{DiffOnlyInA, `{service="y"}`},
	}, got)
	require.Equal(t, `gauge_x: gauge_x: a=100 b=100.5`, diffs[2].String())
	require.Equal(t, `extra: only_in_a: extra{service="y"}`, diffs[0].String())

	// Within a looser tolerance the values agree.
	require.Empty(t, Compare(ctx, a, b2, []string{`gauge_x`}, at, 0.01))

	// One side failing is a difference.
	diffs = Compare(ctx, a, failingQuerier{}, []string{`up`}, at, 0)
	require.Len(t, diffs, 1)
	require.Equal(t, DiffError, diffs[0].Kind)
	require.Contains(t, diffs[0].String(), "boom")
}

type failingQuerier struct{ Querier }

func (failingQuerier) Query(context.Context, string, time.Time) (model.Vector, error) {
	return nil, errors.New("boom")
}
