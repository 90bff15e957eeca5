package pricing

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// azureTestServer starts a fake Retail Prices API on loopback.
func azureTestServer(t *testing.T, handler http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(handler)
	t.Cleanup(srv.Close)
	return srv
}

// azureSleeps records the waits a fetcher asked for instead of waiting.
type azureSleeps struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *azureSleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return nil
}

func (s *azureSleeps) all() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// newTestAzureFetcher returns a fetcher aimed at srv that never really sleeps.
func newTestAzureFetcher(
	t *testing.T,
	srv *httptest.Server,
	edit func(*AzureOptions),
) (*AzureFetcher, *azureSleeps) {
	t.Helper()
	sleeps := &azureSleeps{}
	opts := AzureOptions{
		Regions:    []string{"eastus"},
		BaseURL:    srv.URL,
		HTTPClient: srv.Client(),
		Sleep:      sleeps.sleep,
	}
	if edit != nil {
		edit(&opts)
	}
	f, err := NewAzureFetcher(opts)
	require.NoError(t, err)
	return f, sleeps
}

// azureVMRow is a Linux pay-as-you-go row of Standard_D4s_v5 in eastus; edit
// changes it.
func azureVMRow(edit func(*azureItem)) azureItem {
	it := azureItem{
		CurrencyCode:         "USD",
		RetailPrice:          0.192,
		ArmRegionName:        "eastus",
		EffectiveStartDate:   "2026-06-01T00:00:00Z",
		MeterID:              "meter-d4s-v5",
		MeterName:            "D4s v5",
		ProductName:          "Virtual Machines Dsv5 Series",
		SkuName:              "D4s v5",
		ServiceName:          "Virtual Machines",
		UnitOfMeasure:        "1 Hour",
		Type:                 "Consumption",
		IsPrimaryMeterRegion: true,
		ArmSkuName:           "Standard_D4s_v5",
	}
	if edit != nil {
		edit(&it)
	}
	return it
}

// writeAzurePage answers with one page of items.
func writeAzurePage(t *testing.T, w http.ResponseWriter, items []azureItem, next string) {
	t.Helper()
	if items == nil {
		items = []azureItem{}
	}
	page := azurePage{
		BillingCurrency:  "USD",
		CustomerEntityID: "Default",
		Items:            &items,
		NextPageLink:     next,
		Count:            len(items),
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(page); err != nil {
		t.Errorf("writing page: %v", err)
	}
}

// azureRequireValid checks the Fetcher contract: no invalid price escapes.
func azureRequireValid(t *testing.T, prices []Price) {
	t.Helper()
	for _, p := range prices {
		require.NoError(t, p.Validate())
		require.Equal(t, "azure", p.Cloud)
		require.Equal(t, AzureSource, p.Source)
	}
}

// azureFindPrice returns the price of key, failing the test if there is none.
func azureFindPrice(t *testing.T, prices []Price, key Key) Price {
	t.Helper()
	for _, p := range prices {
		if p.Key == key {
			return p
		}
	}
	require.Failf(t, "price not found", "%s", key)
	return Price{}
}

func azureD4sKey(os string, purchase Purchase) Key {
	return Key{Cloud: "azure", Region: "eastus", Kind: KindCompute,
		Product: "Standard_D4s_v5", OS: os, Purchase: purchase}
}

func TestNewAzureFetcherRejectsBadOptions(t *testing.T) {
	badClientConfig := config.HTTPClientConfig{
		BearerToken: "a",
		BasicAuth:   &config.BasicAuth{Username: "u"},
	}
	for _, tc := range []struct {
		name    string
		opts    AzureOptions
		wantErr string
	}{
		{"no regions", AzureOptions{}, "azure regions"},
		{"empty region", AzureOptions{Regions: []string{"eastus", " "}}, "azure regions[1]"},
		{"base URL scheme", AzureOptions{Regions: []string{"eastus"}, BaseURL: "ftp://x"},
			"azure base_url"},
		{"base URL without host", AzureOptions{Regions: []string{"eastus"}, BaseURL: "/x"},
			"azure base_url"},
		{"base URL with query",
			AzureOptions{Regions: []string{"eastus"}, BaseURL: "http://127.0.0.1/?a=b"},
			"azure base_url"},
		{"base URL unparsable",
			AzureOptions{Regions: []string{"eastus"}, BaseURL: "http://u:p@[::1"},
			"azure base_url"},
		{"currency", AzureOptions{Regions: []string{"eastus"}, Currency: "usd"},
			"azure currency"},
		{"request timeout",
			AzureOptions{Regions: []string{"eastus"}, RequestTimeout: model.Duration(-1)},
			"azure request_timeout"},
		{"max pages", AzureOptions{Regions: []string{"eastus"}, MaxPages: -1},
			"azure max_pages"},
		{"max response bytes", AzureOptions{Regions: []string{"eastus"}, MaxResponseBytes: -1},
			"azure max_response_bytes"},
		{"backoff", AzureOptions{Regions: []string{"eastus"}, BackoffMax: -time.Second},
			"azure backoff"},
		{"http client", AzureOptions{Regions: []string{"eastus"},
			HTTPClientConfig: badClientConfig}, "azure http_client"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := NewAzureFetcher(tc.opts)
			require.ErrorContains(t, err, tc.wantErr)
			require.Nil(t, f)
			require.NotContains(t, err.Error(), ":p@", "the password must not leak")
		})
	}
}

func TestNewAzureFetcherDefaults(t *testing.T) {
	// No request is made here: the default base URL is only checked.
	f, err := NewAzureFetcher(AzureOptions{Regions: []string{"eastus", "westeurope", "eastus"}})
	require.NoError(t, err)
	require.Equal(t, AzureSource, f.Name())
	require.Equal(t, DefaultAzureBaseURL, f.base.String())
	require.Equal(t, []string{"eastus", "westeurope"}, f.regions)
	require.Equal(t, DefaultAzureCurrency, f.currency)
	require.Equal(t, DefaultAzureRequestTimeout, f.timeout)
	require.Equal(t, DefaultAzureRetries, f.retries)
	require.Equal(t, DefaultAzureMaxPages, f.maxPages)
	require.Equal(t, int64(DefaultAzureMaxResponseBytes), f.maxBytes)
	require.NotNil(t, f.client)

	f, err = NewAzureFetcher(AzureOptions{Regions: []string{"eastus"}, Retries: -1})
	require.NoError(t, err)
	require.Zero(t, f.retries)
}

func TestAzureODataString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"eastus", "'eastus'"},
		{"east'us", "'east''us'"},
		{"''", "''''''"},
		{"x' or 1 eq 1 or 'a", "'x'' or 1 eq 1 or ''a'"},
		{"", "''"},
	} {
		require.Equal(t, tc.want, azureODataString(tc.in), tc.in)
	}
}

func TestAzureFirstPageQuery(t *testing.T) {
	for _, tc := range []struct {
		name, region, basePath, wantFilter string
	}{
		{"plain", "eastus", "",
			"serviceName eq 'Virtual Machines' and armRegionName eq 'eastus' and " +
				"priceType eq 'Consumption'"},
		{"quote in region", "east'us", "",
			"serviceName eq 'Virtual Machines' and armRegionName eq 'east''us' and " +
				"priceType eq 'Consumption'"},
		{"injection attempt", "x' or serviceName eq 'Storage", "/proxy/",
			"serviceName eq 'Virtual Machines' and armRegionName eq " +
				"'x'' or serviceName eq ''Storage' and priceType eq 'Consumption'"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var got *url.URL
			srv := azureTestServer(t, func(w http.ResponseWriter, r *http.Request) {
				got = r.URL
				writeAzurePage(t, w, nil, "")
			})
			f, _ := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
				o.Regions = []string{tc.region}
				o.BaseURL = srv.URL + tc.basePath
			})

			prices, err := f.Fetch(t.Context())
			require.NoError(t, err)
			require.Empty(t, prices)
			require.NotNil(t, got)
			require.Equal(t, strings.TrimSuffix(tc.basePath, "/")+"/api/retail/prices", got.Path)
			q := got.Query()
			require.Equal(t, tc.wantFilter, q.Get("$filter"))
			require.Equal(t, "2023-01-01-preview", q.Get("api-version"))
			require.Equal(t, "'USD'", q.Get("currencyCode"))
			require.Equal(t, "'primary'", q.Get("meterRegion"))
		})
	}
}

func TestAzureFetchFollowsPages(t *testing.T) {
	var requests atomic.Int32
	var srvURL string
	srv := azureTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		switch r.URL.Query().Get("$skip") {
		case "":
			// An absolute link, the form the real API sends.
			next := srvURL + "/api/retail/prices?api-version=2023-01-01-preview&$skip=1"
			writeAzurePage(t, w, []azureItem{azureVMRow(nil)}, next)
		case "1":
			// A relative link is resolved against the base URL.
			d2 := azureVMRow(func(it *azureItem) {
				it.ArmSkuName, it.SkuName, it.MeterID, it.RetailPrice =
					"Standard_D2s_v5", "D2s v5", "m2", 0.096
			})
			writeAzurePage(t, w, []azureItem{d2}, "/api/retail/prices?$skip=2")
		case "2":
			e4 := azureVMRow(func(it *azureItem) {
				it.ArmSkuName, it.SkuName, it.MeterID, it.RetailPrice =
					"Standard_E4s_v5", "E4s v5", "m3", 0.252
			})
			writeAzurePage(t, w, []azureItem{e4}, "")
		default:
			http.NotFound(w, r)
		}
	})
	srvURL = srv.URL
	f, _ := newTestAzureFetcher(t, srv, nil)

	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	azureRequireValid(t, prices)
	require.Equal(t, int32(3), requests.Load())
	var products []string
	for _, p := range prices {
		products = append(products, p.Product)
	}
	require.Equal(t, []string{"Standard_D2s_v5", "Standard_D4s_v5", "Standard_E4s_v5"}, products)
	stats := f.LastStats()
	require.Equal(t, 3, stats.Pages)
	require.Equal(t, 3, stats.Items)
	require.Equal(t, 3, stats.Prices)
	require.Empty(t, stats.Skipped)
}

// TestAzureFetchMatchesComputeCSV reads two fixture pages whose Linux rows
// carry the eastus figures of the shared price data, and checks each comes
// back as that price.
func TestAzureFetchMatchesComputeCSV(t *testing.T) {
	page1, err := os.ReadFile("testdata/azure/eastus_page1.json")
	require.NoError(t, err)
	page2, err := os.ReadFile("testdata/azure/eastus_page2.json")
	require.NoError(t, err)
	var srvURL string
	srv := azureTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		body := page1
		if r.URL.Query().Get("$skip") == "1000" {
			body = page2
		}
		_, _ = w.Write([]byte(strings.ReplaceAll(string(body), "{{base}}", srvURL)))
	})
	srvURL = srv.URL
	f, _ := newTestAzureFetcher(t, srv, nil)

	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	azureRequireValid(t, prices)

	file, err := os.Open("testdata/azure/compute_eastus.csv")
	require.NoError(t, err)
	defer func() { _ = file.Close() }()
	records, err := csv.NewReader(file).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "price_per_hour_usd", records[0][7])
	wantAsOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, rec := range records[1:] {
		want, err := strconv.ParseFloat(rec[7], 64)
		require.NoError(t, err)
		key := Key{Cloud: rec[0], Region: rec[1], Kind: KindCompute, Product: rec[2],
			OS: rec[6], Purchase: OnDemand}
		got := azureFindPrice(t, prices, key)
		require.InDelta(t, want, got.Value, 1e-12, key.String())
		require.Equal(t, PerHour, got.Unit)
		require.Equal(t, "USD", got.Currency)
		require.Equal(t, wantAsOf, got.AsOf)
	}
	for _, tc := range []struct {
		key  Key
		want float64
	}{
		{azureD4sKey("linux", OnDemand), 0.192},
		{azureD4sKey("windows", OnDemand), 0.376},
		{azureD4sKey("linux", Spot), 0.0384},
		{azureD4sKey("windows", Spot), 0.0384},
	} {
		got := azureFindPrice(t, prices, tc.key)
		require.InDelta(t, tc.want, got.Value, 1e-12, tc.key.String())
	}
	require.Len(t, prices, len(records)-1+3)

	stats := f.LastStats()
	require.Equal(t, 2, stats.Pages)
	require.Equal(t, 32, stats.Items)
	require.Equal(t, map[string]int{AzureSkipLowPriority: 1, AzureSkipReservation: 1},
		stats.Skipped)
}

func TestAzureRowMapping(t *testing.T) {
	asOf := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name       string
		edit       func(*azureItem)
		wantKey    Key
		wantValue  float64
		wantAsOf   time.Time
		wantReason string
	}{
		{name: "linux on-demand", wantKey: azureD4sKey("linux", OnDemand), wantValue: 0.192,
			wantAsOf: asOf},
		{name: "windows", edit: func(it *azureItem) {
			it.ProductName, it.RetailPrice = "Virtual Machines Dsv5 Series Windows", 0.376
		}, wantKey: azureD4sKey("windows", OnDemand), wantValue: 0.376, wantAsOf: asOf},
		{name: "spot in sku name", edit: func(it *azureItem) {
			it.SkuName, it.MeterName, it.RetailPrice = "D4s v5 Spot", "D4s v5 Spot", 0.04
		}, wantKey: azureD4sKey("linux", Spot), wantValue: 0.04, wantAsOf: asOf},
		{name: "spot in meter name only", edit: func(it *azureItem) {
			it.MeterName, it.RetailPrice = "D4s v5 Spot", 0.04
		}, wantKey: azureD4sKey("linux", Spot), wantValue: 0.04, wantAsOf: asOf},
		{name: "windows spot", edit: func(it *azureItem) {
			it.ProductName = "Virtual Machines Dsv5 Series Windows"
			it.SkuName, it.RetailPrice = "D4s v5 Spot", 0.08
		}, wantKey: azureD4sKey("windows", Spot), wantValue: 0.08, wantAsOf: asOf},
		{name: "undated price kept", edit: func(it *azureItem) {
			it.EffectiveStartDate = "June"
		}, wantKey: azureD4sKey("linux", OnDemand), wantValue: 0.192},
		{name: "date without zone", edit: func(it *azureItem) {
			it.EffectiveStartDate = "2026-06-01T00:00:00"
		}, wantKey: azureD4sKey("linux", OnDemand), wantValue: 0.192, wantAsOf: asOf},
		{name: "low priority", edit: func(it *azureItem) {
			it.SkuName, it.MeterName = "D4s v5 Low Priority", "D4s v5 Low Priority"
		}, wantReason: AzureSkipLowPriority},
		{name: "reservation", edit: func(it *azureItem) {
			it.Type, it.UnitOfMeasure, it.RetailPrice = "Reservation", "1 Hour", 1008
		}, wantReason: AzureSkipReservation},
		{name: "dev/test", edit: func(it *azureItem) { it.Type = "DevTestConsumption" },
			wantReason: AzureSkipPriceType},
		{name: "monthly unit", edit: func(it *azureItem) { it.UnitOfMeasure = "1/Month" },
			wantReason: AzureSkipUnit},
		{name: "hundred hours", edit: func(it *azureItem) { it.UnitOfMeasure = "100 Hours" },
			wantReason: AzureSkipUnit},
		{name: "other service", edit: func(it *azureItem) { it.ServiceName = "Storage" },
			wantReason: AzureSkipService},
		{name: "other region", edit: func(it *azureItem) { it.ArmRegionName = "westus" },
			wantReason: AzureSkipRegion},
		{name: "no arm sku", edit: func(it *azureItem) { it.ArmSkuName = "" },
			wantReason: AzureSkipNoSKU},
		{name: "other currency", edit: func(it *azureItem) { it.CurrencyCode = "EUR" },
			wantReason: AzureSkipCurrency},
		{name: "higher tier", edit: func(it *azureItem) { it.TierMinimumUnits = 100 },
			wantReason: AzureSkipTiered},
		{name: "zero price", edit: func(it *azureItem) { it.RetailPrice = 0 },
			wantReason: AzureSkipZeroPrice},
		{name: "negative price", edit: func(it *azureItem) { it.RetailPrice = -1 },
			wantReason: AzureSkipInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := azureTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				writeAzurePage(t, w, []azureItem{azureVMRow(tc.edit)}, "")
			})
			f, _ := newTestAzureFetcher(t, srv, nil)

			prices, err := f.Fetch(t.Context())
			require.NoError(t, err)
			azureRequireValid(t, prices)
			stats := f.LastStats()
			if tc.wantReason != "" {
				require.Empty(t, prices)
				require.Equal(t, map[string]int{tc.wantReason: 1}, stats.Skipped)
				return
			}
			require.Empty(t, stats.Skipped)
			require.Len(t, prices, 1)
			require.Equal(t, tc.wantKey, prices[0].Key)
			require.InDelta(t, tc.wantValue, prices[0].Value, 1e-12)
			require.Equal(t, PerHour, prices[0].Unit)
			require.Equal(t, "USD", prices[0].Currency)
			require.Equal(t, tc.wantAsOf, prices[0].AsOf)
		})
	}
}

func TestAzureDuplicateMeters(t *testing.T) {
	for _, tc := range []struct {
		name      string
		a, b      azureItem
		wantValue float64
	}{
		{"primary meter region wins",
			azureVMRow(func(it *azureItem) {
				it.IsPrimaryMeterRegion, it.RetailPrice = false, 0.1
			}),
			azureVMRow(func(it *azureItem) { it.MeterID, it.RetailPrice = "z", 0.2 }),
			0.2},
		{"newer price wins",
			azureVMRow(func(it *azureItem) {
				it.EffectiveStartDate, it.RetailPrice = "2025-01-01T00:00:00Z", 0.1
			}),
			azureVMRow(func(it *azureItem) { it.MeterID, it.RetailPrice = "z", 0.2 }),
			0.2},
		{"smaller meter id wins",
			azureVMRow(func(it *azureItem) { it.MeterID, it.RetailPrice = "b", 0.1 }),
			azureVMRow(func(it *azureItem) { it.MeterID, it.RetailPrice = "a", 0.2 }),
			0.2},
		{"lower price of one meter wins",
			azureVMRow(func(it *azureItem) { it.RetailPrice = 0.3 }),
			azureVMRow(func(it *azureItem) { it.RetailPrice = 0.2 }),
			0.2},
	} {
		// Both orders give the same answer, so refreshes do not flip prices.
		for _, order := range [][]azureItem{{tc.a, tc.b}, {tc.b, tc.a}} {
			t.Run(tc.name, func(t *testing.T) {
				srv := azureTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
					writeAzurePage(t, w, order, "")
				})
				f, _ := newTestAzureFetcher(t, srv, nil)

				prices, err := f.Fetch(t.Context())
				require.NoError(t, err)
				azureRequireValid(t, prices)
				require.Len(t, prices, 1)
				require.InDelta(t, tc.wantValue, prices[0].Value, 1e-12)
				require.Equal(t, map[string]int{AzureSkipDuplicate: 1}, f.LastStats().Skipped)
			})
		}
	}
}

// azureScript answers requests in turn with the given handlers, repeating
// the last one.
func azureScript(t *testing.T, steps ...http.HandlerFunc) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var n atomic.Int32
	srv := azureTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	})
	return srv, &n
}

func azureStatus(status int, retryAfter, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		if retryAfter != "" {
			w.Header().Set("Retry-After", retryAfter)
		}
		w.WriteHeader(status)
		_, _ = fmt.Fprint(w, body)
	}
}

func TestAzureRetries(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	ok := func(t *testing.T) http.HandlerFunc {
		return func(w http.ResponseWriter, _ *http.Request) {
			writeAzurePage(t, w, []azureItem{azureVMRow(nil)}, "")
		}
	}
	const base, ceiling = 100 * time.Millisecond, 250 * time.Millisecond
	for _, tc := range []struct {
		name         string
		steps        func(t *testing.T) []http.HandlerFunc
		wantRequests int32
		wantErr      []string
		// wantSleeps are exact waits; wantMaxSleeps bound jittered ones.
		wantSleeps    []time.Duration
		wantMaxSleeps []time.Duration
	}{
		{
			name: "429 with Retry-After seconds, then success",
			steps: func(t *testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{azureStatus(429, "7", "slow down"), ok(t)}
			},
			wantRequests: 2,
			wantSleeps:   []time.Duration{7 * time.Second},
		},
		{
			name: "429 with Retry-After date, then success",
			steps: func(t *testing.T) []http.HandlerFunc {
				date := now.Add(12 * time.Second).Format(http.TimeFormat)
				return []http.HandlerFunc{azureStatus(429, date, ""), ok(t)}
			},
			wantRequests: 2,
			wantSleeps:   []time.Duration{12 * time.Second},
		},
		{
			name: "5xx twice, then success",
			steps: func(t *testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{azureStatus(502, "", ""),
					azureStatus(500, "", ""), ok(t)}
			},
			wantRequests:  3,
			wantMaxSleeps: []time.Duration{base, 2 * base},
		},
		{
			name: "5xx until retries run out",
			steps: func(*testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{azureStatus(503, "",
					`{"Error":{"Code":"ServiceUnavailable","Message":"try later"}}`)}
			},
			wantRequests:  5,
			wantErr:       []string{"giving up after 5 attempts", "503", "try later", "page 1"},
			wantMaxSleeps: []time.Duration{base, 2 * base, ceiling, ceiling},
		},
		{
			name: "400 is not retried",
			steps: func(*testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{azureStatus(400, "", "Invalid OData parameter")}
			},
			wantRequests: 1,
			wantErr:      []string{"HTTP 400 Bad Request", "Invalid OData parameter"},
		},
		{
			name: "404 is not retried, even with Retry-After",
			steps: func(*testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{azureStatus(404, "1", "")}
			},
			wantRequests: 1,
			wantErr:      []string{"HTTP 404"},
		},
		{
			name: "Retry-After beyond the allowed wait",
			steps: func(*testing.T) []http.HandlerFunc {
				return []http.HandlerFunc{azureStatus(429, "3600", "")}
			},
			wantRequests: 1,
			wantErr:      []string{"server asks to wait 1h0m0s", "429"},
		},
		{
			name: "connection cut mid-answer, then success",
			steps: func(t *testing.T) []http.HandlerFunc {
				cut := func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Length", "1000")
					_, _ = fmt.Fprint(w, `{"Items":[`)
				}
				return []http.HandlerFunc{cut, ok(t)}
			},
			wantRequests:  2,
			wantMaxSleeps: []time.Duration{base},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := azureScript(t, tc.steps(t)...)
			f, sleeps := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
				o.BackoffBase, o.BackoffMax = base, ceiling
				o.MaxRetryAfter = time.Minute
				o.Now = func() time.Time { return now }
			})

			prices, err := f.Fetch(t.Context())
			azureRequireValid(t, prices)
			require.Equal(t, tc.wantRequests, requests.Load())
			if len(tc.wantErr) > 0 {
				require.Error(t, err)
				for _, want := range tc.wantErr {
					require.ErrorContains(t, err, want)
				}
				require.Empty(t, prices)
			} else {
				require.NoError(t, err)
				require.Len(t, prices, 1)
			}
			got := sleeps.all()
			if tc.wantMaxSleeps == nil {
				require.Equal(t, tc.wantSleeps, got)
				return
			}
			require.Len(t, got, len(tc.wantMaxSleeps))
			for i, d := range got {
				require.GreaterOrEqual(t, d, time.Duration(0))
				require.Less(t, d, tc.wantMaxSleeps[i], "wait %d", i)
			}
		})
	}
}

func TestAzureRetryNeverSleepsPastDeadline(t *testing.T) {
	srv, requests := azureScript(t, azureStatus(429, "120", ""))
	f, sleeps := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
		o.MaxRetryAfter = time.Hour
	})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()

	_, err := f.Fetch(ctx)
	require.ErrorContains(t, err, "no time left to wait 2m0s before retrying")
	require.ErrorContains(t, err, "429")
	require.Equal(t, int32(1), requests.Load())
	require.Empty(t, sleeps.all())
}

func TestAzureTimeouts(t *testing.T) {
	// stall answers nothing until the client gives up or the test ends.
	stall := func(t *testing.T) http.HandlerFunc {
		release := make(chan struct{})
		t.Cleanup(func() { close(release) })
		return func(_ http.ResponseWriter, r *http.Request) {
			select {
			case <-r.Context().Done():
			case <-release:
			}
		}
	}

	t.Run("request timeout is retried, then reported", func(t *testing.T) {
		srv, requests := azureScript(t, stall(t))
		f, sleeps := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
			o.RequestTimeout = model.Duration(50 * time.Millisecond)
			o.Retries = 1
		})
		start := time.Now()

		_, err := f.Fetch(t.Context())
		require.ErrorContains(t, err, "giving up after 2 attempts")
		require.ErrorContains(t, err, "request timeout of 50ms")
		require.Equal(t, int32(2), requests.Load())
		require.Len(t, sleeps.all(), 1)
		require.Less(t, time.Since(start), 5*time.Second)
	})

	t.Run("caller's deadline ends the fetch", func(t *testing.T) {
		srv, requests := azureScript(t, stall(t))
		f, sleeps := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
			o.Regions = []string{"eastus", "westeurope"}
		})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()

		_, err := f.Fetch(ctx)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		require.Equal(t, int32(1), requests.Load(), "no retry, no further region")
		require.Empty(t, sleeps.all())
		require.Less(t, time.Since(start), 5*time.Second)
	})
}

func TestAzureBadAnswers(t *testing.T) {
	big := azureVMRow(func(it *azureItem) { it.ProductName = strings.Repeat("x", 500) })
	for _, tc := range []struct {
		name    string
		handler func(t *testing.T) http.HandlerFunc
		edit    func(*AzureOptions)
		wantErr string
	}{
		{"truncated JSON", func(*testing.T) http.HandlerFunc {
			return azureStatus(200, "", `{"Items":[{"armSkuName":"Standard_D4s_v5","retailPr`)
		}, nil, "decoding answer of 51 bytes: unexpected end of JSON input"},
		{"not JSON", func(*testing.T) http.HandlerFunc {
			return azureStatus(200, "", "<html>maintenance</html>")
		}, nil, "decoding answer"},
		{"no Items", func(*testing.T) http.HandlerFunc {
			return azureStatus(200, "", `{"Error":{"Code":"x"}}`)
		}, nil, "answer has no Items"},
		{"price of the wrong type", func(*testing.T) http.HandlerFunc {
			return azureStatus(200, "", `{"Items":[{"retailPrice":"cheap"}]}`)
		}, nil, "decoding answer"},
		{"answer too large", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				writeAzurePage(t, w, []azureItem{big, big}, "")
			}
		}, func(o *AzureOptions) { o.MaxResponseBytes = 1000 }, "larger than"},
		{"answer too large without Content-Length", func(t *testing.T) http.HandlerFunc {
			return func(w http.ResponseWriter, _ *http.Request) {
				// The client hangs up once past its limit, so writes may fail
				// here: that is the point, not an error of the test.
				for range 10 {
					_, _ = fmt.Fprint(w, strings.Repeat(" ", 200))
					w.(http.Flusher).Flush()
				}
				_, _ = fmt.Fprint(w, `{"Items":[],"NextPageLink":""}`)
			}
		}, func(o *AzureOptions) { o.MaxResponseBytes = 1000 },
			"answer is larger than the 1000 bytes allowed"},
		{"redirect status", func(*testing.T) http.HandlerFunc {
			return azureStatus(304, "", "")
		}, nil, "HTTP 304"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv, requests := azureScript(t, tc.handler(t))
			f, sleeps := newTestAzureFetcher(t, srv, tc.edit)

			prices, err := f.Fetch(t.Context())
			require.ErrorContains(t, err, tc.wantErr)
			require.ErrorContains(t, err, `region "eastus": page 1`)
			require.Empty(t, prices)
			require.Equal(t, int32(1), requests.Load(), "garbage is not retried")
			require.Empty(t, sleeps.all())
		})
	}
}

func TestAzurePageLoops(t *testing.T) {
	for _, tc := range []struct {
		name         string
		next         func(srvURL string, n int32) string
		wantErr      string
		wantRequests int32
	}{
		{"link to itself", func(u string, _ int32) string {
			return u + "/api/retail/prices?$skip=0"
		}, "page 3: NextPageLink repeats an earlier page", 2},
		{"two pages in a loop", func(u string, n int32) string {
			return u + "/api/retail/prices?$skip=" + strconv.Itoa(int(n%2))
		}, "page 4: NextPageLink repeats an earlier page", 3},
		{"endless pages", func(u string, n int32) string {
			return u + "/api/retail/prices?$skip=" + strconv.Itoa(int(n))
		}, "more than 5 pages (max_pages)", 5},
		{"link to another host", func(string, int32) string {
			return "https://prices.example.invalid/api/retail/prices?$skip=1"
		}, "NextPageLink leads to https://prices.example.invalid", 1},
		{"link to another port", func(u string, _ int32) string {
			return strings.Replace(u, "127.0.0.1:", "127.0.0.1:1", 1) + "/x"
		}, "NextPageLink leads to", 1},
		{"unparsable link", func(string, int32) string {
			return "http://[::1"
		}, "NextPageLink", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var requests atomic.Int32
			var srvURL string
			srv := azureTestServer(t, func(w http.ResponseWriter, _ *http.Request) {
				n := requests.Add(1)
				writeAzurePage(t, w, []azureItem{azureVMRow(nil)}, tc.next(srvURL, n))
			})
			srvURL = srv.URL
			f, _ := newTestAzureFetcher(t, srv, func(o *AzureOptions) { o.MaxPages = 5 })

			prices, err := f.Fetch(t.Context())
			require.ErrorContains(t, err, tc.wantErr)
			require.Equal(t, tc.wantRequests, requests.Load())
			// What was read before the loop showed is still returned.
			azureRequireValid(t, prices)
			require.Len(t, prices, 1)
		})
	}
}

func TestAzureSameHost(t *testing.T) {
	parse := func(s string) *url.URL {
		u, err := url.Parse(s)
		require.NoError(t, err)
		return u
	}
	for _, tc := range []struct {
		a, b string
		want bool
	}{
		{"https://prices.azure.com:443/x", "https://prices.azure.com", true},
		{"https://PRICES.azure.com/x", "https://prices.azure.com", true},
		{"http://127.0.0.1:80/", "http://127.0.0.1", true},
		{"https://prices.azure.com:8443/", "https://prices.azure.com", false},
		{"https://prices.azure.com.example/", "https://prices.azure.com", false},
	} {
		require.Equal(t, tc.want, azureSameHost(parse(tc.a), parse(tc.b)), tc.a)
	}
}

func TestAzurePartialFailure(t *testing.T) {
	srv := azureTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.URL.Query().Get("$filter"), "'westeurope'") {
			http.Error(w, "no such region", http.StatusNotFound)
			return
		}
		writeAzurePage(t, w, []azureItem{azureVMRow(nil)}, "")
	})
	f, _ := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
		o.Regions = []string{"westeurope", "eastus"}
	})

	prices, err := f.Fetch(t.Context())
	require.ErrorContains(t, err, `region "westeurope": page 1: HTTP 404`)
	require.ErrorContains(t, err, AzureSource+" at "+srv.URL)
	azureRequireValid(t, prices)
	require.Len(t, prices, 1)
	require.Equal(t, "eastus", prices[0].Region)
}

func TestAzureBackoffIsCappedFullJitter(t *testing.T) {
	f := &AzureFetcher{backoffBase: 10 * time.Millisecond, backoffMax: 50 * time.Millisecond}
	for _, tc := range []struct {
		attempt int
		ceiling time.Duration
	}{
		{0, 10 * time.Millisecond},
		{1, 20 * time.Millisecond},
		{2, 40 * time.Millisecond},
		{3, 50 * time.Millisecond},
		{62, 50 * time.Millisecond},
	} {
		for range 200 {
			d := f.backoff(tc.attempt)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, tc.ceiling, "attempt %d", tc.attempt)
		}
	}
}

func TestAzureConnectionRefusedIsRetried(t *testing.T) {
	// A server that was started and closed leaves a loopback port nobody
	// listens on.
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close()
	f, sleeps := newTestAzureFetcher(t, srv, func(o *AzureOptions) {
		o.HTTPClient = &http.Client{}
		o.Retries = 2
	})

	_, err := f.Fetch(t.Context())
	require.ErrorContains(t, err, "giving up after 3 attempts")
	require.ErrorContains(t, err, "connection refused")
	require.NotContains(t, err.Error(), "$filter", "the long request URL is left out")
	require.Len(t, sleeps.all(), 2)
}
