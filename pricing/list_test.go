package pricing

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestComputePrices checks that listing a region's compute prices answers
// each product as Lookup does: the layer of highest precedence wins, other
// regions, kinds, systems and purchase options are left out, and a price in
// another currency hides the product as it fails its lookup.
func TestComputePrices(t *testing.T) {
	b := NewBook("USD")
	cheap := price(KindCompute, "m5.large", 0.096, SourceSnapshot)
	big := price(KindCompute, "m5.xlarge", 0.192, SourceSnapshot)
	euro := price(KindCompute, "m5.2xlarge", 0.384, SourceSnapshot)
	other := big
	other.Region = "eu-west-1"
	windows := cheap
	windows.OS = "windows"
	spot := cheap
	spot.Purchase = Spot
	b.SetSnapshot([]Price{big, cheap, euro, other, windows, spot,
		price(KindVCPU, "m5", 0.03, SourceSnapshot)})

	override := big
	override.Value, override.Source = 0.15, SourceOverride
	require.NoError(t, b.SetOverrides([]Price{override}))
	euro.Currency, euro.Source = "EUR", "prices.csv"
	b.SetCatalog("catalog", []Price{euro}, cheap.AsOf)

	got := b.ComputePrices("AWS", "US-East-1")
	require.Len(t, got, 2)
	require.Equal(t, "m5.large", got[0].Product)
	require.Equal(t, SourceSnapshot, got[0].Source)
	require.Equal(t, "m5.xlarge", got[1].Product)
	require.InDelta(t, 0.15, got[1].Value, 1e-12)
	require.Equal(t, SourceOverride, got[1].Source)
	for _, p := range got {
		looked, err := b.Lookup(p.Key)
		require.NoError(t, err)
		require.Equal(t, looked, p)
	}
	_, err := b.Lookup(euro.Key)
	require.Error(t, err, "the EUR price hides the product from Lookup too")

	require.Empty(t, b.ComputePrices("aws", "ap-south-1"))
}
