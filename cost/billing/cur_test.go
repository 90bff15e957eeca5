package billing

import (
	"bytes"
	"encoding/csv"
	"math"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/parquet-go/parquet-go"
	"github.com/stretchr/testify/require"
)

const curFixture = "testdata/cur2.csv"

func TestReadCUR(t *testing.T) {
	rows, skipped := readFixture(t, ReadCUR, curFixture)
	require.Len(t, rows, 11)
	require.Empty(t, IgnoredColumns(skipped))

	byID := map[string]Row{}
	for _, r := range rows {
		byID[r.ResourceID+"/"+r.ChargeType] = r
	}

	tests := []struct {
		key       string
		category  ChargeCategory
		item      Item
		billed    float64
		effective float64
		list      float64
		pricing   PricingCategory
	}{
		{"i-0aaa/Usage", CategoryUsage, ItemUsage, 0.085, 0.085, 0.085, PricingStandard},
		{"i-0bbb/Usage", CategoryUsage, ItemUsage, 0.85, 0.85, 0.85, PricingStandard},
		{"i-0ccc/SavingsPlanCoveredUsage", CategoryUsage, ItemCommittedUsage, 0.192, 0.12, 0.192, PricingCommitted},
		{"i-0ccc/SavingsPlanNegation", CategoryUsage, ItemCommittedUsage, -0.192, 0, math.NaN(), PricingCommitted},
		{"arn:aws:rds:us-east-1:333333333333:db:orders/DiscountedUsage", CategoryUsage, ItemCommittedUsage, 0, 0.15, 0.25, PricingCommitted},
		{"i-0ddd/Usage", CategoryUsage, ItemUsage, 0.035, 0.035, 0.085, PricingDynamic},
		{"/Tax", CategoryTax, ItemTax, 0.12, 0.12, math.NaN(), ""},
		{"/Credit", CategoryCredit, ItemCredit, -0.5, -0.5, math.NaN(), ""},
		{"/Refund", CategoryCredit, ItemRefund, -0.2, -0.2, math.NaN(), ""},
		{"/RIFee", CategoryPurchase, ItemPurchase, 36.5, 36.5, math.NaN(), ""},
		{"arn:aws:savingsplans::111111111111:savingsplan/sp-1/SavingsPlanRecurringFee", CategoryPurchase, ItemPurchase, 87.6, 87.6, math.NaN(), ""},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			r, ok := byID[tt.key]
			require.True(t, ok)
			require.Equal(t, tt.category, r.ChargeCategory)
			require.Equal(t, tt.item, ItemOf(&r))
			require.Equal(t, tt.billed, r.BilledCost)
			require.Equal(t, tt.effective, r.EffectiveCost)
			if math.IsNaN(tt.list) {
				require.True(t, math.IsNaN(r.ListCost))
			} else {
				require.Equal(t, tt.list, r.ListCost)
			}
			require.Equal(t, tt.pricing, r.PricingCategory)
			require.Equal(t, CloudAWS, r.Cloud)
			require.Equal(t, "USD", r.Currency)
			require.Equal(t, "111111111111", r.BillingAccountID)
		})
	}

	first := rows[0]
	require.Equal(t, 2, first.Line)
	require.Equal(t, "AmazonEC2", first.ServiceName)
	require.Equal(t, "Compute", first.ServiceCategory)
	require.Equal(t, "us-east-1", first.RegionID)
	require.Equal(t, "US East (N. Virginia)", first.RegionName)
	require.Equal(t, "us-east-1a", first.AvailabilityZone)
	require.Equal(t, "USE1-BoxUsage:c5.large", first.UsageType)
	require.Equal(t, "ABCDSKU1", first.SkuID)
	require.Equal(t, "222222222222", first.SubAccountID)
	require.Equal(t, "shop-prod", first.SubAccountName)
	require.Equal(t, 0.085, first.ListUnitPrice)
	require.Equal(t, 1.0, first.PricingQuantity)
	require.Equal(t, "Hrs", first.PricingUnit)
	require.Equal(t, time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC), first.ChargePeriodStart)
	require.Equal(t, time.Date(2024, 10, 1, 0, 0, 0, 0, time.UTC), first.BillingPeriodEnd)
	require.Equal(t, map[string]string{"service": "checkout", "team": "payments"}, first.Tags)
	require.Equal(t, map[string]string{"service": "search", "aws_createdBy": "AssumedRole"}, rows[1].Tags)

	sp := byID["i-0ccc/SavingsPlanCoveredUsage"]
	require.Equal(t, "arn:aws:savingsplans::111111111111:savingsplan/sp-1", sp.CommitmentDiscountID)
	require.Equal(t, "Savings Plan", sp.CommitmentDiscountType)
	require.Equal(t, "Used", sp.CommitmentDiscountStatus)
	refund := byID["/Refund"]
	require.Equal(t, ChargeClassCorrection, refund.ChargeClass)
	require.Equal(t, "Storage", refund.ServiceCategory)

	// Hand-computed: usage 0.085+0.85+0.035, commitments 0.192-0.192+0,
	// purchases 36.5+87.6.
	items := itemTotals(rows)
	require.InDelta(t, 0.97, items[ItemUsage], 1e-12)
	require.InDelta(t, 0.0, items[ItemCommittedUsage], 1e-12)
	require.InDelta(t, 124.1, items[ItemPurchase], 1e-12)
	require.InDelta(t, 0.12, items[ItemTax], 1e-12)
	require.InDelta(t, -0.5, items[ItemCredit], 1e-12)
	require.InDelta(t, -0.2, items[ItemRefund], 1e-12)

	priced := PricedUsage(rows)
	require.Len(t, priced, 5, "usage with a resource and an on-demand rate")
}

// curParquetRow is a CUR 2.0 Parquet row as AWS writes it: timestamps, doubles,
// a map of tags, optional columns. It is only how the test writes the file:
// ReadCURParquet reads by column name.
type curParquetRow struct {
	LineItemID         string            `parquet:"identity_line_item_id"`
	TimeInterval       string            `parquet:"identity_time_interval,optional"`
	BillingEntity      string            `parquet:"bill_billing_entity,optional"`
	BillType           string            `parquet:"bill_bill_type,optional"`
	PayerAccountID     string            `parquet:"bill_payer_account_id,optional"`
	PayerAccountName   string            `parquet:"bill_payer_account_name,optional"`
	PeriodStart        time.Time         `parquet:"bill_billing_period_start_date,timestamp(millisecond)"`
	PeriodEnd          time.Time         `parquet:"bill_billing_period_end_date,timestamp(microsecond)"`
	UsageAccountID     string            `parquet:"line_item_usage_account_id,optional"`
	UsageAccountName   string            `parquet:"line_item_usage_account_name,optional"`
	LineItemType       string            `parquet:"line_item_line_item_type"`
	UsageStart         time.Time         `parquet:"line_item_usage_start_date,timestamp(millisecond)"`
	UsageEnd           time.Time         `parquet:"line_item_usage_end_date,timestamp(nanosecond)"`
	ProductCode        string            `parquet:"line_item_product_code,optional"`
	UsageType          string            `parquet:"line_item_usage_type,optional"`
	Operation          string            `parquet:"line_item_operation,optional"`
	AvailabilityZone   string            `parquet:"line_item_availability_zone,optional"`
	ResourceID         string            `parquet:"line_item_resource_id,optional"`
	UsageAmount        *float64          `parquet:"line_item_usage_amount,optional"`
	CurrencyCode       string            `parquet:"line_item_currency_code"`
	UnblendedRate      *float64          `parquet:"line_item_unblended_rate,optional"`
	UnblendedCost      float64           `parquet:"line_item_unblended_cost"`
	NetUnblendedCost   int64             `parquet:"line_item_net_unblended_cost,decimal(9:18)"`
	Description        string            `parquet:"line_item_line_item_description,optional"`
	ServiceCode        string            `parquet:"product_servicecode,optional"`
	RegionCode         string            `parquet:"product_region_code,optional"`
	Location           string            `parquet:"product_location,optional"`
	SKU                string            `parquet:"product_sku,optional"`
	RateID             string            `parquet:"pricing_rate_id,optional"`
	Term               string            `parquet:"pricing_term,optional"`
	Unit               string            `parquet:"pricing_unit,optional"`
	OnDemandRate       *float64          `parquet:"pricing_public_on_demand_rate,optional"`
	OnDemandCost       *float64          `parquet:"pricing_public_on_demand_cost,optional"`
	SavingsPlanARN     string            `parquet:"savings_plan_savings_plan_a_r_n,optional"`
	SavingsPlanEffCost *float64          `parquet:"savings_plan_savings_plan_effective_cost,optional"`
	ReservationARN     string            `parquet:"reservation_reservation_a_r_n,optional"`
	ReservationEffCost *float64          `parquet:"reservation_effective_cost,optional"`
	ResourceTags       map[string]string `parquet:"resource_tags"`
}

// curCSVToParquet writes the rows of the CUR CSV fixture as a CUR 2.0 Parquet file.
func curCSVToParquet(t testing.TB, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	records, err := csv.NewReader(f).ReadAll()
	require.NoError(t, err)

	header := map[string]int{}
	for i, h := range records[0] {
		header[h] = i
	}
	var out []curParquetRow
	for _, rec := range records[1:] {
		get := func(name string) string { return rec[header[name]] }
		ts := func(name string) time.Time {
			v, err := time.Parse(time.RFC3339, get(name))
			require.NoError(t, err)
			return v
		}
		opt := func(name string) *float64 {
			if get(name) == "" {
				return nil
			}
			v, err := strconv.ParseFloat(get(name), 64)
			require.NoError(t, err)
			return &v
		}
		num := func(name string) float64 { return *opt(name) }
		var tags map[string]string
		if v := get("resource_tags"); v != "" {
			tags, err = parseTags(v)
			require.NoError(t, err)
		}
		out = append(out, curParquetRow{
			LineItemID: get("identity_line_item_id"), TimeInterval: get("identity_time_interval"),
			BillingEntity: get("bill_billing_entity"), BillType: get("bill_bill_type"),
			PayerAccountID: get("bill_payer_account_id"), PayerAccountName: get("bill_payer_account_name"),
			PeriodStart: ts("bill_billing_period_start_date"), PeriodEnd: ts("bill_billing_period_end_date"),
			UsageAccountID: get("line_item_usage_account_id"), UsageAccountName: get("line_item_usage_account_name"),
			LineItemType: get("line_item_line_item_type"),
			UsageStart:   ts("line_item_usage_start_date"), UsageEnd: ts("line_item_usage_end_date"),
			ProductCode: get("line_item_product_code"), UsageType: get("line_item_usage_type"),
			Operation: get("line_item_operation"), AvailabilityZone: get("line_item_availability_zone"),
			ResourceID: get("line_item_resource_id"), UsageAmount: opt("line_item_usage_amount"),
			CurrencyCode: get("line_item_currency_code"), UnblendedRate: opt("line_item_unblended_rate"),
			UnblendedCost:    num("line_item_unblended_cost"),
			NetUnblendedCost: int64(math.Round(num("line_item_net_unblended_cost") * 1e9)),
			Description:      get("line_item_line_item_description"),
			ServiceCode:      get("product_servicecode"), RegionCode: get("product_region_code"),
			Location: get("product_location"), SKU: get("product_sku"), RateID: get("pricing_rate_id"),
			Term: get("pricing_term"), Unit: get("pricing_unit"),
			OnDemandRate: opt("pricing_public_on_demand_rate"), OnDemandCost: opt("pricing_public_on_demand_cost"),
			SavingsPlanARN:     get("savings_plan_savings_plan_a_r_n"),
			SavingsPlanEffCost: opt("savings_plan_savings_plan_effective_cost"),
			ReservationARN:     get("reservation_reservation_a_r_n"),
			ReservationEffCost: opt("reservation_effective_cost"),
			ResourceTags:       tags,
		})
	}

	var buf bytes.Buffer
	w := parquet.NewGenericWriter[curParquetRow](&buf)
	_, err = w.Write(out)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	return buf.Bytes()
}

func TestReadCURParquetRoundTrip(t *testing.T) {
	csvRows, _ := readFixture(t, ReadCUR, curFixture)
	data := curCSVToParquet(t, curFixture)

	rows, skipped, err := ReadCURParquet(bytes.NewReader(data), "cur2.parquet")
	require.NoError(t, err)
	require.Empty(t, skipped)
	requireSameRows(t, csvRows, rows)
	for i, r := range rows {
		require.Equal(t, i+1, r.Line, "Parquet rows are numbered from 1")
		require.Equal(t, FormatCURParquet, r.Format)
	}

	detected, _, err := Detect(bytes.NewReader(data), "cur2.parquet")
	require.NoError(t, err)
	require.Len(t, detected, len(rows))
}

func TestReadCURParquetBad(t *testing.T) {
	good := curCSVToParquet(t, curFixture)
	tests := map[string][]byte{
		"empty":       nil,
		"not parquet": []byte("line_item_line_item_type\nUsage\n"),
		"magic only":  []byte("PAR1PAR1"),
		"truncated":   append(append([]byte{}, good[:len(good)/2]...), []byte(parquetMagic)...),
	}
	for name, data := range tests {
		t.Run(name, func(t *testing.T) {
			_, _, err := ReadCURParquet(bytes.NewReader(data), "bad.parquet")
			require.Error(t, err)
			require.Contains(t, err.Error(), "bad.parquet")
		})
	}

	t.Run("missing required columns", func(t *testing.T) {
		type other struct {
			Name string `parquet:"name"`
		}
		var buf bytes.Buffer
		require.NoError(t, parquet.Write(&buf, []other{{"x"}}))
		_, skipped, err := ReadCURParquet(&buf, "other.parquet")
		require.ErrorContains(t, err, "other.parquet: not a aws-cur-parquet export: required column")
		require.Equal(t, []string{"name"}, IgnoredColumns(skipped))
	})
}

func TestReadCURBadRows(t *testing.T) {
	header := "line_item_line_item_type,line_item_usage_start_date,line_item_unblended_cost," +
		"line_item_currency_code,resource_tags,product,resourceTags/user:env,my_column\n"
	tests := []struct {
		name   string
		line   string
		field  string
		billed float64
	}{
		{"garbage cost", "Usage,2024-09-01T00:00:00Z,abc,USD,,,,", "line_item_unblended_cost", 0},
		{"NaN cost", "Usage,2024-09-01T00:00:00Z,NaN,USD,,,,", "line_item_unblended_cost", 0},
		{"infinite cost", "Usage,2024-09-01T00:00:00Z,-Inf,USD,,,,", "line_item_unblended_cost", 0},
		{"overflow", "Usage,2024-09-01T00:00:00Z,1e999,USD,,,,", "line_item_unblended_cost", 0},
		{"no cost", "Usage,2024-09-01T00:00:00Z,,USD,,,,", "line_item_unblended_cost", 0},
		{"bad time", "Usage,yesterday,1,USD,,,,", "line_item_usage_start_date", 0},
		{"bad tags", "Usage,2024-09-01T00:00:00Z,1,USD,{nope,,,", "resource_tags", 0},
		{"bad product", "Usage,2024-09-01T00:00:00Z,1,USD,,[1],,", "product", 0},
		{"negative is fine", "Refund,2024-09-01T00:00:00Z,-1.5,USD,,,prod,", "", -1.5},
		{"legacy tag column", "Usage,2024-09-01T00:00:00Z,2,USD,,\"{\"\"region\"\":\"\"eu-west-1\"\"}\",prod,", "", 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, skipped, err := readString(ReadCUR, header+tt.line+"\n")
			require.NoError(t, err)
			require.Equal(t, []string{"my_column"}, IgnoredColumns(skipped))
			if tt.field == "" {
				require.Len(t, rows, 1)
				require.Equal(t, tt.billed, rows[0].BilledCost)
				require.Equal(t, "prod", rows[0].Tags["env"])
				return
			}
			require.Empty(t, rows)
			require.Equal(t, 1, SkippedRows(skipped))
			skip := skipped[len(skipped)-1]
			require.Equal(t, 2, skip.Line)
			require.Equal(t, tt.field, skip.Field)
			require.Contains(t, skip.String(), "line 2: "+tt.field)
		})
	}
	rows, _, err := readString(ReadCUR, header+"Usage,2024-09-01T00:00:00Z,2,USD,,\"{\"\"region\"\":\"\"eu-west-1\"\"}\",,\n")
	require.NoError(t, err)
	require.Equal(t, "eu-west-1", rows[0].RegionID)
}
