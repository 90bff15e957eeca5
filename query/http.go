package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/version"

	"github.com/stratus-monitoring/stratus/internal/retry"
)

// SourcePrometheus is the source name the HTTP Querier reports to its
// StatusReporter, whatever Prometheus-compatible server it talks to.
const SourcePrometheus = "prometheus"

// Defaults for HTTPOptions fields left at their zero value.
const (
	DefaultQueryTimeout   = 30 * time.Second
	DefaultMaxConcurrency = 4
	DefaultRetries        = 3
	DefaultBackoffBase    = 200 * time.Millisecond
	DefaultBackoffMax     = 10 * time.Second
)

// HTTPOptions configures NewHTTP.
type HTTPOptions struct {
	// URL is the base URL of the query API, without /api/v1.
	URL string
	// HTTPClientConfig carries authentication (bearer token, basic auth,
	// OAuth2), TLS and custom headers in the format Prometheus itself uses.
	HTTPClientConfig config.HTTPClientConfig
	// QueryTimeout bounds each request to the server and is passed on as the
	// API's timeout parameter, so the server gives up when Stratus does. The
	// caller's context bounds the query as a whole, retries included.
	// Zero means DefaultQueryTimeout.
	QueryTimeout time.Duration
	// MaxConcurrency is the number of requests in flight at once. Zero means
	// DefaultMaxConcurrency.
	MaxConcurrency int
	// Retries is how many times a request that failed transiently is repeated.
	// Zero means DefaultRetries; a negative value disables retries.
	Retries int
	// BackoffBase and BackoffMax shape the exponential backoff between
	// retries: attempt n waits a uniformly random time in
	// [0, min(BackoffMax, BackoffBase*2^n)) ("full jitter"), unless the server
	// sent Retry-After. Zero means DefaultBackoffBase and DefaultBackoffMax.
	BackoffBase, BackoffMax time.Duration
	// Sleep waits between retries; nil means a timer honouring ctx. Tests
	// replace it to run without waiting.
	Sleep func(ctx context.Context, d time.Duration) error
	// Reporter, when set, learns of every query's success or failure under
	// the source name SourcePrometheus.
	Reporter StatusReporter
	// Metrics, when set, counts queries; it may be shared with Embedded.
	Metrics *Metrics
	// Logger receives retries at debug level and API warnings at debug level.
	// Nil discards.
	Logger *slog.Logger
}

// HTTP is a Querier that speaks the Prometheus HTTP query API. It is safe for
// concurrent use.
type HTTP struct {
	api         v1.API
	url         string // redacted, for error messages and logs
	timeout     time.Duration
	retries     int
	backoffBase time.Duration
	backoffMax  time.Duration
	slots       chan struct{}
	sleep       func(ctx context.Context, d time.Duration) error
	reporter    StatusReporter
	metrics     *Metrics
	logger      *slog.Logger
}

var _ Querier = (*HTTP)(nil)

// NewHTTP returns a Querier for the Prometheus-compatible API at opts.URL.
func NewHTTP(opts HTTPOptions) (*HTTP, error) {
	u, err := url.Parse(opts.URL)
	if err != nil {
		return nil, fmt.Errorf("parsing Prometheus URL: %w", redactURLError(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("prometheus URL %s: want http(s)://host[:port][/path]", u.Redacted())
	}
	if err := opts.HTTPClientConfig.Validate(); err != nil {
		return nil, fmt.Errorf("HTTP client config for %s: %w", u.Redacted(), err)
	}

	client, err := config.NewClientFromConfig(opts.HTTPClientConfig, "stratus",
		config.WithUserAgent("stratus/"+version.Version))
	if err != nil {
		return nil, fmt.Errorf("HTTP client for %s: %w", u.Redacted(), err)
	}
	// The API client hides the HTTP response from its callers; this wrapper
	// records the status and Retry-After of each attempt so that retries can
	// tell a throttled or failing server from a bad query.
	client.Transport = &recordingTransport{next: client.Transport}
	apiClient, err := api.NewClient(api.Config{Address: opts.URL, Client: client})
	if err != nil {
		return nil, fmt.Errorf("API client for %s: %w", u.Redacted(), err)
	}

	h := &HTTP{
		api:         v1.NewAPI(apiClient),
		url:         u.Redacted(),
		timeout:     orDefault(opts.QueryTimeout, DefaultQueryTimeout),
		retries:     opts.Retries,
		backoffBase: orDefault(opts.BackoffBase, DefaultBackoffBase),
		backoffMax:  orDefault(opts.BackoffMax, DefaultBackoffMax),
		slots:       make(chan struct{}, orDefault(opts.MaxConcurrency, DefaultMaxConcurrency)),
		sleep:       opts.Sleep,
		reporter:    opts.Reporter,
		metrics:     opts.Metrics,
		logger:      opts.Logger,
	}
	switch {
	case h.retries == 0:
		h.retries = DefaultRetries
	case h.retries < 0:
		h.retries = 0
	}
	if h.sleep == nil {
		h.sleep = retry.Sleep
	}
	if h.logger == nil {
		h.logger = promslog.NewNopLogger()
	}
	return h, nil
}

// Query implements Querier.
func (h *HTTP) Query(ctx context.Context, expr string, ts time.Time) (model.Vector, error) {
	var vec model.Vector
	err := h.run(ctx, describe("query", expr), func(ctx context.Context) (int, error) {
		val, warnings, _, err := h.api.Query(ctx, expr, ts, v1.WithTimeout(h.timeout))
		if err != nil {
			return 0, err
		}
		h.logWarnings(expr, warnings)
		vec, err = toVector(val)
		return len(vec), err
	})
	if err != nil {
		return nil, err
	}
	return vec, nil
}

// QueryRange implements Querier.
func (h *HTTP) QueryRange(ctx context.Context, expr string, r Range) (model.Matrix, error) {
	var mat model.Matrix
	rng := v1.Range{Start: r.Start, End: r.End, Step: r.Step}
	err := h.run(ctx, describe("range query", expr), func(ctx context.Context) (int, error) {
		val, warnings, _, err := h.api.QueryRange(ctx, expr, rng, v1.WithTimeout(h.timeout))
		if err != nil {
			return 0, err
		}
		h.logWarnings(expr, warnings)
		mat, err = toMatrix(val)
		return matrixSamples(mat), err
	})
	if err != nil {
		return nil, err
	}
	return mat, nil
}

// Series implements Querier.
func (h *HTTP) Series(
	ctx context.Context,
	matches []string,
	start, end time.Time,
) ([]model.LabelSet, error) {
	var sets []model.LabelSet
	expr := fmt.Sprintf("%q", matches)
	err := h.run(ctx, "series "+expr, func(ctx context.Context) (int, error) {
		res, warnings, _, err := h.api.Series(ctx, matches, start, end)
		if err != nil {
			return 0, err
		}
		h.logWarnings(expr, warnings)
		sets = res
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	return sets, nil
}

// LabelValues implements Querier.
func (h *HTTP) LabelValues(
	ctx context.Context,
	label string,
	matches []string,
	start, end time.Time,
) ([]string, error) {
	var values []string
	expr := fmt.Sprintf("%q %q", label, matches)
	err := h.run(ctx, "label values "+expr, func(ctx context.Context) (int, error) {
		res, warnings, _, err := h.api.LabelValues(ctx, label, matches, start, end)
		if err != nil {
			return 0, err
		}
		h.logWarnings(expr, warnings)
		values = make([]string, 0, len(res))
		for _, v := range res {
			values = append(values, string(v))
		}
		values = sortedUnique(values)
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	return values, nil
}

// run performs one Querier call: it retries transient failures, records
// metrics and tells the reporter how the source fared. call returns the
// number of samples it received.
func (h *HTTP) run(
	ctx context.Context,
	desc string,
	call func(ctx context.Context) (int, error),
) error {
	engine := EngineFrom(ctx)
	start := time.Now()

	samples, status, err := h.withRetries(ctx, engine, desc, call)
	h.metrics.observe(engine, time.Since(start).Seconds(), samples, err)
	if err != nil {
		err = fmt.Errorf("%s at %s: %w", desc, h.url, err)
	}

	// A caller that cancelled says nothing about the source's health, and
	// neither does a query the server answered by rejecting it as invalid:
	// the source is up, the query is Stratus's fault. A caller's deadline
	// that passed while the source did not answer is the source's failure:
	// a hung Prometheus is down, not healthy.
	rejected := status == http.StatusBadRequest || status == http.StatusUnprocessableEntity
	if h.reporter != nil && status != statusNotSent && !errors.Is(ctx.Err(), context.Canceled) {
		if err != nil && !rejected {
			h.reporter.ReportFailure(SourcePrometheus, time.Now(), err)
		} else {
			h.reporter.ReportSuccess(SourcePrometheus, time.Now())
		}
	}
	return err
}

// withRetries makes attempts until one succeeds, one fails permanently, the
// retries are used up or ctx ends.
func (h *HTTP) withRetries(
	ctx context.Context,
	engine, desc string,
	call func(ctx context.Context) (int, error),
) (samples, status int, err error) {
	for attempt := 0; ; attempt++ {
		var rec attemptRecord
		samples, err := h.attempt(ctx, &rec, call)
		if err == nil {
			return samples, rec.status, nil
		}
		if rec.notSent {
			return 0, statusNotSent, err
		}
		if rec.serverGaveUp {
			err = fmt.Errorf("the server's own query timeout passed: %w", err)
		}
		if attempt >= h.retries || !isTransient(ctx, err, &rec) {
			return 0, rec.status, err
		}

		wait := h.backoff(attempt)
		if rec.retryAfter >= 0 {
			wait = rec.retryAfter
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return 0, rec.status, fmt.Errorf("no time left to wait %s before retrying: %w",
				wait, err)
		}
		h.metrics.retried(engine)
		h.logger.Debug("retrying query after transient error",
			"data_source", SourcePrometheus, "query", desc, "attempt", attempt+1,
			"wait", wait, "err", err)
		if serr := h.sleep(ctx, wait); serr != nil {
			return 0, rec.status, fmt.Errorf("waiting to retry: %w (last error: %w)", serr, err)
		}
	}
}

// statusNotSent stands for the status of a query whose request never left.
const statusNotSent = -1

// attempt makes one request while holding a concurrency slot, so that the
// slot is not held while backing off.
func (h *HTTP) attempt(
	ctx context.Context,
	rec *attemptRecord,
	call func(ctx context.Context) (int, error),
) (int, error) {
	rec.retryAfter = -1
	select {
	case h.slots <- struct{}{}:
	case <-ctx.Done():
		rec.notSent = true
		return 0, fmt.Errorf("waiting for a concurrency slot: %w", ctx.Err())
	}
	defer func() { <-h.slots }()

	actx, cancel := context.WithTimeout(ctx, h.timeout)
	defer cancel()
	return call(context.WithValue(actx, attemptKey{}, rec))
}

// backoff returns the wait before retry number attempt+1.
func (h *HTTP) backoff(attempt int) time.Duration {
	return retry.Backoff(attempt, h.backoffBase, h.backoffMax)
}

func (h *HTTP) logWarnings(expr string, warnings v1.Warnings) {
	for _, w := range warnings {
		h.logger.Debug("query warning", "data_source", SourcePrometheus, "expr", expr, "warning", w)
	}
}

// attemptKey is the context key of the *attemptRecord of one request.
type attemptKey struct{}

// attemptRecord is what recordingTransport saw of one request's response.
type attemptRecord struct {
	status     int
	retryAfter time.Duration // negative when the server sent none
	// notSent is set when the attempt ended before a request left: the
	// caller's deadline passed while Stratus's own concurrency limit held
	// it back, which says nothing about the source.
	notSent bool
	// serverGaveUp is set when a 503's body says the server's own query
	// deadline passed (errorType "timeout" or "canceled"). The API client
	// reports every 5xx as a bare server error, so only the body tells.
	serverGaveUp bool
}

// recordingTransport notes each response's status and Retry-After in the
// request's attemptRecord, if it has one.
type recordingTransport struct {
	next http.RoundTripper
}

// RoundTrip implements http.RoundTripper.
func (t *recordingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	rec, ok := req.Context().Value(attemptKey{}).(*attemptRecord)
	if !ok || resp == nil {
		return resp, err
	}
	rec.status = resp.StatusCode
	if d, ok := retry.ParseAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
		rec.retryAfter = d
	}
	if resp.StatusCode == http.StatusServiceUnavailable {
		// Error bodies are small; read a bounded prefix and hand the API
		// client the same bytes.
		body, readErr := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		_ = resp.Body.Close()
		resp.Body = io.NopCloser(bytes.NewReader(body))
		if readErr == nil {
			var answer struct {
				ErrorType v1.ErrorType `json:"errorType"`
			}
			if json.Unmarshal(body, &answer) == nil {
				rec.serverGaveUp = answer.ErrorType == v1.ErrTimeout ||
					answer.ErrorType == v1.ErrCanceled
			}
		}
	}
	return resp, err
}

// isTransient reports whether a failed attempt is worth repeating: the server
// was unreachable, slow, overloaded or failing, as opposed to refusing the
// query itself, which would fail the same way again.
func isTransient(ctx context.Context, err error, rec *attemptRecord) bool {
	if ctx.Err() != nil {
		return false
	}
	// Prometheus says "timeout" or "canceled" when its own query deadline
	// passed: the query is too heavy for it now, and repeating it at once
	// only adds load to a server that is already struggling.
	if rec.serverGaveUp {
		return false
	}
	var apiErr *v1.Error
	switch {
	case rec.status == http.StatusTooManyRequests || rec.status >= 500 ||
		rec.status == http.StatusRequestTimeout:
		return true
	case rec.status >= 400:
		return false
	case rec.status >= 200:
		// An answer that could not be read, such as a truncated body, is
		// the network's fault; a well-formed answer of the wrong shape is not.
		if errors.As(err, &apiErr) {
			return false
		}
	}
	// No response at all: a refused or reset connection or an attempt that
	// ran out of time. Failures to set up the connection that will not heal
	// by themselves (bad certificate, unknown host) are not retried.
	return errors.Is(err, context.DeadlineExceeded) || isNetworkTransient(err)
}

// orDefault returns v, or def when v is zero.
func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// redactURLError drops the URL text from a parse error, since it may carry a
// password.
func redactURLError(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		return uerr.Err
	}
	return err
}

// toMatrix checks that a range query answered with a matrix.
func toMatrix(val model.Value) (model.Matrix, error) {
	m, ok := val.(model.Matrix)
	if !ok {
		return nil, fmt.Errorf("range query returned %s, want matrix", val.Type())
	}
	return m, nil
}

// toVector converts an instant query result to a vector, scalars becoming a
// single sample without labels.
func toVector(val model.Value) (model.Vector, error) {
	switch v := val.(type) {
	case model.Vector:
		return v, nil
	case *model.Scalar:
		return model.Vector{{Metric: model.Metric{}, Value: v.Value, Timestamp: v.Timestamp}}, nil
	case nil:
		return nil, errors.New("empty result")
	default:
		return nil, fmt.Errorf("result of type %s, want vector or scalar", val.Type())
	}
}

// matrixSamples counts the points of a matrix.
func matrixSamples(m model.Matrix) int {
	n := 0
	for _, s := range m {
		n += len(s.Values) + len(s.Histograms)
	}
	return n
}

// sortedUnique sorts values and removes repeats in place.
func sortedUnique(values []string) []string {
	slices.Sort(values)
	return slices.Compact(values)
}
