package billing

import (
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTotalsByDay(t *testing.T) {
	day1 := time.Date(2024, 9, 1, 5, 0, 0, 0, time.UTC)
	day2 := day1.Add(24 * time.Hour)
	row := func(cloud, account, service string, start time.Time, category ChargeCategory,
		billed, list float64,
	) Row {
		r := newRow("f", 1, FormatFOCUS)
		r.Cloud, r.SubAccountID, r.ServiceName = cloud, account, service
		r.ChargePeriodStart, r.ChargeCategory = start, category
		r.BilledCost, r.EffectiveCost, r.ListCost, r.Currency = billed, billed, list, "USD"
		return r
	}
	rows := []Row{
		row("aws", "a", "EC2", day1, CategoryUsage, 1, 1.5),
		row("aws", "a", "EC2", day1.Add(time.Hour), CategoryUsage, 2, math.NaN()),
		row("aws", "a", "EC2", day2, CategoryUsage, 4, 4),
		row("aws", "a", "EC2", day1, CategoryCredit, -0.5, math.NaN()),
		row("aws", "", "EC2", day1, CategoryTax, 0.25, math.NaN()),
		row("gcp", "p", "GCE", day1, "Mystery", 8, 8),
	}
	rows[4].BillingAccountID = "payer"
	rows[5].EffectiveCost = math.NaN()

	got := TotalsByDay(rows)
	d1 := time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC)
	want := []DayTotal{
		{DayKey{"aws", "a", "EC2", d1, ItemCredit, "USD"}, Totals{1, -0.5, -0.5, 0, 0, 1}},
		{DayKey{"aws", "a", "EC2", d1, ItemUsage, "USD"}, Totals{2, 3, 3, 1.5, 0, 1}},
		{DayKey{"aws", "a", "EC2", d1.Add(24 * time.Hour), ItemUsage, "USD"}, Totals{1, 4, 4, 4, 0, 0}},
		{DayKey{"aws", "payer", "EC2", d1, ItemTax, "USD"}, Totals{1, 0.25, 0.25, 0, 0, 1}},
		{DayKey{"gcp", "p", "GCE", d1, ItemOther, "USD"}, Totals{1, 8, 0, 8, 1, 0}},
	}
	require.Equal(t, want, got)

	byCategory := TotalsByCategory(rows)
	require.Len(t, byCategory, 4)
	require.Equal(t, CategoryKey{"aws", CategoryCredit, ItemCredit, "USD"}, byCategory[0].CategoryKey)
	sum := 0.0
	for _, c := range byCategory {
		sum += c.Billed
	}
	require.Equal(t, 1+2+4-0.5+0.25+8, sum)
}

func TestItemOf(t *testing.T) {
	tests := []struct {
		row  Row
		want Item
	}{
		{Row{ChargeCategory: CategoryUsage}, ItemUsage},
		{Row{ChargeCategory: CategoryUsage, PricingCategory: PricingCommitted}, ItemCommittedUsage},
		{Row{ChargeCategory: CategoryUsage, CommitmentDiscountStatus: "Unused"}, ItemCommittedUsage},
		{Row{ChargeCategory: CategoryPurchase}, ItemPurchase},
		{Row{ChargeCategory: CategoryCredit}, ItemCredit},
		{Row{ChargeCategory: CategoryCredit, ChargeType: "REFUND"}, ItemRefund},
		{Row{ChargeCategory: CategoryCredit, ChargeClass: ChargeClassCorrection, CommitmentDiscountID: "r"}, ItemRefund},
		{Row{ChargeCategory: CategoryCredit, CommitmentDiscountID: "c"}, ItemCommittedUsage},
		{Row{ChargeCategory: CategoryTax}, ItemTax},
		{Row{ChargeCategory: CategoryAdjustment}, ItemAdjustment},
		{Row{}, ItemOther},
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, ItemOf(&tt.row), "%+v", tt.row)
	}
}

func TestCloudOf(t *testing.T) {
	for provider, cloud := range map[string]string{
		"AWS": "aws", "Amazon Web Services": "aws", "Microsoft": "azure", " microsoft ": "azure",
		"Google Cloud": "gcp", "Oracle": "oracle", "OCI": "oracle",
	} {
		got, known := CloudOf(provider)
		require.True(t, known, provider)
		require.Equal(t, cloud, got, provider)
	}
	got, known := CloudOf("Hetzner")
	require.False(t, known)
	require.Equal(t, "Hetzner", got)
}

func TestParseHelpers(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2024-09-01 00:00:00":          time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		"2024-09-01T02:00:00+02:00":    time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		"2024-09-01T00:00:00.0000000Z": time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		"2024-09-01 00:00:00.5 UTC":    time.Date(2024, 9, 1, 0, 0, 0, 5e8, time.UTC),
		"9/1/2024":                     time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
		"09/01/2024 13:00:00":          time.Date(2024, 9, 1, 13, 0, 0, 0, time.UTC),
		"9/1/2024 1:00:00 PM":          time.Date(2024, 9, 1, 13, 0, 0, 0, time.UTC),
		"2024-09-01":                   time.Date(2024, 9, 1, 0, 0, 0, 0, time.UTC),
	} {
		got, err := parseTime(in)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: %v", in, got)
		require.Equal(t, time.UTC, got.Location())
	}

	tags, err := parseTags(`[{"key":"a","value":null},{"key":"b","value":true}]`)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": "", "b": "true"}, tags)
	tags, err = parseTags(`{"a":{"b":1}}`)
	require.NoError(t, err)
	require.Equal(t, map[string]string{"a": `{"b":1}`}, tags)

	require.Equal(t, "2024-09", clip("2024-09"))
	require.Equal(t, 40+len("…"), len(clip(string(make([]byte, 50)))))
	require.Equal(t, "é"+string([]rune{'é'}), clip("éé"))
}
