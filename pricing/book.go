package pricing

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
)

// Source names of the layers that are not fetched catalogs or price files.
const (
	// SourceOverride is the Source of the explicit prices in the configuration.
	SourceOverride = "override"
	// SourceSnapshot is the Source of the prices compiled into the binary.
	SourceSnapshot = "embedded-snapshot"
)

// Reasons a lookup finds no price. They are the values of the reason label of
// stratus_cost_unpriced_resources, so they are few, stable and lower case.
const (
	// ReasonInvalidKey: the key lacks a cloud or a product, or names an unknown
	// kind or purchase option.
	ReasonInvalidKey = "invalid_key"
	// ReasonUnknownCloud: no layer has any price for the cloud.
	ReasonUnknownCloud = "unknown_cloud"
	// ReasonUnknownRegion: the cloud is known but not the region.
	ReasonUnknownRegion = "unknown_region"
	// ReasonUnknownProduct: the region is known but has no price of that kind
	// for that product.
	ReasonUnknownProduct = "unknown_product"
	// ReasonUnknownOS: the product is priced, but not for that operating system.
	ReasonUnknownOS = "unknown_os"
	// ReasonNoPurchaseOption: the product is priced for that operating system,
	// but not with that purchase option.
	ReasonNoPurchaseOption = "no_purchase_option"
	// ReasonCurrencyMismatch: the price found is in another currency than the
	// book's, and Stratus does not convert currencies.
	ReasonCurrencyMismatch = "currency_mismatch"
)

// NoPriceError says why a price book has no price for a key. It wraps
// ErrNoPrice, so errors.Is(err, ErrNoPrice) holds.
type NoPriceError struct {
	Key    Key
	Reason string
}

// Error names the key and the reason.
func (e *NoPriceError) Error() string {
	return fmt.Sprintf("%v for %s: %s", ErrNoPrice, e.Key, e.Reason)
}

// Unwrap returns ErrNoPrice.
func (e *NoPriceError) Unwrap() error { return ErrNoPrice }

// NoPriceReason returns the reason of a failed lookup (one of the Reason
// constants), or "" when err is not a NoPriceError.
func NoPriceReason(err error) string {
	var npe *NoPriceError
	if errors.As(err, &npe) {
		return npe.Reason
	}
	return ""
}

// Book is a price book: it answers the price of a key from layers in order of
// precedence — explicit overrides, price files, catalogs fetched from the
// clouds (one per source, in the order they were first set), and the embedded
// snapshot. The first layer that has the exact key answers; a key is never
// answered with another region's or another purchase option's price.
//
// Cloud, region, product and OS are compared without regard to case (Azure's
// size names come in several spellings); the price returned keeps the
// spelling of its source. A Book is safe for concurrent use: every setter
// builds a new immutable state and swaps it in, so lookups never wait for a
// refresh.
type Book struct {
	currency string

	mu    sync.Mutex // serialises setters; lookups read state without it
	state atomic.Pointer[bookState]
}

// bookState is one immutable generation of a book.
type bookState struct {
	overrides *layer
	files     *layer
	catalogs  []*layer
	snapshot  *layer
	discounts []DiscountConfig
}

func (s *bookState) layers() []*layer {
	out := make([]*layer, 0, len(s.catalogs)+3)
	out = append(out, s.overrides, s.files)
	out = append(out, s.catalogs...)
	return append(out, s.snapshot)
}

// NewBook returns an empty price book whose prices are in currency (USD when
// empty).
func NewBook(currency string) *Book {
	if currency == "" {
		currency = DefaultCurrency
	}
	b := &Book{currency: currency}
	b.state.Store(&bookState{
		overrides: newLayer(SourceOverride, nil, time.Time{}),
		files:     newLayer("files", nil, time.Time{}),
		snapshot:  newLayer(SourceSnapshot, nil, time.Time{}),
	})
	return b
}

// Currency is the currency every price of the book is in.
func (b *Book) Currency() string { return b.currency }

// update applies change to a copy of the current state and publishes it.
func (b *Book) update(change func(s *bookState)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	next := *b.state.Load()
	next.catalogs = slices.Clone(next.catalogs)
	change(&next)
	b.state.Store(&next)
}

// SetOverrides replaces the explicit prices of the configuration. They must
// be valid, in the book's currency, and name each key once.
func (b *Book) SetOverrides(prices []Price) error {
	l, err := b.strictLayer(SourceOverride, prices)
	if err != nil {
		return fmt.Errorf("overrides: %w", err)
	}
	b.update(func(s *bookState) { s.overrides = l })
	return nil
}

// SetFilePrices replaces the prices read from price files. A key priced by
// two files is an error naming both: which one is meant cannot be guessed.
func (b *Book) SetFilePrices(prices []Price) error {
	l, err := b.strictLayer("files", prices)
	if err != nil {
		return fmt.Errorf("price files: %w", err)
	}
	b.update(func(s *bookState) { s.files = l })
	return nil
}

// strictLayer builds a layer from configured prices, which are rejected
// rather than skipped when wrong because a person can fix them.
func (b *Book) strictLayer(name string, prices []Price) (*layer, error) {
	seen := map[Key]Price{}
	for _, p := range prices {
		p.Key = withDefaults(p.Key)
		if err := p.Validate(); err != nil {
			return nil, fmt.Errorf("%s: %w", p.Source, err)
		}
		if p.Currency != b.currency {
			return nil, fmt.Errorf("%s: %s: currency %s, but the price book's is %s",
				p.Source, p.Key, p.Currency, b.currency)
		}
		k := lookupKey(p.Key)
		if first, dup := seen[k]; dup {
			return nil, fmt.Errorf("%s: priced twice, by %s and by %s",
				first.Key, first.Source, p.Source)
		}
		seen[k] = p
	}
	return newLayer(name, prices, time.Time{}), nil
}

// SetCatalog replaces the catalog fetched from source at fetchedAt; its
// prices carry source as their Source. Prices that fail Validate are left out
// (the refresher counts them before calling). A new source is placed after
// the catalogs already set.
func (b *Book) SetCatalog(source string, prices []Price, fetchedAt time.Time) {
	valid := make([]Price, 0, len(prices))
	for _, p := range prices {
		p.Source = source
		p.Key = withDefaults(p.Key)
		if p.Validate() == nil {
			valid = append(valid, p)
		}
	}
	l := newLayer(source, valid, fetchedAt)
	b.update(func(s *bookState) {
		i := slices.IndexFunc(s.catalogs, func(c *layer) bool { return c.name == source })
		if i < 0 {
			s.catalogs = append(s.catalogs, l)
		} else {
			s.catalogs[i] = l
		}
	})
}

// SetSnapshot replaces the snapshot layer, the last one consulted.
func (b *Book) SetSnapshot(prices []Price) {
	l := newLayer(SourceSnapshot, prices, time.Time{})
	b.update(func(s *bookState) { s.snapshot = l })
}

// SetDiscounts replaces the percentage discounts. They must pass Validate.
func (b *Book) SetDiscounts(discounts []DiscountConfig) error {
	if err := validateDiscounts(discounts); err != nil {
		return err
	}
	ds := slices.Clone(discounts)
	b.update(func(s *bookState) { s.discounts = ds })
	return nil
}

// Lookup returns the price of k from the first layer that has it. OS defaults
// to linux for compute and is ignored for other kinds; the purchase option
// defaults to on-demand. A miss returns a *NoPriceError wrapping ErrNoPrice.
func (b *Book) Lookup(k Key) (Price, error) {
	if !validLookup(k) {
		return Price{}, &NoPriceError{Key: k, Reason: ReasonInvalidKey}
	}
	lk := lookupKey(withDefaults(k))
	st := b.state.Load()
	for _, l := range st.layers() {
		if p, ok := l.prices[lk]; ok {
			if p.Currency != b.currency {
				return Price{}, &NoPriceError{Key: k, Reason: ReasonCurrencyMismatch}
			}
			return p, nil
		}
	}
	return Price{}, &NoPriceError{Key: k, Reason: st.missReason(lk)}
}

// validLookup reports whether a key can name a price at all.
func validLookup(k Key) bool {
	switch k.Purchase {
	case "", OnDemand, Spot, Reserved, Committed:
	default:
		return false
	}
	return UnitOf(k.Kind) != "" && strings.TrimSpace(k.Cloud) != "" &&
		strings.TrimSpace(k.Product) != ""
}

// missReasons are the reasons of a miss from the least to the most specific.
var missReasons = []string{
	ReasonUnknownCloud, ReasonUnknownRegion, ReasonUnknownProduct, ReasonUnknownOS,
	ReasonNoPurchaseOption,
}

// missReason names the most specific part of lk that some layer knows, so the
// reason says what is missing rather than merely that something is.
func (s *bookState) missReason(lk Key) string {
	level := 0
	for _, l := range s.layers() {
		level = max(level, l.missLevel(lk))
	}
	return missReasons[level]
}

// withDefaults fills in the OS and purchase option a key leaves empty, and
// clears the OS of kinds that have none.
func withDefaults(k Key) Key {
	if k.Kind != KindCompute {
		k.OS = ""
	} else if k.OS == "" {
		k.OS = "linux"
	}
	if k.Purchase == "" {
		k.Purchase = OnDemand
	}
	return k
}

// lookupKey is k as layers index it: trimmed and case-folded.
func lookupKey(k Key) Key {
	fold := func(s string) string { return strings.ToLower(strings.TrimSpace(s)) }
	k.Cloud, k.Region, k.Product, k.OS = fold(k.Cloud), fold(k.Region), fold(k.Product), fold(k.OS)
	return k
}

// layer is one source of prices, indexed for lookups and for naming what a
// miss lacks. A layer never changes once built.
type layer struct {
	name      string
	refreshed time.Time
	prices    map[Key]Price
	counts    map[string]int // prices per Source

	// The parts of the keys priced, each level one field more specific:
	// clouds, then cloud and region, then kind and product, then OS.
	clouds   map[string]bool
	regions  map[Key]bool
	products map[Key]bool
	systems  map[Key]bool
}

func newLayer(name string, prices []Price, refreshed time.Time) *layer {
	l := &layer{
		name: name, refreshed: refreshed,
		prices: map[Key]Price{}, counts: map[string]int{},
		clouds: map[string]bool{}, regions: map[Key]bool{},
		products: map[Key]bool{}, systems: map[Key]bool{},
	}
	for _, p := range prices {
		p.Key = withDefaults(p.Key)
		k := lookupKey(p.Key)
		if _, dup := l.prices[k]; dup {
			continue // a catalog listing a key twice: the first listing stands
		}
		l.prices[k] = p
		l.counts[p.Source]++
		l.clouds[k.Cloud] = true
		l.regions[regionPart(k)] = true
		l.products[productPart(k)] = true
		l.systems[systemPart(k)] = true
	}
	return l
}

func regionPart(k Key) Key  { return Key{Cloud: k.Cloud, Region: k.Region} }
func productPart(k Key) Key { r := regionPart(k); r.Kind, r.Product = k.Kind, k.Product; return r }
func systemPart(k Key) Key  { p := productPart(k); p.OS = k.OS; return p }

// missLevel is the index in missReasons of what this layer says a miss of lk
// lacks.
func (l *layer) missLevel(lk Key) int {
	switch {
	case l.systems[systemPart(lk)]:
		return 4
	case l.products[productPart(lk)]:
		return 3
	case l.regions[regionPart(lk)]:
		return 2
	case l.clouds[lk.Cloud]:
		return 1
	}
	return 0
}

// SourceStats is what a book holds from one source, for the pricing metrics.
type SourceStats struct {
	Source string
	Prices int
	// Refreshed is when a fetched catalog was fetched; zero for the other
	// layers, which are not refreshed.
	Refreshed time.Time
}

// Sources returns the prices held per source, sorted by source name. A
// fetched catalog is counted under its source even when empty.
func (b *Book) Sources() []SourceStats {
	st := b.state.Load()
	bySource := map[string]*SourceStats{}
	for _, l := range st.layers() {
		for src, n := range l.counts {
			s := bySource[src]
			if s == nil {
				s = &SourceStats{Source: src}
				bySource[src] = s
			}
			s.Prices += n
		}
	}
	for _, c := range st.catalogs {
		s := bySource[c.name]
		if s == nil {
			s = &SourceStats{Source: c.name}
			bySource[c.name] = s
		}
		s.Refreshed = c.refreshed
	}
	out := make([]SourceStats, 0, len(bySource))
	for _, src := range slices.Sorted(maps.Keys(bySource)) {
		out = append(out, *bySource[src])
	}
	return out
}

// DefaultCPUMemoryCostRatio is what one vCPU-hour costs in GiB-hours of memory
// when a book has no per-vCPU and per-GiB prices for a machine's family.
//
// It comes from Google's n2 list prices in us-central1, which are the sum of a
// per-core and a per-GiB rate: in the embedded snapshot n2-standard-2 (2 vCPU,
// 8 GiB) costs $0.097118 an hour and n2-highcpu-2 (2 vCPU, 2 GiB) $0.071696,
// so 6 GiB cost $0.025422, one GiB-hour $0.004237 and one vCPU-hour $0.031611
// (n2-highmem-2, 16 GiB, checks out at $0.131014). The e2 and n2d families
// give the same ratio to two decimals. It is a defensible default for
// general-purpose machines on every cloud, which price CPU and memory
// together; TestDefaultCPUMemoryCostRatio recomputes it from the snapshot.
const DefaultCPUMemoryCostRatio = 0.031611 / 0.004237 // ≈ 7.46

// How SplitCompute divided a price.
const (
	// SplitUnitPrices: in proportion to the family's per-vCPU and per-GiB prices.
	SplitUnitPrices = "unit-prices"
	// SplitDefaultRatio: with DefaultCPUMemoryCostRatio.
	SplitDefaultRatio = "default-ratio"
)

// SplitCompute divides a compute price between its vCPUs and its memory,
// returning the price of one vCPU-hour and of one GiB-hour such that
// cpu×VCPU + mem×MemoryGiB equals the hourly price, so that attributing both
// parts conserves the machine's cost.
//
// The proportion comes from the KindVCPU and KindMemory prices of the same
// cloud, region, family (see ComputeFamily) and purchase option when the book
// has both (source SplitUnitPrices), otherwise from DefaultCPUMemoryCostRatio
// (source SplitDefaultRatio). GPUs, local disks and licences inside a
// machine's price are spread over CPU and memory with the rest.
func (b *Book) SplitCompute(p Price) (cpuPerVCPUHour, memPerGiBHour float64, source string,
	err error,
) {
	if p.Kind != KindCompute || p.Unit != PerHour {
		return 0, 0, "", fmt.Errorf("split %s: not an hourly compute price", p.Key)
	}
	if !(p.VCPU > 0 && p.MemoryGiB > 0) {
		return 0, 0, "", fmt.Errorf("split %s: size unknown (%v vCPU, %v GiB)",
			p.Key, p.VCPU, p.MemoryGiB)
	}
	cpuWeight, memWeight, source := DefaultCPUMemoryCostRatio, 1.0, SplitDefaultRatio
	family := Key{Cloud: p.Cloud, Region: p.Region, Product: ComputeFamily(p.Product),
		Purchase: p.Purchase}
	family.Kind = KindVCPU
	cpu, cpuErr := b.Lookup(family)
	family.Kind = KindMemory
	mem, memErr := b.Lookup(family)
	if cpuErr == nil && memErr == nil && cpu.Value+mem.Value > 0 {
		cpuWeight, memWeight, source = cpu.Value, mem.Value, SplitUnitPrices
	}
	// Scale the weights so that the parts add up to the machine's price exactly.
	scale := p.Value / (cpuWeight*p.VCPU + memWeight*p.MemoryGiB)
	return cpuWeight * scale, memWeight * scale, source, nil
}

// ComputeFamily returns the machine family of a compute product, the product
// of its KindVCPU and KindMemory prices: the part before the first "-" or "."
// ("n2" for n2-standard-4 and n2-custom-4-16384, "m5" for m5.xlarge), or the
// whole product where it has neither (Azure sizes, "fargate").
func ComputeFamily(product string) string {
	if i := strings.IndexAny(product, "-."); i > 0 {
		return product[:i]
	}
	return product
}

// Discount returns the percentage discount (0–100) configured for cost in
// cloud under account for service: that of the most specific discount that
// matches — one naming the service wins over one naming the account, which
// wins over one naming only the cloud. A discount field left empty matches
// anything. Zero when none matches. Discounts do not add up: the cost engine
// applies the one returned.
func (b *Book) Discount(cloud, account, service string) float64 {
	best, bestRank := 0.0, -1
	for _, d := range b.state.Load().discounts {
		if !matches(d.Cloud, cloud) || !matches(d.Account, account) ||
			!matches(d.Service, service) {
			continue
		}
		if r := d.specificity(); r > bestRank {
			best, bestRank = d.Percent, r
		}
	}
	return best
}

func matches(want, got string) bool {
	return want == "" || strings.EqualFold(want, got)
}

// Defaults of Config.
const (
	// DefaultRefreshInterval is how often list prices are fetched anew.
	DefaultRefreshInterval = 24 * time.Hour
	// MinRefreshInterval keeps a configuration from fetching whole catalogs,
	// some of them hundreds of megabytes, more often than they change.
	MinRefreshInterval = time.Hour
	// DefaultCurrency is the currency of the clouds' list prices.
	DefaultCurrency = "USD"
)

// Config configures the price book; the configuration file holds it under
// `pricing:`. The zero value is valid and means the defaults.
type Config struct {
	// RefreshInterval is how often catalogs are fetched from the clouds;
	// zero means DefaultRefreshInterval.
	RefreshInterval model.Duration `yaml:"refresh_interval"`
	// Files are price files (CSV or YAML, see ParsePriceFile) for on-premises,
	// hybrid and negotiated prices. They take precedence over list prices.
	Files []string `yaml:"files"`
	// Overrides are explicit prices, taking precedence over everything else.
	Overrides []PriceEntry `yaml:"overrides"`
	// Discounts are percentages off list prices per cloud, account or service.
	Discounts []DiscountConfig `yaml:"discounts"`
	// Currency is the currency of every price and cost; empty means USD. The
	// clouds' list prices are in USD: with another currency, only prices from
	// files and overrides are used (Stratus converts no currencies).
	Currency string `yaml:"currency"`
	// AWS, GCP and Azure say whether and where to fetch each cloud's list
	// prices. Without them the embedded snapshot prices the common types.
	AWS   CloudConfig `yaml:"aws"`
	GCP   CloudConfig `yaml:"gcp"`
	Azure CloudConfig `yaml:"azure"`
}

// CloudConfig says whether to fetch one cloud's list prices, and for which
// regions.
type CloudConfig struct {
	// Enabled turns fetching on. Off by default: the snapshot needs no network
	// and no credentials.
	Enabled bool `yaml:"enabled"`
	// Regions limits the catalog to these regions; the cloud fetchers say
	// what empty means for them.
	Regions []string `yaml:"regions"`
}

// DiscountConfig is a percentage discount on the cost in a cloud, an account
// or of a service. Fields left empty match anything; at least one is set.
type DiscountConfig struct {
	Cloud   string  `yaml:"cloud"`
	Account string  `yaml:"account"`
	Service string  `yaml:"service"`
	Percent float64 `yaml:"percent"`
}

// specificity ranks discounts: a service beats an account, which beats a
// cloud, and a discount naming more of them beats one naming fewer.
func (d DiscountConfig) specificity() int {
	rank := 0
	for i, set := range []bool{d.Cloud != "", d.Account != "", d.Service != ""} {
		if set {
			rank += 1 << i
		}
	}
	return rank
}

// Interval returns the refresh interval, DefaultRefreshInterval when unset.
func (c Config) Interval() time.Duration {
	if c.RefreshInterval == 0 {
		return DefaultRefreshInterval
	}
	return time.Duration(c.RefreshInterval)
}

// BookCurrency returns the configured currency, DefaultCurrency when unset.
func (c Config) BookCurrency() string {
	if c.Currency == "" {
		return DefaultCurrency
	}
	return c.Currency
}

// Validate checks the configuration, naming the field that is wrong as its
// path under `pricing:` ("overrides[2].unit").
func (c Config) Validate() error {
	var errs []error
	if c.RefreshInterval != 0 && time.Duration(c.RefreshInterval) < MinRefreshInterval {
		errs = append(errs, fmt.Errorf("refresh_interval: %v is shorter than the minimum %v",
			c.RefreshInterval, model.Duration(MinRefreshInterval)))
	}
	if c.Currency != "" && !validCurrency(c.Currency) {
		errs = append(errs, fmt.Errorf("currency: %q is not an ISO 4217 code such as USD",
			c.Currency))
	}
	for i, f := range c.Files {
		if strings.TrimSpace(f) == "" {
			errs = append(errs, fmt.Errorf("files[%d]: empty path", i))
		}
	}
	overridden := map[Key]int{}
	for i, e := range c.Overrides {
		p, err := e.toPrice(SourceOverride, c.BookCurrency())
		if err != nil {
			errs = append(errs, fmt.Errorf("overrides[%d].%w", i, err))
			continue
		}
		if first, dup := overridden[lookupKey(p.Key)]; dup {
			errs = append(errs, fmt.Errorf("overrides[%d]: same key as overrides[%d]", i, first))
			continue
		}
		overridden[lookupKey(p.Key)] = i
	}
	if err := validateDiscounts(c.Discounts); err != nil {
		errs = append(errs, err)
	}
	for name, cloud := range map[string]CloudConfig{"aws": c.AWS, "gcp": c.GCP, "azure": c.Azure} {
		for i, r := range cloud.Regions {
			if strings.TrimSpace(r) == "" {
				errs = append(errs, fmt.Errorf("%s.regions[%d]: empty region", name, i))
			}
		}
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}

// validateDiscounts checks percentages and that no two discounts have the
// same scope, which would leave the one that applies to chance.
func validateDiscounts(discounts []DiscountConfig) error {
	var errs []error
	seen := map[DiscountConfig]int{}
	for i, d := range discounts {
		percent := d.Percent
		d.Percent = 0
		switch first, dup := seen[d]; {
		case d == DiscountConfig{}:
			errs = append(errs, fmt.Errorf("discounts[%d]: name a cloud, account or service", i))
		case dup:
			errs = append(errs, fmt.Errorf("discounts[%d]: same scope as discounts[%d]", i, first))
		case !(percent > 0 && percent <= 100):
			errs = append(errs, fmt.Errorf("discounts[%d].percent: %v is not in (0, 100]",
				i, percent))
		}
		if _, dup := seen[d]; !dup {
			seen[d] = i
		}
	}
	return errors.Join(errs...)
}

// validCurrency reports whether s looks like an ISO 4217 code.
func validCurrency(s string) bool {
	if len(s) != 3 {
		return false
	}
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

// NewBookFromConfig builds the price book of a configuration: the embedded
// snapshot, the price files, the overrides and the discounts. Catalogs are
// added by a Refresher. The configuration must pass Validate.
func NewBookFromConfig(cfg Config) (*Book, error) {
	b := NewBook(cfg.BookCurrency())
	snapshot, _, err := SnapshotPrices()
	if err != nil {
		return nil, err
	}
	b.SetSnapshot(snapshot)

	var filePrices []Price
	for _, path := range cfg.Files {
		prices, err := LoadPriceFile(path, b.currency)
		if err != nil {
			return nil, err
		}
		filePrices = append(filePrices, prices...)
	}
	if err := b.SetFilePrices(filePrices); err != nil {
		return nil, err
	}

	overrides := make([]Price, 0, len(cfg.Overrides))
	for i, e := range cfg.Overrides {
		p, err := e.toPrice(SourceOverride, b.currency)
		if err != nil {
			return nil, fmt.Errorf("overrides[%d].%w", i, err)
		}
		overrides = append(overrides, p)
	}
	if err := b.SetOverrides(overrides); err != nil {
		return nil, err
	}
	if err := b.SetDiscounts(cfg.Discounts); err != nil {
		return nil, err
	}
	return b, nil
}

// ComputePrices returns the on-demand Linux compute prices of one cloud and
// region, one per product as Lookup would answer it (the layer of highest
// precedence wins), sorted by product. Prices in another currency than the
// book's are left out, as Lookup refuses them. It lets the cost engine look
// for a cheaper instance type.
func (b *Book) ComputePrices(cloud, region string) []Price {
	want := lookupKey(Key{Cloud: cloud, Region: region})
	seen := map[string]bool{}
	var out []Price
	for _, l := range b.state.Load().layers() {
		for k, p := range l.prices {
			if k.Cloud != want.Cloud || k.Region != want.Region || k.Kind != KindCompute ||
				k.OS != "linux" || k.Purchase != OnDemand || seen[k.Product] {
				continue
			}
			seen[k.Product] = true
			if p.Currency == b.currency {
				out = append(out, p)
			}
		}
	}
	slices.SortFunc(out, func(a, b Price) int { return strings.Compare(a.Product, b.Product) })
	return out
}
