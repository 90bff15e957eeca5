package pricing

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/billing/apiv1/billingpb"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/option"
	"google.golang.org/genproto/googleapis/type/money"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// The tests run the real Cloud Billing REST client against httptest servers
// on loopback. Nothing may reach Google: each fetcher is built with
// WithoutAuthentication, GCE_METADATA_HOST points at a closed loopback port,
// and (except in TestGCPFetchDefaultTransport) the HTTP client refuses to
// dial anything but loopback.

// gcpSKUsPath is the path the client requests Compute Engine SKUs from.
const gcpSKUsPath = "/v1/" + GCPComputeService + "/skus"

// gcpFixtureTime is the effectiveTime of every SKU in testdata/gcp.
var gcpFixtureTime = time.Date(2026, 7, 30, 6, 0, 0, 0, time.UTC)

// closedLoopbackAddr returns a loopback address nothing listens on.
func closedLoopbackAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// loopbackOnlyClient is an HTTP client that fails the test if anything makes
// it dial an address other than loopback.
func loopbackOnlyClient(t *testing.T) *http.Client {
	t.Helper()
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			host, _, err := net.SplitHostPort(addr)
			if ip := net.ParseIP(host); err != nil || ip == nil || !ip.IsLoopback() {
				t.Errorf("the test client was asked to dial %s, which is not loopback", addr)
				return nil, fmt.Errorf("dial %s: not a loopback address", addr)
			}
			return dialer.DialContext(ctx, network, addr)
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return &http.Client{Transport: transport}
}

// isolateFromGoogle keeps the libraries from finding credentials or a
// metadata server outside the test.
func isolateFromGoogle(t *testing.T) {
	t.Helper()
	t.Setenv("GCE_METADATA_HOST", closedLoopbackAddr(t))
	t.Setenv("GOOGLE_APPLICATION_CREDENTIALS", filepath.Join(t.TempDir(), "absent.json"))
}

// newTestGCPFetcher returns a fetcher for the catalog at endpoint, with
// millisecond backoffs.
func newTestGCPFetcher(t *testing.T, endpoint string, opts GCPOptions) *GCPFetcher {
	t.Helper()
	isolateFromGoogle(t)
	opts.Endpoint = endpoint
	opts.ClientOptions = append(opts.ClientOptions, option.WithoutAuthentication())
	opts.HTTPClient = loopbackOnlyClient(t)
	if opts.BackoffBase == 0 {
		opts.BackoffBase = time.Millisecond
		opts.BackoffMax = 10 * time.Millisecond
	}
	f, err := NewGCPFetcher(t.Context(), opts)
	require.NoError(t, err)
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// gcpCatalogServer is a fake Cloud Billing API. handle answers the n-th
// request (from 0) for Compute Engine SKUs; anything else is a test failure.
type gcpCatalogServer struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
}

func newGCPCatalogServer(t *testing.T,
	handle func(w http.ResponseWriter, r *http.Request, n int)) *gcpCatalogServer {
	t.Helper()
	s := &gcpCatalogServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != gcpSKUsPath {
			t.Errorf("unexpected request %s %s", r.Method, r.URL)
			http.NotFound(w, r)
			return
		}
		s.mu.Lock()
		n := len(s.requests)
		s.requests = append(s.requests, r)
		s.mu.Unlock()
		handle(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

// Requests returns the requests received so far.
func (s *gcpCatalogServer) Requests() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

// readGCPFixture returns a file of testdata/gcp.
func readGCPFixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "gcp", name))
	require.NoError(t, err)
	return b
}

// writeJSON answers with a JSON body.
func writeJSON(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}

// writeGoogleError answers with an error in the shape Google APIs use.
func writeGoogleError(w http.ResponseWriter, status int, grpcStatus string) {
	body := fmt.Sprintf(`{"error":{"code":%d,"message":"test says %s","status":%q}}`,
		status, http.StatusText(status), grpcStatus)
	writeJSON(w, status, []byte(body))
}

// serveFixturePages answers with testdata/gcp/page1.json, page2.json and
// page3.json, chosen by the page token they chain with.
func serveFixturePages(t *testing.T) func(http.ResponseWriter, *http.Request, int) {
	pages := map[string]string{"": "page1.json", "tok-page-2": "page2.json",
		"tok-page-3": "page3.json"}
	return func(w http.ResponseWriter, r *http.Request, _ int) {
		name, ok := pages[r.URL.Query().Get("pageToken")]
		if !ok {
			writeGoogleError(w, http.StatusBadRequest, "INVALID_ARGUMENT")
			return
		}
		writeJSON(w, http.StatusOK, readGCPFixture(t, name))
	}
}

// fetchGCPFixtureCatalog reads the three fixture pages for us-central1 and
// europe-west1.
func fetchGCPFixtureCatalog(t *testing.T) ([]Price, *GCPFetcher, *gcpCatalogServer) {
	t.Helper()
	srv := newGCPCatalogServer(t, serveFixturePages(t))
	f := newTestGCPFetcher(t, srv.URL, GCPOptions{Regions: []string{"us-central1",
		"europe-west1"}})
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	prices, err := f.Fetch(ctx)
	require.NoError(t, err)
	return prices, f, srv
}

// priceByKey indexes prices by key, failing on a duplicate.
func priceByKey(t *testing.T, prices []Price) map[Key]Price {
	t.Helper()
	byKey := map[Key]Price{}
	for _, p := range prices {
		_, dup := byKey[p.Key]
		require.False(t, dup, "two prices for %s", p.Key)
		byKey[p.Key] = p
	}
	return byKey
}

func TestGCPFetchPaginatedCatalog(t *testing.T) {
	prices, f, srv := fetchGCPFixtureCatalog(t)

	var tokens []string
	for _, r := range srv.Requests() {
		tokens = append(tokens, r.URL.Query().Get("pageToken"))
		require.Empty(t, r.URL.Query().Get("currencyCode"))
		require.Empty(t, r.Header.Values(gcpFetchHeader), "internal header sent")
	}
	require.Equal(t, "5000", srv.Requests()[0].URL.Query().Get("pageSize"))
	require.Equal(t, []string{"", "tok-page-2", "tok-page-3"}, tokens)

	stats := f.LastStats()
	require.Equal(t, 3, stats.Pages)
	require.Equal(t, 33, stats.SKUs)
	require.Equal(t, len(prices), stats.Prices)
	require.Empty(t, stats.Skipped)
	require.Equal(t, map[string]int{
		GCPIgnoreNotCompute: 1, // Storage PD Capacity
		GCPIgnoreNotMachine: 2, // a commitment and a GPU
		GCPIgnoreVariant:    1, // N2 Custom
		GCPIgnoreRegion:     1, // asia-east1
	}, stats.Ignored)

	for _, p := range prices {
		require.NoError(t, p.Validate())
		require.Equal(t, "gcp", p.Cloud)
		require.Equal(t, GCPSource, p.Source)
		require.Equal(t, "USD", p.Currency)
		require.Equal(t, gcpFixtureTime, p.AsOf.UTC())
		require.Contains(t, []string{"us-central1", "europe-west1"}, p.Region)
	}

	byKey := priceByKey(t, prices)
	tests := []struct {
		key       Key
		want      float64
		vcpu, gib float64
	}{
		{Key{"gcp", "us-central1", KindVCPU, "n2", "", OnDemand}, 0.031611, 0, 0},
		{Key{"gcp", "us-central1", KindMemory, "n2", "", OnDemand}, 0.004237, 0, 0},
		{Key{"gcp", "europe-west1", KindVCPU, "c2", "", OnDemand}, 0.037381, 0, 0},
		{Key{"gcp", "us-central1", KindVCPU, "n2", "", Spot}, 0.007602, 0, 0},
		{Key{"gcp", "us-central1", KindMemory, "n2", "", Spot}, 0.001019, 0, 0},
		{Key{"gcp", "us-central1", KindCompute, "n2-standard-4", "linux", Spot},
			4*0.007602 + 16*0.001019, 4, 16},
		// The list price of an n1-standard-1 has long been $0.0475 an hour.
		{Key{"gcp", "us-central1", KindCompute, "n1-standard-1", "linux", OnDemand},
			0.04749975, 1, 3.75},
		{Key{"gcp", "us-central1", KindCompute, "n1-highcpu-2", "linux", OnDemand},
			2*0.031611 + 1.8*0.004237, 2, 1.8},
		{Key{"gcp", "us-central1", KindCompute, "e2-micro", "linux", OnDemand},
			0.25*0.02181153 + 0.00292354, 0.25, 1},
		{Key{"gcp", "europe-west1", KindCompute, "c3-highcpu-176", "linux", OnDemand},
			176*0.03815312 + 352*0.00433613, 176, 352},
	}
	for _, tt := range tests {
		t.Run(tt.key.String(), func(t *testing.T) {
			p, ok := byKey[tt.key]
			require.True(t, ok, "no price for %s", tt.key)
			require.InEpsilon(t, tt.want, p.Value, 1e-12)
			require.Equal(t, UnitOf(tt.key.Kind), p.Unit)
			require.Equal(t, tt.vcpu, p.VCPU)
			require.Equal(t, tt.gib, p.MemoryGiB)
		})
	}

	// Asia was not asked for; europe-west1 has no n1 and no spot SKUs.
	for _, missing := range []Key{
		{"gcp", "asia-east1", KindVCPU, "n2", "", OnDemand},
		{"gcp", "europe-west1", KindCompute, "n1-standard-1", "linux", OnDemand},
		{"gcp", "europe-west1", KindCompute, "n2-standard-4", "linux", Spot},
	} {
		require.NotContains(t, byKey, missing)
	}
}

// TestGCPComputePricesMatchCSV checks every machine price Stratus adds up
// against the gcp rows of the shared price data (testdata/gcp/compute.csv),
// from the per-vCPU and per-GiB rates those rows imply (testdata/gcp/README.md
// shows the working).
func TestGCPComputePricesMatchCSV(t *testing.T) {
	prices, _, _ := fetchGCPFixtureCatalog(t)
	byKey := priceByKey(t, prices)

	file, err := os.Open(filepath.Join("testdata", "gcp", "compute.csv"))
	require.NoError(t, err)
	defer file.Close()
	rows, err := csv.NewReader(file).ReadAll()
	require.NoError(t, err)
	require.Equal(t, []string{"cloud", "region", "instance_type", "vcpu", "memory_gib",
		"gpu", "os", "price_per_hour_usd", "source"}, rows[0])

	checked := 0
	for _, row := range rows[1:] {
		if row[5] != "0" {
			continue // GPU machines: the GPU is priced by SKUs Stratus does not read
		}
		t.Run(row[1]+"/"+row[2], func(t *testing.T) {
			key := Key{Cloud: "gcp", Region: row[1], Kind: KindCompute, Product: row[2],
				OS: "linux", Purchase: OnDemand}
			p, ok := byKey[key]
			require.True(t, ok, "no price for %s", key)
			want, err := strconv.ParseFloat(row[7], 64)
			require.NoError(t, err)
			// The CSV rounds to 6 decimals.
			require.InDelta(t, want, p.Value, 5e-7+1e-12)
			require.Equal(t, row[3], strconv.FormatFloat(p.VCPU, 'g', -1, 64))
			require.Equal(t, row[4], strconv.FormatFloat(p.MemoryGiB, 'g', -1, 64))
		})
		checked++
	}
	require.Equal(t, 94, checked)

	n2 := byKey[Key{"gcp", "us-central1", KindCompute, "n2-standard-4", "linux", OnDemand}]
	require.InEpsilon(t, 0.194236, n2.Value, 1e-6)
}

// TestGCPFetchDefaultTransport runs the client as production builds it,
// with the transport google.golang.org/api builds, only without
// authentication.
func TestGCPFetchDefaultTransport(t *testing.T) {
	isolateFromGoogle(t)
	newFetcher := func(endpoint string) *GCPFetcher {
		f, err := NewGCPFetcher(t.Context(), GCPOptions{
			Regions:       []string{"us-central1"},
			Endpoint:      endpoint,
			ClientOptions: []option.ClientOption{option.WithoutAuthentication()},
		})
		require.NoError(t, err)
		t.Cleanup(func() { _ = f.Close() })
		return f
	}

	srv := newGCPCatalogServer(t, serveFixturePages(t))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	prices, err := newFetcher(srv.URL).Fetch(ctx)
	require.NoError(t, err)
	require.Len(t, srv.Requests(), 3)
	require.Contains(t, priceByKey(t, prices),
		Key{"gcp", "us-central1", KindCompute, "n2-standard-4", "linux", OnDemand})

	// The ctx of Fetch reaches requests on this transport too.
	release := make(chan struct{})
	hanging := newGCPCatalogServer(t, func(_ http.ResponseWriter, r *http.Request, _ int) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	ctx, cancel = context.WithTimeout(t.Context(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = newFetcher(hanging.URL).Fetch(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 5*time.Second)
}

func TestGCPFetchRetries(t *testing.T) {
	tests := []struct {
		name string
		// answers are the statuses of the first requests; later ones succeed.
		answers    []int
		retryAfter string
		retries    int
		wantCalls  int
		wantStatus int // 0: the fetch succeeds
		minElapsed time.Duration
	}{
		{name: "429 with Retry-After, then success", answers: []int{429},
			retryAfter: "1", wantCalls: 2, minElapsed: time.Second},
		{name: "503 twice, then success", answers: []int{503, 503}, wantCalls: 3},
		{name: "429 without Retry-After, then success", answers: []int{429}, wantCalls: 2},
		{name: "500 until the retries run out", answers: []int{500, 500, 500, 500},
			retries: 2, wantCalls: 3, wantStatus: 500},
		{name: "retries disabled", answers: []int{503}, retries: -1, wantCalls: 1,
			wantStatus: 503},
		{name: "Retry-After too long", answers: []int{429}, retryAfter: "3600",
			wantCalls: 1, wantStatus: 429},
		{name: "403 is not retried", answers: []int{403}, wantCalls: 1, wantStatus: 403},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGCPCatalogServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				if n < len(tt.answers) {
					if tt.retryAfter != "" {
						w.Header().Set("Retry-After", tt.retryAfter)
					}
					writeGoogleError(w, tt.answers[n], "UNAVAILABLE")
					return
				}
				writeJSON(w, http.StatusOK, readGCPFixture(t, "page3.json"))
			})
			f := newTestGCPFetcher(t, srv.URL, GCPOptions{Retries: tt.retries,
				MaxRetryAfter: 10 * time.Second, Regions: []string{"europe-west1"}})

			ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
			defer cancel()
			start := time.Now()
			prices, err := f.Fetch(ctx)
			require.GreaterOrEqual(t, time.Since(start), tt.minElapsed)
			require.Len(t, srv.Requests(), tt.wantCalls)

			if tt.wantStatus == 0 {
				require.NoError(t, err)
				require.NotEmpty(t, prices)
				return
			}
			require.Empty(t, prices)
			var apiErr *googleapi.Error
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.wantStatus, apiErr.Code)
			require.ErrorContains(t, err, GCPSource+": list SKUs of "+GCPComputeService+
				" (0 pages read)")
		})
	}
}

func TestGCPFetchHonoursTimeouts(t *testing.T) {
	tests := []struct {
		name string
		// hang is how many requests the server leaves unanswered before it
		// answers; -1 for all of them.
		hang           int
		fetchTimeout   time.Duration
		requestTimeout time.Duration
		retries        int
		wantCalls      int
		wantErr        bool
	}{
		{name: "the ctx of Fetch ends", hang: -1, fetchTimeout: 300 * time.Millisecond,
			requestTimeout: time.Minute, wantCalls: 1, wantErr: true},
		{name: "a request times out and is retried", hang: 1, fetchTimeout: 30 * time.Second,
			requestTimeout: 200 * time.Millisecond, wantCalls: 2},
		{name: "every request times out", hang: -1, fetchTimeout: 30 * time.Second,
			requestTimeout: 100 * time.Millisecond, retries: 2, wantCalls: 3, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release := make(chan struct{})
			srv := newGCPCatalogServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
				if tt.hang < 0 || n < tt.hang {
					select {
					case <-r.Context().Done():
					case <-release:
					}
					return
				}
				writeJSON(w, http.StatusOK, readGCPFixture(t, "page3.json"))
			})
			defer close(release) // before the server's cleanup waits for handlers
			f := newTestGCPFetcher(t, srv.URL, GCPOptions{
				Regions:        []string{"europe-west1"},
				RequestTimeout: model.Duration(tt.requestTimeout),
				Retries:        tt.retries,
			})

			ctx, cancel := context.WithTimeout(t.Context(), tt.fetchTimeout)
			defer cancel()
			start := time.Now()
			prices, err := f.Fetch(ctx)
			require.Less(t, time.Since(start), 5*time.Second)
			require.Len(t, srv.Requests(), tt.wantCalls)
			if !tt.wantErr {
				require.NoError(t, err)
				require.NotEmpty(t, prices)
				return
			}
			require.ErrorIs(t, err, context.DeadlineExceeded)
			require.ErrorContains(t, err, "(0 pages read)")
			require.Empty(t, prices)
		})
	}
}

func TestGCPFetchTruncatedJSON(t *testing.T) {
	page1 := readGCPFixture(t, "page1.json")
	truncated := readGCPFixture(t, "page2.json")[:700]
	tests := []struct {
		name       string
		pages      [][]byte
		wantPage   string
		wantPrices bool
	}{
		{name: "first page", pages: [][]byte{truncated}, wantPage: "(0 pages read)"},
		{name: "second page", pages: [][]byte{page1, truncated}, wantPage: "(1 pages read)",
			wantPrices: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGCPCatalogServer(t, func(w http.ResponseWriter, _ *http.Request, n int) {
				writeJSON(w, http.StatusOK, tt.pages[min(n, len(tt.pages)-1)])
			})
			f := newTestGCPFetcher(t, srv.URL, GCPOptions{})

			prices, err := f.Fetch(t.Context())
			require.ErrorContains(t, err, "list SKUs of "+GCPComputeService+" "+tt.wantPage)
			require.ErrorContains(t, err, "unexpected EOF")
			require.Len(t, srv.Requests(), len(tt.pages), "malformed JSON is not retried")
			if !tt.wantPrices {
				require.Empty(t, prices)
				return
			}
			// What the first page held is still returned.
			require.Contains(t, priceByKey(t, prices),
				Key{"gcp", "us-central1", KindCompute, "n2-standard-4", "linux", OnDemand})
		})
	}
}

// gcpTestSKU is a vCPU (unit "h") or memory (unit "GiBy.h") SKU in the
// documented JSON shape, for tests to change.
func gcpTestSKU(id, description, usageType, unit string, units int64, nanos int32,
	regions ...string) map[string]any {
	base := map[string]any{"baseUnit": "s", "baseUnitConversionFactor": 3600}
	if unit != "h" {
		base = map[string]any{"baseUnit": "By.s", "baseUnitConversionFactor": 3865470566400.0}
	}
	expr := map[string]any{
		"usageUnit": unit,
		"tieredRates": []any{map[string]any{
			"startUsageAmount": 0,
			"unitPrice": map[string]any{"currencyCode": "USD",
				"units": strconv.FormatInt(units, 10), "nanos": nanos},
		}},
	}
	for k, v := range base {
		expr[k] = v
	}
	return map[string]any{
		"name":        "services/6F81-5844-456A/skus/" + id,
		"skuId":       id,
		"description": description,
		"category": map[string]any{"serviceDisplayName": "Compute Engine",
			"resourceFamily": "Compute", "resourceGroup": "CPU", "usageType": usageType},
		"serviceRegions": regions,
		"pricingInfo": []any{map[string]any{
			"pricingExpression": expr,
			"effectiveTime":     "2026-07-30T06:00:00Z",
		}},
	}
}

// gcpTestPage is one page holding skus, and no next page.
func gcpTestPage(t *testing.T, skus ...map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(map[string]any{"skus": skus})
	require.NoError(t, err)
	return b
}

// gcpTier returns the first tier of a gcpTestSKU for a test to change.
func gcpTier(sku map[string]any) map[string]any {
	info := sku["pricingInfo"].([]any)[0].(map[string]any)
	expr := info["pricingExpression"].(map[string]any)
	return expr["tieredRates"].([]any)[0].(map[string]any)
}

// gcpExpr returns the pricing expression of a gcpTestSKU.
func gcpExpr(sku map[string]any) map[string]any {
	info := sku["pricingInfo"].([]any)[0].(map[string]any)
	return info["pricingExpression"].(map[string]any)
}

func TestGCPFetchSkipsWhatItCannotRead(t *testing.T) {
	n2Core := func() map[string]any {
		return gcpTestSKU("T001", "N2 Instance Core running in Americas", "OnDemand", "h",
			0, 31611000, "us-central1")
	}
	n2Ram := func() map[string]any {
		return gcpTestSKU("T002", "N2 Instance Ram running in Americas", "OnDemand",
			"GiBy.h", 0, 4237000, "us-central1")
	}
	c3Core := func() map[string]any {
		return gcpTestSKU("T003", "C3 Instance Core running in Americas", "OnDemand", "h",
			0, 34650000, "us-central1")
	}
	c3Ram := func() map[string]any {
		return gcpTestSKU("T004", "C3 Instance Ram running in Americas", "OnDemand",
			"GiBy.h", 0, 3938000, "us-central1")
	}
	with := func(sku map[string]any, change func(map[string]any)) map[string]any {
		change(sku)
		return sku
	}

	tests := []struct {
		name string
		// extra are SKUs next to a good N2 vCPU and memory pair.
		extra      []map[string]any
		want       map[string]int
		wantN2Gone bool
	}{
		{
			name: "unknown usage unit",
			extra: []map[string]any{c3Core(), with(c3Ram(), func(s map[string]any) {
				gcpExpr(s)["usageUnit"] = "GBy.mo"
			})},
			// The memory SKU, and then the family it leaves without memory.
			want: map[string]int{GCPSkipUnit: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "memory unit on a vCPU SKU",
			extra: []map[string]any{with(c3Core(), func(s map[string]any) {
				gcpExpr(s)["usageUnit"] = "GiBy.h"
			}), c3Ram()},
			want: map[string]int{GCPSkipUnit: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "conversion factor disagrees with the units",
			extra: []map[string]any{c3Core(), with(c3Ram(), func(s map[string]any) {
				gcpExpr(s)["baseUnitConversionFactor"] = 3600
			})},
			want: map[string]int{GCPSkipUnitFactor: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "unknown base unit",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				gcpExpr(s)["baseUnit"] = "core.s"
			})},
			want: map[string]int{GCPSkipUnitFactor: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "no pricing info",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				s["pricingInfo"] = []any{}
			})},
			want: map[string]int{GCPSkipNoPricing: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "only a zero price",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				gcpTier(s)["unitPrice"].(map[string]any)["nanos"] = 0
			})},
			want: map[string]int{GCPSkipNoPaidTier: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "negative price",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				gcpTier(s)["unitPrice"].(map[string]any)["nanos"] = -34650000
			})},
			want: map[string]int{GCPSkipBadPrice: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "units and nanos of different signs",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				gcpTier(s)["unitPrice"].(map[string]any)["units"] = "1"
				gcpTier(s)["unitPrice"].(map[string]any)["nanos"] = -5
			})},
			want: map[string]int{GCPSkipBadPrice: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "no currency",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				delete(gcpTier(s)["unitPrice"].(map[string]any), "currencyCode")
			})},
			want: map[string]int{GCPSkipNoCurrency: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "vCPU and memory in different currencies",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				gcpTier(s)["unitPrice"].(map[string]any)["currencyCode"] = "EUR"
			})},
			want: map[string]int{GCPSkipCurrencyMix: 1},
		},
		{
			name: "unknown usage type",
			extra: []map[string]any{c3Ram(), with(c3Core(), func(s map[string]any) {
				s["category"].(map[string]any)["usageType"] = "Reserved"
			})},
			want: map[string]int{GCPSkipUsageType: 1, GCPSkipIncomplete: 1},
		},
		{
			name: "spot description with an on-demand usage type",
			extra: []map[string]any{gcpTestSKU("T005",
				"Spot Preemptible N2 Instance Core running in Americas", "OnDemand", "h",
				0, 7602000, "us-central1")},
			want: map[string]int{GCPSkipSpotMismatch: 1},
		},
		{
			name: "no service region",
			extra: []map[string]any{gcpTestSKU("T006", "C3 Instance Core running in Americas",
				"OnDemand", "h", 0, 34650000)},
			want: map[string]int{GCPSkipNoRegion: 1},
		},
		{
			name: "two vCPU prices for one family and region",
			extra: []map[string]any{gcpTestSKU("T007", "N2 Instance Core running in Americas",
				"OnDemand", "h", 0, 31000000, "us-central1")},
			want:       map[string]int{GCPSkipConflict: 2},
			wantN2Gone: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			page := gcpTestPage(t, append([]map[string]any{n2Core(), n2Ram()}, tt.extra...)...)
			srv := newGCPCatalogServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, http.StatusOK, page)
			})
			f := newTestGCPFetcher(t, srv.URL, GCPOptions{})

			prices, err := f.Fetch(t.Context())
			var skipErr *GCPSkipError
			require.ErrorAs(t, err, &skipErr)
			require.Equal(t, tt.want, skipErr.Counts)
			require.Equal(t, tt.want, f.LastStats().Skipped)
			require.ErrorContains(t, err, GCPSource+": ")

			byKey := priceByKey(t, prices)
			n2 := Key{"gcp", "us-central1", KindCompute, "n2-standard-4", "linux", OnDemand}
			if tt.wantN2Gone {
				require.NotContains(t, byKey, n2)
				require.NotContains(t, byKey, Key{"gcp", "us-central1", KindVCPU, "n2", "",
					OnDemand})
			} else {
				require.Contains(t, byKey, n2, "a bad SKU spoils only its own prices")
			}
			for _, p := range prices {
				require.NoError(t, p.Validate())
				require.NotEqual(t, "c3-standard-4", p.Product)
			}
		})
	}
}

func TestGCPFetchRegions(t *testing.T) {
	page := gcpTestPage(t,
		gcpTestSKU("R001", "E2 Instance Core running in Americas", "OnDemand", "h",
			0, 21811530, "us-central1", "us-east1"),
		gcpTestSKU("R002", "E2 Instance Ram running in Americas", "OnDemand", "GiBy.h",
			0, 2923540, "us-central1", "us-east1"),
		gcpTestSKU("R003", "E2 Instance Core running in APAC", "OnDemand", "h",
			0, 25000000, "asia-east1"),
	)
	tests := []struct {
		name        string
		regions     []string
		wantRegions []string
		wantIgnored int
	}{
		{name: "one region asked for", regions: []string{"us-central1"},
			wantRegions: []string{"us-central1"}, wantIgnored: 1},
		{name: "every region", wantRegions: []string{"asia-east1", "us-central1", "us-east1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newGCPCatalogServer(t, func(w http.ResponseWriter, _ *http.Request, _ int) {
				writeJSON(w, http.StatusOK, page)
			})
			f := newTestGCPFetcher(t, srv.URL, GCPOptions{Regions: tt.regions})

			prices, err := f.Fetch(t.Context())
			// asia-east1 has a vCPU price and no memory price: with every region
			// asked for, its e2 machine types cannot be priced, and that is said.
			var skipErr *GCPSkipError
			if len(tt.regions) == 0 {
				require.ErrorAs(t, err, &skipErr)
				require.Equal(t, map[string]int{GCPSkipIncomplete: 1}, skipErr.Counts)
			} else {
				require.NoError(t, err)
			}
			regions := map[string]bool{}
			for _, p := range prices {
				regions[p.Region] = true
			}
			var got []string
			for _, r := range []string{"asia-east1", "us-central1", "us-east1"} {
				if regions[r] {
					got = append(got, r)
				}
			}
			require.Equal(t, tt.wantRegions, got)
			require.Equal(t, tt.wantIgnored, f.LastStats().Ignored[GCPIgnoreRegion])
		})
	}
}

func TestGCPFetchOtherCurrency(t *testing.T) {
	core := gcpTestSKU("E001", "N2 Instance Core running in EMEA", "OnDemand", "h",
		0, 32000000, "europe-west1")
	ram := gcpTestSKU("E002", "N2 Instance Ram running in EMEA", "OnDemand", "GiBy.h",
		0, 4290000, "europe-west1")
	for _, sku := range []map[string]any{core, ram} {
		gcpTier(sku)["unitPrice"].(map[string]any)["currencyCode"] = "EUR"
		sku["pricingInfo"].([]any)[0].(map[string]any)["currencyConversionRate"] = 0.92
	}
	page := gcpTestPage(t, core, ram)
	srv := newGCPCatalogServer(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		if got := r.URL.Query().Get("currencyCode"); got != "EUR" {
			t.Errorf("currencyCode = %q, want EUR", got)
		}
		writeJSON(w, http.StatusOK, page)
	})
	f := newTestGCPFetcher(t, srv.URL, GCPOptions{Currency: "EUR"})

	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	require.NotEmpty(t, prices)
	for _, p := range prices {
		require.Equal(t, "EUR", p.Currency, "%s", p.Key)
	}
	p := priceByKey(t, prices)[Key{"gcp", "europe-west1", KindCompute, "n2-standard-2",
		"linux", OnDemand}]
	require.InEpsilon(t, 2*0.032+8*0.00429, p.Value, 1e-12)
}

func TestParseGCPMachineSKU(t *testing.T) {
	tests := []struct {
		description string
		want        gcpMachineSKU
		wantIgnore  string
	}{
		{"N2 Instance Core running in Americas", gcpMachineSKU{"n2", KindVCPU, false}, ""},
		{"N2 Instance Ram running in Americas", gcpMachineSKU{"n2", KindMemory, false}, ""},
		{"Spot Preemptible N2D AMD Instance Ram running in EMEA",
			gcpMachineSKU{"n2d", KindMemory, true}, ""},
		{"Preemptible N1 Predefined Instance Core running in Americas",
			gcpMachineSKU{"n1", KindVCPU, true}, ""},
		{"Compute optimized Core running in Sydney", gcpMachineSKU{"c2", KindVCPU, false}, ""},
		{"T2A Arm Instance Core running in Americas", gcpMachineSKU{"t2a", KindVCPU, false}, ""},
		{"C3 Instance Ram running in Montreal", gcpMachineSKU{"c3", KindMemory, false}, ""},
		{"N2 Custom Instance Core running in Americas", gcpMachineSKU{}, GCPIgnoreVariant},
		{"N2 Sole Tenancy Instance Ram running in Americas", gcpMachineSKU{},
			GCPIgnoreVariant},
		{"N1 Custom Extended Instance Ram running in Americas", gcpMachineSKU{},
			GCPIgnoreVariant},
		{"Custom Instance Core running in Americas", gcpMachineSKU{}, GCPIgnoreNotMachine},
		{"Commitment v1: N2 Cpu in Americas for 1 Year", gcpMachineSKU{},
			GCPIgnoreNotMachine},
		{"Micro Instance with burstable CPU running in Americas", gcpMachineSKU{},
			GCPIgnoreNotMachine},
		{"Nvidia Tesla T4 GPU running in Americas", gcpMachineSKU{}, GCPIgnoreNotMachine},
		{"", gcpMachineSKU{}, GCPIgnoreNotMachine},
	}
	for _, tt := range tests {
		t.Run(tt.description, func(t *testing.T) {
			got, ignore := parseGCPMachineSKU(tt.description)
			require.Equal(t, tt.wantIgnore, ignore)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestGCPRateOf(t *testing.T) {
	price := func(units int64, nanos int32) *billingpb.PricingExpression_TierRate {
		return &billingpb.PricingExpression_TierRate{
			UnitPrice: &money.Money{CurrencyCode: "USD", Units: units, Nanos: nanos}}
	}
	sku := func(unit, baseUnit string, factor float64,
		tiers ...*billingpb.PricingExpression_TierRate) *billingpb.Sku {
		return &billingpb.Sku{PricingInfo: []*billingpb.PricingInfo{{
			EffectiveTime: timestamppb.New(gcpFixtureTime),
			PricingExpression: &billingpb.PricingExpression{UsageUnit: unit,
				BaseUnit: baseUnit, BaseUnitConversionFactor: factor, TieredRates: tiers},
		}}}
	}
	tests := []struct {
		name       string
		sku        *billingpb.Sku
		kind       Kind
		want       float64
		wantReason string
	}{
		{"vCPU per hour", sku("h", "s", 3600, price(0, 31611000)), KindVCPU, 0.031611, ""},
		{"vCPU per second", sku("s", "s", 1, price(0, 9)), KindVCPU, 9e-9 * 3600, ""},
		{"memory per GiB-hour", sku("GiBy.h", "By.s", 3865470566400, price(0, 4237000)),
			KindMemory, 0.004237, ""},
		{"memory per decimal GB-hour", sku("GBy.h", "", 0, price(0, 4000000)),
			KindMemory, 0.004 * (1 << 30) / 1e9, ""},
		{"memory per MiB-hour", sku("MiBy.h", "By.s", 1<<20*3600, price(0, 5000)),
			KindMemory, 5e-6 * 1024, ""},
		{"whole units and nanos", sku("h", "", 0, price(2, 500000000)), KindVCPU, 2.5, ""},
		{"a free tier before the paid one", sku("h", "s", 3600, price(0, 0),
			price(0, 31611000)), KindVCPU, 0.031611, ""},
		{"the latest of a timeline", &billingpb.Sku{PricingInfo: append(
			sku("h", "", 0, price(1, 0)).GetPricingInfo(),
			sku("h", "", 0, price(0, 31611000)).GetPricingInfo()...)},
			KindVCPU, 0.031611, ""},
		{"per month", sku("GiBy.mo", "", 0, price(0, 40000000)), KindMemory, 0, GCPSkipUnit},
		{"a count", sku("count", "", 0, price(0, 1)), KindVCPU, 0, GCPSkipUnit},
		{"factor of a decimal GB", sku("GiBy.h", "By.s", 1e9*3600, price(0, 1)),
			KindMemory, 0, GCPSkipUnitFactor},
		{"no tiers", sku("h", "", 0), KindVCPU, 0, GCPSkipNoPaidTier},
		{"nanos out of range", sku("h", "", 0, price(0, 1e9)), KindVCPU, 0, GCPSkipBadPrice},
		{"no pricing expression", &billingpb.Sku{PricingInfo: []*billingpb.PricingInfo{{}}},
			KindVCPU, 0, GCPSkipNoPricing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rate, reason, _ := gcpRateOf(tt.sku, tt.kind)
			require.Equal(t, tt.wantReason, reason)
			if tt.wantReason != "" {
				return
			}
			require.InEpsilon(t, tt.want, rate.value, 1e-12)
			require.Equal(t, "USD", rate.currency)
			require.Equal(t, gcpFixtureTime, rate.asOf)
		})
	}
}

func TestGCPMachineShapes(t *testing.T) {
	byName := map[string]gcpMachineShape{}
	for family, shapes := range gcpMachineShapes {
		for _, s := range shapes {
			_, dup := byName[s.name]
			require.False(t, dup, "%s listed twice", s.name)
			require.Regexp(t, "^"+family+"-", s.name)
			byName[s.name] = s
		}
	}
	tests := []gcpMachineShape{
		{"e2-micro", 0.25, 1},
		{"e2-highcpu-32", 32, 32},
		{"n1-standard-96", 96, 360},
		{"n1-highmem-2", 2, 13},
		{"n2-highmem-96", 96, 768},
		{"n2d-standard-224", 224, 896},
		{"c2-standard-30", 30, 120},
		{"c3-highcpu-22", 22, 44},
		{"t2d-standard-60", 60, 240},
	}
	for _, want := range tests {
		require.Equal(t, want, byName[want.name])
	}
	require.NotContains(t, byName, "n2-highmem-128", "864 GiB breaks the series' ratio")
}

func TestNewGCPFetcherRejectsBadOptions(t *testing.T) {
	tests := []struct {
		name string
		opts GCPOptions
		want string
	}{
		{"empty region", GCPOptions{Regions: []string{"us-central1", " "}}, "regions[1]"},
		{"lower-case currency", GCPOptions{Currency: "usd"}, `currency "usd"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Both fail before a client, and so credentials, are looked for.
			_, err := NewGCPFetcher(t.Context(), tt.opts)
			require.ErrorContains(t, err, tt.want)
		})
	}
}

func TestGCPOptionsFromYAML(t *testing.T) {
	var opts GCPOptions
	err := yaml.Unmarshal([]byte("regions: [us-central1, europe-west1]\ncurrency: EUR\n"+
		"retries: 2\nrequest_timeout: 30s\n"), &opts)
	require.NoError(t, err)
	require.Equal(t, GCPOptions{Regions: []string{"us-central1", "europe-west1"},
		Currency: "EUR", Retries: 2, RequestTimeout: model.Duration(30 * time.Second)}, opts)
}

func TestGCPSkipErrorMessage(t *testing.T) {
	err := fmt.Errorf("%s: %w", GCPSource, &GCPSkipError{Counts: map[string]int{
		GCPSkipUnit: 2, GCPSkipConflict: 1}})
	require.EqualError(t, err, GCPSource+": 3 skipped (conflict=1, unit=2)")
	var skipErr *GCPSkipError
	require.True(t, errors.As(err, &skipErr))
}
