// Package query is Stratus's view of a Prometheus-compatible time-series store.
//
// Engines never talk HTTP or open a TSDB themselves: they ask a Querier. Two
// implementations answer the same questions the same way: HTTP speaks the
// Prometheus query API (Prometheus, Thanos, Mimir, Cortex, VictoriaMetrics), and
// Embedded runs the Prometheus PromQL engine over a TSDB of its own, loaded from
// timestamped OpenMetrics files or fed live by the simulator.
package query

import (
	"context"
	"fmt"
	"time"

	"github.com/prometheus/common/model"
)

// Querier is everything an engine may ask of a time-series store.
//
// Results use the prometheus/common/model types so that callers do not care
// which implementation answered. An instant query whose result is a scalar is
// returned as a one-element vector with no labels; a string result is an error.
type Querier interface {
	// Query evaluates expr at ts.
	Query(ctx context.Context, expr string, ts time.Time) (model.Vector, error)
	// QueryRange evaluates expr at every step from start to end inclusive.
	QueryRange(ctx context.Context, expr string, r Range) (model.Matrix, error)
	// Series returns the label sets of the series that match any of the
	// selectors and have samples between start and end.
	Series(ctx context.Context, matches []string, start, end time.Time) ([]model.LabelSet, error)
	// LabelValues returns the sorted values of label among the series that match
	// any of the selectors (all series when matches is empty) between start and end.
	LabelValues(
		ctx context.Context, label string, matches []string, start, end time.Time,
	) ([]string, error)
}

// Range is the time range and resolution of a range query.
type Range struct {
	Start, End time.Time
	Step       time.Duration
}

// engineKey is the context key under which the name of the engine that runs a
// query travels, so that stratus_queries_total{engine} can be counted without
// every call site passing it explicitly.
type engineKey struct{}

// WithEngine returns a context that attributes the queries made with it to engine.
func WithEngine(ctx context.Context, engine string) context.Context {
	return context.WithValue(ctx, engineKey{}, engine)
}

// EngineFrom returns the engine a context was tagged with, or "unknown".
func EngineFrom(ctx context.Context) string {
	if e, ok := ctx.Value(engineKey{}).(string); ok && e != "" {
		return e
	}
	return "unknown"
}

// StatusReporter learns whether a source answered. The collector package
// implements it to expose stratus_source_up and
// stratus_source_last_success_timestamp_seconds; query does not import it.
type StatusReporter interface {
	ReportSuccess(source string, at time.Time)
	ReportFailure(source string, at time.Time, err error)
}

// maxExprInErrors is how much of an expression an error message quotes. The
// discovery query alone is over a kilobyte; a log line should stay readable.
const maxExprInErrors = 160

// describe names a query for errors and logs, shortening long expressions.
func describe(kind, expr string) string {
	if len(expr) <= maxExprInErrors {
		return fmt.Sprintf("%s %q", kind, expr)
	}
	return fmt.Sprintf("%s %q… (%d bytes)", kind, expr[:maxExprInErrors], len(expr))
}
