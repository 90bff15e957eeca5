package billing

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestReadGCPJSON(t *testing.T) {
	rows, skipped := readFixture(t, ReadGCPJSON, "testdata/gcp_billing.jsonl")
	require.Empty(t, IgnoredColumns(skipped))
	// Five usage lines, three credits.
	require.Len(t, rows, 8)

	usage := rows[0]
	require.Equal(t, 1, usage.Line)
	require.Equal(t, CloudGCP, usage.Cloud)
	require.Equal(t, "01A2B3-C4D5E6-F7A8B9", usage.BillingAccountID)
	require.Equal(t, "shop-prod", usage.SubAccountID)
	require.Equal(t, "Shop Prod", usage.SubAccountName)
	require.Equal(t, "Compute Engine", usage.ServiceName)
	require.Equal(t, "2E27-4F75-95CD", usage.SkuID)
	require.Equal(t, "N1 Predefined Instance Core running in Americas", usage.UsageType)
	require.Equal(t, "us-central1", usage.RegionID)
	require.Equal(t, "us-central1-a", usage.AvailabilityZone)
	require.Equal(t, "api-1", usage.ResourceName)
	require.Equal(t, "//compute.googleapis.com/projects/shop-prod/zones/us-central1-a/instances/1234",
		usage.ResourceID)
	require.Equal(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), usage.ChargePeriodStart)
	require.Equal(t, time.Date(2024, 9, 1, 1, 0, 0, 0, time.UTC), usage.ChargePeriodEnd)
	require.Equal(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), usage.BillingPeriodStart)
	require.Equal(t, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), usage.BillingPeriodEnd)
	require.Equal(t, 3600.0, usage.ConsumedQuantity)
	require.Equal(t, "seconds", usage.ConsumedUnit)
	require.Equal(t, 1.0, usage.PricingQuantity)
	require.Equal(t, "hour", usage.PricingUnit)
	require.Equal(t, 0.95, usage.BilledCost)
	require.Equal(t, 1.0, usage.ListCost)
	require.Equal(t, 1.0, usage.ListUnitPrice)
	require.Equal(t, 0.95, usage.ContractedUnitPrice)
	require.Equal(t, PricingStandard, usage.PricingCategory)
	require.Equal(t, map[string]string{"service": "api", "team": "core"}, usage.Tags)

	sud, free := rows[1], rows[2]
	for _, c := range []Row{sud, free} {
		require.Equal(t, CategoryCredit, c.ChargeCategory)
		require.Equal(t, 1, c.Line, "a credit has its usage row's line")
		require.Equal(t, 1, c.LinkedLine)
		require.Equal(t, usage.ResourceID, c.ResourceID)
		require.Equal(t, usage.Tags, c.Tags)
		require.True(t, math.IsNaN(c.ListUnitPrice))
		require.Equal(t, ItemCredit, ItemOf(&c))
	}
	require.Equal(t, -0.19, sud.BilledCost)
	require.Equal(t, "SUSTAINED_USAGE_DISCOUNT", sud.ChargeType)
	require.Equal(t, "Sustained Usage Discount", sud.ChargeDescription)
	require.Equal(t, -0.05, free.BilledCost, "an amount written as a string")
	require.Equal(t, "Free trial credit", free.ChargeDescription)

	storage := rows[3]
	require.Equal(t, 2, storage.Line)
	require.Equal(t, "us", storage.RegionID, "location.location when there is no region")
	require.Empty(t, storage.ResourceID)
	require.Equal(t, 0.02, storage.BilledCost)
	require.Equal(t, 20.0, storage.ListUnitPrice)

	commitment := rows[4]
	require.Equal(t, 4, commitment.Line, "blank lines count")
	require.Equal(t, CategoryPurchase, commitment.ChargeCategory)
	require.Equal(t, "Committed Use Discount", commitment.CommitmentDiscountType)

	cud := rows[6]
	require.Equal(t, CategoryCredit, cud.ChargeCategory)
	require.Equal(t, "commitments/1", cud.CommitmentDiscountID)
	require.Equal(t, ItemCommittedUsage, ItemOf(&cud))
	require.Equal(t, 5, cud.LinkedLine)

	require.Equal(t, CategoryTax, rows[7].ChargeCategory)

	// Hand-computed: usage 0.95+0.02+0.5, credits -0.19-0.05, CUD -0.3,
	// commitment fee 5, tax 0.1.
	items := itemTotals(rows)
	require.InDelta(t, 1.47, items[ItemUsage], 1e-12)
	require.InDelta(t, -0.24, items[ItemCredit], 1e-12)
	require.InDelta(t, -0.3, items[ItemCommittedUsage], 1e-12)
	require.InDelta(t, 5.0, items[ItemPurchase], 1e-12)
	require.InDelta(t, 0.1, items[ItemTax], 1e-12)

	require.Len(t, PricedUsage(rows), 2)
}

func TestReadGCPCSVMatchesJSON(t *testing.T) {
	jsonRows, _ := readFixture(t, ReadGCPJSON, "testdata/gcp_billing.jsonl")
	csvRows, _ := readFixture(t, ReadGCP, "testdata/gcp_billing.csv")
	requireSameRows(t, jsonRows, csvRows)
	require.Equal(t, 2, csvRows[0].Line)
	require.Equal(t, 2, csvRows[1].LinkedLine)
}

func TestReadGCPJSONBad(t *testing.T) {
	const good = `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01 00:00:00 UTC","service":{"description":"X"},"mystery":1}`
	tests := []struct {
		name    string
		input   string
		err     string
		skipped []string // fields of skipped rows
		rows    int
	}{
		{name: "empty", input: "", err: "test.csv: no JSON records"},
		{name: "not JSON", input: "a,b,c\n", err: "test.csv: line 1: not newline-delimited JSON"},
		{name: "array", input: "[1]\n", err: "not newline-delimited JSON"},
		{name: "missing fields", input: `{"cost":1}`, err: "required column currency"},
		{name: "garbage line", input: good + "\n{oops\n" + good, rows: 2, skipped: []string{""}},
		{name: "two objects", input: good + "\n{} {}\n", rows: 1, skipped: []string{""}},
		{name: "null line", input: good + "\nnull\n", rows: 1, skipped: []string{""}},
		{name: "bad cost", input: `{"cost":"x","currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"}}`, skipped: []string{"cost"}},
		{name: "bad credit", input: `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"credits":[{"amount":"NaN"}]}`, skipped: []string{"credits[0].amount"}},
		{name: "credit without amount", input: `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"credits":[{"name":"x"}]}`, skipped: []string{"credits[0].amount"}},
		{name: "credit amount object", input: `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"credits":[{"amount":true}]}`, skipped: []string{"credits[0].amount"}},
		{name: "credits not array", input: `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"credits":{"a":1}}`, skipped: []string{"credits"}},
		{name: "bad month", input: `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"invoice":{"month":"Sept"}}`, skipped: []string{"invoice.month"}},
		{name: "bad labels", input: `{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"labels":"x"}`, skipped: []string{"labels"}},
		{name: "adjustment", input: `{"cost":-1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"cost_type":"rounding_error"}`, rows: 1},
		{name: "spot", input: `{"cost":1,"currency":"eur","usage_start_time":"2024-09-01","service":{"id":"1"},"sku":{"description":"Spot Preemptible E2 Instance Core"}}`, rows: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, skipped, err := readString(ReadGCPJSON, tt.input)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Len(t, rows, tt.rows)
			var fields []string
			for _, s := range skipped {
				if s.Kind == SkippedRow {
					fields = append(fields, s.Field)
				}
			}
			require.Equal(t, tt.skipped, fields)
		})
	}

	rows, skipped, err := readString(ReadGCPJSON, good+"\n"+good)
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, []string{"mystery"}, IgnoredColumns(skipped), "reported once")

	rows, _, err = readString(ReadGCPJSON, `{"cost":1,"currency":"eur","usage_start_time":"2024-09-01","service":{"id":"1"},"sku":{"description":"Spot Preemptible E2 Instance Core"},"cost_type":"adjustment"}`+"\n"+
		`{"cost":1,"currency":"USD","usage_start_time":"2024-09-01","service":{"id":"1"},"sku":{"description":"Spot Preemptible E2 Instance Core"}}`)
	require.NoError(t, err)
	require.Equal(t, CategoryAdjustment, rows[0].ChargeCategory)
	require.Equal(t, PricingDynamic, rows[1].PricingCategory)
	require.Equal(t, []string{"EUR", "USD"}, Currencies(rows))
}
