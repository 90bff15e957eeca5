package pricing

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestMetrics(t *testing.T) {
	b := NewBook("USD")
	b.SetSnapshot([]Price{
		price(KindCompute, "m5.large", 0.096, SourceSnapshot),
		price(KindStorage, "ebs-gp3", 0.08, SourceSnapshot),
	})
	require.NoError(t, b.SetOverrides([]Price{price(KindCompute, "m5.xlarge", 0.1,
		SourceOverride)}))
	b.SetCatalog("aws-price-list", []Price{price(KindCompute, "m5.large", 0.096, "")},
		time.Date(2026, 8, 1, 6, 0, 0, 500e6, time.UTC))
	b.SetCatalog("gcp-billing-catalog", nil, time.Unix(1785000000, 0))

	m := NewMetrics(b)
	require.NoError(t, testutil.CollectAndCompare(m, strings.NewReader(`
# HELP stratus_pricing_last_refresh_timestamp_seconds `+
		`Time the source's price catalog in use was fetched.
# TYPE stratus_pricing_last_refresh_timestamp_seconds gauge
stratus_pricing_last_refresh_timestamp_seconds{source="aws-price-list"} 1.7855640005e+09
stratus_pricing_last_refresh_timestamp_seconds{source="gcp-billing-catalog"} 1.785e+09
# HELP stratus_pricing_prices Prices the price book holds from the source.
# TYPE stratus_pricing_prices gauge
stratus_pricing_prices{source="aws-price-list"} 1
stratus_pricing_prices{source="embedded-snapshot"} 2
stratus_pricing_prices{source="gcp-billing-catalog"} 0
stratus_pricing_prices{source="override"} 1
`)))
	problems, err := testutil.CollectAndLint(m)
	require.NoError(t, err)
	require.Empty(t, problems)
}
