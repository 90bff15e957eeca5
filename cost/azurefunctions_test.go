package cost

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/identity"
	"github.com/stratus-monitoring/stratus/inventory"
	"github.com/stratus-monitoring/stratus/pricing"
)

const azurePrices = `cloud,region,kind,product,price,unit
azure,eastus,request,functions,0.20,million-requests
azure,eastus,memory,functions,0.000016,gib-second
`

// azureApp writes the azure-metrics-exporter series of a function app: its
// executions and execution units (MB-milliseconds) totalled over a minute.
func (f *omFixture) azureApp(id string, executions, units float64) {
	for _, m := range []struct {
		metric string
		v      float64
	}{{"FunctionExecutionCount", executions}, {"FunctionExecutionUnits", units}} {
		f.gauge("azurerm_resource_metric", m.v, "resourceID", id, "metric", m.metric,
			"aggregation", "total", "interval", "PT1M", "unit", "Count")
		// Another aggregation of the same metric is not read.
		f.gauge("azurerm_resource_metric", m.v*100, "resourceID", id, "metric", m.metric,
			"aggregation", "maximum", "interval", "PT1M", "unit", "Count")
	}
}

// TestObserveAzureFunctions prices function apps on the Consumption plan from
// their executions and execution units, with region and owner from the
// inventory; an app the inventory does not list is reported.
func TestObserveAzureFunctions(t *testing.T) {
	const app = "/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/resize"
	f := newOMFixture()
	// 600 executions a minute of 128 MB for 200 ms: 600 × 128 × 200 MB-ms.
	f.azureApp(app, 600, 600*128*200)
	f.azureApp("/subscriptions/0000/resourceGroups/rg/providers/Microsoft.Web/sites/stray", 60, 1e6)
	resources := []inventory.Resource{{ID: "/SUBSCRIPTIONS/0000/resourcegroups/rg/providers/" +
		"Microsoft.Web/sites/resize", Type: inventory.TypeFunction, Cloud: "azure",
		Region: "eastus", Tags: map[string]string{"service": "images", "team": "media"}}}
	eng := newServerlessEngine(t, f.load(t), serverlessBook(t, azurePrices), CloudUsageConfig{})
	result, unpriced, meta, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil,
		resources)
	require.NoError(t, err)

	executionsPerSecond := 600.0 / 60
	gibSecondsPerSecond := 600 * 128 * 200 / (1024 * 1000.0) / 60
	want := 3600 * (executionsPerSecond*0.2/1e6 + gibSecondsPerSecond*0.000016)
	require.Len(t, result.Allocations, 1)
	a := result.Allocations[0]
	require.Equal(t, identity.Service{Name: "images"}, a.Service)
	require.Equal(t, "azure", a.Cloud)
	require.Equal(t, "eastus", a.Region)
	require.InEpsilon(t, want, a.CostPerHour, 1e-9)
	require.Equal(t, map[identity.Service]identity.Metadata{{Name: "images"}: {Team: "media"}},
		meta.Result())
	require.Len(t, unpriced, 1)
	require.Equal(t, ReasonNotInInventory, unpriced[0].Reason)
	require.Contains(t, unpriced[0].ResourceID, "/sites/stray")
}

func TestAzureFunctionsConfig(t *testing.T) {
	require.NoError(t, AzureFunctionsConfig{}.Validate())
	require.Equal(t, DefaultAzureResourceLabel, AzureFunctionsConfig{}.withDefaults().ResourceLabel)
	err := AzureFunctionsConfig{ExecutionCount: `x{`, ResourceLabel: "a-b",
		Interval: 1500 * time.Millisecond}.Validate()
	require.ErrorContains(t, err, `azure_functions.execution_count: "x{"`)
	require.ErrorContains(t, err, `azure_functions.resource_label: "a-b" is not a label name`)
	require.ErrorContains(t, err, "azure_functions.interval: 1.5s is not a whole number")

	// A price missing leaves the app unpriced with the book's reason.
	f := newOMFixture()
	f.azureApp("/s/app", 1, 1)
	eng := newServerlessEngine(t, f.load(t), pricing.NewBook("USD"), CloudUsageConfig{})
	_, unpriced, _, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil,
		[]inventory.Resource{{ID: "/s/app", Type: inventory.TypeFunction, Cloud: "azure",
			Region: "eastus"}})
	require.NoError(t, err)
	require.Len(t, unpriced, 1)
	require.Equal(t, pricing.ReasonUnknownCloud, unpriced[0].Reason)
}

// TestObserveAzureFunctionsMissingSeries: an app whose execution units are not
// probed is reported, never priced as if it used no memory.
func TestObserveAzureFunctionsMissingSeries(t *testing.T) {
	f := newOMFixture()
	f.gauge("azurerm_resource_metric", 60, "resourceID", "/s/app", "metric",
		"FunctionExecutionCount", "aggregation", "total")
	eng := newServerlessEngine(t, f.load(t), serverlessBook(t, azurePrices), CloudUsageConfig{})
	result, unpriced, _, _, err := eng.observeCloudUsage(context.Background(), cuAt, nil,
		[]inventory.Resource{{ID: "/s/app", Type: inventory.TypeFunction, Cloud: "azure",
			Region: "eastus"}})
	require.NoError(t, err)
	require.Empty(t, result.Resources)
	require.Len(t, unpriced, 1)
	require.Equal(t, string(ReasonInvalidQuantity), unpriced[0].Reason)
	require.Equal(t, "no execution units series", unpriced[0].Detail)
}
