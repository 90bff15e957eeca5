package sim

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// focus10Columns are the columns of FOCUS 1.0, which the export must carry.
var focus10Columns = []string{
	"AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
	"BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
	"ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
	"ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
	"CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
	"ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
	"EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
	"PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
	"RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
	"ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
}

// focusExport is a parsed export: one map from column to value per row.
type focusExport []map[string]string

func parseFOCUS(t *testing.T, raw []byte) focusExport {
	t.Helper()
	r := csv.NewReader(bytes.NewReader(raw))
	records, err := r.ReadAll() // fails on a record of another length
	require.NoError(t, err)
	header := records[0]
	for _, c := range focus10Columns {
		require.Contains(t, header, c)
	}
	for _, c := range header {
		require.True(t, slices.Contains(focus10Columns, c) || c[:2] == "x_", c)
	}
	var out focusExport
	for _, rec := range records[1:] {
		row := map[string]string{}
		for i, c := range header {
			row[c] = rec[i]
		}
		out = append(out, row)
	}
	return out
}

func num(t *testing.T, row map[string]string, column string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(row[column], 64)
	require.NoError(t, err, "%s in %v", column, row)
	return v
}

var cloudOfProvider = map[string]string{"AWS": "aws", "Google Cloud": "gcp", "Microsoft": "azure"}

// sums adds up a column per cloud over the rows that match, in file order, as a
// reader of the file would.
func (e focusExport) sums(t *testing.T, column string,
	match func(map[string]string) bool,
) map[string]float64 {
	t.Helper()
	out := map[string]float64{}
	for _, row := range e {
		if match(row) {
			out[cloudOfProvider[row["ProviderName"]]] += num(t, row, column)
		}
	}
	return out
}

func category(c string) func(map[string]string) bool {
	return func(row map[string]string) bool { return row["ChargeCategory"] == c }
}

func billingOptions() Options {
	return Options{Scenario: "startup", Seed: 7, Start: time.Date(2026, 1, 5, 2, 30, 0, 0, time.UTC),
		Duration: 90 * time.Minute, Step: testStep, Billing: true}
}

// TestBillingExportMatchesTruth writes a short world, reads its export back as any
// CSV reader would and checks every row's arithmetic and every truth figure.
func TestBillingExportMatchesTruth(t *testing.T) {
	dir := t.TempDir()
	opts := billingOptions()
	require.NoError(t, WriteDir(dir, opts))
	raw, err := os.ReadFile(filepath.Join(dir, BillingFile))
	require.NoError(t, err)
	require.Contains(t, string(raw), "\r\n", "RFC 4180 line ends")
	var truth Truth
	rawTruth, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(rawTruth, &truth))
	b := truth.Billing
	require.NotNil(t, b)
	rows := parseFOCUS(t, raw)
	require.Len(t, rows, b.Rows)

	resources := map[string]TruthResource{}
	for _, r := range truth.Resources {
		resources[r.ID] = r
	}
	unpriced := map[string]TruthUnpricedResource{}
	for _, u := range b.UnpricedResources {
		unpriced[u.ID] = u
	}
	discount := map[string]float64{}
	for _, c := range b.Clouds {
		discount[c.Cloud] = c.DiscountRate
	}
	byCategory := map[string]int{}
	usageHours := map[string]float64{}
	for _, row := range rows {
		byCategory[row["ChargeCategory"]]++
		for _, col := range []string{"ChargePeriodStart", "ChargePeriodEnd", "BillingPeriodStart",
			"BillingPeriodEnd"} {
			ts, err := time.Parse(time.RFC3339, row[col])
			require.NoError(t, err)
			require.Equal(t, ts.UTC().Format(time.RFC3339), row[col], "UTC with Z")
		}
		require.Equal(t, "USD", row["BillingCurrency"])
		require.Contains(t, cloudOfProvider, row["ProviderName"])
		if row["ChargeCategory"] != chargeUsage {
			continue
		}

		// Usage: list price times quantity, the discount or the commitment.
		res, ok := resources[row["ResourceId"]]
		require.True(t, ok, "ResourceId %q is a resource of the world", row["ResourceId"])
		require.NotEqual(t, "onprem", res.Cloud)
		require.Equal(t, res.Cloud, cloudOfProvider[row["ProviderName"]])
		require.Equal(t, res.Region, row["RegionId"])
		var tags map[string]string
		require.NoError(t, json.Unmarshal([]byte(row["Tags"]), &tags))
		require.Equal(t, res.Tags, tags)
		list := num(t, row, "ListUnitPrice") * num(t, row, "PricingQuantity")
		require.InDelta(t, list, num(t, row, "ListCost"), 1e-9)
		usageHours[res.ID] += num(t, row, "PricingQuantity")
		if row["PricingCategory"] == "Committed" {
			require.Zero(t, num(t, row, "BilledCost"))
			require.Equal(t, "Used", row["CommitmentDiscountStatus"])
			require.NotEmpty(t, row["CommitmentDiscountId"])
			require.Positive(t, num(t, row, "EffectiveCost"))
		} else {
			require.Equal(t, "Standard", row["PricingCategory"])
			require.Empty(t, row["CommitmentDiscountId"])
			require.InDelta(t, list*(1-discount[res.Cloud]), num(t, row, "BilledCost"), 1e-9)
		}
		if u, ok := unpriced[res.ID]; ok {
			require.Equal(t, u.PriceSource, row["x_PriceSource"])
			require.Equal(t, u.ListUnitPrice, num(t, row, "ListUnitPrice"))
			require.Contains(t, row["x_PriceNote"], "not in the embedded price snapshot")
		} else {
			require.Equal(t, "embedded-snapshot", row["x_PriceSource"])
		}
	}
	require.Equal(t, b.RowsByCategory, byCategory)
	require.Equal(t, 1, byCategory[chargeCredit])
	require.Equal(t, 1, byCategory[chargeAdjustment])

	// Every cloud resource is billed for the whole world; on-premises is not.
	for _, r := range truth.Resources {
		if r.Cloud == "onprem" {
			require.Contains(t, b.ExcludedResources, r.ID)
			continue
		}
		require.InDelta(t, opts.Duration.Hours(), usageHours[r.ID], 1e-9, r.ID)
	}
	require.NotEmpty(t, b.UnpricedResources, "managed stores are not in the snapshot")

	// The truth's figures are what summing the file gives.
	all := func(map[string]string) bool { return true }
	uncovered := func(row map[string]string) bool {
		return row["ChargeCategory"] == chargeUsage && row["PricingCategory"] != "Committed"
	}
	covered := func(row map[string]string) bool {
		return row["ChargeCategory"] == chargeUsage && row["PricingCategory"] == "Committed"
	}
	listUsage := rows.sums(t, "ListCost", category(chargeUsage))
	billedUsage := rows.sums(t, "BilledCost", category(chargeUsage))
	uncoveredList := rows.sums(t, "ListCost", uncovered)
	uncoveredBilled := rows.sums(t, "BilledCost", uncovered)
	coveredList := rows.sums(t, "ListCost", covered)
	coveredEffective := rows.sums(t, "EffectiveCost", covered)
	purchases := rows.sums(t, "BilledCost", category(chargePurchase))
	credits := rows.sums(t, "BilledCost", category(chargeCredit))
	taxes := rows.sums(t, "BilledCost", category(chargeTax))
	adjustments := rows.sums(t, "BilledCost", category(chargeAdjustment))
	total := rows.sums(t, "BilledCost", all)
	effective := rows.sums(t, "EffectiveCost", all)
	grand := 0.0
	require.Len(t, b.Clouds, 3)
	for _, c := range b.Clouds {
		k := c.Cloud
		require.InDelta(t, listUsage[k], c.ListCost, 1e-9, k)
		require.InDelta(t, billedUsage[k], c.BilledUsage, 1e-9, k)
		require.InDelta(t, uncoveredList[k]-uncoveredBilled[k], c.NegotiatedDiscount, 1e-9, k)
		require.InDelta(t, credits[k], c.Credits, 1e-9, k)
		require.InDelta(t, taxes[k], c.Taxes, 1e-9, k)
		require.InDelta(t, adjustments[k], c.Adjustments, 1e-9, k)
		require.InDelta(t, total[k], c.TotalBilled, 1e-9, k)
		require.InDelta(t, effective[k], c.EffectiveCost, 1e-9, k)
		require.InDelta(t, c.BilledUsage+purchases[k]+c.Credits+c.Taxes+c.Adjustments,
			c.TotalBilled, 1e-9, k)
		require.NotNil(t, c.Commitment, k)
		require.InDelta(t, coveredList[k], c.Commitment.CoveredListCost, 1e-9, k)
		require.InDelta(t, coveredEffective[k], c.Commitment.CoveredEffectiveCost, 1e-9, k)
		require.InDelta(t, purchases[k], c.Commitment.Purchases, 1e-9, k)
		// Sized to what it covers: fully used.
		require.InDelta(t, c.Commitment.CoveredEffectiveCost, c.Commitment.Purchases, 1e-9, k)
		require.InDelta(t, c.Commitment.CoveredListCost*(1-c.Commitment.DiscountRate),
			c.Commitment.CoveredEffectiveCost, 1e-9, k)
		require.Positive(t, c.Taxes, k)
		grand += c.TotalBilled
	}
	require.InDelta(t, grand, b.TotalBilled, 1e-9)
	require.Equal(t, truth, mustTruth(t, opts), "truth.json is World.Truth")
}

func mustTruth(t *testing.T, opts Options) Truth {
	t.Helper()
	w, err := New(opts)
	require.NoError(t, err)
	return w.Truth()
}

// TestBillingDeterministic: the same options give the same bytes, another seed
// another export, and without Options.Billing nothing changes.
func TestBillingDeterministic(t *testing.T) {
	write := func(opts Options) []byte {
		w, err := New(opts)
		require.NoError(t, err)
		var buf bytes.Buffer
		require.NoError(t, w.WriteBillingFOCUS(&buf))
		return buf.Bytes()
	}
	opts := billingOptions()
	first := write(opts)
	require.Equal(t, first, write(opts))
	other := opts
	other.Seed++
	require.NotEqual(t, first, write(other))

	dir := t.TempDir()
	plain := opts
	plain.Billing = false
	require.NoError(t, WriteDir(dir, plain))
	require.NoFileExists(t, filepath.Join(dir, BillingFile))
	raw, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	require.NoError(t, err)
	require.NotContains(t, string(raw), `"billing"`)
}

// TestBillingMultiDay counts the rows of a three-day world that crosses a month
// boundary: one usage row per resource and hour, one purchase per commitment and
// hour, one tax row per cloud and day, one credit, one refund.
func TestBillingMultiDay(t *testing.T) {
	opts := Options{Scenario: "steady", Seed: 3, Start: time.Date(2026, 1, 30, 22, 0, 0, 0, time.UTC),
		Duration: 72 * time.Hour, Step: time.Hour, Billing: true}
	w, err := New(opts)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, w.WriteBillingFOCUS(&buf))
	rows := parseFOCUS(t, buf.Bytes())
	b := w.Truth().Billing

	billed := 0
	for _, c := range b.Clouds {
		billed += c.BilledResources
	}
	const hours, days = 72, 4 // Jan 30 (2 h), Jan 31, Feb 1, Feb 2 (22 h)
	want := map[string]int{
		chargeUsage: billed * hours, chargePurchase: 3 * hours, chargeTax: 3 * days,
		chargeCredit: 1, chargeAdjustment: 1,
	}
	require.Equal(t, want, b.RowsByCategory)
	require.Len(t, rows, billed*hours+3*hours+3*days+2)
	require.Equal(t, len(rows), b.Rows)
	require.Equal(t, "2026-01-30T22:00:00Z", b.ChargePeriodStart)
	require.Equal(t, "2026-02-02T22:00:00Z", b.ChargePeriodEnd)

	periods := map[string]int{}
	for _, row := range rows {
		periods[row["BillingPeriodStart"]]++
		if row["ChargeCategory"] == chargeUsage {
			require.Equal(t, "1", row["PricingQuantity"], "whole hours")
		}
		if row["ChargeCategory"] == chargeTax {
			require.Empty(t, row["PricingQuantity"])
			require.Empty(t, row["PricingCategory"])
		}
	}
	require.Len(t, periods, 2, "January and February")
	require.Equal(t, "2026-02-01T00:00:00Z", rows[len(rows)-3]["BillingPeriodStart"])
}

// TestBillingUnknownType: a resource type neither the snapshot nor the fallback
// prices know is billed at the default price, visibly, never for free.
func TestBillingUnknownType(t *testing.T) {
	w, err := New(billingOptions())
	require.NoError(t, err)
	w.resources = append(w.resources, TruthResource{ID: "gcp/vm/odd", Name: "odd", Cloud: "gcp",
		Region: "us-central1", Type: "x9-mystery-64", Kind: "vm", Tags: map[string]string{}})
	b, err := w.billingExport()
	require.NoError(t, err)
	require.Contains(t, b.truth.UnpricedResources, TruthUnpricedResource{
		ID: "gcp/vm/odd", Cloud: "gcp", Region: "us-central1", Type: "x9-mystery-64", Kind: "vm",
		PriceSource: priceFromDefault, ListUnitPrice: billingDefaultPrice,
	})
	n := 0
	for _, r := range b.rows {
		if r.resourceID == "gcp/vm/odd" && r.category == chargeUsage {
			n++
			require.Positive(t, int64(r.list))
			require.Equal(t, priceFromDefault, r.priceSource)
			require.NotEmpty(t, r.priceNote)
		}
	}
	require.Equal(t, 2, n, "02:30-03:00 and 03:00-04:00")
}

func TestMoneyString(t *testing.T) {
	require.Equal(t, "0.1920000000", moneyOf(0.192).String())
	require.Equal(t, "-2.6137000000", moneyOf(-2.6137).String())
	require.Equal(t, "0.0000000000", money(0).String())
	require.Equal(t, "0.07", strconv.FormatFloat(moneyOf(0.0712).roundCents().usd(), 'f', -1, 64))
}
