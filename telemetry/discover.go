package telemetry

import (
	"context"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/query"
)

// EngineName is the name of the discovery engine in the analysis loop.
const EngineName = "telemetry"

// familyLabel is the label the discovery query adds to say which family a count
// belongs to. It is prefixed so that it cannot clash with a real label.
const familyLabel = "stratus_family"

// Presence is what discovery found of one family.
type Presence struct {
	Family Family
	// Series is the number of matching series with a sample within the
	// lookback window before the evaluation time.
	Series int
}

// Present reports whether any series of the family was found.
func (p Presence) Present() bool { return p.Series > 0 }

// Result lists every known family, present or not, in the order of Known.
type Result struct {
	At       time.Time
	Families []Presence
}

// Present returns the names of the families that were found.
func (r Result) Present() []string {
	var names []string
	for _, p := range r.Families {
		if p.Present() {
			names = append(names, p.Family.Name)
		}
	}
	return names
}

// Query returns the one PromQL expression that counts the series of every
// family: a count per family, tagged by label_replace, joined with "or".
// Families without series produce no sample.
func Query(families []Family) string {
	parts := make([]string, 0, len(families))
	for _, f := range families {
		parts = append(parts, fmt.Sprintf(`label_replace(count(%s), %q, %q, "", "")`,
			f.Selector, familyLabel, f.Name))
	}
	return strings.Join(parts, " or ")
}

// Interpret turns the answer to Query into a Result. Samples for unknown
// families are ignored; a family missing from the answer has no series.
func Interpret(families []Family, v model.Vector, at time.Time) Result {
	counts := make(map[string]int, len(v))
	for _, s := range v {
		// A count is a whole number; anything else (NaN, or beyond what an
		// int holds, from a misbehaving server) is clamped rather than
		// wrapped around into a negative count.
		n := float64(s.Value)
		switch {
		case math.IsNaN(n) || n < 0:
			n = 0
		case n > math.MaxInt32:
			n = math.MaxInt32
		}
		counts[string(s.Metric[familyLabel])] = int(n)
	}
	r := Result{At: at, Families: make([]Presence, 0, len(families))}
	for _, f := range families {
		r.Families = append(r.Families, Presence{Family: f, Series: counts[f.Name]})
	}
	return r
}

// Engine discovers telemetry families through a Querier.
type Engine struct {
	Querier  query.Querier
	Families []Family
}

// NewEngine returns an engine that looks for the Known families.
func NewEngine(q query.Querier) *Engine {
	return &Engine{Querier: q, Families: Known}
}

// Name implements analysis.Engine.
func (e *Engine) Name() string { return EngineName }

// Run implements analysis.Engine.
func (e *Engine) Run(ctx context.Context, at time.Time) (any, error) {
	return e.Discover(ctx, at)
}

// Discover runs the discovery query at the evaluation time at.
func (e *Engine) Discover(ctx context.Context, at time.Time) (Result, error) {
	v, err := e.Querier.Query(query.WithEngine(ctx, EngineName), Query(e.Families), at)
	if err != nil {
		return Result{}, fmt.Errorf("discovering telemetry: %w", err)
	}
	return Interpret(e.Families, v, at), nil
}
