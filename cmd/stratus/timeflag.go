package main

import (
	"fmt"
	"math"
	"strconv"
	"time"
)

const (
	minUnixSeconds = -62135596800 // 0001-01-01T00:00:00Z
	maxUnixSeconds = 253402300799 // 9999-12-31T23:59:59Z
)

// parseTime reads a time as RFC 3339 or as Unix seconds (fractions allowed),
// the two forms the Prometheus API accepts too.
func parseTime(s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UTC(), nil
	}
	secs, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
		return time.Time{}, fmt.Errorf("%q is neither RFC 3339 nor Unix seconds", s)
	}
	// Beyond these a time no longer prints as RFC 3339 (years 1 to 9999).
	if secs < minUnixSeconds || secs > maxUnixSeconds {
		return time.Time{}, fmt.Errorf("%q is outside the years 1 to 9999", s)
	}
	whole, frac := math.Modf(secs)
	return time.Unix(int64(whole), int64(math.Round(frac*1e9))).UTC(), nil
}

// evaluationTime resolves --at: the given time, else the end of loaded data,
// else now.
func evaluationTime(flag string, src *source, now time.Time) (time.Time, error) {
	if flag != "" {
		t, err := parseTime(flag)
		if err != nil {
			return time.Time{}, fmt.Errorf("--at: %w", err)
		}
		return t, nil
	}
	if !src.fixedAt.IsZero() {
		return src.fixedAt, nil
	}
	return now, nil
}
