package pricing

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"
)

// The fake Price List API below answers GetProducts as AWS documents it: the
// JSON 1.1 protocol (POST /, X-Amz-Target AWSPriceListService.GetProducts),
// a response with FormatVersion, PriceList as an array of JSON documents
// encoded as strings, and NextToken; errors as a JSON body with __type.

const (
	awsTestAccessKey = "AKIDSTRATUSTEST"
	awsTestSecret    = "stratus-test-secret-never-logged"
	awsTestTarget    = "AWSPriceListService.GetProducts"
	awsTestJSON      = "application/x-amz-json-1.1"
)

// awsTestPublished is the publicationDate of every fixture.
var awsTestPublished = time.Date(2026, 7, 20, 16, 24, 6, 0, time.UTC)

// awsFakeFilter and awsFakeRequest are a GetProducts request as the fake API
// decodes it.
type awsFakeFilter struct {
	Type, Field, Value string
}

type awsFakeRequest struct {
	ServiceCode   string
	Filters       []awsFakeFilter
	FormatVersion string
	MaxResults    int
	NextToken     string
}

// filter returns the value a request's filter on field asks for.
func (r awsFakeRequest) filter(field string) string {
	for _, f := range r.Filters {
		if f.Field == field {
			return f.Value
		}
	}
	return ""
}

// key names the catalog list the request reads.
func (r awsFakeRequest) key() string {
	region := r.filter("regionCode")
	if region == "" {
		region = r.filter("fromRegionCode")
	}
	return awsFakeKey(r.ServiceCode, r.filter("productFamily"), region)
}

func awsFakeKey(serviceCode, family, region string) string {
	return serviceCode + "|" + family + "|" + region
}

// awsFakeAPI serves a catalog of price documents by service code, product
// family and region, pageSize documents a page.
type awsFakeAPI struct {
	t        *testing.T
	pageSize int
	docs     map[string][]string
	// intercept, when set, may answer request n (counted from 1) itself and
	// return true; otherwise the catalog answers.
	intercept func(w http.ResponseWriter, r *http.Request, n int, req awsFakeRequest) bool

	mu       sync.Mutex
	requests []awsFakeRequest
	headers  []http.Header
}

func (a *awsFakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		return // the client went away
	}
	var req awsFakeRequest
	if r.Method != http.MethodPost || r.URL.Path != "/" ||
		r.Header.Get("X-Amz-Target") != awsTestTarget ||
		r.Header.Get("Content-Type") != awsTestJSON ||
		json.Unmarshal(body, &req) != nil {
		a.t.Errorf("unexpected request %s %s %q: %s", r.Method, r.URL.Path,
			r.Header.Get("X-Amz-Target"), body)
		awsWriteError(w, http.StatusBadRequest, "SerializationException", "bad request")
		return
	}

	a.mu.Lock()
	a.requests = append(a.requests, req)
	a.headers = append(a.headers, r.Header.Clone())
	n := len(a.requests)
	a.mu.Unlock()
	if a.intercept != nil && a.intercept(w, r, n, req) {
		return
	}

	docs := a.docs[req.key()]
	start := 0
	if req.NextToken != "" {
		start, err = strconv.Atoi(strings.TrimPrefix(req.NextToken, "tok-"))
		if err != nil || start > len(docs) {
			awsWriteError(w, http.StatusBadRequest, "InvalidNextTokenException", "bad token")
			return
		}
	}
	end := min(start+a.pageSize, len(docs))
	next := ""
	if end < len(docs) {
		next = fmt.Sprintf("tok-%d", end)
	}
	awsWritePage(w, docs[start:end], next)
}

// snapshot returns the requests received so far.
func (a *awsFakeAPI) snapshot() ([]awsFakeRequest, []http.Header) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return slices.Clone(a.requests), slices.Clone(a.headers)
}

func awsWritePage(w http.ResponseWriter, docs []string, next string) {
	page := map[string]any{"FormatVersion": "aws_v1", "PriceList": docs}
	if docs == nil {
		page["PriceList"] = []string{}
	}
	if next != "" {
		page["NextToken"] = next
	}
	w.Header().Set("Content-Type", awsTestJSON)
	_ = json.NewEncoder(w).Encode(page)
}

func awsWriteError(w http.ResponseWriter, status int, errType, message string) {
	w.Header().Set("Content-Type", awsTestJSON)
	w.Header().Set("X-Amzn-RequestId", "c0ffee00-0000-4000-8000-000000000000")
	w.WriteHeader(status)
	_, _ = fmt.Fprintf(w, `{"__type":%q,"Message":%q}`, errType, message)
}

// awsTestEnv keeps the SDK away from the machine's AWS configuration and from
// the instance metadata service.
func awsTestEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(dir, "config"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(dir, "credentials"))
	for _, name := range []string{
		"AWS_PROFILE", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID",
		"AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL",
		"AWS_ENDPOINT_URL_PRICING", "AWS_RETRY_MODE", "AWS_MAX_ATTEMPTS",
		"AWS_CA_BUNDLE", "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_ROLE_ARN",
		"AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	} {
		t.Setenv(name, "")
	}
}

// awsTestFetcher starts api on loopback and returns a fetcher for regions
// that talks to it with static credentials and millisecond backoff.
func awsTestFetcher(
	t *testing.T,
	api *awsFakeAPI,
	regions []string,
	edit func(*AWSOptions),
) *AWSFetcher {
	t.Helper()
	awsTestEnv(t)
	if api.pageSize == 0 {
		api.pageSize = 100
	}
	server := httptest.NewServer(api)
	t.Cleanup(server.Close)

	opts := AWSOptions{
		Regions:     regions,
		Credentials: credentials.NewStaticCredentialsProvider(awsTestAccessKey, awsTestSecret, ""),
		Endpoint:    server.URL,
		HTTPClient:  server.Client(),
		MaxBackoff:  2 * time.Millisecond,
		Now:         func() time.Time { return time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC) },
	}
	if edit != nil {
		edit(&opts)
	}
	f, err := NewAWSFetcher(t.Context(), opts)
	require.NoError(t, err)
	return f
}

// awsFixture returns a document of testdata/aws as GetProducts sends it: on
// one line, in a JSON string.
func awsFixture(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", "aws", name))
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, json.Compact(&b, raw))
	return b.String()
}

// awsCatalog returns every fixture, filed the way the API files them.
func awsCatalog(t *testing.T) map[string][]string {
	t.Helper()
	ec2 := func(family, region string) string { return awsFakeKey("AmazonEC2", family, region) }
	return map[string][]string{
		ec2("Compute Instance", "us-east-1"): {
			awsFixture(t, "compute-m5.xlarge-us-east-1.json"),
			awsFixture(t, "compute-m5.large-us-east-1.json"),
			awsFixture(t, "compute-t3.micro-us-east-1.json"),
		},
		ec2("Compute Instance (bare metal)", "us-east-1"): {
			awsFixture(t, "compute-m5.metal-us-east-1.json"),
		},
		ec2("Storage", "us-east-1"): {
			awsFixture(t, "storage-gp3-us-east-1.json"),
			awsFixture(t, "storage-gp2-us-east-1.json"),
			awsFixture(t, "storage-io2-us-east-1.json"),
			awsFixture(t, "storage-st1-us-east-1.json"),
			awsFixture(t, "storage-sc1-us-east-1.json"),
		},
		awsFakeKey("AWSDataTransfer", "Data Transfer", "us-east-1"): {
			awsFixture(t, "egress-us-east-1.json"),
		},
		ec2("Compute Instance", "us-west-2"): {
			awsFixture(t, "compute-c5.large-us-west-2.json"),
		},
		ec2("Storage", "us-west-2"): {
			awsFixture(t, "storage-gp3-us-west-2.json"),
			awsFixture(t, "storage-standard-us-west-2.json"),
		},
		awsFakeKey("AWSDataTransfer", "Data Transfer", "us-west-2"): {
			awsFixture(t, "egress-us-west-2.json"),
		},
	}
}

// awsWant builds the price the fetcher should return.
func awsWant(region string, kind Kind, product string, value, vcpu, memory float64) Price {
	p := Price{
		Key: Key{
			Cloud: "aws", Region: region, Kind: kind, Product: product,
			Purchase: OnDemand,
		},
		Value: value, Unit: UnitOf(kind), Currency: "USD",
		Source: AWSPriceListSource, AsOf: awsTestPublished,
		VCPU: vcpu, MemoryGiB: memory,
	}
	if kind == KindCompute {
		p.OS = "linux"
	}
	return p
}

// awsWantUSEast1 is the us-east-1 catalog, in the order a fetch returns it;
// the prices are those of ../shared/data/prices.
func awsWantUSEast1() []Price {
	const r = "us-east-1"
	return []Price{
		awsWant(r, KindCompute, "m5.xlarge", 0.192, 4, 16),
		awsWant(r, KindCompute, "m5.large", 0.096, 2, 8),
		awsWant(r, KindCompute, "t3.micro", 0.0104, 2, 1),
		awsWant(r, KindCompute, "m5.metal", 4.608, 96, 384),
		awsWant(r, KindStorage, "ebs-gp3", 0.08, 0, 0),
		awsWant(r, KindStorage, "ebs-gp2", 0.10, 0, 0),
		awsWant(r, KindStorage, "ebs-io2", 0.125, 0, 0),
		awsWant(r, KindStorage, "ebs-st1", 0.045, 0, 0),
		awsWant(r, KindStorage, "ebs-sc1", 0.015, 0, 0),
		awsWant(r, KindEgress, "internet", 0.09, 0, 0),
	}
}

func TestAWSFetcherFetch(t *testing.T) {
	api := &awsFakeAPI{t: t, docs: awsCatalog(t)}
	f := awsTestFetcher(t, api, []string{"us-east-1", "us-west-2"}, nil)

	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)

	const w = "us-west-2"
	want := append(awsWantUSEast1(),
		awsWant(w, KindCompute, "c5.large", 0.085, 2, 4),
		awsWant(w, KindStorage, "ebs-gp3", 0.08, 0, 0),
		awsWant(w, KindStorage, "ebs-standard", 0.05, 0, 0),
		// The first GB is free in this document: the price is the next tier.
		awsWant(w, KindEgress, "internet", 0.09, 0, 0),
	)
	require.Equal(t, want, prices)
	for _, p := range prices {
		require.NoError(t, p.Validate())
	}
	require.Equal(t, AWSPriceListSource, f.Name())
}

func TestAWSFetcherRequests(t *testing.T) {
	api := &awsFakeAPI{t: t, docs: awsCatalog(t)}
	f := awsTestFetcher(t, api, []string{"eu-west-1"}, nil)

	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	require.Empty(t, prices)

	tm := func(field, value string) awsFakeFilter {
		return awsFakeFilter{Type: "TERM_MATCH", Field: field, Value: value}
	}
	instance := func(family, tenancy string) []awsFakeFilter {
		return []awsFakeFilter{
			tm("productFamily", family),
			tm("regionCode", "eu-west-1"),
			tm("operatingSystem", "Linux"),
			tm("tenancy", tenancy),
			tm("preInstalledSw", "NA"),
			tm("capacitystatus", "Used"),
			tm("marketoption", "OnDemand"),
		}
	}
	want := []awsFakeRequest{
		{ServiceCode: "AmazonEC2", Filters: instance("Compute Instance", "Shared")},
		{ServiceCode: "AmazonEC2", Filters: instance("Compute Instance (bare metal)", "Dedicated")},
		{ServiceCode: "AmazonEC2", Filters: []awsFakeFilter{
			tm("productFamily", "Storage"),
			tm("regionCode", "eu-west-1"),
		}},
		{ServiceCode: "AWSDataTransfer", Filters: []awsFakeFilter{
			tm("productFamily", "Data Transfer"),
			tm("fromRegionCode", "eu-west-1"),
			tm("transferType", "AWS Outbound"),
			tm("toLocation", "External"),
		}},
	}
	for i := range want {
		want[i].FormatVersion = "aws_v1"
		want[i].MaxResults = 100
	}
	requests, headers := api.snapshot()
	require.Equal(t, want, requests)

	for _, h := range headers {
		// Signed for the Price List API's own region, whatever is priced.
		auth := h.Get("Authorization")
		require.Contains(t, auth, "Credential="+awsTestAccessKey+"/")
		require.Contains(t, auth, "/us-east-1/pricing/aws4_request")
		for name, values := range h {
			for _, v := range values {
				require.NotContains(t, v, awsTestSecret, "header %s", name)
			}
		}
	}
}

func TestAWSFetcherPagination(t *testing.T) {
	api := &awsFakeAPI{t: t, docs: awsCatalog(t), pageSize: 1}
	f := awsTestFetcher(t, api, []string{"us-east-1"}, nil)

	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	require.Equal(t, awsWantUSEast1(), prices)

	// Three compute documents, one a page: three pages, each asking for the
	// token the page before handed out.
	var tokens []string
	requests, _ := api.snapshot()
	for _, req := range requests {
		if req.filter("productFamily") == "Compute Instance" {
			tokens = append(tokens, req.NextToken)
		}
	}
	require.Equal(t, []string{"", "tok-1", "tok-2"}, tokens)
}

func TestAWSFetcherRepeatedPageToken(t *testing.T) {
	api := &awsFakeAPI{t: t, docs: awsCatalog(t)}
	m5 := awsFixture(t, "compute-m5.xlarge-us-east-1.json")
	api.intercept = func(w http.ResponseWriter, _ *http.Request, _ int, req awsFakeRequest) bool {
		if req.filter("productFamily") != "Compute Instance" {
			return false
		}
		awsWritePage(w, []string{m5}, "again")
		return true
	}
	f := awsTestFetcher(t, api, []string{"us-east-1"}, nil)

	prices, err := f.Fetch(t.Context())
	require.ErrorContains(t, err, `us-east-1 compute, page 2: the server repeated page token "again"`)
	// Both pages' documents are kept, the same price twice counted once.
	require.Len(t, prices, len(awsWantUSEast1())-2)
	require.Equal(t, awsWantUSEast1()[0], prices[0])
}

func TestAWSFetcherRetries(t *testing.T) {
	tests := []struct {
		name string
		fail func(w http.ResponseWriter)
	}{
		{
			name: "throttling exception",
			fail: func(w http.ResponseWriter) {
				awsWriteError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
			},
		},
		{
			name: "too many requests from a proxy",
			fail: func(w http.ResponseWriter) {
				w.Header().Set("Retry-After", "0")
				w.WriteHeader(http.StatusTooManyRequests)
			},
		},
		{
			name: "internal error",
			fail: func(w http.ResponseWriter) {
				awsWriteError(w, http.StatusInternalServerError, "InternalErrorException",
					"An internal error occurred")
			},
		},
		{
			// Retry-After asks for an hour; MaxBackoff (2 ms here) caps it.
			name: "service unavailable with retry-after",
			fail: func(w http.ResponseWriter) {
				w.Header().Set("Content-Type", "text/html")
				w.Header().Set("Retry-After", "3600")
				w.WriteHeader(http.StatusServiceUnavailable)
				_, _ = io.WriteString(w, "<html><body>Service Unavailable</body></html>")
			},
		},
		{
			name: "bad gateway",
			fail: func(w http.ResponseWriter) { w.WriteHeader(http.StatusBadGateway) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &awsFakeAPI{t: t, docs: awsCatalog(t)}
			api.intercept = func(w http.ResponseWriter, _ *http.Request, n int, _ awsFakeRequest) bool {
				if n > 2 {
					return false
				}
				tt.fail(w)
				return true
			}
			f := awsTestFetcher(t, api, []string{"us-east-1"}, nil)

			start := time.Now()
			prices, err := f.Fetch(t.Context())
			require.NoError(t, err)
			require.Equal(t, awsWantUSEast1(), prices)
			require.Less(t, time.Since(start), 5*time.Second)

			requests, _ := api.snapshot()
			require.Len(t, requests, 4+2, "two failed attempts, then four queries")
			require.Equal(t, requests[0], requests[2], "the same request, retried")
		})
	}
}

func TestAWSFetcherQueryFails(t *testing.T) {
	tests := []struct {
		name     string
		fail     func(w http.ResponseWriter)
		attempts int
		wantCode string
	}{
		{
			name: "server errors until the retries run out",
			fail: func(w http.ResponseWriter) {
				awsWriteError(w, http.StatusInternalServerError, "InternalErrorException", "boom")
			},
			attempts: 3,
			wantCode: "InternalErrorException",
		},
		{
			name: "throttled until the retries run out",
			fail: func(w http.ResponseWriter) {
				awsWriteError(w, http.StatusBadRequest, "ThrottlingException", "Rate exceeded")
			},
			attempts: 3,
			wantCode: "ThrottlingException",
		},
		{
			name: "access denied is not retried",
			fail: func(w http.ResponseWriter) {
				awsWriteError(w, http.StatusBadRequest, "AccessDeniedException",
					"User is not authorized to perform: pricing:GetProducts")
			},
			attempts: 1,
			wantCode: "AccessDeniedException",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			api := &awsFakeAPI{t: t, docs: awsCatalog(t)}
			api.intercept = func(w http.ResponseWriter, _ *http.Request, _ int, req awsFakeRequest) bool {
				if req.filter("productFamily") != "Storage" {
					return false
				}
				tt.fail(w)
				return true
			}
			f := awsTestFetcher(t, api, []string{"us-east-1"}, func(o *AWSOptions) {
				o.MaxAttempts = 3
				o.Logger = logger
			})

			prices, err := f.Fetch(t.Context())
			require.ErrorContains(t, err, "aws-price-list: us-east-1 storage, page 1: ")
			var apiErr smithy.APIError
			require.ErrorAs(t, err, &apiErr)
			require.Equal(t, tt.wantCode, apiErr.ErrorCode())

			// The other queries still price their products.
			want := slices.DeleteFunc(awsWantUSEast1(), func(p Price) bool {
				return p.Kind == KindStorage
			})
			require.Equal(t, want, prices)

			storage := 0
			requests, _ := api.snapshot()
			for _, req := range requests {
				if req.filter("productFamily") == "Storage" {
					storage++
				}
			}
			require.Equal(t, tt.attempts, storage)

			// Credentials are in no error and no log line.
			require.NotContains(t, err.Error(), awsTestSecret)
			require.NotContains(t, logs.String(), awsTestSecret)
		})
	}
}

func TestAWSFetcherTimeout(t *testing.T) {
	release := make(chan struct{})
	api := &awsFakeAPI{t: t, docs: awsCatalog(t)}
	api.intercept = func(_ http.ResponseWriter, r *http.Request, _ int, _ awsFakeRequest) bool {
		select {
		case <-r.Context().Done():
		case <-release:
		}
		return true
	}
	f := awsTestFetcher(t, api, []string{"us-east-1", "us-west-2"}, nil)
	// Registered after the server's Close, so it runs first and lets a
	// handler still waiting return.
	t.Cleanup(func() { close(release) })

	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	prices, err := f.Fetch(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.ErrorContains(t, err, "us-east-1 compute, page 1")
	require.Empty(t, prices)
	require.Less(t, time.Since(start), 5*time.Second)

	// The fetch stopped there: no other query was sent, and the timed-out
	// request was not retried.
	requests, _ := api.snapshot()
	require.Len(t, requests, 1)
}

// awsEdit changes a fixture through its JSON tree.
func awsEdit(t *testing.T, name string, edit func(doc map[string]any)) string {
	t.Helper()
	var doc map[string]any
	require.NoError(t, json.Unmarshal([]byte(awsFixture(t, name)), &doc))
	edit(doc)
	out, err := json.Marshal(doc)
	require.NoError(t, err)
	return string(out)
}

// awsObject walks a JSON tree down path, every step an object.
func awsObject(doc map[string]any, path ...string) map[string]any {
	for _, step := range path {
		doc = doc[step].(map[string]any)
	}
	return doc
}

// awsTheTerm returns a document's on-demand term, of which fixtures have one.
func awsTheTerm(doc map[string]any) map[string]any {
	for _, term := range awsObject(doc, "terms", "OnDemand") {
		return term.(map[string]any)
	}
	panic("fixture without an on-demand term")
}

// awsEachDimension calls edit on every price dimension of the on-demand term.
func awsEachDimension(doc map[string]any, edit func(code string, dim map[string]any)) {
	for code, dim := range awsObject(awsTheTerm(doc), "priceDimensions") {
		edit(code, dim.(map[string]any))
	}
}

// awsDuplicateDimension adds a copy of a document's (single) price dimension.
func awsDuplicateDimension(doc map[string]any) {
	dims := awsObject(awsTheTerm(doc), "priceDimensions")
	for code, dim := range dims {
		dims[code+"X"] = dim
		return
	}
}

func awsSetAttribute(name, value string) func(map[string]any) {
	return func(doc map[string]any) { awsObject(doc, "product", "attributes")[name] = value }
}

func awsSetPrice(usd string) func(map[string]any) {
	return func(doc map[string]any) {
		awsEachDimension(doc, func(_ string, dim map[string]any) {
			dim["pricePerUnit"] = map[string]any{"USD": usd}
		})
	}
}

// The fixtures TestAWSFetcherBadDocuments breaks, and what they price.
const (
	awsBadCompute = "compute-t3.micro-us-east-1.json"
	awsBadStorage = "storage-gp3-us-east-1.json"
	awsBadEgress  = "egress-us-east-1.json"
)

var awsFixtureProduct = map[string]string{
	awsBadCompute: "t3.micro",
	awsBadStorage: "ebs-gp3",
	awsBadEgress:  "internet",
}

func TestAWSFetcherBadDocuments(t *testing.T) {
	const (
		compute = awsBadCompute
		storage = awsBadStorage
		egress  = awsBadEgress
	)
	tests := []struct {
		name    string
		fixture string
		edit    func(doc map[string]any)
		raw     func(doc string) string // instead of edit, on the JSON text
		wantErr error                   // nil where Validate rejects the price
		wantMsg string
	}{
		{
			name: "truncated JSON", fixture: compute,
			raw:     func(doc string) string { return doc[:len(doc)/2] },
			wantErr: errAWSMalformed, wantMsg: "unexpected end of JSON input",
		},
		{
			name: "not an object", fixture: compute,
			raw:     func(string) string { return `["m5.xlarge", 0.192]` },
			wantErr: errAWSMalformed,
		},
		{
			name: "no on-demand term", fixture: compute,
			edit:    func(doc map[string]any) { delete(awsObject(doc, "terms"), "OnDemand") },
			wantErr: errAWSNoOnDemand,
		},
		{
			name: "two on-demand terms", fixture: compute,
			edit: func(doc map[string]any) {
				awsObject(doc, "terms", "OnDemand")["QDTF6Q8HGE7DK2KE.MZU6U2429S"] = awsTheTerm(doc)
			},
			wantErr: errAWSSeveralTerms,
		},
		{
			name: "unknown unit", fixture: compute,
			edit: func(doc map[string]any) {
				awsEachDimension(doc, func(_ string, dim map[string]any) { dim["unit"] = "Hours" })
			},
			wantErr: errAWSUnit, wantMsg: `unexpected unit "Hours"`,
		},
		{
			name: "two hourly dimensions", fixture: compute,
			edit: func(doc map[string]any) {
				awsDuplicateDimension(doc)
			},
			wantErr: errAWSSeveralHourly,
		},
		{
			name: "no price dimension", fixture: compute,
			edit:    func(doc map[string]any) { awsTheTerm(doc)["priceDimensions"] = map[string]any{} },
			wantErr: errAWSMalformed, wantMsg: "no price dimension",
		},
		{
			name: "no USD price", fixture: compute,
			edit: func(doc map[string]any) {
				awsEachDimension(doc, func(_ string, dim map[string]any) {
					dim["pricePerUnit"] = map[string]any{"CNY": "0.0730000000"}
				})
			},
			wantErr: errAWSPrice, wantMsg: "no USD price",
		},
		{
			name: "price not a number", fixture: compute, edit: awsSetPrice("0.01O4"),
			wantErr: errAWSPrice,
		},
		{
			name: "zero compute price", fixture: compute, edit: awsSetPrice("0.0000000000"),
			wantErr: errAWSPrice, wantMsg: "zero hourly price",
		},
		{
			name: "negative price", fixture: compute, edit: awsSetPrice("-0.0104000000"),
			wantMsg: "not a finite non-negative number",
		},
		{
			name: "NaN price", fixture: compute, edit: awsSetPrice("NaN"),
			wantMsg: "not a finite non-negative number",
		},
		{
			name: "infinite price", fixture: compute, edit: awsSetPrice("Inf"),
			wantMsg: "not a finite non-negative number",
		},
		{
			name: "no instance type", fixture: compute, edit: awsSetAttribute("instanceType", ""),
			wantMsg: "cloud and product are required",
		},
		{
			name: "memory not in GiB", fixture: compute, edit: awsSetAttribute("memory", "1 GB"),
			wantErr: errAWSSize, wantMsg: `memory "1 GB"`,
		},
		{
			name: "vcpu missing", fixture: compute, edit: awsSetAttribute("vcpu", "NA"),
			wantErr: errAWSSize, wantMsg: `vcpu "NA"`,
		},
		{
			name: "another region", fixture: compute, edit: awsSetAttribute("regionCode", "eu-west-1"),
			wantErr: errAWSWrongProduct, wantMsg: `region "eu-west-1", want "us-east-1"`,
		},
		{
			name: "another product family", fixture: compute,
			edit: func(doc map[string]any) {
				awsObject(doc, "product")["productFamily"] = "Dedicated Host"
			},
			wantErr: errAWSWrongProduct,
		},
		{
			name: "publication date not a date", fixture: compute,
			edit:    func(doc map[string]any) { doc["publicationDate"] = "yesterday" },
			wantErr: errAWSMalformed, wantMsg: "publicationDate",
		},
		{
			name: "storage per GB-hour", fixture: storage,
			edit: func(doc map[string]any) {
				awsEachDimension(doc, func(_ string, dim map[string]any) { dim["unit"] = "GB-Hrs" })
			},
			wantErr: errAWSUnit, wantMsg: `unexpected unit "GB-Hrs"`,
		},
		{
			name: "storage with two dimensions", fixture: storage,
			edit: func(doc map[string]any) {
				awsDuplicateDimension(doc)
			},
			wantErr: errAWSMalformed, wantMsg: "2 dimensions in GB-Mo",
		},
		{
			name: "zero storage price", fixture: storage, edit: awsSetPrice("0"),
			wantErr: errAWSPrice,
		},
		{
			name: "egress with no paid tier", fixture: egress, edit: awsSetPrice("0.0000000000"),
			wantErr: errAWSNoPaidTier,
		},
		{
			name: "egress tier per TB", fixture: egress,
			edit: func(doc map[string]any) {
				awsEachDimension(doc, func(_ string, dim map[string]any) {
					if dim["beginRange"] == "153600" {
						dim["unit"] = "TB"
					}
				})
			},
			wantErr: errAWSUnit, wantMsg: `unexpected unit "TB"`,
		},
		{
			name: "egress tier without a start", fixture: egress,
			edit: func(doc map[string]any) {
				awsEachDimension(doc, func(_ string, dim map[string]any) { dim["beginRange"] = "" })
			},
			wantErr: errAWSMalformed, wantMsg: "beginRange",
		},
		{
			name: "egress between regions", fixture: egress,
			edit:    awsSetAttribute("transferType", "InterRegion Outbound"),
			wantErr: errAWSWrongProduct, wantMsg: "transferType",
		},
		{
			name: "egress from another region", fixture: egress,
			edit:    awsSetAttribute("fromRegionCode", "us-west-2"),
			wantErr: errAWSWrongProduct, wantMsg: `region "us-west-2"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bad := awsFixture(t, tt.fixture)
			if tt.raw != nil {
				bad = tt.raw(bad)
			} else {
				bad = awsEdit(t, tt.fixture, tt.edit)
			}
			// The bad document takes the good one's place, second in its
			// query's results where there are others.
			catalog := awsCatalog(t)
			good := awsFixture(t, tt.fixture)
			index := -1
			for key, docs := range catalog {
				if !slices.Contains(docs, good) {
					continue
				}
				docs = slices.DeleteFunc(slices.Clone(docs), func(d string) bool { return d == good })
				index = min(1, len(docs))
				catalog[key] = slices.Insert(docs, index, bad)
			}
			require.GreaterOrEqual(t, index, 0)
			api := &awsFakeAPI{t: t, docs: catalog}
			f := awsTestFetcher(t, api, []string{"us-east-1"}, nil)

			prices, err := f.Fetch(t.Context())

			// Every good document is still priced.
			want := slices.DeleteFunc(awsWantUSEast1(), func(p Price) bool {
				return p.Product == awsFixtureProduct[tt.fixture]
			})
			require.Equal(t, want, prices)

			// The bad one is counted and reported.
			var skips *AWSSkipError
			require.ErrorAs(t, err, &skips)
			require.Len(t, skips.Skipped, 1)
			require.Equal(t, 10, skips.Read)
			require.ErrorContains(t, err, "aws-price-list: skipped 1 of 10 price documents")
			require.ErrorContains(t, err, fmt.Sprintf("document %d", index))
			if tt.wantErr != nil {
				require.ErrorIs(t, err, tt.wantErr)
			}
			if tt.wantMsg != "" {
				require.ErrorContains(t, err, tt.wantMsg)
			}
		})
	}
}

func TestAWSFetcherIgnoresUnknownVolumeTypes(t *testing.T) {
	catalog := awsCatalog(t)
	key := awsFakeKey("AmazonEC2", "Storage", "us-east-1")
	catalog[key] = append(catalog[key], awsEdit(t, "storage-gp3-us-east-1.json",
		awsSetAttribute("volumeApiName", "gp9")))
	f := awsTestFetcher(t, &awsFakeAPI{t: t, docs: catalog}, []string{"us-east-1"}, nil)

	// A volume type Stratus does not price is left out, and is no error.
	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	require.Equal(t, awsWantUSEast1(), prices)
}

func TestAWSFetcherDuplicates(t *testing.T) {
	tests := []struct {
		name    string
		price   string
		wantErr string
	}{
		{name: "same price twice", price: "0.1920000000"},
		{
			name: "two prices for one key", price: "0.2010000000",
			wantErr: "us-east-1 compute: aws/us-east-1 compute m5.xlarge linux: " +
				"documents disagree on the price: 0.192 and 0.201",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			catalog := awsCatalog(t)
			key := awsFakeKey("AmazonEC2", "Compute Instance", "us-east-1")
			catalog[key] = append(catalog[key], awsEdit(t, "compute-m5.xlarge-us-east-1.json",
				awsSetPrice(tt.price)))
			f := awsTestFetcher(t, &awsFakeAPI{t: t, docs: catalog}, []string{"us-east-1"}, nil)

			// The first document's price is kept either way.
			prices, err := f.Fetch(t.Context())
			require.Equal(t, awsWantUSEast1(), prices)
			if tt.wantErr == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorIs(t, err, errAWSConflict)
			require.ErrorContains(t, err, tt.wantErr)
		})
	}
}

func TestAWSFetcherAsOf(t *testing.T) {
	catalog := map[string][]string{
		awsFakeKey("AmazonEC2", "Compute Instance", "us-east-1"): {
			awsEdit(t, "compute-m5.xlarge-us-east-1.json", func(doc map[string]any) {
				delete(doc, "publicationDate")
			}),
		},
	}
	fetchedAt := time.Date(2026, 8, 1, 12, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	f := awsTestFetcher(t, &awsFakeAPI{t: t, docs: catalog}, []string{"us-east-1"},
		func(o *AWSOptions) { o.Now = func() time.Time { return fetchedAt } })

	// Without a publication date, a price is as of the fetch.
	prices, err := f.Fetch(t.Context())
	require.NoError(t, err)
	require.Len(t, prices, 1)
	require.Equal(t, fetchedAt.UTC(), prices[0].AsOf)
}

func TestNewAWSFetcherRejects(t *testing.T) {
	tests := []struct {
		name    string
		opts    AWSOptions
		wantErr string
	}{
		{name: "no regions", wantErr: "no regions configured"},
		{
			name:    "region name instead of code",
			opts:    AWSOptions{Regions: []string{"US East (N. Virginia)"}},
			wantErr: `region "US East (N. Virginia)" is not an AWS region code`,
		},
		{
			name:    "availability zone",
			opts:    AWSOptions{Regions: []string{"us-east-1a"}},
			wantErr: `region "us-east-1a" is not an AWS region code`,
		},
		{
			name:    "China",
			opts:    AWSOptions{Regions: []string{"cn-north-1"}},
			wantErr: `region "cn-north-1": China regions are not priced by this API`,
		},
		{
			name:    "twice",
			opts:    AWSOptions{Regions: []string{"us-east-1", "eu-west-1", "us-east-1"}},
			wantErr: `region "us-east-1" is listed twice`,
		},
		{
			name:    "endpoint without scheme",
			opts:    AWSOptions{Regions: []string{"us-east-1"}, Endpoint: "127.0.0.1:8080"},
			wantErr: `endpoint "127.0.0.1:8080"`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			awsTestEnv(t)
			f, err := NewAWSFetcher(t.Context(), tt.opts)
			require.ErrorContains(t, err, "aws-price-list: "+tt.wantErr)
			require.Nil(t, f)
		})
	}
}

func TestAWSOptionsYAML(t *testing.T) {
	var opts AWSOptions
	require.NoError(t, yaml.UnmarshalStrict([]byte("regions: [us-east-1, eu-west-1]\n"), &opts))
	require.Equal(t, []string{"us-east-1", "eu-west-1"}, opts.Regions)

	// Nothing else can be set from a file: no endpoint to redirect signed
	// requests to, no credentials.
	for _, field := range []string{"endpoint: http://127.0.0.1:1", "credentials: x"} {
		var opts AWSOptions
		require.Error(t, yaml.UnmarshalStrict([]byte(field+"\n"), &opts), field)
	}
	out, err := yaml.Marshal(AWSOptions{
		Regions:     []string{"us-east-1"},
		Credentials: credentials.NewStaticCredentialsProvider(awsTestAccessKey, awsTestSecret, ""),
	})
	require.NoError(t, err)
	require.Equal(t, "regions:\n- us-east-1\n", string(out))
}

func TestAWSOptionsString(t *testing.T) {
	opts := AWSOptions{
		Regions:     []string{"us-east-1"},
		Endpoint:    "http://127.0.0.1:1",
		Credentials: credentials.NewStaticCredentialsProvider(awsTestAccessKey, awsTestSecret, ""),
	}
	for _, verb := range []string{"%v", "%+v", "%s"} {
		s := fmt.Sprintf(verb, opts)
		require.Equal(t, "regions=[us-east-1] endpoint=http://127.0.0.1:1", s, verb)
	}
}

func TestAWSSkipErrorMessage(t *testing.T) {
	skips := &AWSSkipError{Read: 40}
	for i := range 7 {
		skips.add(&AWSDocumentError{Query: "us-east-1 compute", Index: i, Err: errAWSNoOnDemand})
	}
	require.Equal(t, "aws-price-list: skipped 7 of 40 price documents"+
		"; us-east-1 compute document 0: no on-demand term"+
		"; us-east-1 compute document 1: no on-demand term"+
		"; us-east-1 compute document 2: no on-demand term"+
		"; us-east-1 compute document 3: no on-demand term"+
		"; us-east-1 compute document 4: no on-demand term"+
		"; and 2 more", skips.Error())
	require.ErrorIs(t, skips, errAWSNoOnDemand)
}

func TestAWSParseMemory(t *testing.T) {
	tests := []struct {
		in      string
		want    float64
		wantErr bool
	}{
		{in: "16 GiB", want: 16},
		{in: "0.5 GiB", want: 0.5},
		{in: "1,952 GiB", want: 1952},
		{in: "24,576 GiB", want: 24576},
		{in: "16 GB", wantErr: true},
		{in: "16GiB", wantErr: true},
		{in: "NA", wantErr: true},
		{in: "", wantErr: true},
		{in: "0 GiB", wantErr: true},
		{in: "-2 GiB", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := awsParseMemory(tt.in)
			if tt.wantErr {
				require.ErrorIs(t, err, errAWSSize)
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tt.want, got, 0)
		})
	}
}

// awsResponseError is an SDK error for a response with the given headers.
func awsResponseError(header http.Header) error {
	resp := &http.Response{StatusCode: http.StatusServiceUnavailable, Header: header}
	return fmt.Errorf("operation error Pricing: GetProducts: %w", &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: resp},
		Err:      errors.New("service unavailable"),
	})
}

func TestAWSRetryAfter(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name   string
		err    error
		want   time.Duration
		wantOK bool
	}{
		{name: "not a response", err: errors.New("dial tcp: refused")},
		{name: "no header", err: awsResponseError(http.Header{})},
		{
			name:   "seconds",
			err:    awsResponseError(http.Header{"Retry-After": {"7"}}),
			want:   7 * time.Second,
			wantOK: true,
		},
		{
			name:   "date",
			err:    awsResponseError(http.Header{"Retry-After": {"Sat, 01 Aug 2026 12:00:30 GMT"}}),
			want:   30 * time.Second,
			wantOK: true,
		},
		{
			name:   "date in the past",
			err:    awsResponseError(http.Header{"Retry-After": {"Sat, 01 Aug 2026 11:00:00 GMT"}}),
			wantOK: true,
		},
		{name: "garbage", err: awsResponseError(http.Header{"Retry-After": {"soon"}})},
		{name: "negative", err: awsResponseError(http.Header{"Retry-After": {"-1"}})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := awsRetryAfter(tt.err, now)
			require.Equal(t, tt.wantOK, ok)
			require.Equal(t, tt.want, got)
		})
	}
}

// awsFixedBackoff stands in for the jittered backoff.
type awsFixedBackoff time.Duration

func (b awsFixedBackoff) BackoffDelay(int, error) (time.Duration, error) {
	return time.Duration(b), nil
}

func TestAWSRetryAfterBackoff(t *testing.T) {
	now := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	backoff := awsRetryAfterBackoff{
		jitter: awsFixedBackoff(300 * time.Millisecond),
		max:    20 * time.Second,
		now:    func() time.Time { return now },
	}
	tests := []struct {
		name       string
		retryAfter string
		want       time.Duration
	}{
		{name: "no Retry-After: the jittered delay", want: 300 * time.Millisecond},
		{name: "shorter than the jitter", retryAfter: "0", want: 300 * time.Millisecond},
		{name: "longer than the jitter", retryAfter: "2", want: 2 * time.Second},
		{name: "capped at the maximum", retryAfter: "3600", want: 20 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			header := http.Header{}
			if tt.retryAfter != "" {
				header.Set("Retry-After", tt.retryAfter)
			}
			got, err := backoff.BackoffDelay(1, awsResponseError(header))
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}
