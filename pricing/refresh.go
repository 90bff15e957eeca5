package pricing

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// StatusReporter learns whether a price source answered, so that
// stratus_source_up{source} and stratus_source_last_success_timestamp_seconds
// show it. collector.SourceHealth implements it (as query.StatusReporter,
// whose methods are the same).
type StatusReporter interface {
	ReportSuccess(source string, at time.Time)
	ReportFailure(source string, at time.Time, err error)
}

// Clock is the time as the refresher sees it; tests pass a fake one.
type Clock interface {
	Now() time.Time
	// After sends the time on the channel once d has passed.
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Defaults of RefresherOptions.
const (
	// DefaultFetchTimeout bounds one fetch of a whole catalog, retries
	// included. AWS's Price List API pages through tens of thousands of
	// products for a few regions.
	DefaultFetchTimeout = 15 * time.Minute
	// DefaultRetryFirst and DefaultRetryLongest bound the wait after a failed
	// fetch: the first wait is DefaultRetryFirst, each failure in a row
	// doubles it, and it never exceeds DefaultRetryLongest or the refresh
	// interval. The fetchers retry throttled and failed requests themselves,
	// with jitter; this is the wait between whole attempts.
	DefaultRetryFirst   = time.Minute
	DefaultRetryLongest = time.Hour
)

// PartialKeepRatio decides between a partial catalog and the previous one.
// A fetch that failed part way (it returned prices and an error, or some of
// its prices failed Validate) replaces the previous catalog only when it holds
// at least this share of the previous catalog's prices: a region or a page
// missing from a big catalog costs less than throwing a day's prices away,
// but a catalog that shrank by more than a tenth is more likely broken than
// changed. With no previous catalog, any valid price is better than none.
const PartialKeepRatio = 0.9

// RefresherOptions configure a Refresher. The zero value of each field means
// its default.
type RefresherOptions struct {
	// Interval is how often each catalog is fetched (DefaultRefreshInterval).
	Interval time.Duration
	// Cache keeps catalogs across restarts; nil keeps them in memory only.
	Cache *Cache
	// Reporter learns of every fetch; nil reports to nobody.
	Reporter StatusReporter
	Clock    Clock
	Logger   *slog.Logger
	// FetchTimeout, RetryFirst and RetryLongest: see DefaultFetchTimeout,
	// DefaultRetryFirst and DefaultRetryLongest.
	FetchTimeout time.Duration
	RetryFirst   time.Duration
	RetryLongest time.Duration
}

// Refresher keeps a book's fetched catalogs current: per Fetcher it loads
// the cached catalog at start, fetches when that is missing or older than
// the interval, then fetches again every interval, keeping the last good
// catalog when a fetch fails. Each source runs on its own, so a slow cloud
// API delays only its own prices.
type Refresher struct {
	book     *Book
	fetchers []Fetcher
	opts     RefresherOptions
}

// NewRefresher returns a refresher of book's catalogs from fetchers, whose
// names must be distinct (a name is the catalog's source).
func NewRefresher(book *Book, fetchers []Fetcher, opts RefresherOptions) (*Refresher, error) {
	seen := map[string]bool{}
	for _, f := range fetchers {
		if seen[f.Name()] {
			return nil, fmt.Errorf("price refresher: two fetchers named %q", f.Name())
		}
		seen[f.Name()] = true
	}
	if opts.Interval <= 0 {
		opts.Interval = DefaultRefreshInterval
	}
	if opts.FetchTimeout <= 0 {
		opts.FetchTimeout = DefaultFetchTimeout
	}
	if opts.RetryFirst <= 0 {
		opts.RetryFirst = DefaultRetryFirst
	}
	if opts.RetryLongest <= 0 {
		opts.RetryLongest = DefaultRetryLongest
	}
	if opts.Reporter == nil {
		opts.Reporter = nopReporter{}
	}
	if opts.Clock == nil {
		opts.Clock = realClock{}
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Refresher{book: book, fetchers: fetchers, opts: opts}, nil
}

type nopReporter struct{}

func (nopReporter) ReportSuccess(string, time.Time)        {}
func (nopReporter) ReportFailure(string, time.Time, error) {}

// Run refreshes every source until ctx is done, then returns once each has
// stopped. A fetch in flight is cancelled through its context.
func (r *Refresher) Run(ctx context.Context) {
	var wg sync.WaitGroup
	for _, f := range r.fetchers {
		wg.Go(func() { r.runSource(ctx, f) })
	}
	wg.Wait()
}

// sourceState is what the refresher remembers of one source between fetches.
type sourceState struct {
	fetcher  Fetcher
	last     []Price // the catalog the book holds now, nil if none
	failures int     // failed fetches in a row
}

func (r *Refresher) runSource(ctx context.Context, f Fetcher) {
	st := &sourceState{fetcher: f}
	next := r.loadCached(st)
	for {
		if wait := next.Sub(r.opts.Clock.Now()); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-r.opts.Clock.After(wait):
			}
		}
		if ctx.Err() != nil {
			return
		}
		if r.refresh(ctx, st) {
			st.failures = 0
			next = r.opts.Clock.Now().Add(r.opts.Interval)
		} else {
			st.failures++
			next = r.opts.Clock.Now().Add(r.retryDelay(st.failures))
		}
	}
}

// loadCached puts a source's cached catalog into the book and returns when
// to fetch next: when the cached catalog is due, or now when there is none
// or it is stale. A fresh cached catalog counts as the source's latest
// success, so that stratus_source_up does not show a source down for a day
// only because Stratus restarted.
func (r *Refresher) loadCached(st *sourceState) time.Time {
	name, now := st.fetcher.Name(), r.opts.Clock.Now()
	if r.opts.Cache == nil {
		return now
	}
	cached, err := r.opts.Cache.Load(name)
	if errors.Is(err, ErrNotCached) {
		return now
	}
	if err != nil {
		r.opts.Logger.Warn("ignoring cached price catalog", "source", name, "err", err)
		return now
	}
	r.book.SetCatalog(name, cached.Prices, cached.FetchedAt)
	st.last = cached.Prices
	age := now.Sub(cached.FetchedAt)
	r.opts.Logger.Info("loaded cached price catalog", "source", name,
		"prices", len(cached.Prices), "age", age)
	if age < 0 || age >= r.opts.Interval {
		return now
	}
	r.opts.Reporter.ReportSuccess(name, cached.FetchedAt)
	return cached.FetchedAt.Add(r.opts.Interval)
}

// refresh fetches one catalog and decides whether it replaces the book's
// (see PartialKeepRatio). It reports the outcome and returns whether the
// fetch succeeded completely; a fetch cut short because ctx ended is not
// reported, since Stratus is stopping, not the source failing.
func (r *Refresher) refresh(ctx context.Context, st *sourceState) bool {
	name := st.fetcher.Name()
	fetchCtx, cancel := context.WithTimeout(ctx, r.opts.FetchTimeout)
	prices, err := st.fetcher.Fetch(fetchCtx)
	cancel()
	if ctx.Err() != nil {
		return false
	}
	at := r.opts.Clock.Now()

	valid := make([]Price, 0, len(prices))
	var invalid error
	for _, p := range prices {
		p.Source = name
		if verr := p.Validate(); verr != nil {
			invalid = errors.Join(invalid, verr)
			continue
		}
		valid = append(valid, p)
	}
	if invalid != nil {
		err = errors.Join(err, fmt.Errorf("%d of %d prices are invalid: %w",
			len(prices)-len(valid), len(prices), invalid))
	}
	if err == nil && len(valid) == 0 {
		err = errors.New("the catalog is empty")
	}

	keep := len(valid) == 0 ||
		(err != nil && float64(len(valid)) < PartialKeepRatio*float64(len(st.last)))
	if keep {
		r.opts.Logger.Warn("price refresh failed; keeping the previous catalog",
			"source", name, "prices", len(st.last), "fetched", len(valid), "err", err)
	} else {
		r.replace(st, valid, at)
		if err != nil {
			r.opts.Logger.Warn("price refresh incomplete; using the partial catalog",
				"source", name, "prices", len(valid), "err", err)
		}
	}

	if err != nil {
		r.opts.Reporter.ReportFailure(name, at, fmt.Errorf("price source %s: %w", name, err))
		return false
	}
	r.opts.Reporter.ReportSuccess(name, at)
	return true
}

// replace puts a new catalog into the book and the cache. A cache that
// cannot be written is logged and otherwise ignored: the prices are in use.
func (r *Refresher) replace(st *sourceState, prices []Price, at time.Time) {
	name := st.fetcher.Name()
	r.book.SetCatalog(name, prices, at)
	st.last = prices
	r.opts.Logger.Debug("price catalog refreshed", "source", name, "prices", len(prices))
	if r.opts.Cache == nil {
		return
	}
	if err := r.opts.Cache.Save(name, at, prices); err != nil {
		r.opts.Logger.Warn("cannot cache price catalog", "source", name, "err", err)
	}
}

// retryDelay is the wait after the given number of failed fetches in a row.
func (r *Refresher) retryDelay(failures int) time.Duration {
	delay := r.opts.RetryFirst
	for i := 1; i < failures && delay < r.opts.RetryLongest; i++ {
		delay *= 2
	}
	return min(delay, r.opts.RetryLongest, r.opts.Interval)
}
