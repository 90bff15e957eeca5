package analysis

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
)

// scriptedEngine returns the results it is given, one per run, and then
// repeats the last one.
type scriptedEngine struct {
	name    string
	mu      sync.Mutex
	results []scripted
	calls   atomic.Int64
	seenAt  []time.Time
}

type scripted struct {
	value any
	err   error
	block bool // wait for ctx to end, as a hung query would
}

func (e *scriptedEngine) Name() string { return e.name }

func (e *scriptedEngine) Run(ctx context.Context, at time.Time) (any, error) {
	e.mu.Lock()
	i := int(e.calls.Add(1)) - 1
	if i >= len(e.results) {
		i = len(e.results) - 1
	}
	r := e.results[i]
	e.seenAt = append(e.seenAt, at)
	e.mu.Unlock()
	if r.block {
		<-ctx.Done()
		return nil, nil
	}
	return r.value, r.err
}

func fixedClock(t time.Time) Clock { return func() time.Time { return t } }

func TestRunOnceKeepsLastGoodResult(t *testing.T) {
	at := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	engine := &scriptedEngine{name: "telemetry", results: []scripted{
		{value: 1},
		{err: errors.New("prometheus unreachable")},
		{value: 3},
	}}
	job := Job{Engine: engine, Interval: time.Minute, Timeout: time.Second}
	reg := prometheus.NewRegistry()
	s, err := NewScheduler([]Job{job}, fixedClock(at), promslog.NewNopLogger(), reg)
	require.NoError(t, err)
	require.False(t, s.Ready())

	_, _, ok := Latest[int](s.Snapshot(), "telemetry")
	require.False(t, ok, "no value before the first run")

	s.RunOnce(context.Background(), job)
	require.True(t, s.Ready())
	v, gotAt, ok := Latest[int](s.Snapshot(), "telemetry")
	require.True(t, ok)
	require.Equal(t, 1, v)
	require.Equal(t, at, gotAt)

	before := s.Snapshot()
	r := s.RunOnce(context.Background(), job)
	require.ErrorContains(t, r.Err, "unreachable")
	v, _, ok = Latest[int](s.Snapshot(), "telemetry")
	require.True(t, ok)
	require.Equal(t, 1, v, "a failed run keeps the last good value")
	first, _ := before.Result("telemetry")
	require.Equal(t, 1, first.Runs, "published snapshots are never modified")

	s.RunOnce(context.Background(), job)
	v, _, _ = Latest[int](s.Snapshot(), "telemetry")
	require.Equal(t, 3, v)

	require.Equal(t, 2.0, testutil.ToFloat64(
		s.metrics.runs.WithLabelValues("telemetry", "success")))
	require.Equal(t, 1.0, testutil.ToFloat64(
		s.metrics.runs.WithLabelValues("telemetry", "failure")))
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP stratus_analysis_runs_total Finished runs of each analysis engine by result (success or failure).
# TYPE stratus_analysis_runs_total counter
stratus_analysis_runs_total{engine="telemetry",result="failure"} 1
stratus_analysis_runs_total{engine="telemetry",result="success"} 2
`), "stratus_analysis_runs_total"))
	problems, err := testutil.GatherAndLint(reg)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestRunOnceTimesOut(t *testing.T) {
	engine := &scriptedEngine{name: "slow", results: []scripted{{block: true}}}
	job := Job{Engine: engine, Interval: time.Minute, Timeout: 20 * time.Millisecond}
	s, err := NewScheduler([]Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)

	r := s.RunOnce(context.Background(), job)
	require.ErrorIs(t, r.Err, context.DeadlineExceeded)
	require.True(t, s.Ready(), "a failed first run still makes the scheduler ready")
}

func TestLatestWrongType(t *testing.T) {
	engine := &scriptedEngine{name: "e", results: []scripted{{value: "text"}}}
	job := Job{Engine: engine, Interval: time.Minute, Timeout: time.Second}
	s, err := NewScheduler([]Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	s.RunOnce(context.Background(), job)

	_, _, ok := Latest[int](s.Snapshot(), "e")
	require.False(t, ok)
	_, _, ok = Latest[string](s.Snapshot(), "absent")
	require.False(t, ok)
	var nilSnapshot *Snapshot
	_, ok = nilSnapshot.Result("e")
	require.False(t, ok)
}

func TestRunSchedulesEachEngineOnItsInterval(t *testing.T) {
	fast := &scriptedEngine{name: "fast", results: []scripted{{value: 1}}}
	slow := &scriptedEngine{name: "slow", results: []scripted{{value: 2}}}
	jobs := []Job{
		{Engine: fast, Interval: 10 * time.Millisecond, Timeout: time.Second},
		{Engine: slow, Interval: time.Hour, Timeout: time.Second},
	}
	s, err := NewScheduler(jobs, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()

	require.Eventually(t, func() bool { return fast.calls.Load() >= 5 },
		5*time.Second, time.Millisecond)
	require.True(t, s.Ready())
	cancel()
	<-done
	require.Equal(t, int64(1), slow.calls.Load(), "the slow engine ran once, at start")
}

func TestNewSchedulerRejectsBadJobs(t *testing.T) {
	e := &scriptedEngine{name: "e", results: []scripted{{value: 1}}}
	ok := Job{Engine: e, Interval: time.Second, Timeout: time.Second}
	_, err := NewScheduler([]Job{ok, ok}, time.Now, promslog.NewNopLogger(), nil)
	require.ErrorContains(t, err, "twice")

	_, err = NewScheduler([]Job{{Engine: e, Timeout: time.Second}}, time.Now,
		promslog.NewNopLogger(), nil)
	require.ErrorContains(t, err, "positive")
}

func TestSnapshotReadsDoNotRaceWithRuns(t *testing.T) {
	engine := &scriptedEngine{name: "e", results: []scripted{{value: 1}}}
	job := Job{Engine: engine, Interval: time.Millisecond, Timeout: time.Second}
	s, err := NewScheduler([]Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { s.Run(ctx) })
	wg.Go(func() {
		for ctx.Err() == nil {
			_, _, _ = Latest[int](s.Snapshot(), "e")
		}
	})
	wg.Wait()
}

func TestRunCutShortByShutdownIsNotAFailure(t *testing.T) {
	engine := &scriptedEngine{name: "e", results: []scripted{{block: true}}}
	job := Job{Engine: engine, Interval: time.Minute, Timeout: time.Minute}
	s, err := NewScheduler([]Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	r := s.RunOnce(ctx, job)
	require.Zero(t, r.Runs)
	require.Zero(t, testutil.ToFloat64(s.metrics.runs.WithLabelValues("e", "failure")))
	require.False(t, s.Ready())
}

func TestRunTagsQueriesWithTheEngine(t *testing.T) {
	var seen string
	engine := engineFunc{"discovery", func(ctx context.Context, _ time.Time) (any, error) {
		seen = query.EngineFrom(ctx)
		return 1, nil
	}}
	job := Job{Engine: engine, Interval: time.Minute, Timeout: time.Second}
	s, err := NewScheduler([]Job{job}, time.Now, promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	s.RunOnce(context.Background(), job)
	require.Equal(t, "discovery", seen)
}

type engineFunc struct {
	name string
	run  func(context.Context, time.Time) (any, error)
}

func (e engineFunc) Name() string { return e.name }
func (e engineFunc) Run(ctx context.Context, at time.Time) (any, error) {
	return e.run(ctx, at)
}
