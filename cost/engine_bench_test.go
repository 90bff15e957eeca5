package cost_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/sim"
)

// recordingQuerier keeps the expressions a cycle runs, to replay them raw.
type recordingQuerier struct {
	query.Querier
	mu    sync.Mutex
	exprs []string
}

func (q *recordingQuerier) Query(ctx context.Context, expr string, ts time.Time) (model.Vector, error) {
	q.mu.Lock()
	q.exprs = append(q.exprs, expr)
	q.mu.Unlock()
	return q.Querier.Query(ctx, expr, ts)
}

// BenchmarkCostCycle measures one cost cycle on worlds of growing size, against
// the time of running its own PromQL queries alone on the same embedded engine:
// what Stratus adds to the queries is the ratio above 1. The worlds carry their
// inventory (VMs, databases, brokers) and serverless functions and tasks. "first"
// is a cycle that also reads the hourly p95 usage and steady node counts,
// "cached" one of the cycles in between, which reuse them.
//
//	go test -run '^$' -bench BenchmarkCostCycle -benchtime=1x -benchmem ./cost/
func BenchmarkCostCycle(b *testing.B) {
	for _, resources := range []int{100, 1000, 10000} {
		e, w, at := simWorld(b, sim.Options{Scenario: "steady", Seed: 1,
			Resources: resources, KSMLabelsAllowlist: true, Serverless: true})
		pods := len(w.Truth().Pods)
		inv := w.Inventory()
		for _, variant := range []string{"first", "cached"} {
			b.Run(fmt.Sprintf("resources-%d/%s", resources, variant), func(b *testing.B) {
				rec := &recordingQuerier{Querier: e}
				newEngine := func() *cost.Engine {
					engine, err := cost.NewEngine(rec, cost.EngineConfig{Book: defaultBook(b),
						Inventory: func() []inventory.Resource { return inv }})
					if err != nil {
						b.Fatal(err)
					}
					return engine
				}
				ctx := context.Background()
				engine := newEngine()
				if variant == "cached" {
					if _, err := engine.Run(ctx, at); err != nil {
						b.Fatal(err)
					}
				}
				var cycle, raw time.Duration
				var resourcesPriced int
				b.ResetTimer()
				for range b.N {
					if variant == "first" {
						engine = newEngine()
					}
					rec.exprs = rec.exprs[:0]
					began := time.Now()
					v, err := engine.Run(ctx, at)
					if err != nil {
						b.Fatal(err)
					}
					cycle += time.Since(began)
					resourcesPriced = len(v.(*cost.Snapshot).Result.Resources)
					began = time.Now()
					for _, expr := range rec.exprs {
						if _, err := e.Query(ctx, expr, at); err != nil {
							b.Fatal(err)
						}
					}
					raw += time.Since(began)
				}
				b.ReportMetric(float64(len(rec.exprs)), "queries/cycle")
				b.ReportMetric(float64(cycle)/float64(raw), "ratio_to_raw")
				b.ReportMetric(float64(pods), "pods")
				b.ReportMetric(float64(resourcesPriced), "priced")
			})
		}
	}
}
