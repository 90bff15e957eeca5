package pricing

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"math"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	billing "cloud.google.com/go/billing/apiv1"
	"cloud.google.com/go/billing/apiv1/billingpb"
	"github.com/googleapis/gax-go/v2"
	"github.com/googleapis/gax-go/v2/callctx"
	"github.com/prometheus/common/model"
	"google.golang.org/api/googleapi"
	"google.golang.org/api/iterator"
	"google.golang.org/api/option"
	htransport "google.golang.org/api/transport/http"

	"github.com/stratus-monitoring/stratus/internal/retry"
)

// GCPSource is the source name of prices read from the Google Cloud Billing
// Catalog.
const GCPSource = "gcp-billing-catalog"

// GCPComputeService is the Billing Catalog's resource name of Compute Engine,
// the parent whose SKUs the GCP price book lists.
const GCPComputeService = "services/6F81-5844-456A"

// Defaults for GCPOptions fields left at their zero value.
const (
	DefaultGCPRequestTimeout = time.Minute
	DefaultGCPRetries        = 4
	DefaultGCPBackoffBase    = time.Second
	DefaultGCPBackoffMax     = 30 * time.Second
	DefaultGCPMaxRetryAfter  = 5 * time.Minute
)

// gcpPageSize is the most SKUs the catalog returns in one page; asking for
// the most keeps the ~3000 Compute Engine SKUs to a handful of requests.
const gcpPageSize = 5000

// Reasons a Compute Engine SKU that names a machine family's vCPU or memory
// was not turned into a price, as GCPFetchStats.Skipped and GCPSkipError
// count them. These are SKUs Stratus should have understood: each one is a
// price missing from the book, so Fetch reports them as an error.
const (
	// GCPSkipUsageType: a usage type other than OnDemand and Preemptible.
	GCPSkipUsageType = "usage_type"
	// GCPSkipSpotMismatch: the description says spot ("Spot Preemptible …")
	// and the usage type does not, or the other way round.
	GCPSkipSpotMismatch = "spot_mismatch"
	// GCPSkipNoRegion: the SKU lists no service region.
	GCPSkipNoRegion = "no_region"
	// GCPSkipNoPricing: no pricing info or no pricing expression.
	GCPSkipNoPricing = "no_pricing"
	// GCPSkipUnit: a usage unit Stratus cannot convert to per vCPU-hour or
	// per GiB-hour, or a unit that does not fit the resource (a memory unit
	// on a core SKU).
	GCPSkipUnit = "unit"
	// GCPSkipUnitFactor: the base unit or its conversion factor disagrees
	// with the usage unit, so which of them is right cannot be told.
	GCPSkipUnitFactor = "unit_factor"
	// GCPSkipBadPrice: a unit price that is negative or malformed money
	// (nanos out of range or of another sign than units).
	GCPSkipBadPrice = "bad_price"
	// GCPSkipNoPaidTier: no tier with a price above zero. No vCPU is free;
	// a zero taken at face value would price machines at nothing.
	GCPSkipNoPaidTier = "no_paid_tier"
	// GCPSkipNoCurrency: the unit price names no currency.
	GCPSkipNoCurrency = "no_currency"
	// GCPSkipConflict: two SKUs give one family, region, resource and
	// purchase option different prices; neither is used (counted per SKU).
	GCPSkipConflict = "conflict"
	// GCPSkipIncomplete: a family with predefined machine types has a vCPU
	// price and no memory price in a region, or the other way round, so its
	// machine types are not priced (counted per family and region).
	GCPSkipIncomplete = "incomplete_family"
	// GCPSkipCurrencyMix: a family's vCPU and memory prices in a region are
	// in different currencies, so they are not added up (counted per family
	// and region).
	GCPSkipCurrencyMix = "currency_mix"
	// GCPSkipInvalid: the price fails Price.Validate.
	GCPSkipInvalid = "invalid"
)

// Reasons a SKU is outside what the GCP price book reads, as
// GCPFetchStats.Ignored counts them. Compute Engine lists disks, GPUs,
// licences, network and commitments next to machines: leaving them out is
// expected and not an error.
const (
	// GCPIgnoreNotCompute: a resource family other than Compute (storage,
	// network, licences).
	GCPIgnoreNotCompute = "not_compute"
	// GCPIgnoreNotMachine: not the vCPU or memory of a machine family (GPUs,
	// commitments, f1-micro and g1-small, sole-tenancy premiums).
	GCPIgnoreNotMachine = "not_machine"
	// GCPIgnoreVariant: the vCPU or memory of a custom, extended-memory or
	// sole-tenant machine, which are priced apart from predefined types.
	GCPIgnoreVariant = "variant"
	// GCPIgnoreCommitment: a committed-use price. Its usage type says so.
	GCPIgnoreCommitment = "commitment"
	// GCPIgnoreRegion: offered only in regions not asked for.
	GCPIgnoreRegion = "region"
)

// GCPOptions configures NewGCPFetcher. Fields with yaml tags can come from the
// configuration file; the others are for programs and tests.
type GCPOptions struct {
	// Regions are the Compute Engine regions to read prices for
	// (us-central1, europe-west1). Empty reads every region of the catalog.
	Regions []string `yaml:"regions"`
	// Currency is the ISO 4217 code prices are asked for. Empty means USD,
	// the currency Google prices in; others are Google's conversions.
	Currency string `yaml:"currency"`
	// RequestTimeout bounds each page request, body included. Zero means
	// DefaultGCPRequestTimeout. The ctx given to Fetch bounds the whole.
	RequestTimeout model.Duration `yaml:"request_timeout"`
	// Retries is how many times a page request that was throttled (429),
	// failed (408, 5xx), timed out or lost its connection is repeated. Zero
	// means DefaultGCPRetries; a negative value disables retries.
	Retries int `yaml:"retries"`

	// BackoffBase and BackoffMax shape the wait before a retry when the
	// server sent no Retry-After: a random time below a ceiling that starts
	// at BackoffBase and doubles up to BackoffMax. Zero means the defaults.
	BackoffBase time.Duration `yaml:"-"`
	BackoffMax  time.Duration `yaml:"-"`
	// MaxRetryAfter is the longest Retry-After honoured; a server asking for
	// more fails the request instead. Zero means DefaultGCPMaxRetryAfter.
	MaxRetryAfter time.Duration `yaml:"-"`
	// Endpoint replaces the Cloud Billing API's address
	// (https://cloudbilling.googleapis.com). Tests point it at a local server.
	Endpoint string `yaml:"-"`
	// ClientOptions configure authentication and the client (credentials,
	// quota project, WithoutAuthentication); they come after Stratus's own,
	// so they win. Without any, requests are authenticated with Application
	// Default Credentials. They must not hold option.WithHTTPClient: use
	// HTTPClient.
	ClientOptions []option.ClientOption `yaml:"-"`
	// HTTPClient, when set, sends the requests as it is, without the
	// authentication ClientOptions would add. Tests use it.
	HTTPClient *http.Client `yaml:"-"`
	// Logger receives skipped SKUs and a summary of each Fetch at debug
	// level. Nil discards.
	Logger *slog.Logger `yaml:"-"`
}

// GCPFetchStats says what one Fetch read and what it did not use.
type GCPFetchStats struct {
	// Pages and SKUs are the pages and SKUs read.
	Pages int
	SKUs  int
	// Prices is the number of prices returned.
	Prices int
	// Skipped counts what should have become a price and did not, by reason
	// (the GCPSkip constants). Fetch returns them as a GCPSkipError.
	Skipped map[string]int
	// Ignored counts SKUs outside the price book, by reason (the GCPIgnore
	// constants).
	Ignored map[string]int
}

// GCPSkipError says how many SKUs (or machine families, for the reasons that
// concern a family) a Fetch could not turn into prices, by reason. Fetch
// returns it wrapped, next to the prices it could read.
type GCPSkipError struct {
	// Counts maps a GCPSkip reason to its count.
	Counts map[string]int
}

// Error lists the reasons in a stable order.
func (e *GCPSkipError) Error() string {
	parts := make([]string, 0, len(e.Counts))
	total := 0
	for _, reason := range slices.Sorted(maps.Keys(e.Counts)) {
		parts = append(parts, fmt.Sprintf("%s=%d", reason, e.Counts[reason]))
		total += e.Counts[reason]
	}
	return fmt.Sprintf("%d skipped (%s)", total, strings.Join(parts, ", "))
}

// GCPFetcher reads Compute Engine list prices from the Google Cloud Billing
// Catalog: per region and machine family, the price of one vCPU-hour and of
// one GiB-hour of memory, on demand and spot, and from them the hourly price
// of every predefined machine type in gcpMachineShapes. It is safe for
// concurrent use.
//
// Google sells predefined machines by their parts: an n2-standard-4 is
// billed as 4 "N2 Instance Core" hours and 16 "N2 Instance Ram" GiB-hours,
// which is why the catalog lists no machine types and Stratus adds them up.
// GPUs, local SSDs, OS licences and sustained-use or committed-use discounts
// are not included.
type GCPFetcher struct {
	client    *billing.CloudCatalogClient
	transport *gcpContextTransport
	fetchID   atomic.Uint64
	regions   map[string]bool
	currency  string
	retry     gcpRetryPolicy
	logger    *slog.Logger

	mu        sync.Mutex
	lastStats GCPFetchStats
}

var _ Fetcher = (*GCPFetcher)(nil)

// NewGCPFetcher checks opts and creates the Cloud Billing REST client. It
// makes no request to the catalog, but finding the default credentials may
// read local files and, on Google Cloud, the metadata server.
func NewGCPFetcher(ctx context.Context, opts GCPOptions) (*GCPFetcher, error) {
	var regions map[string]bool
	for i, region := range opts.Regions {
		if strings.TrimSpace(region) == "" {
			return nil, fmt.Errorf("%s: regions[%d] is empty", GCPSource, i)
		}
		if regions == nil {
			regions = map[string]bool{}
		}
		regions[region] = true
	}
	if opts.Currency != "" && !gcpCurrencyCode.MatchString(opts.Currency) {
		return nil, fmt.Errorf("%s: currency %q is not an ISO 4217 code such as USD",
			GCPSource, opts.Currency)
	}
	retry := gcpRetryPolicy{
		retries:       cmp.Or(opts.Retries, DefaultGCPRetries),
		backoffBase:   cmp.Or(opts.BackoffBase, DefaultGCPBackoffBase),
		backoffMax:    cmp.Or(opts.BackoffMax, DefaultGCPBackoffMax),
		maxRetryAfter: cmp.Or(opts.MaxRetryAfter, DefaultGCPMaxRetryAfter),
	}
	retry.retries = max(retry.retries, 0)

	// The endpoint goes first so that explicit ClientOptions can still
	// override it.
	var clientOpts []option.ClientOption
	if opts.Endpoint != "" {
		clientOpts = append(clientOpts, option.WithEndpoint(opts.Endpoint))
	}
	clientOpts = append(clientOpts, opts.ClientOptions...)
	timeout := cmp.Or(time.Duration(opts.RequestTimeout), DefaultGCPRequestTimeout)
	transport, err := newGCPContextTransport(ctx, opts.HTTPClient, timeout, clientOpts)
	if err != nil {
		return nil, err
	}
	httpClient := &http.Client{Transport: transport}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		c.Transport = transport
		httpClient = &c
	}
	clientOpts = append(clientOpts, option.WithHTTPClient(httpClient))
	client, err := billing.NewCloudCatalogRESTClient(ctx, clientOpts...)
	if err != nil {
		return nil, fmt.Errorf("%s: create Cloud Billing client: %w", GCPSource, err)
	}

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &GCPFetcher{
		client:    client,
		transport: transport,
		regions:   regions,
		currency:  opts.Currency,
		retry:     retry,
		logger:    logger,
	}, nil
}

var gcpCurrencyCode = regexp.MustCompile(`^[A-Z]{3}$`)

// Close releases the client's resources.
func (f *GCPFetcher) Close() error {
	if err := f.client.Close(); err != nil {
		return fmt.Errorf("%s: close client: %w", GCPSource, err)
	}
	return nil
}

// Name implements Fetcher.
func (f *GCPFetcher) Name() string { return GCPSource }

// LastStats returns what the latest Fetch read, skipped and ignored.
func (f *GCPFetcher) LastStats() GCPFetchStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.lastStats
	s.Skipped = maps.Clone(f.lastStats.Skipped)
	s.Ignored = maps.Clone(f.lastStats.Ignored)
	return s
}

// Fetch implements Fetcher. It lists every Compute Engine SKU, page by page.
// A page request that fails after its retries ends the listing: the prices read
// until then are returned with the error, and machine families whose vCPU
// or memory price was on a later page are reported as incomplete.
func (f *GCPFetcher) Fetch(ctx context.Context) ([]Price, error) {
	run := gcpRun{
		regions: f.regions,
		logger:  f.logger,
		rates:   map[gcpRateKey]gcpRate{},
		skus:    map[gcpRateKey][]string{},
		stats:   GCPFetchStats{Skipped: map[string]int{}, Ignored: map[string]int{}},
	}

	ctx, done := f.transport.register(ctx, strconv.FormatUint(f.fetchID.Add(1), 10))
	defer done()
	// Next, not a Pager: a Pager gathers pages until it holds pageSize SKUs
	// and drops all it gathered when a later page fails.
	req := &billingpb.ListSkusRequest{Parent: GCPComputeService, CurrencyCode: f.currency,
		PageSize: gcpPageSize}
	it := f.client.ListSkus(ctx, req, gax.WithRetry(f.retry.newRetryer))
	var listErr error
	var page any
	for {
		sku, err := it.Next()
		if errors.Is(err, iterator.Done) {
			break
		}
		if err != nil {
			listErr = fmt.Errorf("list SKUs of %s (%d pages read): %w",
				GCPComputeService, run.stats.Pages, err)
			break
		}
		// The iterator keeps the latest page's response: a new one is a new page.
		if it.Response != page {
			page = it.Response
			run.stats.Pages++
		}
		run.addSKU(sku)
	}

	prices := run.prices()
	run.stats.Prices = len(prices)
	f.mu.Lock()
	f.lastStats = run.stats
	f.mu.Unlock()
	f.logger.Debug("read GCP billing catalog", "source", GCPSource,
		"pages", run.stats.Pages, "skus", run.stats.SKUs, "prices", len(prices),
		"skipped", run.stats.Skipped, "ignored", run.stats.Ignored)

	var errs []error
	if listErr != nil {
		errs = append(errs, listErr)
	}
	if len(run.stats.Skipped) > 0 {
		errs = append(errs, &GCPSkipError{Counts: maps.Clone(run.stats.Skipped)})
	}
	if len(errs) > 0 {
		return prices, fmt.Errorf("%s: %w", GCPSource, errors.Join(errs...))
	}
	return prices, nil
}

// gcpRateKey names one per-vCPU or per-GiB rate of the catalog.
type gcpRateKey struct {
	region   string
	family   string
	kind     Kind // KindVCPU or KindMemory
	purchase Purchase
}

// gcpRate is a rate read from one SKU, in Stratus's unit for its kind.
type gcpRate struct {
	value    float64
	currency string
	asOf     time.Time
}

// gcpRun is the state of one Fetch.
type gcpRun struct {
	regions map[string]bool
	logger  *slog.Logger
	rates   map[gcpRateKey]gcpRate
	// skus holds, per key, the SKUs that gave it a rate; more than one with
	// different rates is a conflict.
	skus      map[gcpRateKey][]string
	conflicts map[gcpRateKey]bool
	stats     GCPFetchStats
}

// skip counts a SKU that should have become a price and logs why it did not.
func (r *gcpRun) skip(sku *billingpb.Sku, reason, detail string) {
	r.stats.Skipped[reason]++
	r.logger.Debug("skipped GCP SKU", "source", GCPSource, "sku", sku.GetSkuId(),
		"description", sku.GetDescription(), "reason", reason, "detail", detail)
}

// addSKU reads one SKU into the run's rates, or counts why it cannot.
func (r *gcpRun) addSKU(sku *billingpb.Sku) {
	r.stats.SKUs++
	if sku.GetCategory().GetResourceFamily() != "Compute" {
		r.stats.Ignored[GCPIgnoreNotCompute]++
		return
	}
	machine, ignore := parseGCPMachineSKU(sku.GetDescription())
	if ignore != "" {
		r.stats.Ignored[ignore]++
		return
	}

	var purchase Purchase
	switch usage := sku.GetCategory().GetUsageType(); usage {
	case "OnDemand":
		purchase = OnDemand
	case "Preemptible":
		purchase = Spot
	case "Commit1Yr", "Commit3Yr":
		r.stats.Ignored[GCPIgnoreCommitment]++
		return
	default:
		r.skip(sku, GCPSkipUsageType, usage)
		return
	}
	if machine.spot != (purchase == Spot) {
		r.skip(sku, GCPSkipSpotMismatch, sku.GetCategory().GetUsageType())
		return
	}

	if len(sku.GetServiceRegions()) == 0 {
		r.skip(sku, GCPSkipNoRegion, "")
		return
	}
	var regions []string
	for _, region := range sku.GetServiceRegions() {
		if r.regions == nil || r.regions[region] {
			regions = append(regions, region)
		}
	}
	if len(regions) == 0 {
		r.stats.Ignored[GCPIgnoreRegion]++
		return
	}

	rate, reason, detail := gcpRateOf(sku, machine.kind)
	if reason != "" {
		r.skip(sku, reason, detail)
		return
	}
	for _, region := range regions {
		key := gcpRateKey{region: region, family: machine.family, kind: machine.kind,
			purchase: purchase}
		r.skus[key] = append(r.skus[key], sku.GetSkuId())
		old, seen := r.rates[key]
		switch {
		case !seen:
			r.rates[key] = rate
		case old.value != rate.value || old.currency != rate.currency:
			if r.conflicts == nil {
				r.conflicts = map[gcpRateKey]bool{}
			}
			r.conflicts[key] = true
		}
	}
}

// prices turns the run's rates into vCPU and memory prices and adds up the
// machine types of families with both. Skips are counted into r.stats.
func (r *gcpRun) prices() []Price {
	for key := range r.conflicts {
		r.stats.Skipped[GCPSkipConflict] += len(r.skus[key])
		r.logger.Debug("skipped GCP SKUs", "source", GCPSource, "reason", GCPSkipConflict,
			"region", key.region, "family", key.family, "kind", key.kind,
			"purchase", key.purchase, "skus", r.skus[key])
		delete(r.rates, key)
	}

	var prices []Price
	add := func(p Price) {
		if err := p.Validate(); err != nil {
			r.stats.Skipped[GCPSkipInvalid]++
			r.logger.Debug("skipped GCP price", "source", GCPSource, "reason", GCPSkipInvalid,
				"err", err)
			return
		}
		prices = append(prices, p)
	}

	type group struct {
		region, family string
		purchase       Purchase
	}
	groups := map[group]bool{}
	for key, rate := range r.rates {
		add(Price{
			Key: Key{Cloud: "gcp", Region: key.region, Kind: key.kind, Product: key.family,
				Purchase: key.purchase},
			Value: rate.value, Unit: UnitOf(key.kind), Currency: rate.currency,
			Source: GCPSource, AsOf: rate.asOf,
		})
		groups[group{key.region, key.family, key.purchase}] = true
	}

	for g := range groups {
		shapes := gcpMachineShapes[g.family]
		if len(shapes) == 0 {
			continue
		}
		vcpuKey := gcpRateKey{g.region, g.family, KindVCPU, g.purchase}
		memKey := gcpRateKey{g.region, g.family, KindMemory, g.purchase}
		if r.conflicts[vcpuKey] || r.conflicts[memKey] {
			continue // counted as conflicts above
		}
		vcpu, hasVCPU := r.rates[vcpuKey]
		mem, hasMem := r.rates[memKey]
		switch {
		case !hasVCPU || !hasMem:
			r.stats.Skipped[GCPSkipIncomplete]++
			r.logger.Debug("skipped GCP machine family", "source", GCPSource,
				"reason", GCPSkipIncomplete, "region", g.region, "family", g.family,
				"purchase", g.purchase, "has_vcpu", hasVCPU, "has_memory", hasMem)
			continue
		case vcpu.currency != mem.currency:
			r.stats.Skipped[GCPSkipCurrencyMix]++
			r.logger.Debug("skipped GCP machine family", "source", GCPSource,
				"reason", GCPSkipCurrencyMix, "region", g.region, "family", g.family,
				"purchase", g.purchase)
			continue
		}
		asOf := vcpu.asOf
		if mem.asOf.After(asOf) {
			asOf = mem.asOf
		}
		for _, shape := range shapes {
			add(Price{
				Key: Key{Cloud: "gcp", Region: g.region, Kind: KindCompute,
					Product: shape.name, OS: "linux", Purchase: g.purchase},
				Value:    shape.vcpu*vcpu.value + shape.memoryGiB*mem.value,
				Unit:     PerHour,
				Currency: vcpu.currency,
				Source:   GCPSource,
				AsOf:     asOf,
				// A shared-core machine's VCPU is its billed share (0.25 for
				// e2-micro), the figure its price is made of.
				VCPU:      shape.vcpu,
				MemoryGiB: shape.memoryGiB,
			})
		}
	}

	slices.SortFunc(prices, func(a, b Price) int {
		return cmp.Or(
			strings.Compare(a.Region, b.Region),
			strings.Compare(string(a.Kind), string(b.Kind)),
			strings.Compare(a.Product, b.Product),
			strings.Compare(string(a.Purchase), string(b.Purchase)),
		)
	})
	return prices
}

// gcpMachineSKU is what the description of a vCPU or memory SKU says.
type gcpMachineSKU struct {
	family string // n2, e2, c2
	kind   Kind   // KindVCPU or KindMemory
	spot   bool
}

// gcpMachineDescription matches the descriptions of the per-vCPU and per-GiB
// SKUs of machine families: "N2 Instance Core running in Americas", "Spot
// Preemptible N2D AMD Instance Ram running in EMEA", "N1 Predefined Instance
// Core running in Montreal", "Compute optimized Core running in Sydney". The
// place after "running in" is a marketing area, not a region: regions come
// from serviceRegions.
var gcpMachineDescription = regexp.MustCompile(
	`^((?:Spot )?Preemptible )?(.+?) (Core|Ram) running in \S.*$`)

// gcpFamilyWord is a machine family as descriptions spell it: N2, N2D, E2, C3.
var gcpFamilyWord = regexp.MustCompile(`^[A-Z][0-9]+[A-Z]?$`)

// gcpFamilyQualifiers are the words that may follow a family in a description
// without making it another product: the processor vendor, and N1's
// "Predefined" (as opposed to "Custom").
var gcpFamilyQualifiers = map[string]bool{"AMD": true, "Arm": true, "Intel": true,
	"Predefined": true}

// parseGCPMachineSKU reads a SKU description. A description of something
// other than a predefined machine family's vCPU or memory returns the
// GCPIgnore reason.
func parseGCPMachineSKU(description string) (gcpMachineSKU, string) {
	m := gcpMachineDescription.FindStringSubmatch(description)
	if m == nil {
		return gcpMachineSKU{}, GCPIgnoreNotMachine
	}
	sku := gcpMachineSKU{kind: KindVCPU, spot: m[1] != ""}
	if m[3] == "Ram" {
		sku.kind = KindMemory
	}

	// C2 was named for its purpose before families were named by letter.
	phrase := strings.TrimSuffix(m[2], " Instance")
	if phrase == "Compute optimized" {
		sku.family = "c2"
		return sku, ""
	}
	words := strings.Fields(phrase)
	if len(words) == 0 || !gcpFamilyWord.MatchString(words[0]) {
		return gcpMachineSKU{}, GCPIgnoreNotMachine
	}
	for _, w := range words[1:] {
		if !gcpFamilyQualifiers[w] {
			return gcpMachineSKU{}, GCPIgnoreVariant // Custom, Sole Tenancy, Extended
		}
	}
	sku.family = strings.ToLower(words[0])
	return sku, ""
}

// gcpRateOf reads the current price of a vCPU or memory SKU, converted to
// Stratus's unit for kind. A SKU that cannot be read returns a GCPSkip reason
// and a detail for the log.
//
// pricingInfo is a timeline in chronological order; without a time range in
// the request it holds only the current entry, and the last entry is the
// current one in any case. Of its tiered rates, the first with a price above
// zero is used: machine SKUs have a single tier, and a leading free tier
// would be a free allowance, not the price of an hour.
func gcpRateOf(sku *billingpb.Sku, kind Kind) (gcpRate, string, string) {
	infos := sku.GetPricingInfo()
	if len(infos) == 0 || infos[len(infos)-1].GetPricingExpression() == nil {
		return gcpRate{}, GCPSkipNoPricing, ""
	}
	info := infos[len(infos)-1]
	expr := info.GetPricingExpression()

	perUnit, ok := gcpUnitAmount(expr.GetUsageUnit(), kind)
	if !ok {
		return gcpRate{}, GCPSkipUnit, fmt.Sprintf("usage unit %q for %s",
			expr.GetUsageUnit(), kind)
	}
	if reason, detail := gcpCheckBaseUnit(expr, kind, perUnit); reason != "" {
		return gcpRate{}, reason, detail
	}

	for i, tier := range expr.GetTieredRates() {
		price := tier.GetUnitPrice()
		value, ok := gcpMoney(price.GetUnits(), price.GetNanos())
		if !ok {
			return gcpRate{}, GCPSkipBadPrice, fmt.Sprintf("tier %d: units %d, nanos %d",
				i, price.GetUnits(), price.GetNanos())
		}
		if value == 0 {
			continue
		}
		if price.GetCurrencyCode() == "" {
			return gcpRate{}, GCPSkipNoCurrency, fmt.Sprintf("tier %d", i)
		}
		rate := gcpRate{value: value / perUnit, currency: price.GetCurrencyCode()}
		if t := info.GetEffectiveTime(); t != nil {
			rate.asOf = t.AsTime()
		}
		return rate, "", ""
	}
	return gcpRate{}, GCPSkipNoPaidTier, fmt.Sprintf("%d tiers", len(expr.GetTieredRates()))
}

// gcpCheckBaseUnit checks the usage unit against the base unit and its
// conversion factor, when the catalog gives them. The factor is how many base
// units one usage unit is (3600 from h to s; 2^30 * 3600 from GiBy.h to
// By.s); a disagreement means one of the three is not what Stratus thinks.
func gcpCheckBaseUnit(expr *billingpb.PricingExpression, kind Kind,
	perUnit float64) (string, string) {
	factor := expr.GetBaseUnitConversionFactor()
	if expr.GetBaseUnit() == "" || factor == 0 {
		return "", ""
	}
	perBase, ok := gcpUnitAmount(expr.GetBaseUnit(), kind)
	if !ok {
		return GCPSkipUnitFactor, fmt.Sprintf("base unit %q", expr.GetBaseUnit())
	}
	if want := perUnit / perBase; math.Abs(factor-want) > 1e-9*want {
		return GCPSkipUnitFactor, fmt.Sprintf("%s is %v %s, the catalog says %v",
			expr.GetUsageUnit(), want, expr.GetBaseUnit(), factor)
	}
	return "", ""
}

// Units of the catalog's unit syntax (UCUM-like, as in "GiBy.h"): the hours in
// a time unit and the bytes in a data unit.
var (
	gcpHoursIn = map[string]float64{"s": 1.0 / 3600, "min": 1.0 / 60, "h": 1, "d": 24}
	gcpBytesIn = map[string]float64{
		"By": 1, "KiBy": 1 << 10, "MiBy": 1 << 20, "GiBy": 1 << 30, "TiBy": 1 << 40,
		"kBy": 1e3, "MBy": 1e6, "GBy": 1e9, "TBy": 1e12,
	}
)

// gcpUnitAmount returns how much of Stratus's unit for kind one catalog unit
// is: 1 for "h" (a vCPU-hour) and for "GiBy.h"; 1/3600 for "s"; 1e9/2^30 for
// "GBy.h", since a decimal gigabyte is less than a GiB. A price per catalog
// unit divided by it is the price per Stratus unit. A unit of the wrong
// dimension for kind is not understood.
func gcpUnitAmount(unit string, kind Kind) (float64, bool) {
	switch kind {
	case KindVCPU:
		hours, ok := gcpHoursIn[unit]
		return hours, ok
	case KindMemory:
		data, per, found := strings.Cut(unit, ".")
		bytes, okData := gcpBytesIn[data]
		hours, okTime := gcpHoursIn[per]
		if !found || !okData || !okTime {
			return 0, false
		}
		return bytes / (1 << 30) * hours, true
	}
	return 0, false
}

// gcpMoney reads a google.type.Money amount. Units and nanos carry the same
// sign and nanos stay within ±999 999 999; a negative amount is no price.
func gcpMoney(units int64, nanos int32) (float64, bool) {
	switch {
	case nanos <= -1e9 || nanos >= 1e9:
		return 0, false
	case units > 0 && nanos < 0, units < 0 && nanos > 0:
		return 0, false
	case units < 0 || nanos < 0:
		return 0, false
	}
	return float64(units) + float64(nanos)/1e9, true
}

// gcpRetryPolicy is how each page request is retried. The Cloud Billing REST
// client retries nothing by itself (its ListSkus call options set only a
// timeout), so Stratus passes this policy to every call through gax.WithRetry.
type gcpRetryPolicy struct {
	retries       int
	backoffBase   time.Duration
	backoffMax    time.Duration
	maxRetryAfter time.Duration
}

// newRetryer starts the retries of one page request.
func (p gcpRetryPolicy) newRetryer() gax.Retryer {
	return &gcpRetryer{
		policy: p,
		backoff: gax.Backoff{Initial: p.backoffBase, Max: p.backoffMax,
			Multiplier: 2},
	}
}

// gcpRetryer retries throttled and failed requests with jittered exponential
// backoff, and waits as long as a Retry-After header asks.
type gcpRetryer struct {
	policy  gcpRetryPolicy
	backoff gax.Backoff
	retried int
}

// Retry implements gax.Retryer. When the ctx of Fetch has ended, gax stops
// before the pause, so a request that timed out with its Fetch is not
// repeated.
func (r *gcpRetryer) Retry(err error) (time.Duration, bool) {
	if !gcpRetryable(err) || r.retried >= r.policy.retries {
		return 0, false
	}
	r.retried++

	pause := r.backoff.Pause()
	var apiErr *googleapi.Error
	if !errors.As(err, &apiErr) {
		return pause, true
	}
	if after, ok := retry.ParseAfter(apiErr.Header.Get("Retry-After"), time.Now()); ok {
		if after > r.policy.maxRetryAfter {
			return 0, false
		}
		pause = after
	}
	return pause, true
}

// gcpRetryable says whether a failed request may pass if sent again: an HTTP
// status for throttling or a server fault, a request that timed out, or a
// connection that broke. A malformed answer is not retried; it would most
// likely come back the same.
func gcpRetryable(err error) bool {
	var apiErr *googleapi.Error
	if errors.As(err, &apiErr) {
		switch apiErr.Code {
		case http.StatusRequestTimeout, http.StatusTooManyRequests,
			http.StatusInternalServerError, http.StatusBadGateway,
			http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var netErr net.Error
	return errors.Is(err, context.DeadlineExceeded) ||
		(errors.As(err, &netErr) && netErr.Timeout()) ||
		errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET)
}

// gcpFetchHeader carries the id of a Fetch from its ctx, through the Cloud
// Billing client, to gcpContextTransport, which removes it again.
const gcpFetchHeader = "x-stratus-fetch-id"

// gcpContextTransport gives each request the ctx of the Fetch that sent it,
// bounded by the request timeout.
//
// It exists because the Cloud Billing catalog REST client (v1.28.1) builds
// its requests with http.NewRequest and never attaches the caller's ctx, so
// neither a cancelled ctx nor the client's own call timeout would stop a
// request that hangs. The client does copy headers set with callctx onto
// its requests; Fetch sets one with its id, and this transport looks the ctx
// up by it.
type gcpContextTransport struct {
	base    http.RoundTripper
	timeout time.Duration
	fetches sync.Map // id → context.Context
}

// newGCPContextTransport wraps the transport requests go out by: the given
// client's, or one authenticated as clientOpts say (Application Default
// Credentials unless they say otherwise).
func newGCPContextTransport(ctx context.Context, client *http.Client, timeout time.Duration,
	clientOpts []option.ClientOption) (*gcpContextTransport, error) {
	if client != nil {
		base := client.Transport
		if base == nil {
			base = http.DefaultTransport
		}
		return &gcpContextTransport{base: base, timeout: timeout}, nil
	}
	opts := append([]option.ClientOption{option.WithScopes(billing.DefaultAuthScopes()...)},
		clientOpts...)
	base, err := htransport.NewTransport(ctx, http.DefaultTransport, opts...)
	if err != nil {
		return nil, fmt.Errorf("%s: set up authenticated transport: %w", GCPSource, err)
	}
	return &gcpContextTransport{base: base, timeout: timeout}, nil
}

// register makes requests sent with the returned ctx carry ctx. Call done
// when the Fetch ends.
func (t *gcpContextTransport) register(ctx context.Context,
	id string) (context.Context, func()) {
	t.fetches.Store(id, ctx)
	return callctx.SetHeaders(ctx, gcpFetchHeader, id), func() { t.fetches.Delete(id) }
}

// RoundTrip implements http.RoundTripper.
func (t *gcpContextTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	// The client builds headers from gRPC metadata, whose keys are lower
	// case rather than canonical, so keys are compared without case.
	ctx := req.Context()
	for key, values := range req.Header {
		if !strings.EqualFold(key, gcpFetchHeader) || len(values) == 0 {
			continue
		}
		if fetchCtx, ok := t.fetches.Load(values[0]); ok {
			ctx = fetchCtx.(context.Context)
		}
	}

	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	out := req.Clone(ctx)
	for key := range out.Header {
		if strings.EqualFold(key, gcpFetchHeader) {
			delete(out.Header, key)
		}
	}
	resp, err := t.base.RoundTrip(out)
	if err != nil {
		cancel()
		return nil, err
	}
	// The timeout covers reading the body; it ends when the body is closed.
	resp.Body = &gcpCancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// gcpCancelOnClose releases a request's ctx when its body is closed.
type gcpCancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

// Close implements io.Closer.
func (b *gcpCancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// gcpMachineShape is a predefined machine type: its vCPUs and memory.
type gcpMachineShape struct {
	name      string
	vcpu      float64
	memoryGiB float64
}

// gcpMachineSeries is a run of predefined machine types of one family and
// class whose memory is a fixed number of GiB per vCPU.
type gcpMachineSeries struct {
	family     string
	class      string // standard, highmem, highcpu
	gibPerVCPU float64
	vcpus      []float64
}

// gcpPredefinedSeries are the predefined machine types Stratus prices, from
// Google's machine family documentation. Types whose memory breaks the ratio
// of their series (n2-highmem-128 has 864 GiB) are left out rather than
// priced wrong; types with GPUs (a2, g2) or local SSDs (-lssd) are left out
// because their price has parts the vCPU and memory SKUs do not hold. Adding
// a family is one line here once its SKUs parse (see parseGCPMachineSKU).
var gcpPredefinedSeries = []gcpMachineSeries{
	{"e2", "standard", 4, []float64{2, 4, 8, 16, 32}},
	{"e2", "highmem", 8, []float64{2, 4, 8, 16}},
	{"e2", "highcpu", 1, []float64{2, 4, 8, 16, 32}},
	{"n1", "standard", 3.75, []float64{1, 2, 4, 8, 16, 32, 64, 96}},
	{"n1", "highmem", 6.5, []float64{2, 4, 8, 16, 32, 64, 96}},
	{"n1", "highcpu", 0.9, []float64{2, 4, 8, 16, 32, 64, 96}},
	{"n2", "standard", 4, []float64{2, 4, 8, 16, 32, 48, 64, 80, 96, 128}},
	{"n2", "highmem", 8, []float64{2, 4, 8, 16, 32, 48, 64, 80, 96}},
	{"n2", "highcpu", 1, []float64{2, 4, 8, 16, 32, 48, 64, 80, 96}},
	{"n2d", "standard", 4, []float64{2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224}},
	{"n2d", "highmem", 8, []float64{2, 4, 8, 16, 32, 48, 64, 80, 96}},
	{"n2d", "highcpu", 1, []float64{2, 4, 8, 16, 32, 48, 64, 80, 96, 128, 224}},
	{"t2d", "standard", 4, []float64{1, 2, 4, 8, 16, 32, 48, 60}},
	{"c2", "standard", 4, []float64{4, 8, 16, 30, 60}},
	{"c3", "standard", 4, []float64{4, 8, 22, 44, 88, 176}},
	{"c3", "highmem", 8, []float64{4, 8, 22, 44, 88, 176}},
	{"c3", "highcpu", 2, []float64{4, 8, 22, 44, 88, 176}},
}

// gcpSharedCoreTypes are e2's shared-core machines. They burst to 2 vCPUs but
// are billed for a share of one (1/4, 1/2, 1) at the E2 vCPU price, so the
// share is their vCPU figure.
var gcpSharedCoreTypes = []gcpMachineShape{
	{"e2-micro", 0.25, 1},
	{"e2-small", 0.5, 2},
	{"e2-medium", 1, 4},
}

// gcpMachineShapes holds the predefined machine types by family.
var gcpMachineShapes = buildGCPMachineShapes()

// buildGCPMachineShapes expands gcpPredefinedSeries and gcpSharedCoreTypes.
func buildGCPMachineShapes() map[string][]gcpMachineShape {
	shapes := map[string][]gcpMachineShape{}
	for _, s := range gcpPredefinedSeries {
		for _, vcpu := range s.vcpus {
			shapes[s.family] = append(shapes[s.family], gcpMachineShape{
				name:      fmt.Sprintf("%s-%s-%g", s.family, s.class, vcpu),
				vcpu:      vcpu,
				memoryGiB: vcpu * s.gibPerVCPU,
			})
		}
	}
	shapes["e2"] = append(shapes["e2"], gcpSharedCoreTypes...)
	return shapes
}
