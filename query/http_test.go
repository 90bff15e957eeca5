package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// fakeAPI is enough of the Prometheus HTTP API for the client's tests. reply
// decides each response from the request's number (from 1) and path.
type fakeAPI struct {
	reply    func(n int, w http.ResponseWriter, r *http.Request) bool
	delay    time.Duration
	requests atomic.Int32
	inFlight atomic.Int32
	maxSeen  atomic.Int32

	mu      sync.Mutex
	headers []http.Header
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := int(f.requests.Add(1))
	cur := f.inFlight.Add(1)
	defer f.inFlight.Add(-1)
	for {
		seen := f.maxSeen.Load()
		if cur <= seen || f.maxSeen.CompareAndSwap(seen, cur) {
			break
		}
	}
	f.mu.Lock()
	f.headers = append(f.headers, r.Header.Clone())
	f.mu.Unlock()

	// Reading the body lets the server notice a client that hangs up.
	_ = r.ParseForm()
	if f.delay > 0 {
		select {
		case <-time.After(f.delay):
		case <-r.Context().Done():
			return
		}
	}
	if f.reply != nil && f.reply(n, w, r) {
		return
	}
	answerSuccess(w, r)
}

// answerSuccess answers each endpoint with fixed data.
func answerSuccess(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	_ = r.ParseForm()
	switch {
	case r.URL.Path == "/api/v1/query" && r.Form.Get("query") == "scalar_expr":
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"scalar","result":[1700000000,"2.5"]}}`)
	case r.URL.Path == "/api/v1/query" && r.Form.Get("query") == "string_expr":
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"string","result":[1700000000,"x"]}}`)
	case r.URL.Path == "/api/v1/query":
		fmt.Fprint(w, `{"status":"success","warnings":["careful"],"data":{"resultType":"vector","result":[`+
			`{"metric":{"service":"api"},"value":[1700000000,"1.5"]},`+
			`{"metric":{"service":"web"},"value":[1700000000,"NaN"]}]}}`)
	case r.URL.Path == "/api/v1/query_range" && r.Form.Get("query") == "vector_expr":
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	case r.URL.Path == "/api/v1/query_range":
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[`+
			`{"metric":{"service":"api"},"values":[[1700000000,"1"],[1700000060,"2"]]}]}}`)
	case r.URL.Path == "/api/v1/series":
		fmt.Fprint(w, `{"status":"success","data":[{"__name__":"up","job":"a"}]}`)
	case strings.HasPrefix(r.URL.Path, "/api/v1/label/"):
		fmt.Fprint(w, `{"status":"success","data":["b","a","b"]}`)
	default:
		http.NotFound(w, r)
	}
}

func answerError(w http.ResponseWriter, status int, errorType, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	fmt.Fprintf(w, `{"status":"error","errorType":%q,"error":%q}`, errorType, msg)
}

// recordingReporter is a StatusReporter that remembers what it was told.
type recordingReporter struct {
	mu        sync.Mutex
	successes int
	failures  []error
}

func (r *recordingReporter) ReportSuccess(source string, _ time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if source == SourcePrometheus {
		r.successes++
	}
}

func (r *recordingReporter) ReportFailure(source string, _ time.Time, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if source == SourcePrometheus {
		r.failures = append(r.failures, err)
	}
}

// fakeSleep records the waits it is asked for instead of waiting.
type fakeSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *fakeSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func newTestHTTP(t *testing.T, url string, opts HTTPOptions) *HTTP {
	t.Helper()
	opts.URL = url
	h, err := NewHTTP(opts)
	require.NoError(t, err)
	return h
}

func TestHTTPSuccess(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()

	var logs bytes.Buffer
	reporter := &recordingReporter{}
	reg := prometheus.NewPedanticRegistry()
	metrics := NewMetrics(reg)
	h := newTestHTTP(t, srv.URL, HTTPOptions{
		Reporter: reporter,
		Metrics:  metrics,
		Logger:   slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	})
	ctx := WithEngine(context.Background(), "cost")
	at := time.Unix(1700000000, 0)

	vec, err := h.Query(ctx, `up`, at)
	require.NoError(t, err)
	require.Len(t, vec, 2)
	require.Equal(t, model.Metric{"service": "api"}, vec[0].Metric)
	require.InDelta(t, 1.5, float64(vec[0].Value), 0)
	require.Contains(t, logs.String(), "careful")

	vec, err = h.Query(ctx, `scalar_expr`, at)
	require.NoError(t, err)
	require.Equal(t, model.Vector{{Metric: model.Metric{}, Value: 2.5, Timestamp: model.TimeFromUnix(1700000000)}}, vec)

	_, err = h.Query(ctx, `string_expr`, at)
	require.ErrorContains(t, err, "string")

	mat, err := h.QueryRange(ctx, `up`, Range{Start: at, End: at.Add(time.Minute), Step: time.Minute})
	require.NoError(t, err)
	require.Len(t, mat, 1)
	require.Len(t, mat[0].Values, 2)

	_, err = h.QueryRange(ctx, `vector_expr`, Range{Start: at, End: at, Step: time.Minute})
	require.ErrorContains(t, err, "want matrix")

	sets, err := h.Series(ctx, []string{`up`}, at, at)
	require.NoError(t, err)
	require.Equal(t, []model.LabelSet{{"__name__": "up", "job": "a"}}, sets)

	values, err := h.LabelValues(ctx, "job", nil, at, at)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, values)

	require.Equal(t, 5, reporter.successes)
	require.Len(t, reporter.failures, 2)
	require.InDelta(t, 7, testutil.ToFloat64(metrics.queries.WithLabelValues("cost")), 0)
	require.InDelta(t, 2, testutil.ToFloat64(metrics.failures.WithLabelValues("cost")), 0)
	require.InDelta(t, 5, testutil.ToFloat64(metrics.samples.WithLabelValues("cost")), 0)

	problems, err := testutil.CollectAndLint(metrics.queries)
	require.NoError(t, err)
	require.Empty(t, problems)
	for _, c := range []prometheus.Collector{metrics.failures, metrics.retries, metrics.duration, metrics.samples} {
		problems, err := testutil.CollectAndLint(c)
		require.NoError(t, err)
		require.Empty(t, problems)
	}
}

func TestHTTPQueriesCountedPerEngine(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{})
	defer srv.Close()
	metrics := NewMetrics(prometheus.NewRegistry())
	h := newTestHTTP(t, srv.URL, HTTPOptions{Metrics: metrics})

	for _, engine := range []string{"cost", "cost", "scaling"} {
		_, err := h.Query(WithEngine(context.Background(), engine), `up`, time.Now())
		require.NoError(t, err)
	}
	_, err := h.Query(context.Background(), `up`, time.Now())
	require.NoError(t, err)

	require.InDelta(t, 2, testutil.ToFloat64(metrics.queries.WithLabelValues("cost")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(metrics.queries.WithLabelValues("scaling")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(metrics.queries.WithLabelValues("unknown")), 0)
}

func TestHTTPRetries(t *testing.T) {
	cases := []struct {
		name         string
		retries      int
		reply        func(n int, w http.ResponseWriter, r *http.Request) bool
		wantErr      string
		wantRequests int
		wantWaits    []time.Duration // nil: any waits within the backoff bounds
		wantRetries  float64
	}{
		{
			name: "5xx then success",
			reply: func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n == 1 {
					http.Error(w, "overloaded", http.StatusInternalServerError)
					return true
				}
				return false
			},
			wantRequests: 2,
			wantRetries:  1,
		},
		{
			name: "503 API error then success",
			reply: func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n <= 2 {
					answerError(w, http.StatusServiceUnavailable, "unavailable", "store gateway down")
					return true
				}
				return false
			},
			wantRequests: 3,
			wantRetries:  2,
		},
		{
			name: "429 honours Retry-After",
			reply: func(n int, w http.ResponseWriter, _ *http.Request) bool {
				if n == 1 {
					w.Header().Set("Retry-After", "7")
					http.Error(w, "slow down", http.StatusTooManyRequests)
					return true
				}
				return false
			},
			wantRequests: 2,
			wantWaits:    []time.Duration{7 * time.Second},
			wantRetries:  1,
		},
		{
			name: "400 bad_data fails at once",
			reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				answerError(w, http.StatusBadRequest, "bad_data", "parse error at char 4")
				return true
			},
			wantErr:      `query "sum(" at http://`,
			wantRequests: 1,
			wantWaits:    []time.Duration{},
		},
		{
			name: "422 execution error fails at once",
			reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				answerError(w, http.StatusUnprocessableEntity, "execution", "too many samples")
				return true
			},
			wantErr:      "too many samples",
			wantRequests: 1,
			wantWaits:    []time.Duration{},
		},
		{
			name: "garbage body fails at once",
			reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":{}}}`)
				return true
			},
			wantErr:      "sum(",
			wantRequests: 1,
			wantWaits:    []time.Duration{},
		},
		{
			name:    "always 5xx gives up after the retries",
			retries: 2,
			reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				http.Error(w, "broken", http.StatusBadGateway)
				return true
			},
			wantErr:      "502",
			wantRequests: 3,
			wantRetries:  2,
		},
		{
			name:    "no retries when disabled",
			retries: -1,
			reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				http.Error(w, "broken", http.StatusBadGateway)
				return true
			},
			wantErr:      "502",
			wantRequests: 1,
			wantWaits:    []time.Duration{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{reply: tc.reply}
			srv := httptest.NewServer(api)
			defer srv.Close()
			sleeper := &fakeSleep{}
			metrics := NewMetrics(nil)
			h := newTestHTTP(t, srv.URL, HTTPOptions{
				Retries:     tc.retries,
				Sleep:       sleeper.sleep,
				Metrics:     metrics,
				BackoffBase: time.Second,
				BackoffMax:  3 * time.Second,
			})

			_, err := h.Query(context.Background(), `sum(`, time.Now())
			if tc.wantErr == "" {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, tc.wantErr)
				require.ErrorContains(t, err, `"sum("`)
				require.ErrorContains(t, err, srv.URL)
			}
			require.Equal(t, tc.wantRequests, int(api.requests.Load()))
			if tc.wantWaits != nil {
				require.Equal(t, tc.wantWaits, append([]time.Duration{}, sleeper.waits...))
			}
			for i, w := range sleeper.waits {
				require.GreaterOrEqual(t, w, time.Duration(0))
				if tc.wantWaits == nil {
					require.Less(t, w, min(3*time.Second, time.Second<<i))
				}
			}
			require.InDelta(t, tc.wantRetries, testutil.ToFloat64(metrics.retries.WithLabelValues("unknown")), 0)
		})
	}
}

func TestHTTPConnectionRefusedIsRetried(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{})
	url := srv.URL
	srv.Close()

	sleeper := &fakeSleep{}
	reporter := &recordingReporter{}
	h := newTestHTTP(t, url, HTTPOptions{Sleep: sleeper.sleep, Reporter: reporter})
	_, err := h.LabelValues(context.Background(), "job", []string{`up`}, time.Time{}, time.Time{})
	require.Error(t, err)
	require.ErrorContains(t, err, url)
	require.Len(t, sleeper.waits, DefaultRetries)
	require.Len(t, reporter.failures, 1)

	_, err = h.Series(context.Background(), []string{`up`}, time.Time{}, time.Time{})
	require.ErrorContains(t, err, `series ["up"]`)
}

func TestHTTPQueryTimeout(t *testing.T) {
	api := &fakeAPI{delay: 5 * time.Second}
	srv := httptest.NewServer(api)
	defer srv.Close()
	h := newTestHTTP(t, srv.URL, HTTPOptions{QueryTimeout: 50 * time.Millisecond, Retries: 1, Sleep: (&fakeSleep{}).sleep})

	start := time.Now()
	_, err := h.Query(context.Background(), `up`, time.Now())
	require.Error(t, err)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 2*time.Second)
	require.Equal(t, 2, int(api.requests.Load()), "a timed-out attempt is retried")
}

func TestHTTPCallerCancellation(t *testing.T) {
	api := &fakeAPI{delay: 5 * time.Second}
	srv := httptest.NewServer(api)
	defer srv.Close()
	reporter := &recordingReporter{}
	h := newTestHTTP(t, srv.URL, HTTPOptions{MaxConcurrency: 1, Reporter: reporter})

	// A hung server: the caller's deadline passes. Not retried, and the
	// source is reported down, since it did not answer.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := h.Query(ctx, `up`, time.Now())
	require.Error(t, err)
	require.Equal(t, 1, int(api.requests.Load()), "a caller's deadline is not retried")
	require.Len(t, reporter.failures, 1, "a hung source is down")

	// A caller that cancels says nothing about the source.
	ctx, cancelNow := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancelNow() }()
	_, err = h.Query(ctx, `up`, time.Now())
	require.ErrorIs(t, err, context.Canceled)
	require.Len(t, reporter.failures, 1)

	// Waiting for a slot ends with the caller's context too, and says
	// nothing about the source: no request left.
	h.slots <- struct{}{}
	ctx, cancel = context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	requests := api.requests.Load()
	_, err = h.Query(ctx, `up`, time.Now())
	require.ErrorContains(t, err, "concurrency slot")
	<-h.slots
	require.Equal(t, requests, api.requests.Load())
	require.Len(t, reporter.failures, 1, "our own limit is not the source's failure")

	// A retry that would wait past the caller's deadline is not waited for.
	failing := httptest.NewServer(&fakeAPI{reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		http.Error(w, "broken", http.StatusInternalServerError)
		return true
	}})
	defer failing.Close()
	h = newTestHTTP(t, failing.URL, HTTPOptions{
		Reporter:    reporter,
		BackoffBase: time.Hour,
		BackoffMax:  time.Hour,
	})
	ctx, cancel = context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	began := time.Now()
	_, err = h.Query(ctx, `up`, time.Now())
	require.ErrorContains(t, err, "no time left to wait")
	require.ErrorContains(t, err, "500")
	require.Less(t, time.Since(began), time.Second, "failed at once")
	require.Zero(t, reporter.successes)
	require.Len(t, reporter.failures, 2, "a failing source is down")
}

// TestHTTPServerTimeoutNotRetried: Prometheus's own query timeout means the
// query is too heavy for it now; repeating it only adds load.
func TestHTTPServerTimeoutNotRetried(t *testing.T) {
	api := &fakeAPI{reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		answerError(w, http.StatusServiceUnavailable, "timeout", "query timed out in query execution")
		return true
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	sleeper := &fakeSleep{}
	h := newTestHTTP(t, srv.URL, HTTPOptions{Sleep: sleeper.sleep})
	_, err := h.Query(context.Background(), `up`, time.Now())
	require.ErrorContains(t, err, "own query timeout")
	require.Equal(t, 1, int(api.requests.Load()))
}

func TestHTTPMaxConcurrency(t *testing.T) {
	api := &fakeAPI{delay: 20 * time.Millisecond}
	srv := httptest.NewServer(api)
	defer srv.Close()
	h := newTestHTTP(t, srv.URL, HTTPOptions{MaxConcurrency: 3})

	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := h.Query(context.Background(), `up`, time.Now()); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	require.Equal(t, 20, int(api.requests.Load()))
	require.LessOrEqual(t, api.maxSeen.Load(), int32(3))
	require.Equal(t, int32(3), api.maxSeen.Load(), "the limit is also reached")
}

func TestHTTPAuthentication(t *testing.T) {
	cases := []struct {
		name string
		cfg  config.HTTPClientConfig
		want string
	}{
		{
			name: "basic auth",
			cfg:  config.HTTPClientConfig{BasicAuth: &config.BasicAuth{Username: "stratus", Password: "s3cret"}},
			want: "Basic c3RyYXR1czpzM2NyZXQ=",
		},
		{
			name: "bearer token",
			cfg:  config.HTTPClientConfig{Authorization: &config.Authorization{Type: "Bearer", Credentials: "t0ken"}},
			want: "Bearer t0ken",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			api := &fakeAPI{reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
				answerError(w, http.StatusBadRequest, "bad_data", "nope")
				return true
			}}
			srv := httptest.NewServer(api)
			defer srv.Close()
			h := newTestHTTP(t, srv.URL, HTTPOptions{HTTPClientConfig: tc.cfg})

			_, err := h.Query(context.Background(), `up`, time.Now())
			require.Error(t, err)
			require.NotContains(t, err.Error(), "s3cret")
			require.NotContains(t, err.Error(), "t0ken")
			require.Equal(t, tc.want, api.headers[0].Get("Authorization"))
		})
	}
}

func TestHTTPErrorsHideURLPassword(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		answerError(w, http.StatusBadRequest, "bad_data", "nope")
		return true
	}})
	defer srv.Close()
	withPassword := strings.Replace(srv.URL, "http://", "http://user:hunter2@", 1)
	h := newTestHTTP(t, withPassword, HTTPOptions{})

	_, err := h.Query(context.Background(), `up`, time.Now())
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")

	_, err = NewHTTP(HTTPOptions{URL: "http://user:hunter2@[::1"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "hunter2")
}

func TestNewHTTPErrors(t *testing.T) {
	cases := []struct {
		name string
		opts HTTPOptions
		want string
	}{
		{"no scheme", HTTPOptions{URL: "localhost:9090"}, "want http(s)"},
		{"bad url", HTTPOptions{URL: "http://[::1"}, "parsing"},
		{"empty", HTTPOptions{}, "want http(s)"},
		{
			name: "two kinds of auth",
			opts: HTTPOptions{URL: "http://127.0.0.1:9090", HTTPClientConfig: config.HTTPClientConfig{
				BasicAuth:     &config.BasicAuth{Username: "a", Password: "b"},
				Authorization: &config.Authorization{Credentials: "c"},
			}},
			want: "HTTP client config",
		},
		{
			name: "missing CA file",
			opts: HTTPOptions{URL: "https://127.0.0.1:9090", HTTPClientConfig: config.HTTPClientConfig{
				TLSConfig: config.TLSConfig{CAFile: "/nonexistent/ca.pem"},
			}},
			want: "127.0.0.1:9090",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := NewHTTP(tc.opts)
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestHTTPBackoff(t *testing.T) {
	h := &HTTP{backoffBase: 100 * time.Millisecond, backoffMax: time.Second}
	for attempt := range 40 {
		d := h.backoff(attempt)
		require.GreaterOrEqual(t, d, time.Duration(0))
		require.Less(t, d, min(time.Second, 100*time.Millisecond<<min(attempt, 20)))
	}
	require.Zero(t, (&HTTP{}).backoff(0))
}

func TestIsTransient(t *testing.T) {
	ctx := context.Background()
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	cases := []struct {
		name   string
		ctx    context.Context
		err    error
		status int
		want   bool
	}{
		{"500", ctx, errors.New("x"), 500, true},
		{"429", ctx, errors.New("x"), 429, true},
		{"404", ctx, errors.New("x"), 404, false},
		{"408", ctx, errors.New("x"), 408, true},
		{"deadline", ctx, context.DeadlineExceeded, 0, true},
		{"other", ctx, errors.New("x509: unknown authority"), 0, false},
		{"caller gone", canceled, context.DeadlineExceeded, 500, false},
	}
	for _, tc := range cases {
		require.Equal(t, tc.want, isTransient(tc.ctx, tc.err, &attemptRecord{status: tc.status}), tc.name)
	}
}

func TestHTTPConcurrentUse(t *testing.T) {
	srv := httptest.NewServer(&fakeAPI{})
	defer srv.Close()
	metrics := NewMetrics(nil)
	h := newTestHTTP(t, srv.URL, HTTPOptions{Metrics: metrics, Reporter: &recordingReporter{}})

	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx := WithEngine(context.Background(), fmt.Sprint("e", i%2))
			for range 10 {
				if _, err := h.Query(ctx, `up`, time.Now()); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	require.InDelta(t, 40, testutil.ToFloat64(metrics.queries.WithLabelValues("e0")), 0)
}

// TestHTTPRejectedQueryKeepsSourceUp: a server that rejects a query as
// invalid is up; a server that refuses Stratus's credentials is not usable.
func TestHTTPRejectedQueryKeepsSourceUp(t *testing.T) {
	cases := []struct {
		name         string
		status       int
		errorType    string
		wantFailures int
	}{
		{"bad_data", http.StatusBadRequest, "bad_data", 0},
		{"execution error", http.StatusUnprocessableEntity, "execution", 0},
		{"unauthorized", http.StatusUnauthorized, "unauthorized", 1},
		{"forbidden", http.StatusForbidden, "forbidden", 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&fakeAPI{
				reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
					answerError(w, tc.status, tc.errorType, "no")
					return true
				},
			})
			t.Cleanup(srv.Close)
			reporter := &recordingReporter{}
			h := newTestHTTP(t, srv.URL, HTTPOptions{Reporter: reporter, Retries: -1})
			_, err := h.Query(context.Background(), "up{", time.Now())
			require.Error(t, err)
			require.Len(t, reporter.failures, tc.wantFailures)
			require.Equal(t, 1-tc.wantFailures, reporter.successes)
		})
	}
}

func TestHTTPShortensLongExpressionsAndSendsUserAgent(t *testing.T) {
	api := &fakeAPI{reply: func(_ int, w http.ResponseWriter, _ *http.Request) bool {
		answerError(w, http.StatusBadRequest, "bad_data", "no")
		return true
	}}
	srv := httptest.NewServer(api)
	defer srv.Close()
	h := newTestHTTP(t, srv.URL, HTTPOptions{})
	long := "sum(" + strings.Repeat("x", 2000) + ")"
	_, err := h.Query(context.Background(), long, time.Now())
	require.Error(t, err)
	require.Less(t, len(err.Error()), 400)
	require.Contains(t, err.Error(), "(2005 bytes)")
	require.True(t, strings.HasPrefix(api.headers[0].Get("User-Agent"), "stratus/"))
}
