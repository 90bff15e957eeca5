package billing

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadAzureEA(t *testing.T) {
	rows, skipped := readFixture(t, ReadAzure, "testdata/azure_ea.csv")
	require.Empty(t, IgnoredColumns(skipped), "the byte order mark is not part of a name")
	require.Len(t, rows, 6)

	vm := rows[0]
	require.Equal(t, 2, vm.Line)
	require.Equal(t, CloudAzure, vm.Cloud)
	require.Equal(t, "Microsoft", vm.Provider)
	require.Equal(t, "8611537", vm.BillingAccountID)
	require.Equal(t, "aaaaaaaa-0000-0000-0000-000000000001", vm.SubAccountID)
	require.Equal(t, "Prod", vm.SubAccountName)
	require.Equal(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), vm.ChargePeriodStart)
	require.Equal(t, time.Date(2024, 9, 2, 0, 0, 0, 0, time.UTC), vm.ChargePeriodEnd)
	require.Equal(t, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), vm.BillingPeriodEnd,
		"the inclusive last day becomes the exclusive end")
	require.Equal(t, "Virtual Machines", vm.ServiceName)
	require.Equal(t, "Compute", vm.ServiceCategory)
	require.Equal(t, "Dv3 Series D2s v3", vm.ChargeDescription)
	require.Equal(t, "D2s v3", vm.UsageType)
	require.Equal(t, "westeurope", vm.RegionID)
	require.Equal(t, "web-1", vm.ResourceName)
	require.Equal(t, 24.0, vm.PricingQuantity)
	require.Equal(t, "1 Hour", vm.PricingUnit)
	require.Equal(t, 0.096, vm.ListUnitPrice)
	require.InDelta(t, 2.304, vm.ListCost, 1e-12)
	require.InDelta(t, 2.304, vm.ContractedCost, 1e-12)
	require.Equal(t, 2.304, vm.BilledCost)
	require.Equal(t, 2.304, vm.EffectiveCost)
	require.Equal(t, "USD", vm.Currency)
	require.Equal(t, PricingStandard, vm.PricingCategory)
	require.Equal(t, "Usage-Based", vm.ChargeFrequency)
	require.Equal(t, map[string]string{"service": "web", "team": "core"}, vm.Tags,
		"EA tags without their braces")

	reserved, unused, purchase, refund, spot := rows[1], rows[2], rows[3], rows[4], rows[5]
	require.Equal(t, ItemCommittedUsage, ItemOf(&reserved))
	require.Equal(t, "r-1", reserved.CommitmentDiscountID)
	require.Equal(t, "Reservation", reserved.CommitmentDiscountType)
	require.Equal(t, "Used", reserved.CommitmentDiscountStatus)
	require.Equal(t, "Unused", unused.CommitmentDiscountStatus)
	require.Equal(t, ItemCommittedUsage, ItemOf(&unused))
	require.Equal(t, CategoryPurchase, purchase.ChargeCategory)
	require.Equal(t, "One-Time", purchase.ChargeFrequency)
	require.True(t, math.IsNaN(purchase.ListCost))
	require.Equal(t, ItemRefund, ItemOf(&refund))
	require.Equal(t, ChargeClassCorrection, refund.ChargeClass)
	require.Equal(t, PricingDynamic, spot.PricingCategory)
	require.Equal(t, map[string]string{"service": "batch"}, spot.Tags)

	// Hand-computed: usage 2.304+0.3, commitments 0+0.5, purchase 700, refund -100.
	items := itemTotals(rows)
	require.InDelta(t, 2.604, items[ItemUsage], 1e-12)
	require.InDelta(t, 0.5, items[ItemCommittedUsage], 1e-12)
	require.InDelta(t, 700, items[ItemPurchase], 1e-12)
	require.InDelta(t, -100, items[ItemRefund], 1e-12)
	require.Len(t, PricedUsage(rows), 3)
}

func TestReadAzureMCA(t *testing.T) {
	rows, _ := readFixture(t, ReadAzure, "testdata/azure_mca.csv")
	require.Len(t, rows, 3)

	blob := rows[0]
	require.Equal(t, "acct-mca-1", blob.BillingAccountID)
	require.Equal(t, "bbbbbbbb-0000-0000-0000-000000000001", blob.SubAccountID)
	require.Equal(t, "EUR", blob.Currency)
	require.Equal(t, 1.8, blob.BilledCost)
	require.Equal(t, 2.0, blob.ListCost, "paygCostInBillingCurrency")
	require.Equal(t, 0.02, blob.ListUnitPrice)
	require.Equal(t, "Storage", blob.ServiceName)
	require.Equal(t, map[string]string{"service": "lake"}, blob.Tags)
	require.Equal(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), blob.ChargePeriodStart)

	sp := rows[1]
	require.Equal(t, PricingCommitted, sp.PricingCategory)
	require.Equal(t, "sp-1", sp.CommitmentDiscountID)
	require.Equal(t, "Compute savings plan", sp.CommitmentDiscountName)
	require.Equal(t, "Savings Plan", sp.CommitmentDiscountType)
	require.Equal(t, ItemCommittedUsage, ItemOf(&sp))

	rounding := rows[2]
	require.Equal(t, CategoryAdjustment, rounding.ChargeCategory)
	require.Equal(t, -0.01, rounding.BilledCost)
	require.True(t, math.IsNaN(rounding.PricingQuantity))

	require.Equal(t, []string{"EUR"}, Currencies(rows))
}

func TestReadAzureOldEA(t *testing.T) {
	const input = "UsageDateTime,SubscriptionGuid,MeterCategory,InstanceId,ResourceRate,UsageQuantity,PreTaxCost,Currency,Tags,ChargeType\n" +
		"2024-09-01,sub-1,Storage,/subscriptions/sub-1/x,0.5,2,1,USD,,\n" +
		"2024-09-02,sub-1,Storage,/subscriptions/sub-1/x,0.5,2,1,USD,,Mystery\n" +
		"2024-09-03,sub-1,Storage,/subscriptions/sub-1/x,0.5,2,,USD,,\n"
	rows, skipped, err := readString(ReadAzure, input)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "sub-1", rows[0].SubAccountID)
	require.Equal(t, "/subscriptions/sub-1/x", rows[0].ResourceID)
	require.Equal(t, CategoryUsage, rows[0].ChargeCategory, "no ChargeType means usage")
	require.Equal(t, 1.0, rows[0].ContractedCost)
	require.Equal(t, ChargeCategory(""), rows[1].ChargeCategory)
	require.Equal(t, ItemOther, ItemOf(&rows[1]))
	require.Equal(t, []Skip{{Kind: SkippedRow, Line: 4, Field: "PreTaxCost", Reason: "no billed cost"}},
		skipped)

	_, _, err = readString(ReadAzure, "Date,MeterCategory,Cost\n09/01/2024,x,1\n")
	require.ErrorContains(t, err,
		"test.csv: not a azure-cost-csv export: required column BillingCurrency or BillingCurrencyCode or Currency missing")
}
