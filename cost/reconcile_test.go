package cost

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost/billing"
	"github.com/stratus-monitoring/stratus/pricing"
)

var t0 = time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)

func hour(n int) time.Time { return t0.Add(time.Duration(n) * time.Hour) }

// row returns a usage row of one hour.
func row(cloud, id string, h int, billed, list float64) billing.Row {
	return billing.Row{Cloud: cloud, Currency: "USD", ResourceID: id, ServiceName: "EC2",
		SubAccountID: "111", ChargeCategory: billing.CategoryUsage,
		ChargePeriodStart: hour(h), ChargePeriodEnd: hour(h + 1),
		BilledCost: billed, ListCost: list, EffectiveCost: billed}
}

func estimate(cloud, id string, h int, cost float64) ResourceHourEstimate {
	return ResourceHourEstimate{Cloud: cloud, ResourceID: id, Hour: hour(h), Cost: cost,
		Currency: "USD"}
}

func TestBillingResourceKeys(t *testing.T) {
	for id, want := range map[string][]string{
		"":                         nil,
		"aws:///us-east-1a/i-0abc": {"i-0abc"},
		"i-0ABC":                   {"i-0abc"},
		"arn:aws:ec2:us-east-1:1:instance/i-0abc": {"i-0abc"},
		"gce://proj/us-central1-a/node-1":         {"projects/proj/zones/us-central1-a/instances/node-1"},
		"gce://odd":                               {"gce://odd"},
		"//compute.googleapis.com/projects/proj/zones/us-central1-a/instances/node-1": {
			"projects/proj/zones/us-central1-a/instances/node-1"},
		"https://www.googleapis.com/compute/v1/projects/proj/zones/z/instances/n": {
			"projects/proj/zones/z/instances/n"},
		"azure:///subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachineScaleSets/pool/virtualMachines/3": {
			"/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachinescalesets/pool/virtualmachines/3",
			"/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachinescalesets/pool"},
		"/subscriptions/S/resourceGroups/RG/providers/Microsoft.Compute/virtualMachines/vm1/": {
			"/subscriptions/s/resourcegroups/rg/providers/microsoft.compute/virtualmachines/vm1"},
		"/subscriptions/s/x/virtualMachineScaleSets/pool": {
			"/subscriptions/s/x/virtualmachinescalesets/pool"},
		"prod/node-1": {"prod/node-1"},
	} {
		require.Equal(t, want, BillingResourceKeys(id), id)
	}

	// A provider id and a billing id of the same resource share a key.
	node := BillingResourceKeys("azure:///subscriptions/s/resourceGroups/rg/providers/" +
		"Microsoft.Compute/virtualMachineScaleSets/pool/virtualMachines/0")
	bill := BillingResourceKeys("/subscriptions/S/resourcegroups/RG/providers/" +
		"Microsoft.Compute/virtualMachineScaleSets/POOL")
	require.Contains(t, node, bill[0])
}

func TestReconcile(t *testing.T) {
	covered := row("aws", "i-b", 0, 0, 1)
	covered.PricingCategory = billing.PricingCommitted
	covered.EffectiveCost = 0.72
	partUsage := row("aws", "i-c", 0, 0.45, 0.5)
	partCovered := row("aws", "i-c", 0, 0, 0.5)
	partCovered.CommitmentDiscountID = "sp-1"
	partCovered.EffectiveCost = nan
	partCovered.ListCost = nan // no list cost: the covered half counts for nothing
	noList := row("aws", "i-d", 0, 1, nan)
	daily := row("azure", "/subscriptions/s/rg/vmss/pool", 0, 24, 24)
	daily.ChargePeriodEnd = hour(24)
	daily.SubAccountID, daily.BillingAccountID, daily.ServiceName = "", "ea", "VMSS"
	eur := row("aws", "i-a", 0, 2, 2)
	eur.Currency = "EUR"
	noID := row("aws", "", 1, 5, 5)
	late := row("aws", "i-a", 99, 7, 7)
	items := []billing.Row{
		{Cloud: "aws", Currency: "USD", ChargeCategory: billing.CategoryPurchase, BilledCost: 0.72,
			ChargePeriodStart: hour(0), ChargePeriodEnd: hour(1)},
		{Cloud: "aws", Currency: "USD", ChargeCategory: billing.CategoryCredit, BilledCost: -0.5,
			ChargePeriodStart: hour(0), ChargePeriodEnd: hour(1)},
		{Cloud: "aws", Currency: "USD", ChargeCategory: billing.CategoryCredit, BilledCost: -0.25,
			ChargeClass: billing.ChargeClassCorrection, ChargePeriodStart: hour(1),
			ChargePeriodEnd: hour(2)},
		{Cloud: "aws", Currency: "USD", ChargeCategory: billing.CategoryTax, BilledCost: 0.3,
			ChargePeriodStart: hour(0), ChargePeriodEnd: hour(2)},
		{Cloud: "aws", Currency: "USD", ChargeCategory: billing.CategoryAdjustment,
			BilledCost: -0.1, ChargePeriodStart: hour(1), ChargePeriodEnd: hour(2)},
		{Cloud: "aws", Currency: "USD", ChargeCategory: "Mystery", BilledCost: 0.05,
			ChargePeriodStart: hour(1), ChargePeriodEnd: hour(2)},
	}
	rows := append([]billing.Row{
		row("aws", "i-a", 0, 1, 1), row("aws", "i-a", 1, 1, 1), covered, partUsage,
		partCovered, noList, daily, eur, noID, late,
	}, items...)
	estimates := []ResourceHourEstimate{
		estimate("aws", "aws:///us-east-1a/i-a", 0, 1.1),
		estimate("aws", "aws:///us-east-1a/i-a", 1, 1.1),
		estimate("aws", "aws:///us-east-1a/i-a", 2, 1.1), // no row that hour
		estimate("aws", "aws:///us-east-1a/i-b", 0, 1),   // covered
		estimate("aws", "aws:///us-east-1a/i-c", 0, 1),   // half covered
		estimate("aws", "aws:///us-east-1a/i-d", 0, 0.9), // no list cost
		estimate("aws", "aws:///us-east-1a/i-z", 0, 3),   // not billed
		estimate("aws", "aws:///us-east-1a/i-a", 50, 9),  // outside the period
		estimate("azure", "azure:///subscriptions/s/rg/vmss/pool", 0, 0.5),
		estimate("azure", "azure:///subscriptions/s/rg/vmss/pool", 1, 0.5),
	}

	rec := Reconcile(ReconcileInput{Rows: rows, Estimates: estimates, To: hour(24)})
	require.Equal(t, Period{Start: hour(0), End: hour(24)}, rec.Period)
	require.Len(t, rec.Clouds, 3)

	aws := rec.Clouds[1]
	require.Equal(t, "aws", aws.Cloud)
	require.Equal(t, "USD", aws.Currency)
	// Usage: i-a 2, i-c 0.45, i-d 1, no id 5 (late is outside the period).
	require.InDelta(t, 8.45, aws.BilledUsage, 1e-12)
	// Matched: i-a both hours, i-c, i-d.
	require.InDelta(t, 3.45, aws.Billed, 1e-12)
	require.InDelta(t, 1.1+1.1+1+0.9, aws.Estimated, 1e-12)
	require.InDelta(t, 1, aws.EstimatedCommitted, 1e-12)
	require.InDelta(t, 1.1+3, aws.EstimatedUnmatched, 1e-12)
	require.Equal(t, 5, aws.UsageRows)
	require.Equal(t, 4, aws.MatchedRows)
	require.Equal(t, 3, aws.MatchedResources)
	require.Equal(t, 2, aws.UnmatchedResources)
	require.InDelta(t, (4.1-3.45)/3.45, aws.ErrorRatio(), 1e-12)
	require.InDelta(t, 3.45/8.45, aws.CoverageRatio(), 1e-12)
	require.InDelta(t, 3.45/4.1, aws.CalibrationFactor(), 1e-12)
	require.Equal(t, Items{Credits: -0.5, Refunds: -0.25, Taxes: 0.3, Adjustments: -0.1,
		Purchases: 0.72, CoveredBilled: 0, CoveredEffective: 0.72, CoveredList: 1, Other: 0.05},
		aws.Items)
	require.InDelta(t, 0.72, aws.Items.Commitments(), 1e-12)

	// Another currency is its own line, never added.
	require.Equal(t, "EUR", rec.Clouds[0].Currency)
	require.InDelta(t, 2, rec.Clouds[0].BilledUsage, 1e-12)
	require.True(t, math.IsNaN(rec.Clouds[0].ErrorRatio()))
	require.True(t, math.IsNaN(rec.Clouds[0].CalibrationFactor()))

	// A daily row counts in proportion to the hours estimated.
	azure := rec.Clouds[2]
	require.InDelta(t, 2, azure.Billed, 1e-12)
	require.InDelta(t, 1, azure.Estimated, 1e-12)

	// Groups.
	require.Len(t, rec.ByAccountService, 3)
	require.Equal(t, "111", rec.ByAccountService[1].Account)
	require.InDelta(t, 3.45, rec.ByAccountService[1].Billed, 1e-12)
	require.InDelta(t, 4.1, rec.ByAccountService[1].Estimated, 1e-12)
	require.Equal(t, "ea", rec.ByAccountService[2].Account)
	require.Len(t, rec.ByDay, 3)
	require.Equal(t, t0, rec.ByDay[0].Day)

	// Calibration: learned where something was matched, 1 elsewhere.
	cal := CalibrationOf(rec, hour(30))
	require.Len(t, cal.Clouds, 2)
	require.InDelta(t, 3.45/4.1, cal.Factor("aws", "USD"), 1e-12)
	require.InDelta(t, 1, cal.Factor("gcp", "USD"), 0)
	calibrated := cal.Apply(estimates)
	require.InDelta(t, 1.1*3.45/4.1, calibrated[0].Cost, 1e-12)
	require.InDelta(t, 1.1, estimates[0].Cost, 0)
	after := Reconcile(ReconcileInput{Rows: rows, Estimates: calibrated, To: hour(24)})
	require.InDelta(t, 0, after.Clouds[1].ErrorRatio(), 1e-12)

	// The rows' own period, and an empty input.
	own := Reconcile(ReconcileInput{Rows: rows[:2], From: hour(1)})
	require.Equal(t, Period{Start: hour(1), End: hour(2)}, own.Period)
	own = Reconcile(ReconcileInput{Rows: rows[:2]})
	require.Equal(t, Period{Start: hour(0), End: hour(2)}, own.Period)
	empty := Reconcile(ReconcileInput{})
	require.Empty(t, empty.Clouds)
	require.True(t, math.IsNaN(Comparison{}.CoverageRatio()))
}

func TestUsageShare(t *testing.T) {
	u := &rowMatch{row: &billing.Row{ListCost: nan}, item: billing.ItemUsage}
	c := &rowMatch{row: &billing.Row{ListCost: -1}, item: billing.ItemCommittedUsage}
	require.InDelta(t, 1, usageShare([]*rowMatch{u, c}), 0)
	require.InDelta(t, 0, usageShare([]*rowMatch{c}), 0)
}

func awsRow(line int, usageType, desc, unit string, list, qty float64) billing.Row {
	return billing.Row{File: "f.csv", Line: line, Cloud: "aws", Currency: "USD",
		ChargeCategory: billing.CategoryUsage, RegionID: "us-east-1", UsageType: usageType,
		ChargeDescription: desc, PricingUnit: unit, ListUnitPrice: list,
		PricingQuantity: qty, ListCost: list * qty}
}

func TestCheckPriceBook(t *testing.T) {
	book := pricing.NewBook("USD")
	require.NoError(t, book.SetOverrides([]pricing.Price{
		{Key: pricing.Key{Cloud: "aws", Region: "us-east-1", Kind: pricing.KindCompute,
			Product: "m5.xlarge"}, Value: 0.2, Currency: "USD", Unit: pricing.PerHour,
			Source: "test"},
		{Key: pricing.Key{Cloud: "aws", Region: "us-east-1", Kind: pricing.KindCompute,
			Product: "m5.large", Purchase: pricing.Spot}, Value: 0.05, Currency: "USD",
			Unit: pricing.PerHour, Source: "test"},
	}))
	eur := awsRow(10, "BoxUsage:m5.xlarge", "", "Hrs", 0.2, 1)
	eur.Currency = "EUR"
	unknown := awsRow(11, "", "", "Hours", 1, 1)
	unknown.Cloud, unknown.UnknownProvider = "acme", true
	noQty := awsRow(12, "USE1-BoxUsage:m5.xlarge", "", "Hrs", 0.25, nan)
	noQty.ListCost, noQty.ConsumedQuantity = nan, 2
	neither := awsRow(13, "", "", "GB", 0.1, nan)
	neither.ListCost = nan
	rows := []billing.Row{
		awsRow(2, "BoxUsage:m5.xlarge", "", "Hrs", 0.192, 10),
		awsRow(3, "", "$0.2 per On Demand Linux m5.xlarge Instance Hour", "Hours", 0.2, 1),
		awsRow(4, "", "$0.4 per On Demand Windows m5.xlarge Instance Hour", "Hours", 0.4, 1),
		awsRow(5, "SpotUsage:m5.large", "", "Hrs", 0.05, 2),
		awsRow(6, "DedicatedUsage:m5.large", "", "Hrs", 0.3, 1),
		awsRow(7, "BoxUsage:m5.xlarge", "", "GB", 0.1, 1),
		awsRow(8, "BoxUsage:c9.huge", "", "Hrs", 1, 1),
		awsRow(9, "BoxUsage:m5.xlarge", "", "Hrs", 0, 1),
		awsRow(14, "BoxUsage:m5.xlarge", "", "Hrs", nan, 1),
		eur, unknown, noQty, neither,
		{Cloud: "aws", Currency: "USD", ChargeCategory: billing.CategoryTax, BilledCost: 1},
		{Cloud: "azure", Currency: "USD", ChargeCategory: billing.CategoryUsage,
			ListUnitPrice: 1, PricingUnit: "Hours"},
	}
	checks := CheckPriceBook(rows, book)
	require.Len(t, checks, 4)
	require.Equal(t, "acme", checks[0].Cloud)
	require.Equal(t, map[string]int{RepriceUnknownProvider: 1}, checks[0].Unpriced)

	aws := checks[2]
	require.Equal(t, "aws", aws.Cloud)
	require.Equal(t, 11, aws.UsageRows)
	require.Equal(t, 4, aws.PricedRows)
	rel := []float64{(0.2 - 0.192) / 0.192, 0, 0, (0.2 - 0.25) / 0.25}
	require.InDelta(t, (math.Abs(rel[0])+math.Abs(rel[3]))/4, aws.MeanAbsError, 1e-12)
	require.InDelta(t, (rel[0]+rel[3])/4, aws.MeanError, 1e-12)
	require.InDelta(t, 0.2, aws.MaxAbsError, 1e-12)
	require.Equal(t, "f.csv:12", aws.MaxErrorRow)
	require.InDelta(t, 1.92+0.2+0.1+0.5, aws.PricedListCost, 1e-12)
	require.InDelta(t, 2+0.2+0.1+0.4, aws.BookCost, 1e-12)
	require.InDelta(t, (2.7-2.72)/2.72, aws.CostError(), 1e-12)
	require.InDelta(t, 2.72/(2.72+0.4+0.3+0.1+1+0), aws.CostCoverage(), 1e-12)
	require.Equal(t, map[string]int{
		pricing.ReasonUnknownOS: 1, RepriceNotCompute: 2, RepriceNotHourly: 1,
		pricing.ReasonUnknownProduct: 1, RepriceZeroListPrice: 1, RepriceNoListPrice: 1,
	}, aws.Unpriced)

	require.Equal(t, "aws", checks[1].Cloud)
	require.Equal(t, "EUR", checks[1].Currency)
	require.Equal(t, map[string]int{pricing.ReasonCurrencyMismatch: 1}, checks[1].Unpriced)

	azure := checks[3]
	require.Equal(t, map[string]int{RepriceNotCompute: 1}, azure.Unpriced)
	require.True(t, math.IsNaN(azure.MeanAbsError))
	require.True(t, math.IsNaN(azure.CostError()))
	require.True(t, math.IsNaN(PriceBookCheck{}.CostCoverage()))
}
