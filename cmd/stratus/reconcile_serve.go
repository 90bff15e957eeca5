package main

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/query"
)

// billingCostEngine is the cost engine of serve when the configuration names
// billing exports (cost.billing_exports). Each cycle runs the cost engine;
// then, only when an export's size or modification time changed since the
// last reconciliation, it re-reads the exports, runs the cost engine over
// their period (at most defaultMaxCycles cycles, within the cycle's timeout),
// reconciles, keeps the error per cloud for stratus_cost_billing_error_ratio
// and writes the calibration under --storage.path. A failed reconciliation is
// logged and the last good errors are kept; it never fails the cost cycle.
type billingCostEngine struct {
	analysis.Engine
	// estimator runs the cost engine over a billing period: the same engine
	// without recommendations, whose week-long queries would be repeated for
	// every hour of the period.
	estimator analysis.Engine
	files     []string
	embedded  *query.Embedded
	storage   string
	logger    *slog.Logger

	mu     sync.Mutex
	seen   map[string]string // file → size and modification time last reconciled
	errors map[string]float64
}

// newBillingCostEngine wraps engine, serve's cost engine, with the
// reconciliation of files, estimated by an engine of its own over the period.
func (g *globals) newBillingCostEngine(engine analysis.Engine, src *source, book *pricing.Book,
	files []string,
) (*billingCostEngine, error) {
	estimator, err := g.newWindowCostEngine(src.querier, book, false)
	if err != nil {
		return nil, err
	}
	return &billingCostEngine{Engine: engine, estimator: estimator, files: files,
		embedded: src.embedded, storage: g.storagePath,
		logger: g.logger.With("engine", cost.EngineName)}, nil
}

// Run implements analysis.Engine.
func (e *billingCostEngine) Run(ctx context.Context, at time.Time) (any, error) {
	v, err := e.Engine.Run(ctx, at)
	if err != nil {
		return v, err
	}
	// A file that cannot be read is left out (and said so when that changes);
	// the others are reconciled without it.
	stamps := map[string]string{}
	var readable []string
	for _, f := range e.files {
		info, statErr := os.Stat(f)
		if statErr != nil {
			stamps[f] = "missing"
			continue
		}
		stamps[f] = fmt.Sprintf("%d/%d", info.Size(), info.ModTime().UnixNano())
		readable = append(readable, f)
	}
	e.mu.Lock()
	unchanged := maps.Equal(stamps, e.seen)
	e.mu.Unlock()
	if unchanged {
		return v, nil
	}
	for f, stamp := range stamps {
		if stamp == "missing" {
			e.logger.Warn("billing export unreadable; reconciling the others", "source",
				"billing", "file", f)
		}
	}
	if len(readable) == 0 {
		e.mu.Lock()
		e.seen = stamps
		e.mu.Unlock()
		return v, nil
	}
	if err := e.reconcile(ctx, readable, len(readable) < len(e.files)); err != nil {
		e.logger.Warn("billing reconciliation failed; keeping the last result",
			"source", "billing", "err", err)
		return v, nil
	}
	e.mu.Lock()
	e.seen = stamps
	e.mu.Unlock()
	return v, nil
}

// reconcile reconciles files. With partial (some exports missing), the clouds
// the missing exports alone billed keep their last error and calibration.
func (e *billingCostEngine) reconcile(ctx context.Context, files []string, partial bool) error {
	rows, err := readBillingExports(files, &globals{logger: e.logger})
	if err != nil {
		return err
	}
	in := cost.ReconcileInput{Rows: rows}
	var dataStart, dataEnd time.Time
	if e.embedded != nil {
		dataStart, dataEnd = e.embedded.MinTime(), e.embedded.MaxTime().Add(dataLookback)
	}
	windows := costWindows(in.Period(), dataStart, dataEnd, defaultMaxCycles)
	deadline, ok := ctx.Deadline()
	timeout := time.Until(deadline)
	if !ok {
		timeout = time.Hour
	}
	in.Estimates, err = estimateWindows(ctx, e.estimator, windows, timeout)
	if err != nil {
		return err
	}
	rec := cost.Reconcile(in)
	errs := map[string]float64{}
	for _, c := range rec.Clouds {
		if r := ratio(c.ErrorRatio()); r != nil {
			errs[c.Cloud] = *r
		}
	}
	cal := cost.CalibrationOf(rec, time.Now())
	calPath := filepath.Join(e.storage, calibrationFile)
	if partial {
		e.mu.Lock()
		for cloud, v := range e.errors {
			if _, ok := errs[cloud]; !ok {
				errs[cloud] = v
			}
		}
		e.mu.Unlock()
		if older, err := readCalibration(calPath); err == nil {
			cal.KeepMissing(older)
		}
	}
	if len(cal.Clouds) > 0 {
		if err := writeCalibration(calPath, cal); err != nil {
			return err
		}
	}
	e.mu.Lock()
	e.errors = errs
	e.mu.Unlock()
	e.logger.Info("reconciled cost with billing exports", "source", "billing",
		"files", len(files), "cycles", len(windows), "clouds", len(errs))
	return nil
}

// billingErrors returns the error per cloud of the latest reconciliation.
func (e *billingCostEngine) billingErrors() map[string]float64 {
	e.mu.Lock()
	defer e.mu.Unlock()
	return maps.Clone(e.errors)
}
