package pricing

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeClock moves only when a test advances it. Waiters registered with After
// fire once the clock reaches their time.
type fakeClock struct {
	mu      sync.Mutex
	cond    *sync.Cond
	now     time.Time
	waiters []fakeWaiter
}

type fakeWaiter struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(now time.Time) *fakeClock {
	c := &fakeClock{now: now}
	c.cond = sync.NewCond(&c.mu)
	return c
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.waiters = append(c.waiters, fakeWaiter{at: c.now.Add(d), ch: ch})
	c.cond.Broadcast()
	return ch
}

// Advance moves the clock and fires the waiters that are due.
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	c.waiters = slices.DeleteFunc(c.waiters, func(w fakeWaiter) bool {
		if w.at.After(c.now) {
			return false
		}
		w.ch <- c.now
		return true
	})
}

// WaitForWaiter blocks until n goroutines wait on the clock, and returns
// when the earliest of them is due.
func (c *fakeClock) WaitForWaiters(t *testing.T, n int) time.Time {
	t.Helper()
	done := make(chan time.Time)
	go func() {
		c.mu.Lock()
		defer c.mu.Unlock()
		for len(c.waiters) < n {
			c.cond.Wait()
		}
		earliest := c.waiters[0].at
		for _, w := range c.waiters {
			if w.at.Before(earliest) {
				earliest = w.at
			}
		}
		done <- earliest
	}()
	select {
	case at := <-done:
		return at
	case <-time.After(10 * time.Second):
		t.Fatalf("no %d waiters on the clock", n)
		return time.Time{}
	}
}

// fakeFetcher answers each Fetch with the next of its results, repeating the
// last. A result with slow set blocks until the fetch's context ends.
type fakeFetcher struct {
	name    string
	mu      sync.Mutex
	calls   int
	results []fetchResult
}

type fetchResult struct {
	prices []Price
	err    error
	slow   bool
}

func (f *fakeFetcher) Name() string { return f.name }

func (f *fakeFetcher) Fetch(ctx context.Context) ([]Price, error) {
	f.mu.Lock()
	r := f.results[min(f.calls, len(f.results)-1)]
	f.calls++
	f.mu.Unlock()
	if r.slow {
		<-ctx.Done()
		return nil, fmt.Errorf("fetch: %w", ctx.Err())
	}
	return r.prices, r.err
}

func (f *fakeFetcher) Calls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls
}

// fakeReporter records what a refresher reports.
type fakeReporter struct {
	mu     sync.Mutex
	events []string
}

func (r *fakeReporter) ReportSuccess(source string, at time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s up %s", source, at.Format(time.RFC3339)))
}

func (r *fakeReporter) ReportFailure(source string, at time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, fmt.Sprintf("%s down %s: %v", source, at.Format(time.RFC3339),
		err))
}

func (r *fakeReporter) Events() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.events)
}

// catalog returns n valid compute prices.
func catalog(n int) []Price {
	out := make([]Price, n)
	for i := range out {
		out[i] = price(KindCompute, fmt.Sprintf("type-%d", i), 0.01*float64(i+1), "")
	}
	return out
}

// garbage returns n prices that fail Validate.
func garbage(n int) []Price {
	out := make([]Price, n)
	for i := range out {
		out[i] = price(KindCompute, fmt.Sprintf("type-%d", i), math.NaN(), "")
	}
	return out
}

var t0 = time.Date(2026, 8, 1, 0, 0, 0, 0, time.UTC)

// startRefresher runs a refresher of one fetcher until the test ends.
func startRefresher(t *testing.T, book *Book, f Fetcher, opts RefresherOptions) {
	t.Helper()
	r, err := NewRefresher(book, []Fetcher{f}, opts)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		r.Run(ctx)
		close(done)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
}

func catalogSize(b *Book, source string) int {
	for _, s := range b.Sources() {
		if s.Source == source {
			return s.Prices
		}
	}
	return -1
}

func TestRefresherFetchesEveryInterval(t *testing.T) {
	clock := newFakeClock(t0)
	reporter := &fakeReporter{}
	cache := &Cache{Dir: filepath.Join(t.TempDir(), "prices")}
	f := &fakeFetcher{name: "aws-price-list", results: []fetchResult{
		{prices: catalog(3)}, {prices: catalog(4)},
	}}
	book := NewBook("USD")
	startRefresher(t, book, f, RefresherOptions{
		Interval: 6 * time.Hour, Cache: cache, Reporter: reporter, Clock: clock,
	})

	require.Equal(t, t0.Add(6*time.Hour), clock.WaitForWaiters(t, 1))
	require.Equal(t, 1, f.Calls())
	require.Equal(t, 3, catalogSize(book, "aws-price-list"))
	cached, err := cache.Load("aws-price-list")
	require.NoError(t, err)
	require.Len(t, cached.Prices, 3)
	require.Equal(t, t0, cached.FetchedAt)

	clock.Advance(6 * time.Hour)
	require.Equal(t, t0.Add(12*time.Hour), clock.WaitForWaiters(t, 1))
	require.Equal(t, 4, catalogSize(book, "aws-price-list"))
	require.Equal(t, []string{
		"aws-price-list up 2026-08-01T00:00:00Z",
		"aws-price-list up 2026-08-01T06:00:00Z",
	}, reporter.Events())
	require.Equal(t, []SourceStats{
		{Source: "aws-price-list", Prices: 4, Refreshed: t0.Add(6 * time.Hour)},
	}, book.Sources())
}

func TestRefresherStartsFromCache(t *testing.T) {
	tests := []struct {
		name      string
		fetchedAt time.Time
		content   string // instead of a saved catalog
		wantNext  time.Time
		wantCalls int
		wantSize  int
		wantLog   string
	}{
		{"fresh", t0.Add(-2 * time.Hour), "", t0.Add(22 * time.Hour), 0, 2,
			"loaded cached price catalog"},
		{"stale", t0.Add(-25 * time.Hour), "", t0.Add(24 * time.Hour), 1, 5,
			"loaded cached price catalog"},
		{"from the future", t0.Add(time.Hour), "", t0.Add(24 * time.Hour), 1, 5,
			"loaded cached price catalog"},
		{"corrupt", time.Time{}, `{"version":1,`, t0.Add(24 * time.Hour), 1, 5,
			"ignoring cached price catalog"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cache := &Cache{Dir: t.TempDir()}
			if tt.content != "" {
				require.NoError(t, os.WriteFile(cache.Path("gcp"), []byte(tt.content), 0o600))
			} else {
				require.NoError(t, cache.Save("gcp", tt.fetchedAt, catalog(2)))
			}
			var logs bytes.Buffer
			clock := newFakeClock(t0)
			reporter := &fakeReporter{}
			f := &fakeFetcher{name: "gcp", results: []fetchResult{{prices: catalog(5)}}}
			book := NewBook("USD")
			startRefresher(t, book, f, RefresherOptions{
				Cache: cache, Reporter: reporter, Clock: clock,
				Logger: slog.New(slog.NewTextHandler(&logs, nil)),
			})

			require.Equal(t, tt.wantNext, clock.WaitForWaiters(t, 1))
			require.Equal(t, tt.wantCalls, f.Calls())
			require.Equal(t, tt.wantSize, catalogSize(book, "gcp"))
			require.Contains(t, logs.String(), tt.wantLog)
			if tt.wantCalls == 0 {
				// A fresh cache is the source's latest success.
				require.Equal(t, []string{"gcp up 2026-07-31T22:00:00Z"}, reporter.Events())
			} else {
				require.Equal(t, []string{"gcp up 2026-08-01T00:00:00Z"}, reporter.Events())
			}
		})
	}
}

func TestRefresherKeepsLastGoodCatalog(t *testing.T) {
	errThrottled := errors.New("ThrottlingException: rate exceeded")
	tests := []struct {
		name       string
		first      fetchResult // nil prices: there is no previous catalog
		second     fetchResult
		wantSize   int
		wantReport string
		wantRetry  time.Duration // DefaultRetryFirst when zero
	}{
		{"failure", fetchResult{prices: catalog(100)}, fetchResult{err: errThrottled},
			100, "down 2026-08-02T00:00:00Z: price source src: ThrottlingException", 0},
		{"small partial", fetchResult{prices: catalog(100)},
			fetchResult{prices: catalog(89), err: errThrottled},
			100, "down 2026-08-02T00:00:00Z: price source src: ThrottlingException", 0},
		{"large partial", fetchResult{prices: catalog(100)},
			fetchResult{prices: catalog(90), err: errThrottled},
			90, "down 2026-08-02T00:00:00Z: price source src: ThrottlingException", 0},
		{"garbage", fetchResult{prices: catalog(100)}, fetchResult{prices: garbage(100)},
			100, "down 2026-08-02T00:00:00Z: price source src: 100 of 100 prices are invalid: " +
				"aws/us-east-1 compute type-0 linux: price NaN", 0},
		{"some garbage", fetchResult{prices: catalog(100)},
			fetchResult{prices: append(catalog(95), garbage(5)...)},
			95, "down 2026-08-02T00:00:00Z: price source src: 5 of 100 prices are invalid", 0},
		{"empty", fetchResult{prices: catalog(100)}, fetchResult{},
			100, "down 2026-08-02T00:00:00Z: price source src: the catalog is empty", 0},
		{"partial with nothing before", fetchResult{err: errThrottled},
			fetchResult{prices: catalog(3), err: errThrottled},
			3, "down 2026-08-01T00:01:00Z: price source src: ThrottlingException",
			// A partial catalog is used, but the source is still failing.
			2 * DefaultRetryFirst},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newFakeClock(t0)
			reporter := &fakeReporter{}
			f := &fakeFetcher{name: "src", results: []fetchResult{tt.first, tt.second}}
			book := NewBook("USD")
			startRefresher(t, book, f, RefresherOptions{Reporter: reporter, Clock: clock})

			next := clock.WaitForWaiters(t, 1)
			clock.Advance(next.Sub(t0))
			retry := clock.WaitForWaiters(t, 1)
			require.Equal(t, 2, f.Calls())
			require.Equal(t, tt.wantSize, catalogSize(book, "src"))
			events := reporter.Events()
			require.Len(t, events, 2)
			require.Contains(t, events[1], "src "+tt.wantReport)
			// A failed or partial fetch is retried after RetryFirst, not a day.
			require.Equal(t, next.Add(cmp.Or(tt.wantRetry, DefaultRetryFirst)), retry)
		})
	}
}

func TestRefresherRetriesWithBackoff(t *testing.T) {
	clock := newFakeClock(t0)
	f := &fakeFetcher{name: "src", results: []fetchResult{
		{err: errors.New("503")}, {err: errors.New("503")}, {err: errors.New("503")},
		{prices: catalog(1)},
	}}
	book := NewBook("USD")
	startRefresher(t, book, f, RefresherOptions{Clock: clock, RetryFirst: time.Minute,
		RetryLongest: 3 * time.Minute, Interval: 2 * time.Hour})

	var waits []time.Duration
	now := t0
	for range 4 {
		next := clock.WaitForWaiters(t, 1)
		waits = append(waits, next.Sub(now))
		clock.Advance(next.Sub(now))
		now = next
	}
	require.Equal(t, []time.Duration{time.Minute, 2 * time.Minute, 3 * time.Minute,
		2 * time.Hour}, waits)
	require.Equal(t, 1, catalogSize(book, "src"))
}

func TestRetryDelay(t *testing.T) {
	r, err := NewRefresher(NewBook(""), nil, RefresherOptions{Interval: 90 * time.Minute})
	require.NoError(t, err)
	for failures, want := range map[int]time.Duration{
		1: time.Minute, 2: 2 * time.Minute, 6: 32 * time.Minute, 7: time.Hour,
		100: time.Hour,
	} {
		require.Equal(t, want, r.retryDelay(failures), failures)
	}
	r, err = NewRefresher(NewBook(""), nil, RefresherOptions{Interval: 10 * time.Minute})
	require.NoError(t, err)
	require.Equal(t, 10*time.Minute, r.retryDelay(5), "never longer than the interval")
}

func TestRefresherSlowFetch(t *testing.T) {
	clock := newFakeClock(t0)
	reporter := &fakeReporter{}
	f := &fakeFetcher{name: "slow", results: []fetchResult{{prices: catalog(2)}, {slow: true}}}
	book := NewBook("USD")
	startRefresher(t, book, f, RefresherOptions{Reporter: reporter, Clock: clock,
		FetchTimeout: 20 * time.Millisecond})

	next := clock.WaitForWaiters(t, 1)
	clock.Advance(next.Sub(t0))
	clock.WaitForWaiters(t, 1)
	require.Equal(t, 2, catalogSize(book, "slow"))
	require.Contains(t, reporter.Events()[1],
		"slow down 2026-08-02T00:00:00Z: price source slow: fetch: context deadline exceeded")
}

func TestRefresherStopsWithContext(t *testing.T) {
	// A fetch in flight when Stratus stops is cancelled, not reported.
	reporter := &fakeReporter{}
	slow := &fakeFetcher{name: "slow", results: []fetchResult{{slow: true}}}
	waiting := &fakeFetcher{name: "waiting", results: []fetchResult{{prices: catalog(1)}}}
	clock := newFakeClock(t0)
	r, err := NewRefresher(NewBook(""), []Fetcher{slow, waiting},
		RefresherOptions{Reporter: reporter, Clock: clock})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() {
		r.Run(ctx)
		close(done)
	}()
	clock.WaitForWaiters(t, 1) // waiting has fetched; slow is fetching
	require.Eventually(t, func() bool { return slow.Calls() == 1 }, 5*time.Second,
		time.Millisecond)
	cancel()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not return after its context ended")
	}
	require.Equal(t, []string{"waiting up 2026-08-01T00:00:00Z"}, reporter.Events())

	// A context that ends while the clock fires stops before fetching again.
	r2, err := NewRefresher(NewBook(""), []Fetcher{waiting}, RefresherOptions{Clock: clock})
	require.NoError(t, err)
	ended, stop := context.WithCancel(t.Context())
	stop()
	r2.Run(ended)
	require.Equal(t, 1, waiting.Calls())
}

func TestRefresherCacheWriteFailure(t *testing.T) {
	// Prices that cannot be cached are still used, with a warning.
	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	var logs bytes.Buffer
	clock := newFakeClock(t0)
	book := NewBook("USD")
	f := &fakeFetcher{name: "src", results: []fetchResult{{prices: catalog(2)}}}
	startRefresher(t, book, f, RefresherOptions{
		Clock: clock, Cache: &Cache{Dir: filepath.Join(file, "prices")},
		Logger: slog.New(slog.NewTextHandler(&logs, nil)),
	})
	clock.WaitForWaiters(t, 1)
	require.Equal(t, 2, catalogSize(book, "src"))
	require.Contains(t, logs.String(), `msg="cannot cache price catalog" source=src`)
}

func TestNewRefresherRejectsDuplicateNames(t *testing.T) {
	_, err := NewRefresher(NewBook(""), []Fetcher{
		&fakeFetcher{name: "a"}, &fakeFetcher{name: "b"}, &fakeFetcher{name: "a"},
	}, RefresherOptions{})
	require.EqualError(t, err, `price refresher: two fetchers named "a"`)
}

func TestRealClock(t *testing.T) {
	before := time.Now()
	fired := <-realClock{}.After(time.Millisecond)
	require.False(t, fired.Before(before))
	require.False(t, realClock{}.Now().Before(fired))
}
