package billing

import (
	"math"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func readFixture(t *testing.T, read ReadFunc, path string) ([]Row, []Skip) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rows, skipped, err := read(f, path)
	require.NoError(t, err)
	require.Zero(t, SkippedRows(skipped), "%v", skipped)
	return rows, skipped
}

func readString(read ReadFunc, text string) ([]Row, []Skip, error) {
	return read(strings.NewReader(text), "test.csv")
}

// itemTotals sums billed cost per reconciling item.
func itemTotals(rows []Row) map[Item]float64 {
	items := map[Item]float64{}
	for _, c := range TotalsByCategory(rows) {
		items[c.Item] += c.Billed
	}
	return items
}

// requireSameRows compares rows from two files of the same data, ignoring where
// each came from. NaN equals NaN here.
func requireSameRows(t *testing.T, want, got []Row) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		a, b := want[i], got[i]
		for _, r := range []*Row{&a, &b} {
			r.File, r.Line, r.LinkedLine, r.Format = "", 0, 0, ""
		}
		require.Equal(t, nanFree(a), nanFree(b), "row %d", i)
	}
}

// nanFree replaces NaN by a sentinel so that require.Equal can compare rows.
func nanFree(r Row) Row {
	for _, f := range []*float64{
		&r.PricingQuantity, &r.ConsumedQuantity, &r.ListUnitPrice, &r.ListCost,
		&r.BilledCost, &r.EffectiveCost, &r.ContractedUnitPrice, &r.ContractedCost,
	} {
		if math.IsNaN(*f) {
			*f = -12345.6789
		}
	}
	return r
}
