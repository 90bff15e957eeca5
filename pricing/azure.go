package pricing

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"

	"github.com/stratus-monitoring/stratus/internal/retry"
)

// AzureSource is the source name of prices read from the Azure Retail Prices API.
const AzureSource = "azure-retail-prices"

// Defaults for AzureOptions fields left at their zero value.
const (
	// DefaultAzureBaseURL is the public, unauthenticated Retail Prices API.
	DefaultAzureBaseURL          = "https://prices.azure.com"
	DefaultAzureCurrency         = "USD"
	DefaultAzureRequestTimeout   = time.Minute
	DefaultAzureRetries          = 4
	DefaultAzureBackoffBase      = time.Second
	DefaultAzureBackoffMax       = 30 * time.Second
	DefaultAzureMaxRetryAfter    = 5 * time.Minute
	DefaultAzureMaxPages         = 200
	DefaultAzureMaxResponseBytes = 32 << 20
)

// azureAPIVersion is the first API version that returns every meter and takes
// case-sensitive filter values; older versions are being retired.
const azureAPIVersion = "2023-01-01-preview"

// Reasons an Azure price row was not turned into a price, as AzureFetchStats
// counts them.
const (
	// AzureSkipUnit: the unit of measure is not "1 Hour".
	AzureSkipUnit = "unit"
	// AzureSkipLowPriority: a Low Priority meter. Azure is retiring Low
	// Priority VMs in favour of Spot; pricing both as spot would give one key
	// two different prices.
	AzureSkipLowPriority = "low_priority"
	// AzureSkipReservation: a reservation row. Its retailPrice is the price of
	// the whole one- or three-year term, not of an hour, so it is not mapped.
	AzureSkipReservation = "reservation"
	// AzureSkipPriceType: a type other than Consumption and Reservation, such
	// as DevTestConsumption, whose prices hold only for particular offers.
	AzureSkipPriceType = "price_type"
	// AzureSkipService: a row of another service than Virtual Machines.
	AzureSkipService = "service"
	// AzureSkipNoSKU: no armSkuName, so no VM size to key the price by.
	AzureSkipNoSKU = "no_sku"
	// AzureSkipRegion: a row for another region than the one asked for.
	AzureSkipRegion = "region"
	// AzureSkipCurrency: a row in another currency than the one asked for.
	AzureSkipCurrency = "currency"
	// AzureSkipTiered: a volume tier above the first; VM prices have none.
	AzureSkipTiered = "tiered"
	// AzureSkipZeroPrice: a price of zero. No VM size is free, and a zero
	// taken at face value would price resources at nothing without a word.
	AzureSkipZeroPrice = "zero_price"
	// AzureSkipInvalid: the row maps to a price that fails Price.Validate.
	AzureSkipInvalid = "invalid"
	// AzureSkipDuplicate: another row gave the same key and was preferred.
	AzureSkipDuplicate = "duplicate"
)

// AzureOptions configures NewAzureFetcher. Fields with yaml tags can come from
// the configuration file; the others are for programs and tests.
type AzureOptions struct {
	// Regions are the ARM region names to read prices for (eastus,
	// westeurope). Values are matched exactly, as the API does.
	Regions []string `yaml:"regions"`
	// BaseURL is the scheme and host of the API, with an optional path
	// prefix. Empty means DefaultAzureBaseURL.
	BaseURL string `yaml:"base_url"`
	// Currency is the ISO 4217 code prices are asked for. Empty means USD,
	// the currency Azure prices in; others are Microsoft's conversions.
	Currency string `yaml:"currency"`
	// HTTPClientConfig sets a proxy and TLS for reaching the API, in the
	// format Prometheus uses. The API needs no credentials. Ignored when
	// HTTPClient is set; its zero value means the common defaults.
	HTTPClientConfig config.HTTPClientConfig `yaml:"http_client"`
	// RequestTimeout bounds each request, body included. Zero means
	// DefaultAzureRequestTimeout. The ctx given to Fetch bounds the whole.
	RequestTimeout model.Duration `yaml:"request_timeout"`
	// Retries is how many times a throttled or failed request is repeated.
	// Zero means DefaultAzureRetries; a negative value disables retries.
	Retries int `yaml:"retries"`
	// MaxPages bounds the pages read per region, so that a server that keeps
	// sending new NextPageLinks cannot keep Stratus busy forever. Zero means
	// DefaultAzureMaxPages.
	MaxPages int `yaml:"max_pages"`
	// MaxResponseBytes bounds the size of one page. Zero means
	// DefaultAzureMaxResponseBytes.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`

	// BackoffBase and BackoffMax shape the wait before retry n when the
	// server sent no Retry-After: a uniformly random time in
	// [0, min(BackoffMax, BackoffBase*2^n)). Zero means the defaults.
	BackoffBase time.Duration `yaml:"-"`
	BackoffMax  time.Duration `yaml:"-"`
	// MaxRetryAfter is the longest Retry-After honoured; a server asking for
	// more fails the request instead. Zero means DefaultAzureMaxRetryAfter.
	MaxRetryAfter time.Duration `yaml:"-"`
	// HTTPClient, when set, is used instead of one built from
	// HTTPClientConfig.
	HTTPClient *http.Client `yaml:"-"`
	// Sleep waits between retries; nil means a timer that ends with ctx.
	// Tests replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error `yaml:"-"`
	// Now reads the clock for Retry-After dates; nil means time.Now.
	Now func() time.Time `yaml:"-"`
	// Logger receives retries and skipped rows at debug level. Nil discards.
	Logger *slog.Logger `yaml:"-"`
}

// AzureFetchStats says what one Fetch read and what it did not use.
type AzureFetchStats struct {
	// Pages and Items are the pages and price rows read, over all regions.
	Pages int
	Items int
	// Prices is the number of prices returned.
	Prices int
	// Skipped counts the rows not returned as prices, by reason (the
	// AzureSkip constants).
	Skipped map[string]int
}

// AzureFetcher reads Virtual Machines pay-as-you-go prices from the Azure
// Retail Prices API: one price per region, VM size, OS and purchase option
// (on-demand or spot), per hour. It is safe for concurrent use.
//
// Managed disks are not read: Premium SSD and Standard SSD/HDD disks are
// priced per disk of a fixed size tier (P10, E30) per month, which is no
// per-GiB-month price, and the sizes a tier stands for are not in the rows.
type AzureFetcher struct {
	regions       []string
	base          *url.URL
	currency      string
	client        *http.Client
	timeout       time.Duration
	retries       int
	maxPages      int
	maxBytes      int64
	backoffBase   time.Duration
	backoffMax    time.Duration
	maxRetryAfter time.Duration
	sleep         func(ctx context.Context, d time.Duration) error
	now           func() time.Time
	logger        *slog.Logger

	mu        sync.Mutex
	lastStats AzureFetchStats
}

var _ Fetcher = (*AzureFetcher)(nil)

// NewAzureFetcher checks opts and returns a fetcher for them. It makes no
// request.
func NewAzureFetcher(opts AzureOptions) (*AzureFetcher, error) {
	regions, err := azureRegions(opts.Regions)
	if err != nil {
		return nil, err
	}
	base, err := azureBaseURL(cmp.Or(opts.BaseURL, DefaultAzureBaseURL))
	if err != nil {
		return nil, err
	}
	currency := cmp.Or(opts.Currency, DefaultAzureCurrency)
	if !azureIsCurrencyCode(currency) {
		return nil, fmt.Errorf("azure currency %q: want a three-letter ISO 4217 code", currency)
	}
	switch {
	case opts.RequestTimeout < 0:
		return nil, fmt.Errorf("azure request_timeout %s: must not be negative",
			opts.RequestTimeout)
	case opts.MaxPages < 0:
		return nil, fmt.Errorf("azure max_pages %d: must not be negative", opts.MaxPages)
	case opts.MaxResponseBytes < 0:
		return nil, fmt.Errorf("azure max_response_bytes %d: must not be negative",
			opts.MaxResponseBytes)
	case opts.BackoffBase < 0 || opts.BackoffMax < 0 || opts.MaxRetryAfter < 0:
		return nil, errors.New("azure backoff durations must not be negative")
	}

	client := opts.HTTPClient
	if client == nil {
		if client, err = azureHTTPClient(opts.HTTPClientConfig); err != nil {
			return nil, err
		}
	}

	f := &AzureFetcher{
		regions:       regions,
		base:          base,
		currency:      currency,
		client:        client,
		timeout:       cmp.Or(time.Duration(opts.RequestTimeout), DefaultAzureRequestTimeout),
		retries:       opts.Retries,
		maxPages:      cmp.Or(opts.MaxPages, DefaultAzureMaxPages),
		maxBytes:      cmp.Or(opts.MaxResponseBytes, DefaultAzureMaxResponseBytes),
		backoffBase:   cmp.Or(opts.BackoffBase, DefaultAzureBackoffBase),
		backoffMax:    cmp.Or(opts.BackoffMax, DefaultAzureBackoffMax),
		maxRetryAfter: cmp.Or(opts.MaxRetryAfter, DefaultAzureMaxRetryAfter),
		sleep:         opts.Sleep,
		now:           opts.Now,
		logger:        opts.Logger,
	}
	switch {
	case f.retries == 0:
		f.retries = DefaultAzureRetries
	case f.retries < 0:
		f.retries = 0
	}
	if f.sleep == nil {
		f.sleep = retry.Sleep
	}
	if f.now == nil {
		f.now = time.Now
	}
	if f.logger == nil {
		f.logger = promslog.NewNopLogger()
	}
	return f, nil
}

// azureRegions checks the configured regions and drops repeats.
func azureRegions(regions []string) ([]string, error) {
	if len(regions) == 0 {
		return nil, errors.New("azure regions: at least one region is required")
	}
	var out []string
	for i, r := range regions {
		if strings.TrimSpace(r) == "" {
			return nil, fmt.Errorf("azure regions[%d]: empty region name", i)
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

// azureBaseURL checks the API's base URL.
func azureBaseURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // the URL text may carry a password
		}
		return nil, fmt.Errorf("azure base_url: %w", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("azure base_url %s: want http(s)://host[:port][/path]",
			u.Redacted())
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("azure base_url %s: must have no query or fragment",
			u.Redacted())
	}
	u.Path = strings.TrimSuffix(u.Path, "/")
	return u, nil
}

// azureHTTPClient builds the client from the configured proxy and TLS.
func azureHTTPClient(cfg config.HTTPClientConfig) (*http.Client, error) {
	if reflect.ValueOf(cfg).IsZero() {
		cfg = config.DefaultHTTPClientConfig
	}
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("azure http_client: %w", err)
	}
	client, err := config.NewClientFromConfig(cfg, AzureSource,
		config.WithUserAgent("stratus/"+version.Version))
	if err != nil {
		return nil, fmt.Errorf("azure http_client: %w", err)
	}
	return client, nil
}

// azureIsCurrencyCode reports whether s looks like an ISO 4217 code.
func azureIsCurrencyCode(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, c := range s {
		if c < 'A' || c > 'Z' {
			return false
		}
	}
	return true
}

// Name implements Fetcher.
func (f *AzureFetcher) Name() string { return AzureSource }

// LastStats returns what the latest Fetch read and skipped.
func (f *AzureFetcher) LastStats() AzureFetchStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.lastStats
	s.Skipped = make(map[string]int, len(f.lastStats.Skipped))
	for k, v := range f.lastStats.Skipped {
		s.Skipped[k] = v
	}
	return s
}

// Fetch implements Fetcher. Regions are read one after the other, to stay
// gentle with a public API that throttles; a region that fails leaves the
// others' prices usable, and its error is returned with them.
func (f *AzureFetcher) Fetch(ctx context.Context) ([]Price, error) {
	run := azureRun{
		stats: AzureFetchStats{Skipped: map[string]int{}},
		best:  map[Key]azureCandidate{},
	}
	var errs []error
	for _, region := range f.regions {
		if err := f.fetchRegion(ctx, &run, region); err != nil {
			errs = append(errs, fmt.Errorf("region %q: %w", region, err))
		}
		if ctx.Err() != nil {
			break
		}
	}

	prices := make([]Price, 0, len(run.best))
	for _, c := range run.best {
		prices = append(prices, c.price)
	}
	slices.SortFunc(prices, func(a, b Price) int {
		return cmp.Or(
			strings.Compare(a.Region, b.Region),
			strings.Compare(a.Product, b.Product),
			strings.Compare(a.OS, b.OS),
			strings.Compare(string(a.Purchase), string(b.Purchase)),
		)
	})
	run.stats.Prices = len(prices)

	f.mu.Lock()
	f.lastStats = run.stats
	f.mu.Unlock()
	f.logger.Debug("read Azure retail prices", "source", AzureSource,
		"pages", run.stats.Pages, "items", run.stats.Items, "prices", len(prices),
		"skipped", run.stats.Skipped)

	if len(errs) > 0 {
		return prices, fmt.Errorf("%s at %s: %w", AzureSource, f.base.Redacted(),
			errors.Join(errs...))
	}
	return prices, nil
}

// azureRun is the state of one Fetch.
type azureRun struct {
	stats AzureFetchStats
	best  map[Key]azureCandidate
}

// fetchRegion reads every page of one region's VM prices into run.
func (f *AzureFetcher) fetchRegion(ctx context.Context, run *azureRun, region string) error {
	link := f.firstPage(region)
	seen := map[string]bool{}
	for page := 1; link != ""; page++ {
		if page > f.maxPages {
			return fmt.Errorf("more than %d pages (max_pages); the server may be looping",
				f.maxPages)
		}
		if seen[link] {
			return fmt.Errorf("page %d: NextPageLink repeats an earlier page", page)
		}
		seen[link] = true

		body, err := f.getPage(ctx, link)
		if err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
		run.stats.Pages++
		run.stats.Items += len(*body.Items)
		for _, item := range *body.Items {
			f.addItem(run, region, item)
		}

		if link, err = f.nextPage(body.NextPageLink); err != nil {
			return fmt.Errorf("page %d: %w", page, err)
		}
	}
	return nil
}

// firstPage is the URL of a region's first page. Values in the OData filter
// are quoted, so a region name cannot change the filter's meaning.
func (f *AzureFetcher) firstPage(region string) string {
	filter := strings.Join([]string{
		"serviceName eq " + azureODataString("Virtual Machines"),
		"armRegionName eq " + azureODataString(region),
		"priceType eq " + azureODataString("Consumption"),
	}, " and ")
	q := url.Values{}
	q.Set("api-version", azureAPIVersion)
	q.Set("currencyCode", azureODataString(f.currency))
	// Without it the API also lists each meter under the regions it is
	// billed from but not primarily sold in, which only adds duplicates.
	q.Set("meterRegion", azureODataString("primary"))
	q.Set("$filter", filter)

	u := *f.base
	u.Path += "/api/retail/prices"
	u.RawQuery = q.Encode()
	return u.String()
}

// azureODataString quotes s as an OData string literal: in single quotes, with
// each single quote doubled.
func azureODataString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// nextPage checks a NextPageLink. It must lead to the configured API: a
// page that points elsewhere would make Stratus send requests wherever a
// response (or whoever tampers with it) says.
func (f *AzureFetcher) nextPage(link string) (string, error) {
	if link == "" {
		return "", nil
	}
	u, err := url.Parse(link)
	if err != nil {
		return "", fmt.Errorf("NextPageLink: %w", err)
	}
	u = f.base.ResolveReference(u)
	if u.Scheme != f.base.Scheme || !azureSameHost(u, f.base) {
		return "", fmt.Errorf("NextPageLink leads to %s://%s, not to base_url %s",
			u.Scheme, u.Host, f.base.Redacted())
	}
	return u.String(), nil
}

// azureSameHost compares hosts and ports, an explicit default port being the same
// as none: the real API's links name port 443 outright.
func azureSameHost(a, b *url.URL) bool {
	port := func(u *url.URL) string {
		if p := u.Port(); p != "" {
			return p
		}
		if u.Scheme == "https" {
			return "443"
		}
		return "80"
	}
	return strings.EqualFold(a.Hostname(), b.Hostname()) && port(a) == port(b)
}

// azurePage is one page of the Retail Prices API's answer.
type azurePage struct {
	BillingCurrency  string `json:"BillingCurrency"`
	CustomerEntityID string `json:"CustomerEntityId"`
	// Items is a pointer so that an answer without it, such as an error
	// object sent with status 200, is told apart from an empty page.
	Items        *[]azureItem `json:"Items"`
	NextPageLink string       `json:"NextPageLink"`
	Count        int          `json:"Count"`
}

// azureItem is one price row (one meter of one product and SKU).
type azureItem struct {
	CurrencyCode         string  `json:"currencyCode"`
	TierMinimumUnits     float64 `json:"tierMinimumUnits"`
	RetailPrice          float64 `json:"retailPrice"`
	ArmRegionName        string  `json:"armRegionName"`
	EffectiveStartDate   string  `json:"effectiveStartDate"`
	MeterID              string  `json:"meterId"`
	MeterName            string  `json:"meterName"`
	ProductName          string  `json:"productName"`
	SkuName              string  `json:"skuName"`
	ServiceName          string  `json:"serviceName"`
	UnitOfMeasure        string  `json:"unitOfMeasure"`
	Type                 string  `json:"type"`
	IsPrimaryMeterRegion bool    `json:"isPrimaryMeterRegion"`
	ArmSkuName           string  `json:"armSkuName"`
}

// azureCandidate is the row currently chosen for a key.
type azureCandidate struct {
	price   Price
	primary bool
	meterID string
}

// preferred reports whether c should replace old for the same key. The order
// does not depend on the order rows arrive in, so a refresh that reads the
// same rows picks the same price: the primary meter region first, then the
// newest price, then the smaller meter id, then the lower price.
func (c azureCandidate) preferred(old azureCandidate) bool {
	if c.primary != old.primary {
		return c.primary
	}
	if !c.price.AsOf.Equal(old.price.AsOf) {
		return c.price.AsOf.After(old.price.AsOf)
	}
	if c.meterID != old.meterID {
		return c.meterID < old.meterID
	}
	return c.price.Value < old.price.Value
}

// addItem maps one row and keeps it if it is the preferred row of its key.
func (f *AzureFetcher) addItem(run *azureRun, region string, item azureItem) {
	price, reason := f.mapItem(region, item)
	if reason != "" {
		run.stats.Skipped[reason]++
		f.logger.Debug("skipped Azure price row", "source", AzureSource, "reason", reason,
			"region", region, "sku", item.ArmSkuName, "sku_name", item.SkuName,
			"meter_id", item.MeterID, "unit", item.UnitOfMeasure)
		return
	}

	cand := azureCandidate{price: price, primary: item.IsPrimaryMeterRegion, meterID: item.MeterID}
	old, ok := run.best[price.Key]
	if ok {
		run.stats.Skipped[AzureSkipDuplicate]++
		f.logger.Debug("duplicate Azure price rows", "source", AzureSource,
			"key", price.String(), "meter_id", item.MeterID, "other_meter_id", old.meterID)
		if !cand.preferred(old) {
			return
		}
	}
	run.best[price.Key] = cand
}

// mapItem turns a row into a price, or says why it cannot.
func (f *AzureFetcher) mapItem(region string, item azureItem) (Price, string) {
	switch {
	case item.Type == "Reservation":
		return Price{}, AzureSkipReservation
	case item.Type != "Consumption":
		return Price{}, AzureSkipPriceType
	case item.ServiceName != "Virtual Machines":
		return Price{}, AzureSkipService
	case item.ArmRegionName != region:
		return Price{}, AzureSkipRegion
	case item.ArmSkuName == "":
		return Price{}, AzureSkipNoSKU
	case azureHasWord(item, "Low Priority"):
		return Price{}, AzureSkipLowPriority
	case item.UnitOfMeasure != "1 Hour":
		return Price{}, AzureSkipUnit
	case item.CurrencyCode != f.currency:
		return Price{}, AzureSkipCurrency
	case item.TierMinimumUnits > 0:
		return Price{}, AzureSkipTiered
	case item.RetailPrice == 0:
		return Price{}, AzureSkipZeroPrice
	}

	// The Windows meters' prices include the licence; every other VM meter
	// of this service is a Linux (no licence) price.
	osName := "linux"
	if strings.Contains(item.ProductName, "Windows") {
		osName = "windows"
	}
	purchase := OnDemand
	if azureHasWord(item, "Spot") {
		purchase = Spot
	}
	p := Price{
		Key: Key{
			Cloud:    "azure",
			Region:   region,
			Kind:     KindCompute,
			Product:  item.ArmSkuName,
			OS:       osName,
			Purchase: purchase,
		},
		Value:    item.RetailPrice,
		Unit:     PerHour,
		Currency: item.CurrencyCode,
		Source:   AzureSource,
		AsOf:     parseAzureDate(item.EffectiveStartDate),
	}
	if p.Validate() != nil {
		return Price{}, AzureSkipInvalid
	}
	return p, ""
}

// azureHasWord reports whether the row's SKU or meter name contains word.
func azureHasWord(item azureItem, word string) bool {
	return strings.Contains(item.SkuName, word) || strings.Contains(item.MeterName, word)
}

// parseAzureDate reads an effectiveStartDate; an unreadable one leaves the
// price undated (the zero time) rather than losing the price.
func parseAzureDate(s string) time.Time {
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC()
		}
	}
	return time.Time{}
}

// getPage fetches and decodes one page, retrying what may heal by itself.
func (f *AzureFetcher) getPage(ctx context.Context, link string) (*azurePage, error) {
	for attempt := 0; ; attempt++ {
		page, err := f.getPageOnce(ctx, link)
		if err == nil {
			return page, nil
		}
		var aerr *azureAttemptError
		if !errors.As(err, &aerr) || !aerr.transient || ctx.Err() != nil {
			return nil, err
		}
		if attempt >= f.retries {
			return nil, fmt.Errorf("giving up after %d attempts: %w", attempt+1, err)
		}

		wait := f.backoff(attempt)
		if aerr.retryAfter >= 0 {
			if aerr.retryAfter > f.maxRetryAfter {
				return nil, fmt.Errorf("server asks to wait %s, more than the %s allowed: %w",
					aerr.retryAfter, f.maxRetryAfter, err)
			}
			wait = aerr.retryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return nil, fmt.Errorf("no time left to wait %s before retrying: %w", wait, err)
		}
		f.logger.Debug("retrying Azure price request", "source", AzureSource,
			"attempt", attempt+1, "wait", wait, "err", err)
		if serr := f.sleep(ctx, wait); serr != nil {
			return nil, fmt.Errorf("waiting to retry: %w (last error: %w)", serr, err)
		}
	}
}

// azureAttemptError is a failed request and whether repeating it may help.
type azureAttemptError struct {
	err       error
	transient bool
	// retryAfter is the server's Retry-After; negative when it sent none.
	retryAfter time.Duration
}

func (e *azureAttemptError) Error() string { return e.err.Error() }
func (e *azureAttemptError) Unwrap() error { return e.err }

// getPageOnce makes one request for a page, bounded by the request timeout.
func (f *AzureFetcher) getPageOnce(ctx context.Context, link string) (*azurePage, error) {
	actx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	fail := func(err error, transient bool) error {
		// The attempt's own deadline passing is a slow server, worth
		// another try; the caller's deadline ends the fetch.
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("no complete answer within the request timeout of %s: %w",
				f.timeout, err)
			transient = true
		}
		return &azureAttemptError{err: err, transient: transient, retryAfter: -1}
	}

	req, err := http.NewRequestWithContext(actx, http.MethodGet, link, nil)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "stratus/"+version.Version)
	resp, err := f.client.Do(req)
	if err != nil {
		return nil, fail(azureRedactURLError(err), azureIsNetworkError(err))
	}
	defer func() { _ = resp.Body.Close() }()

	if resp.StatusCode != http.StatusOK {
		return nil, f.statusError(resp)
	}
	if resp.ContentLength > f.maxBytes {
		return nil, fail(fmt.Errorf("answer of %d bytes is larger than the %d allowed",
			resp.ContentLength, f.maxBytes), false)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, f.maxBytes+1))
	if err != nil {
		// A connection cut mid-answer is the network's fault.
		return nil, fail(fmt.Errorf("reading answer: %w", err), true)
	}
	if int64(len(body)) > f.maxBytes {
		return nil, fail(fmt.Errorf("answer is larger than the %d bytes allowed", f.maxBytes),
			false)
	}

	var page azurePage
	if err := json.Unmarshal(body, &page); err != nil {
		return nil, fail(fmt.Errorf("decoding answer of %d bytes: %w", len(body), err), false)
	}
	if page.Items == nil {
		return nil, fail(errors.New("answer has no Items: not a Retail Prices page"), false)
	}
	return &page, nil
}

// statusError describes a response other than 200 OK, with the start of its
// body (the API explains errors there), and says whether to retry it.
func (f *AzureFetcher) statusError(resp *http.Response) error {
	snippet, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg := strings.Join(strings.Fields(strings.ToValidUTF8(string(snippet), "?")), " ")
	err := fmt.Errorf("HTTP %s", resp.Status)
	if msg != "" {
		err = fmt.Errorf("HTTP %s: %s", resp.Status, msg)
	}
	aerr := &azureAttemptError{
		err:        err,
		transient:  resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500,
		retryAfter: -1,
	}
	if d, ok := retry.ParseAfter(resp.Header.Get("Retry-After"), f.now()); ok {
		aerr.retryAfter = d
	}
	return aerr
}

// azureIsNetworkError reports whether a request failed on the way: a refused or
// reset connection, a timeout. A bad certificate or an unknown host will not
// heal by retrying at once.
func azureIsNetworkError(err error) bool {
	var uerr *url.Error
	if errors.As(err, &uerr) && uerr.Timeout() {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var opErr *net.OpError
	return errors.As(err, &opErr) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, io.EOF)
}

// azureRedactURLError drops the long request URL from a client error; the
// page number and base URL in the wrapping errors say where it happened.
func azureRedactURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return fmt.Errorf("%s: %w", uerr.Op, uerr.Err)
	}
	return err
}

// backoff returns the wait before retry attempt+1 with full jitter, so that
// many clients throttled at once do not come back at once.
func (f *AzureFetcher) backoff(attempt int) time.Duration {
	return retry.Backoff(attempt, f.backoffBase, f.backoffMax)
}
