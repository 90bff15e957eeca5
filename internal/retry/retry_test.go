package retry

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestParseAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, tc := range []struct {
		in     string
		want   time.Duration
		wantOK bool
	}{
		{"", 0, false},
		{"7", 7 * time.Second, true},
		{"0", 0, true},
		{"30", 30 * time.Second, true},
		{" 5 ", 5 * time.Second, true},
		{"-3", 0, false},
		{"-1", 0, false},
		{"soon", 0, false},
		{now.Add(90 * time.Second).Format(http.TimeFormat), 90 * time.Second, true},
		{now.Add(30 * time.Second).Format(http.TimeFormat), 30 * time.Second, true},
		{now.Add(-time.Minute).Format(http.TimeFormat), 0, true},
		{now.Add(-time.Hour).Format(http.TimeFormat), 0, true},
	} {
		got, ok := ParseAfter(tc.in, now)
		require.Equal(t, tc.wantOK, ok, tc.in)
		require.Equal(t, tc.want, got, tc.in)
	}
}

func TestBackoffIsCappedFullJitter(t *testing.T) {
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
			d := Backoff(tc.attempt, 10*time.Millisecond, 50*time.Millisecond)
			require.GreaterOrEqual(t, d, time.Duration(0))
			require.Less(t, d, tc.ceiling, "attempt %d", tc.attempt)
		}
	}
	for attempt := range 40 {
		d := Backoff(attempt, 100*time.Millisecond, time.Second)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.Less(t, d, min(time.Second, 100*time.Millisecond<<min(attempt, 20)))
	}
	require.Zero(t, Backoff(0, 0, 0))
}

func TestSleepEndsWithContext(t *testing.T) {
	require.NoError(t, Sleep(t.Context(), time.Millisecond))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.True(t, errors.Is(Sleep(ctx, time.Hour), context.Canceled))
}
