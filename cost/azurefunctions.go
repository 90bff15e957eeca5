package cost

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/stratus-monitoring/stratus/inventory"
)

// AzureFunctionsQueries is how many queries Azure Functions take: executions
// and execution units.
const AzureFunctionsQueries = 2

// ProductAzureFunctions prices Azure Functions on the Consumption plan:
// KindRequest per execution and KindMemory per GiB-hour of execution.
const ProductAzureFunctions = "functions"

// ReasonNotInInventory is why an Azure function app with metrics but no
// inventory entry is unpriced: the entry gives its region and tags, which
// Azure Monitor's metrics do not.
const ReasonNotInInventory = "not_in_inventory"

// Defaults of AzureFunctionsConfig: the series webdevops' azure-metrics-exporter
// writes with its default metric name, for the Microsoft.Web/sites metrics
// FunctionExecutionCount and FunctionExecutionUnits (MB-milliseconds) probed
// with aggregation total.
const (
	DefaultAzureExecutionCount = `azurerm_resource_metric{metric="FunctionExecutionCount",` +
		`aggregation="total"}`
	DefaultAzureExecutionUnits = `azurerm_resource_metric{metric="FunctionExecutionUnits",` +
		`aggregation="total"}`
	DefaultAzureResourceLabel = "resourceID"
	DefaultAzureInterval      = time.Minute
)

// AzureFunctionsConfig says where the metrics of Azure Functions are: the
// series of executions and of execution units, each a total over Interval,
// the label that holds the function app's resource id, and Interval.
type AzureFunctionsConfig struct {
	ExecutionCount, ExecutionUnits string
	ResourceLabel                  string
	Interval                       time.Duration
}

// withDefaults fills in the zero fields.
func (c AzureFunctionsConfig) withDefaults() AzureFunctionsConfig {
	c.ExecutionCount = orDefault(c.ExecutionCount, DefaultAzureExecutionCount)
	c.ExecutionUnits = orDefault(c.ExecutionUnits, DefaultAzureExecutionUnits)
	c.ResourceLabel = orDefault(c.ResourceLabel, DefaultAzureResourceLabel)
	if c.Interval <= 0 {
		c.Interval = DefaultAzureInterval
	}
	return c
}

// orDefault returns s, or def when s is empty.
func orDefault(s, def string) string {
	if strings.TrimSpace(s) == "" {
		return def
	}
	return s
}

// Validate checks the selectors with the Prometheus parser and the label name.
func (c AzureFunctionsConfig) Validate() error {
	var errs []error
	for _, f := range []struct{ field, sel string }{
		{"execution_count", c.ExecutionCount}, {"execution_units", c.ExecutionUnits},
	} {
		if strings.TrimSpace(f.sel) == "" {
			continue
		}
		if _, err := azureParser.ParseMetricSelector(f.sel); err != nil {
			errs = append(errs, fmt.Errorf("azure_functions.%s: %q: %w", f.field, f.sel, err))
		}
	}
	if c.ResourceLabel != "" && !model.LegacyValidation.IsValidLabelName(c.ResourceLabel) {
		errs = append(errs, fmt.Errorf("azure_functions.resource_label: %q is not a label name",
			c.ResourceLabel))
	}
	if c.Interval < 0 || c.Interval%time.Second != 0 {
		errs = append(errs, fmt.Errorf("azure_functions.interval: %v is not a whole number "+
			"of seconds above 0", c.Interval))
	}
	return errors.Join(errs...)
}

var azureParser = parser.NewParser(parser.Options{})

// observeAzureFunctions reads the executions and execution units of Azure
// function apps and prices them as functions. Azure Monitor's metrics name
// an app by its resource id only, so the inventory gives its region and tags:
// an app that is not there is reported unpriced (not_in_inventory).
// Execution units are MB-milliseconds: divided by 1024 × 1000, GiB-seconds.
func (p *cloudPricer) observeAzureFunctions(ctx context.Context, at time.Time,
	resources []inventory.Resource,
) ([]Function, int, error) {
	cfg := p.cfg.AzureFunctions.withDefaults()
	label := model.LabelName(cfg.ResourceLabel)
	// NaN until read: a series missing is unknown, never zero.
	type app struct{ executions, units float64 }
	apps := map[string]*app{}
	for i, sel := range []string{cfg.ExecutionCount, cfg.ExecutionUnits} {
		vec, err := p.e.querier.Query(ctx, fmt.Sprintf("max by (%s) (%s)", label, sel), at)
		if err != nil {
			return nil, i + 1, fmt.Errorf("cost: querying Azure Functions: %w", err)
		}
		for _, s := range vec {
			id := strings.ToLower(string(s.Metric[label]))
			if id == "" {
				continue
			}
			a := apps[id]
			if a == nil {
				a = &app{executions: math.NaN(), units: math.NaN()}
				apps[id] = a
			}
			if i == 0 {
				a.executions = float64(s.Value)
			} else {
				a.units = float64(s.Value)
			}
		}
	}

	listed := map[string]inventory.Resource{}
	for _, r := range resources {
		if r.Type == inventory.TypeFunction && r.Cloud == "azure" {
			listed[strings.ToLower(r.ID)] = r
		}
	}
	perSecond := cfg.Interval.Seconds()
	var out []Function
	for _, id := range slices.Sorted(maps.Keys(apps)) {
		a := apps[id]
		r, ok := listed[id]
		u := UnpricedNode{Type: unpricedFunction, ResourceID: id, Cloud: "azure",
			Region: r.Region, InstanceType: ProductAzureFunctions}
		if !ok {
			u.Reason = ReasonNotInInventory
			u.Detail = "list the function app in the inventory (type function, cloud azure, " +
				"its region and tags): Azure Monitor's metrics give neither"
			p.unpriced = append(p.unpriced, u)
			continue
		}
		u.ResourceID = r.ID
		if missing := missingSeries(
			seriesRead{"execution count", !math.IsNaN(a.executions)},
			seriesRead{"execution units", !math.IsNaN(a.units)},
		); missing != "" {
			u.Reason, u.Detail = string(ReasonInvalidQuantity), missing
			p.unpriced = append(p.unpriced, u)
			continue
		}
		p.obs.tags[r.ID] = r.Tags
		svc := p.service(r.ID, path.Base(r.ID))
		perExecution, perGBSecond, err := p.functionPrices("azure", r.Region,
			ProductAzureFunctions, r.Account, svc.Name)
		if err != nil {
			p.unpricedFor(u, err)
			continue
		}
		p.remember(u)
		out = append(out, Function{
			ID: r.ID, Service: svc, Cloud: "azure", Region: r.Region,
			InvocationsPerSecond: a.executions / perSecond,
			GBSecondsPerSecond:   a.units / (1024 * 1000) / perSecond,
			PricePerInvocation:   perExecution,
			PricePerGBSecond:     perGBSecond,
		})
	}
	return out, AzureFunctionsQueries, nil
}
