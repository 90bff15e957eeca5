package query

import (
	"context"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/prometheus/common/model"
)

// DifferenceKind says how two Queriers disagreed about an expression.
type DifferenceKind string

// The ways two answers can differ.
const (
	// DiffError: one or both Queriers failed.
	DiffError DifferenceKind = "error"
	// DiffOnlyInA: a series only the first Querier returned.
	DiffOnlyInA DifferenceKind = "only_in_a"
	// DiffOnlyInB: a series only the second Querier returned.
	DiffOnlyInB DifferenceKind = "only_in_b"
	// DiffValue: both returned the series with values further apart than the tolerance.
	DiffValue DifferenceKind = "value"
	// DiffNothingCompared: both answered with no series, so agreement would
	// prove nothing; an expression that ought to find data found none.
	DiffNothingCompared DifferenceKind = "nothing_compared"
)

// Difference is one disagreement found by Compare.
type Difference struct {
	Expr   string
	Kind   DifferenceKind
	Series string // the series' labels, empty for DiffError
	A, B   float64
	ErrA   error
	ErrB   error
}

// String describes the difference for a test failure message.
func (d Difference) String() string {
	switch d.Kind {
	case DiffError:
		return fmt.Sprintf("%s: error: a: %v; b: %v", d.Expr, d.ErrA, d.ErrB)
	case DiffValue:
		return fmt.Sprintf("%s: %s: a=%g b=%g", d.Expr, d.Series, d.A, d.B)
	case DiffNothingCompared:
		return fmt.Sprintf("%s: both answers are empty", d.Expr)
	default:
		return fmt.Sprintf("%s: %s: %s", d.Expr, d.Kind, d.Series)
	}
}

// Compare evaluates each expression at the same time with both Queriers and
// lists where they disagree: the sets of series must be equal and the values
// close. Values agree when both are NaN, or when they differ by at most tol
// times the larger of 1 and their magnitudes, so tol acts as an absolute
// tolerance near zero and a relative one for large values. An error on
// either side, or two empty answers, count as disagreement: a comparison that
// compared nothing must not pass. The e2e tests use it to hold the embedded engine to real Prometheus and
// VictoriaMetrics.
func Compare(
	ctx context.Context,
	a, b Querier,
	exprs []string,
	at time.Time,
	tol float64,
) []Difference {
	var diffs []Difference
	for _, expr := range exprs {
		va, errA := a.Query(ctx, expr, at)
		vb, errB := b.Query(ctx, expr, at)
		if errA != nil || errB != nil {
			diffs = append(diffs, Difference{Expr: expr, Kind: DiffError, ErrA: errA, ErrB: errB})
			continue
		}
		if len(va) == 0 && len(vb) == 0 {
			diffs = append(diffs, Difference{Expr: expr, Kind: DiffNothingCompared})
			continue
		}
		diffs = append(diffs, compareVectors(expr, va, vb, tol)...)
	}
	return diffs
}

func compareVectors(expr string, va, vb model.Vector, tol float64) []Difference {
	byA := vectorByFingerprint(va)
	byB := vectorByFingerprint(vb)

	var diffs []Difference
	for fp, sa := range byA {
		sb, ok := byB[fp]
		switch {
		case !ok:
			diffs = append(diffs, Difference{
				Expr: expr, Kind: DiffOnlyInA, Series: sa.Metric.String(), A: float64(sa.Value),
			})
		case !valuesAgree(float64(sa.Value), float64(sb.Value), tol):
			diffs = append(diffs, Difference{
				Expr: expr, Kind: DiffValue, Series: sa.Metric.String(),
				A: float64(sa.Value), B: float64(sb.Value),
			})
		}
	}
	for fp, sb := range byB {
		if _, ok := byA[fp]; !ok {
			diffs = append(diffs, Difference{
				Expr: expr, Kind: DiffOnlyInB, Series: sb.Metric.String(), B: float64(sb.Value),
			})
		}
	}
	// Map order is random; a stable order makes failures readable.
	sort.Slice(diffs, func(i, j int) bool {
		if diffs[i].Kind != diffs[j].Kind {
			return diffs[i].Kind < diffs[j].Kind
		}
		return diffs[i].Series < diffs[j].Series
	})
	return diffs
}

func vectorByFingerprint(v model.Vector) map[model.Fingerprint]*model.Sample {
	m := make(map[model.Fingerprint]*model.Sample, len(v))
	for _, s := range v {
		m[s.Metric.Fingerprint()] = s
	}
	return m
}

func valuesAgree(a, b, tol float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	if a == b { // also equal infinities
		return true
	}
	scale := math.Max(1, math.Max(math.Abs(a), math.Abs(b)))
	return math.Abs(a-b) <= tol*scale
}
