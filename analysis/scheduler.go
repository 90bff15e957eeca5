// Package analysis runs the engines on their own schedules and publishes what
// they found as one immutable snapshot.
//
// A scrape of /metrics never runs a query: collectors read the latest snapshot,
// which the scheduler replaces atomically each time an engine finishes. An
// engine that fails keeps its last good result in the snapshot, so a source
// outage degrades freshness, not availability.
package analysis

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/stratus-monitoring/stratus/query"
)

// Engine is one kind of analysis. Run gathers its inputs at the evaluation time
// at, computes, and returns a value that the engine's collector understands.
// Run must honour ctx: the scheduler cancels it at the job's timeout.
type Engine interface {
	Name() string
	Run(ctx context.Context, at time.Time) (any, error)
}

// Job schedules one engine.
type Job struct {
	Engine   Engine
	Interval time.Duration
	Timeout  time.Duration
}

// Result is the latest outcome of one engine.
type Result struct {
	// Value is the last successful result; nil until one run has succeeded.
	Value any
	// At is the evaluation time of Value.
	At time.Time
	// Err is the error of the latest run, nil if it succeeded. Value then
	// still holds the previous good result.
	Err error
	// Runs counts finished runs, successful or not.
	Runs int
}

// Snapshot is an immutable view of every engine's latest result.
type Snapshot struct {
	results map[string]Result
}

// Result returns the latest result of the named engine.
func (s *Snapshot) Result(engine string) (Result, bool) {
	if s == nil {
		return Result{}, false
	}
	r, ok := s.results[engine]
	return r, ok
}

// Latest returns the latest successful value of the named engine as a T.
func Latest[T any](s *Snapshot, engine string) (T, time.Time, bool) {
	var zero T
	r, ok := s.Result(engine)
	if !ok || r.Value == nil {
		return zero, time.Time{}, false
	}
	v, ok := r.Value.(T)
	if !ok {
		return zero, time.Time{}, false
	}
	return v, r.At, true
}

// Clock gives the evaluation time of a run. Serving live data it is
// time.Now; serving a fixed set of loaded files it is the end of that data.
type Clock func() time.Time

// Scheduler runs jobs, each on its own ticker, and publishes snapshots.
type Scheduler struct {
	jobs    []Job
	clock   Clock
	logger  *slog.Logger
	metrics *schedulerMetrics

	mu      sync.Mutex // serialises publishing; readers use current
	current atomic.Pointer[Snapshot]
}

// NewScheduler returns a scheduler for jobs. Its self metrics are registered
// with reg when reg is not nil.
func NewScheduler(
	jobs []Job, clock Clock, logger *slog.Logger, reg prometheus.Registerer,
) (*Scheduler, error) {
	seen := map[string]bool{}
	for _, j := range jobs {
		name := j.Engine.Name()
		if seen[name] {
			return nil, fmt.Errorf("engine %q scheduled twice", name)
		}
		seen[name] = true
		if j.Interval <= 0 || j.Timeout <= 0 {
			return nil, fmt.Errorf("engine %q: interval and timeout must be positive", name)
		}
	}
	s := &Scheduler{
		jobs:    jobs,
		clock:   clock,
		logger:  logger,
		metrics: newSchedulerMetrics(reg),
	}
	for _, j := range jobs {
		s.metrics.init(j.Engine.Name())
	}
	s.current.Store(&Snapshot{results: map[string]Result{}})
	return s, nil
}

// Snapshot returns the latest published snapshot. It never blocks on a run.
func (s *Scheduler) Snapshot() *Snapshot {
	return s.current.Load()
}

// Ready reports whether every engine has finished its first run, successful
// or not: from then on /metrics says what Stratus knows, including that a
// source is down.
func (s *Scheduler) Ready() bool {
	snap := s.Snapshot()
	for _, j := range s.jobs {
		if r, _ := snap.Result(j.Engine.Name()); r.Runs == 0 {
			return false
		}
	}
	return true
}

// Run starts every job at once and then on its interval, until ctx ends.
// It returns after the runs in flight have returned.
func (s *Scheduler) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, job := range s.jobs {
		wg.Go(func() { s.loop(ctx, job) })
	}
	wg.Wait()
}

func (s *Scheduler) loop(ctx context.Context, job Job) {
	ticker := time.NewTicker(job.Interval)
	defer ticker.Stop()
	for {
		s.RunOnce(ctx, job)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		}
	}
}

// RunOnce runs one job now and publishes its result. The serve loop calls it
// through Run; one-shot commands call it directly.
func (s *Scheduler) RunOnce(ctx context.Context, job Job) Result {
	name := job.Engine.Name()
	at := s.clock()
	runCtx, cancel := context.WithTimeout(query.WithEngine(ctx, name), job.Timeout)
	defer cancel()

	start := time.Now()
	value, err := job.Engine.Run(runCtx, at)
	elapsed := time.Since(start)
	if err == nil && runCtx.Err() != nil {
		err = fmt.Errorf("engine %s: %w", name, runCtx.Err())
	}
	if err != nil && ctx.Err() != nil {
		// Shutting down: a run cut short is neither a failure nor a result.
		r, _ := s.Snapshot().Result(name)
		return r
	}
	s.metrics.observe(name, start.Add(elapsed), elapsed, err)
	previous, _ := s.Snapshot().Result(name)
	switch {
	case err != nil && previous.Err == nil:
		s.logger.Warn("analysis failed; serving the last good result",
			"engine", name, "err", err)
	case err != nil:
		// Still failing: said once already, and the source health says the rest.
		s.logger.Debug("analysis failed again", "engine", name, "err", err)
	case previous.Err != nil:
		s.logger.Info("analysis succeeded again", "engine", name, "duration", elapsed)
	default:
		s.logger.Debug("analysis finished", "engine", name, "duration", elapsed)
	}
	return s.publish(name, at, value, err)
}

func (s *Scheduler) publish(name string, at time.Time, value any, err error) Result {
	s.mu.Lock()
	defer s.mu.Unlock()

	old := s.current.Load()
	r := old.results[name]
	r.Runs++
	r.Err = err
	if err == nil {
		r.Value, r.At = value, at
	}
	next := &Snapshot{results: maps.Clone(old.results)}
	next.results[name] = r
	s.current.Store(next)
	return r
}
