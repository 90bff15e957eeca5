// Package retry holds what every Stratus client that repeats a failed request
// shares: the Retry-After header, a capped exponential backoff with full jitter,
// and a wait that ends with its context. The Prometheus query client and the
// cloud price fetchers decide what is worth repeating; this package only says how
// long to wait.
package retry

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// ParseAfter reads a Retry-After header value, delay seconds or an HTTP date, at
// now. A date in the past means no wait; a negative or unreadable value, or none,
// is not a Retry-After (ok false).
func ParseAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0, false
		}
		return time.Duration(secs) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(0, t.Sub(now)), true
	}
	return 0, false
}

// Backoff returns the wait before retry number attempt+1: a random duration below
// min(ceiling, base·2^attempt), full jitter, so that many clients throttled at
// once do not come back at once. A ceiling of zero or less means no wait.
func Backoff(attempt int, base, ceiling time.Duration) time.Duration {
	limit := ceiling
	if attempt < 30 {
		limit = min(ceiling, base<<attempt)
	}
	if limit <= 0 {
		return 0
	}
	return rand.N(limit)
}

// Sleep waits for d or until ctx ends, returning ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
