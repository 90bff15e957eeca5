package billing

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// focusSamplePath is the real FOCUS 1.0 sample (CC BY 4.0, see its README).
const focusSamplePath = "../../testdata/billing/focus_sample.csv"

func readFOCUSSample(t *testing.T) []Row {
	t.Helper()
	f, err := os.Open(focusSamplePath)
	require.NoError(t, err)
	defer f.Close()

	rows, skipped, err := ReadFOCUS(f, "focus_sample.csv")
	require.NoError(t, err)
	require.Zero(t, SkippedRows(skipped), "no row of the sample may be lost: %v", skipped)
	// The sample's row id column "Id" is not a FOCUS 1.0 column: reported once.
	require.Equal(t, []string{"Id"}, IgnoredColumns(skipped))
	return rows
}

func TestFOCUSSample(t *testing.T) {
	rows := readFOCUSSample(t)
	require.Len(t, rows, 1000)

	providers := map[string]int{}
	clouds := map[string]int{}
	categories := map[ChargeCategory]int{}
	billed := map[string]float64{}
	for i := range rows {
		r := &rows[i]
		providers[r.Provider]++
		clouds[r.Cloud]++
		categories[r.ChargeCategory]++
		billed[r.Provider] += r.BilledCost
		require.False(t, r.UnknownProvider, r.Pos())
		require.Equal(t, "USD", r.Currency, r.Pos())
		require.Equal(t, "focus_sample.csv", r.File)
		require.Equal(t, i+2, r.Line, "one line per record, after the header")
		require.Empty(t, r.ChargeClass, "ChargeClass is NULL on every row")
		require.False(t, r.ChargePeriodStart.IsZero(), r.Pos())
		require.Equal(t, "UTC", r.ChargePeriodStart.Location().String())
	}
	require.Equal(t, map[string]int{"AWS": 942, "Microsoft": 51, "Oracle": 7}, providers)
	require.Equal(t, map[string]int{"aws": 942, "azure": 51, "oracle": 7}, clouds)
	require.Equal(t, map[ChargeCategory]int{
		CategoryUsage: 997, CategoryAdjustment: 2, CategoryCredit: 1,
	}, categories)
	require.InDelta(t, 18.006639, billed["AWS"], 1e-9+5e-7)
	require.InDelta(t, 1.976514, billed["Microsoft"], 1e-9+5e-7)
	require.InDelta(t, 0.537074, billed["Oracle"], 1e-9+5e-7)
	// The totals to 1e-9, from the sum of the file's decimal figures.
	require.InDelta(t, 18.0066386184, billed["AWS"], 1e-9)
	require.InDelta(t, 1.97651418586, billed["Microsoft"], 1e-9)
	require.InDelta(t, 0.53707392473, billed["Oracle"], 1e-9)
}

func TestFOCUSSampleQuirks(t *testing.T) {
	rows := readFOCUSSample(t)

	t.Run("charge periods", func(t *testing.T) {
		first := rows[0]
		require.Equal(t, "2024-09-18 22:00:00", first.ChargePeriodStart.Format("2006-01-02 15:04:05"))
		require.Equal(t, "2024-09-18 23:00:00", first.ChargePeriodEnd.Format("2006-01-02 15:04:05"))
		for i := range rows {
			hours := rows[i].ChargePeriodEnd.Sub(rows[i].ChargePeriodStart).Hours()
			if rows[i].Cloud == CloudAzure {
				require.Equal(t, 24.0, hours, rows[i].Pos())
			} else {
				require.Equal(t, 1.0, hours, rows[i].Pos())
			}
		}
	})

	t.Run("NULL and empty strings are both unknown", func(t *testing.T) {
		nullAZ := 0
		for i := range rows {
			r := &rows[i]
			if r.AvailabilityZone == "" {
				nullAZ++
			}
			require.NotEqual(t, "NULL", r.ResourceName)
			require.NotEqual(t, "NULL", r.CommitmentDiscountID)
			if r.Cloud == CloudOracle {
				require.Empty(t, r.BillingAccountName, r.Pos())
				require.Empty(t, r.CommitmentDiscountType, r.Pos())
				require.Empty(t, r.PricingCategory, r.Pos())
				require.Empty(t, r.ResourceName, r.Pos())
				require.Empty(t, r.SkuPriceID, r.Pos())
			}
		}
		require.Equal(t, 893, nullAZ)
	})

	t.Run("AWS ListCost is ListUnitPrice times PricingQuantity", func(t *testing.T) {
		withPrice, billedAtList, savingsPlan := 0, 0, 0
		for i := range rows {
			r := &rows[i]
			if r.Cloud != CloudAWS {
				continue
			}
			if r.BilledCost == r.ListCost {
				billedAtList++
			}
			if math.IsNaN(r.ListUnitPrice) {
				require.Equal(t, CategoryCredit, r.ChargeCategory, r.Pos())
				continue
			}
			withPrice++
			want := r.ListUnitPrice * r.PricingQuantity
			// The file writes costs to 11 decimals: allow half a unit of the last.
			require.InDelta(t, want, r.ListCost, 1e-4*math.Abs(want)+5e-11, r.Pos())
			if r.PricingCategory == PricingCommitted {
				savingsPlan++
				require.Equal(t, "Savings Plan", r.CommitmentDiscountType, r.Pos())
				require.Equal(t, "Used", r.CommitmentDiscountStatus, r.Pos())
				require.Zero(t, r.BilledCost, r.Pos())
				require.Positive(t, r.ListCost, r.Pos())
				require.Equal(t, ItemCommittedUsage, ItemOf(r))
			}
		}
		require.Equal(t, 941, withPrice)
		require.Equal(t, 938, billedAtList)
		require.Equal(t, 4, savingsPlan)
	})

	t.Run("AWS EffectiveCost is rounded to whole numbers", func(t *testing.T) {
		zero, effective := 0, 0.0
		for i := range rows {
			r := &rows[i]
			if r.Cloud != CloudAWS {
				continue
			}
			require.Equal(t, math.Round(r.BilledCost), r.EffectiveCost, r.Pos())
			effective += r.EffectiveCost
			if r.EffectiveCost == 0 {
				zero++
			}
		}
		require.Equal(t, 931, zero)
		require.Equal(t, 13.0, effective)
	})

	t.Run("Microsoft block size and negative rows", func(t *testing.T) {
		blocks, negative := 0, 0
		for i := range rows {
			r := &rows[i]
			if r.Cloud != CloudAzure {
				continue
			}
			require.Equal(t, r.BilledCost, r.EffectiveCost, r.Pos())
			if r.PricingUnit == "Units" && r.ConsumedQuantity != 0 &&
				math.Abs(r.PricingQuantity*10000-r.ConsumedQuantity) < 1e-9*math.Abs(r.ConsumedQuantity) {
				blocks++
				require.InDelta(t, r.ListUnitPrice*r.ConsumedQuantity, r.ListCost, 1e-9, r.Pos())
			}
			if r.BilledCost < 0 {
				negative++
				require.Negative(t, r.ConsumedQuantity, r.Pos())
			}
		}
		require.Equal(t, 31, blocks)
		require.Equal(t, 12, negative)
	})

	t.Run("credit row", func(t *testing.T) {
		var credits []Row
		for i := range rows {
			if rows[i].ChargeCategory == CategoryCredit {
				credits = append(credits, rows[i])
			}
		}
		require.Len(t, credits, 1)
		c := credits[0]
		require.Equal(t, CloudAWS, c.Cloud)
		require.True(t, strings.HasPrefix(c.ChargeDescription, "AWS Open Source Promotional Credits"))
		require.Equal(t, -2.6137, c.BilledCost)
		require.Equal(t, -2.6137, c.ListCost)
		require.Equal(t, -3.0, c.EffectiveCost)
		require.Equal(t, -3.0, c.ContractedCost)
		require.True(t, math.IsNaN(c.ListUnitPrice))
		require.Zero(t, c.PricingQuantity)
		require.True(t, math.IsNaN(c.ConsumedQuantity))
		require.Empty(t, c.ConsumedUnit)
		require.Equal(t, "One-Time", c.ChargeFrequency)
		require.Equal(t, PricingOther, c.PricingCategory)
		require.Equal(t, ItemCredit, ItemOf(&c))
		require.NotContains(t, PricedUsage(rows), c)
	})

	t.Run("Oracle adjustments", func(t *testing.T) {
		var adjustments []float64
		list, billed := 0.0, 0.0
		for i := range rows {
			r := &rows[i]
			if r.Cloud != CloudOracle {
				continue
			}
			list += r.ListCost
			billed += r.BilledCost
			require.Equal(t, "Usage-based", r.ChargeFrequency, "spelling kept as written")
			if r.ChargeCategory == CategoryAdjustment {
				adjustments = append(adjustments, r.BilledCost)
				require.Zero(t, r.ListCost)
				require.Zero(t, r.ListUnitPrice)
			}
		}
		require.ElementsMatch(t, []float64{0.192, 0.08}, adjustments)
		require.InDelta(t, 0.265, list, 5e-4)
		require.Less(t, list, billed)
	})

	t.Run("free usage and tags", func(t *testing.T) {
		freeAWS, noTags := 0, 0
		for i := range rows {
			r := &rows[i]
			if r.Cloud == CloudAWS && r.ChargeCategory == CategoryUsage && r.BilledCost == 0 {
				freeAWS++
			}
			if r.Tags == nil {
				noTags++
			}
		}
		require.Equal(t, 327, freeAWS)
		require.Equal(t, 289, noTags)
		require.Equal(t, map[string]string{
			"application": "BrightLensMatrix", "environment": "dev", "business_unit": "ViennaAI",
		}, rows[1].Tags)
	})

	t.Run("reconciling items", func(t *testing.T) {
		items := map[Item]float64{}
		for _, c := range TotalsByCategory(rows) {
			items[c.Item] += c.Billed
		}
		require.InDelta(t, -2.6137, items[ItemCredit], 1e-12)
		require.InDelta(t, 0.272, items[ItemAdjustment], 1e-12)
		require.Zero(t, items[ItemCommittedUsage])
		total := 0.0
		for _, v := range items {
			total += v
		}
		require.InDelta(t, 18.0066386184+1.97651418586+0.53707392473, total, 1e-9)
	})

	t.Run("priced usage", func(t *testing.T) {
		priced := PricedUsage(rows)
		require.NotEmpty(t, priced)
		for i := range priced {
			require.Equal(t, CategoryUsage, priced[i].ChargeCategory)
			require.NotEmpty(t, priced[i].ResourceID)
			require.False(t, math.IsNaN(priced[i].ListUnitPrice))
		}
	})
}
