package insight

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/query"
)

// EngineName names the insight engine in self-metrics and logs.
const EngineName = "cost_insight"

// HistoryQuery reads back the cost per service that Stratus exposed, from the
// Prometheus that scrapes it: Stratus keeps no history of its own. Replicas of
// Stratus behind one Prometheus give duplicate series; max without (instance, pod)
// takes them once before the sum over components, clouds and regions.
const HistoryQuery = `sum by (service, namespace, cluster) ` +
	`(max without (instance, pod) (stratus_service_cost_per_hour))`

// HistoryStep is the resolution of the history: hourly costs, as baselines and
// forecasts count in hours.
const HistoryStep = time.Hour

// BudgetConfig is one monthly budget: of a service, or of a team, which is the sum
// of the services listed for it.
type BudgetConfig struct {
	// Service is "name", "namespace/name" or "cluster/namespace/name"; a name
	// alone matches that service in every namespace and cluster.
	Service string `yaml:"service,omitempty"`
	// Team names a team whose budget covers Services.
	Team     string   `yaml:"team,omitempty"`
	Services []string `yaml:"services,omitempty"`
	// PerMonth is the budget of a calendar month in the configured currency.
	PerMonth float64 `yaml:"per_month"`
}

// Validate checks one budget, naming the field.
func (b BudgetConfig) Validate() error {
	switch {
	case b.Service == "" && b.Team == "":
		return errors.New("service or team: one is required")
	case b.Service != "" && b.Team != "":
		return errors.New("service and team: give one, not both")
	case b.Team != "" && len(b.Services) == 0:
		return errors.New("services: a team budget lists its services")
	case b.Service != "" && len(b.Services) > 0:
		return errors.New("services: only a team budget lists services")
	case !(b.PerMonth > 0) || b.PerMonth > 1e15:
		return fmt.Errorf("per_month: %g is not a positive amount", b.PerMonth)
	}
	for i, s := range append([]string{b.Service}, b.Services...) {
		if s == "" && i == 0 {
			continue
		}
		if _, err := identity.ParseService(s); err != nil {
			return fmt.Errorf("service %q: %w", s, err)
		}
	}
	return nil
}

// Engine scores anomalies, forecasts the month end and follows budgets for every
// service whose cost Prometheus has recorded.
type Engine struct {
	querier query.Querier
	budgets []BudgetConfig
	opts    Options
}

// NewEngine returns an engine over q; opts must be valid.
func NewEngine(q query.Querier, budgets []BudgetConfig, opts Options) *Engine {
	return &Engine{querier: q, budgets: budgets, opts: opts}
}

// Name implements analysis.Engine.
func (e *Engine) Name() string { return EngineName }

// ServiceInsight is the latest insight on one service.
type ServiceInsight struct {
	Service  identity.Service
	Anomaly  Anomaly
	Forecast Forecast
}

// BudgetInsight is the state of one configured budget.
type BudgetInsight struct {
	Config BudgetConfig
	// Services are the services the budget covers that have a cost history.
	Services []identity.Service
	Status   Budget
}

// Result is one run of the engine.
type Result struct {
	At       time.Time
	Services []ServiceInsight
	Budgets  []BudgetInsight
}

// Run implements analysis.Engine. It runs one range query.
func (e *Engine) Run(ctx context.Context, at time.Time) (any, error) {
	matrix, err := e.querier.QueryRange(query.WithEngine(ctx, EngineName), HistoryQuery,
		query.Range{Start: at.Add(-e.opts.Lookback()), End: at, Step: HistoryStep})
	if err != nil {
		return nil, fmt.Errorf("reading the cost history: %w", err)
	}
	res := &Result{At: at}
	forecasts := map[identity.Service]Forecast{}
	for _, series := range matrix {
		svc := identity.Service{
			Cluster:   string(series.Metric["cluster"]),
			Namespace: string(series.Metric["namespace"]),
			Name:      string(series.Metric["service"]),
		}
		samples := make([]Sample, len(series.Values))
		for i, p := range series.Values {
			samples[i] = Sample{Time: p.Timestamp.Time(), Value: float64(p.Value)}
		}
		a, err := ScoreAnomaly(samples, at, e.opts)
		if err != nil {
			return nil, err
		}
		f, err := ForecastMonthEnd(samples, at, e.opts)
		if err != nil {
			return nil, err
		}
		res.Services = append(res.Services, ServiceInsight{Service: svc, Anomaly: a, Forecast: f})
		forecasts[svc] = f
	}
	slices.SortFunc(res.Services, func(a, b ServiceInsight) int {
		return strings.Compare(a.Service.String(), b.Service.String())
	})
	for _, b := range e.budgets {
		bi, err := budgetInsight(b, forecasts, at)
		if err != nil {
			return nil, err
		}
		res.Budgets = append(res.Budgets, bi)
	}
	return res, nil
}

// budgetInsight sums the forecasts of the services a budget covers. A budget whose
// services have no history yet is inconclusive, not "nothing spent".
func budgetInsight(
	b BudgetConfig, forecasts map[identity.Service]Forecast, at time.Time,
) (BudgetInsight, error) {
	names := b.Services
	if b.Service != "" {
		names = []string{b.Service}
	}
	out := BudgetInsight{Config: b}
	var covered []Forecast
	for svc, f := range forecasts {
		if matchesAny(svc, names) {
			out.Services = append(out.Services, svc)
			covered = append(covered, f)
		}
	}
	slices.SortFunc(out.Services, func(a, b identity.Service) int {
		return strings.Compare(a.String(), b.String())
	})
	if len(covered) == 0 {
		out.Status = Budget{Inconclusive: true, Reason: ReasonNoData, PerMonth: b.PerMonth, At: at}
		return out, nil
	}
	status, err := BudgetStatus(b.PerMonth, covered...)
	if err != nil {
		return out, fmt.Errorf("budget of %s: %w", budgetName(b), err)
	}
	out.Status = status
	return out, nil
}

func budgetName(b BudgetConfig) string {
	if b.Team != "" {
		return "team " + b.Team
	}
	return b.Service
}

func matchesAny(svc identity.Service, names []string) bool {
	for _, n := range names {
		want, err := identity.ParseService(n)
		if err != nil {
			continue
		}
		if want.Name == svc.Name && (want.Namespace == "" || want.Namespace == svc.Namespace) &&
			(want.Cluster == "" || want.Cluster == svc.Cluster) {
			return true
		}
	}
	return false
}
