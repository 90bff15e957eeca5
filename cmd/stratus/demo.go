package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/stratus-monitoring/stratus/config"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
)

// demoStep is the sample interval of the live demo world.
const demoStep = 15 * time.Second

// demoPruneEvery is how often the demo drops samples that fell out of its
// window: often enough to bound memory, rarely enough to cost nothing.
const demoPruneEvery = 10 * time.Minute

// demo feeds the embedded engine with a simulated world in real time: history
// for the configured backfill first, then one step of new samples as each
// step's time arrives, so that the demo moves while you watch.
//
// The store keeps a sliding window of twice the backfill (at least two
// hours), so that a demo left running for days does not grow without bound.
type demo struct {
	world     *sim.World
	store     *query.Embedded
	reporter  query.StatusReporter
	logger    *slog.Logger
	window    time.Duration
	lastPrune time.Time
}

func newDemo(cfg config.DemoConfig, store *query.Embedded, reporter query.StatusReporter,
	logger *slog.Logger,
) (*demo, error) {
	backfill := time.Duration(cfg.Backfill)
	world, err := sim.New(demoWorldOptions(cfg, time.Now()))
	if err != nil {
		return nil, fmt.Errorf("demo world: %w", err)
	}
	return &demo{
		world:     world,
		store:     store,
		reporter:  reporter,
		logger:    logger,
		window:    max(2*backfill, 2*time.Hour),
		lastPrune: time.Now(),
	}, nil
}

// demoWorldOptions are the options of the demo world started at now.
func demoWorldOptions(cfg config.DemoConfig, now time.Time) sim.Options {
	backfill := time.Duration(cfg.Backfill)
	// The world is a third longer than the backfill, so that the scenario's
	// later events (placed at fractions of its duration) happen live.
	return sim.Options{
		Scenario: cfg.Scenario,
		Seed:     cfg.Seed,
		Start:    now.Add(-backfill).Truncate(demoStep),
		Duration: max(backfill*4/3, time.Hour),
		Step:     demoStep,
	}
}

// demoInventory returns the inventory of the demo world: its virtual
// machines, databases and brokers, which the cost engine prices next to the
// nodes it finds in the world's metrics. It depends on the scenario and seed,
// not on the time.
func demoInventory(cfg config.DemoConfig, now time.Time) ([]inventory.Resource, error) {
	world, err := sim.New(demoWorldOptions(cfg, now))
	if err != nil {
		return nil, fmt.Errorf("demo world: %w", err)
	}
	return world.Inventory(), nil
}

// backfill writes the world's history up to now.
func (d *demo) backfill(now time.Time) error {
	began := time.Now()
	if err := d.advance(context.Background(), now); err != nil {
		return err
	}
	d.logger.Info("demo world backfilled", "until", now.UTC().Format(time.RFC3339),
		"duration", time.Since(began))
	return nil
}

// run appends new samples every step until ctx ends.
func (d *demo) run(ctx context.Context) {
	ticker := time.NewTicker(demoStep)
	defer ticker.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-ticker.C:
			// A world that failed once is unusable (sim.World's contract);
			// stop feeding it and leave the source reported down.
			if err := d.advance(ctx, now); err != nil {
				d.logger.Error("demo world stopped", "err", err)
				return
			}
		}
	}
}

func (d *demo) advance(ctx context.Context, until time.Time) error {
	batch := d.store.Appender(ctx)
	if err := d.world.Advance(until, batch.Append); err != nil {
		_ = batch.Rollback()
		d.report(err)
		return fmt.Errorf("demo world: %w", err)
	}
	if err := batch.Commit(); err != nil {
		d.report(err)
		return fmt.Errorf("demo world: %w", err)
	}
	d.report(nil)
	if until.Sub(d.lastPrune) >= demoPruneEvery {
		d.lastPrune = until
		if err := d.store.DropBefore(until.Add(-d.window)); err != nil {
			return fmt.Errorf("demo world: %w", err)
		}
	}
	return nil
}

func (d *demo) report(err error) {
	if d.reporter == nil {
		return
	}
	if err != nil {
		d.reporter.ReportFailure(sourceDemo, time.Now(), err)
		return
	}
	d.reporter.ReportSuccess(sourceDemo, time.Now())
}
