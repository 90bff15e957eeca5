package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"sync/atomic"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// Defaults for EmbeddedOptions fields left at their zero value. They match
// the defaults of a Prometheus server, so that both answer alike.
const (
	DefaultLookbackDelta      = 5 * time.Minute
	DefaultEmbeddedTimeout    = 2 * time.Minute
	DefaultEmbeddedMaxSamples = 50_000_000
)

// wideRange is the head chunk range and out-of-order window of the embedded
// TSDB. A Prometheus head only accepts samples newer than half a chunk range
// before its newest sample, since it expects time to advance. OpenMetrics files
// hold one family after another, each spanning the whole time range, so the
// second family starts far in the past. A chunk range of ten years makes every
// such sample in order for its own series, which keeps the fast in-order
// append path; the out-of-order window of the same width takes the rare sample
// older than its own series' newest (such as overlapping files). Buffering and
// sorting would double the memory, and writing blocks as promtool does reads
// the input once per block; neither is needed when the head accepts the data
// as it comes. The head then never compacts: this store lives as long as the
// process and keeps its compressed chunks memory-mapped in its directory.
const wideRange = int64(10 * 365 * 24 * time.Hour / time.Millisecond)

// EmbeddedOptions configures NewEmbedded.
type EmbeddedOptions struct {
	// Dir is where the TSDB keeps its files. Empty means a new temporary
	// directory, removed by Close. The store keeps no write-ahead log: its
	// contents do not survive Close.
	Dir string
	// LookbackDelta is how far back an instant selector looks for a sample.
	// Zero means DefaultLookbackDelta.
	LookbackDelta time.Duration
	// QueryTimeout bounds each query. Zero means DefaultEmbeddedTimeout.
	QueryTimeout time.Duration
	// MaxSamples bounds the samples one query may hold in memory. Zero means
	// DefaultEmbeddedMaxSamples.
	MaxSamples int
	// Metrics, when set, counts queries; it may be shared with HTTP.
	Metrics *Metrics
	// Logger receives lifecycle events at info level and query warnings at
	// debug level. Nil discards.
	Logger *slog.Logger
}

// Embedded is a Querier over a TSDB of its own, evaluated by the Prometheus
// PromQL engine. It is loaded from OpenMetrics files or fed with Append, and
// is safe for concurrent use.
type Embedded struct {
	db        *tsdb.DB
	engine    *promql.Engine
	parser    parser.Parser
	dir       string
	removeDir bool
	metrics   *Metrics
	logger    *slog.Logger
	// droppedBefore is the latest DropBefore cut in milliseconds.
	droppedBefore atomic.Int64
}

var _ Querier = (*Embedded)(nil)

// NewEmbedded opens an empty embedded store.
func NewEmbedded(opts EmbeddedOptions) (*Embedded, error) {
	logger := opts.Logger
	if logger == nil {
		logger = promslog.NewNopLogger()
	}

	dir, removeDir := opts.Dir, false
	if dir == "" {
		tmp, err := os.MkdirTemp("", "stratus-tsdb-")
		if err != nil {
			return nil, fmt.Errorf("creating directory for the embedded TSDB: %w", err)
		}
		dir, removeDir = tmp, true
	}

	tsdbOpts := tsdb.DefaultOptions()
	tsdbOpts.WALSegmentSize = -1 // nothing to recover: the store is rebuilt each run
	tsdbOpts.MinBlockDuration = wideRange
	tsdbOpts.MaxBlockDuration = wideRange
	tsdbOpts.OutOfOrderTimeWindow = wideRange
	tsdbOpts.RetentionDuration = 0
	// The TSDB's own lifecycle lines (replaying chunks, no WAL, compactions
	// off) describe a private store the operator never manages; only its
	// warnings and errors are worth a line.
	tsdbLogger := slog.New(minLevel{logger.Handler(), slog.LevelWarn}).With("component", "tsdb")
	db, err := tsdb.Open(dir, tsdbLogger, nil, tsdbOpts, nil)
	if err != nil {
		if removeDir {
			_ = os.RemoveAll(dir)
		}
		return nil, fmt.Errorf("opening embedded TSDB in %s: %w", dir, err)
	}
	db.DisableCompactions()

	p := parser.NewParser(parser.Options{})
	engine := promql.NewEngine(promql.EngineOpts{
		Logger:               logger.With("component", "promql"),
		MaxSamples:           orDefault(opts.MaxSamples, DefaultEmbeddedMaxSamples),
		Timeout:              orDefault(opts.QueryTimeout, DefaultEmbeddedTimeout),
		LookbackDelta:        orDefault(opts.LookbackDelta, DefaultLookbackDelta),
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		// Prometheus resolves subqueries without a step at the global
		// evaluation interval, one minute by default.
		NoStepSubqueryIntervalFn: func(int64) int64 { return time.Minute.Milliseconds() },
		Parser:                   p,
	})

	e := &Embedded{
		db:        db,
		engine:    engine,
		parser:    p,
		dir:       dir,
		removeDir: removeDir,
		metrics:   opts.Metrics,
		logger:    logger,
	}
	e.droppedBefore.Store(math.MinInt64)
	return e, nil
}

// Close closes the TSDB and removes its directory if NewEmbedded created it.
func (e *Embedded) Close() error {
	err := e.db.Close()
	if e.removeDir {
		err = errors.Join(err, os.RemoveAll(e.dir))
	}
	if err != nil {
		return fmt.Errorf("closing embedded TSDB in %s: %w", e.dir, err)
	}
	return nil
}

// MaxTime returns the time of the newest sample, or the zero time when the
// store is empty.
func (e *Embedded) MaxTime() time.Time {
	t := e.db.Head().MaxTime()
	if t == math.MinInt64 {
		return time.Time{}
	}
	return time.UnixMilli(t).UTC()
}

// MinTime returns the time of the oldest sample, or the zero time when the
// store is empty.
func (e *Embedded) MinTime() time.Time {
	head := e.db.Head()
	if head.MaxTime() == math.MinInt64 {
		return time.Time{}
	}
	t := head.MinTime()
	// After a truncation the head keeps a conservative lower bound for
	// out-of-order data, not the oldest sample; nothing older than the cut
	// survives it.
	if ooo := head.MinOOOTime(); ooo < t && ooo >= e.droppedBefore.Load() {
		t = ooo
	}
	return time.UnixMilli(t).UTC()
}

// DropBefore forgets the samples older than t, so that a store fed live (the
// demo) holds a sliding window instead of growing for as long as the process
// runs. It does not refuse samples older than t appended afterwards: the
// out-of-order window that loading needs still takes them. Queries in flight
// over the dropped range finish first.
func (e *Embedded) DropBefore(t time.Time) error {
	cut := t.UnixMilli()
	if err := e.db.Head().Truncate(cut); err != nil {
		return fmt.Errorf("dropping embedded samples before %s: %w",
			t.UTC().Format(time.RFC3339), err)
	}
	e.droppedBefore.Store(cut)
	return nil
}

// Append stores one float sample and commits it at once. Feeding many
// samples is cheaper through Appender.
func (e *Embedded) Append(lset labels.Labels, tMillis int64, v float64) error {
	b := e.Appender(context.Background())
	if err := b.Append(lset, tMillis, v); err != nil {
		_ = b.Rollback()
		return err
	}
	return b.Commit()
}

// Appender starts a batch of samples that become visible to queries together
// on Commit. A Batch is for one goroutine; several may be open at once.
func (e *Embedded) Appender(ctx context.Context) *Batch {
	return &Batch{app: e.db.AppenderV2(ctx)}
}

// Batch collects samples for one commit. Its Append method has the signature
// of the simulator's sample callback.
type Batch struct {
	app storage.AppenderV2
}

// Append adds a float sample at tMillis (milliseconds since the epoch).
func (b *Batch) Append(lset labels.Labels, tMillis int64, v float64) error {
	if lset.IsEmpty() {
		return errors.New("appending a sample without labels")
	}
	if _, err := b.app.Append(0, lset, 0, tMillis, v, nil, nil, storage.AOptions{}); err != nil {
		return fmt.Errorf("appending %s at %d: %w", lset, tMillis, err)
	}
	return nil
}

// Commit makes the batch's samples visible. The Batch is done afterwards.
func (b *Batch) Commit() error {
	if err := b.app.Commit(); err != nil {
		return fmt.Errorf("committing samples: %w", err)
	}
	return nil
}

// Rollback discards the batch's samples. The Batch is done afterwards.
func (b *Batch) Rollback() error {
	if err := b.app.Rollback(); err != nil {
		return fmt.Errorf("discarding samples: %w", err)
	}
	return nil
}

// Query implements Querier.
func (e *Embedded) Query(ctx context.Context, expr string, ts time.Time) (model.Vector, error) {
	var vec model.Vector
	err := e.run(ctx, describe("query", expr), func() (int, error) {
		q, err := e.engine.NewInstantQuery(ctx, e.db, nil, expr, ts)
		if err != nil {
			return 0, err
		}
		defer q.Close()
		val, err := e.exec(ctx, q, expr)
		if err != nil {
			return 0, err
		}
		vec, err = toVector(val)
		return len(vec), err
	})
	if err != nil {
		return nil, err
	}
	return vec, nil
}

// QueryRange implements Querier.
func (e *Embedded) QueryRange(ctx context.Context, expr string, r Range) (model.Matrix, error) {
	var mat model.Matrix
	err := e.run(ctx, describe("range query", expr), func() (int, error) {
		if r.Step <= 0 {
			return 0, errors.New("zero or negative query resolution step width")
		}
		if r.End.Before(r.Start) {
			return 0, errors.New("end timestamp must not be before start time")
		}
		q, err := e.engine.NewRangeQuery(ctx, e.db, nil, expr, r.Start, r.End, r.Step)
		if err != nil {
			return 0, err
		}
		defer q.Close()
		val, err := e.exec(ctx, q, expr)
		if err != nil {
			return 0, err
		}
		mat, err = toMatrix(val)
		return matrixSamples(mat), err
	})
	if err != nil {
		return nil, err
	}
	return mat, nil
}

// Series implements Querier.
func (e *Embedded) Series(
	ctx context.Context,
	matches []string,
	start, end time.Time,
) ([]model.LabelSet, error) {
	found := []model.LabelSet{}
	err := e.run(ctx, fmt.Sprintf("series %q", matches), func() (int, error) {
		if len(matches) == 0 {
			return 0, errors.New("no match[] parameter provided")
		}
		selectors, err := e.parseSelectors(matches)
		if err != nil {
			return 0, err
		}
		q, err := e.db.Querier(timeBound(start, math.MinInt64), timeBound(end, math.MaxInt64))
		if err != nil {
			return 0, err
		}
		defer q.Close()

		// As the Prometheus API does: sorted selects merged into one sorted
		// set, in which a series that several selectors match appears once.
		sets := make([]storage.SeriesSet, 0, len(selectors))
		for _, ms := range selectors {
			sets = append(sets, q.Select(ctx, true, nil, ms...))
		}
		merged := storage.NewMergeSeriesSet(sets, 0, storage.ChainedSeriesMerge)
		for merged.Next() {
			found = append(found, model.LabelSet(toMetric(merged.At().Labels())))
		}
		if err := merged.Err(); err != nil {
			return 0, err
		}
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	return found, nil
}

// LabelValues implements Querier.
func (e *Embedded) LabelValues(
	ctx context.Context,
	label string,
	matches []string,
	start, end time.Time,
) ([]string, error) {
	var values []string
	desc := fmt.Sprintf("label values %q %q", label, matches)
	err := e.run(ctx, desc, func() (int, error) {
		selectors, err := e.parseSelectors(matches)
		if err != nil {
			return 0, err
		}
		q, err := e.db.Querier(timeBound(start, math.MinInt64), timeBound(end, math.MaxInt64))
		if err != nil {
			return 0, err
		}
		defer q.Close()

		if len(selectors) == 0 {
			selectors = [][]*labels.Matcher{nil}
		}
		values = []string{}
		for _, ms := range selectors {
			vals, _, err := q.LabelValues(ctx, label, nil, ms...)
			if err != nil {
				return 0, err
			}
			values = append(values, vals...)
		}
		values = sortedUnique(values)
		return 0, nil
	})
	if err != nil {
		return nil, err
	}
	return values, nil
}

// run performs one Querier call and records its metrics.
func (e *Embedded) run(ctx context.Context, desc string, call func() (int, error)) error {
	start := time.Now()
	samples, err := call()
	e.metrics.observe(EngineFrom(ctx), time.Since(start).Seconds(), samples, err)
	if err != nil {
		return fmt.Errorf("%s on embedded TSDB: %w", desc, err)
	}
	return nil
}

// exec runs a prepared query and converts its result to the model types the
// HTTP API returns.
func (e *Embedded) exec(ctx context.Context, q promql.Query, expr string) (model.Value, error) {
	res := q.Exec(ctx)
	if res.Err != nil {
		return nil, res.Err
	}
	for _, w := range res.Warnings.AsErrors() {
		e.logger.Debug("query warning", "data_source", "embedded", "expr", expr, "warning", w)
	}
	return toModelValue(res.Value)
}

// parseSelectors parses series selectors such as `up{job="x"}`.
func (e *Embedded) parseSelectors(matches []string) ([][]*labels.Matcher, error) {
	out := make([][]*labels.Matcher, 0, len(matches))
	for _, m := range matches {
		ms, err := e.parser.ParseMetricSelector(m)
		if err != nil {
			return nil, fmt.Errorf("selector %q: %w", m, err)
		}
		out = append(out, ms)
	}
	return out, nil
}

// timeBound converts an optional bound to milliseconds; the zero time means
// unbounded, as it does to the HTTP API client.
func timeBound(t time.Time, unbounded int64) int64 {
	if t.IsZero() {
		return unbounded
	}
	return t.UnixMilli()
}

// toModelValue converts a PromQL engine result to prometheus/common/model.
func toModelValue(v parser.Value) (model.Value, error) {
	switch v := v.(type) {
	case promql.Vector:
		vec := make(model.Vector, 0, len(v))
		for _, s := range v {
			ms := &model.Sample{Metric: toMetric(s.Metric), Timestamp: model.Time(s.T)}
			if s.H != nil {
				ms.Histogram = toSampleHistogram(s.H)
			} else {
				ms.Value = model.SampleValue(s.F)
			}
			vec = append(vec, ms)
		}
		return vec, nil
	case promql.Scalar:
		return &model.Scalar{Value: model.SampleValue(v.V), Timestamp: model.Time(v.T)}, nil
	case promql.Matrix:
		mat := make(model.Matrix, 0, len(v))
		for _, s := range v {
			ss := &model.SampleStream{Metric: toMetric(s.Metric)}
			if len(s.Floats) > 0 {
				ss.Values = make([]model.SamplePair, 0, len(s.Floats))
			}
			for _, p := range s.Floats {
				ss.Values = append(ss.Values, model.SamplePair{
					Timestamp: model.Time(p.T),
					Value:     model.SampleValue(p.F),
				})
			}
			for _, p := range s.Histograms {
				ss.Histograms = append(ss.Histograms, model.SampleHistogramPair{
					Timestamp: model.Time(p.T),
					Histogram: toSampleHistogram(p.H),
				})
			}
			mat = append(mat, ss)
		}
		return mat, nil
	case promql.String:
		return &model.String{Value: v.V, Timestamp: model.Time(v.T)}, nil
	default:
		return nil, fmt.Errorf("unexpected result type %T", v)
	}
}

// toMetric converts a label set.
func toMetric(lset labels.Labels) model.Metric {
	m := make(model.Metric, lset.Len())
	lset.Range(func(l labels.Label) {
		m[model.LabelName(l.Name)] = model.LabelValue(l.Value)
	})
	return m
}

// toSampleHistogram converts a native histogram the way the HTTP API
// presents it: populated buckets only, with their boundary inclusiveness.
func toSampleHistogram(h *histogram.FloatHistogram) *model.SampleHistogram {
	sh := &model.SampleHistogram{
		Count: model.FloatString(h.Count),
		Sum:   model.FloatString(h.Sum),
	}
	it := h.AllBucketIterator()
	for it.Next() {
		b := it.At()
		if b.Count == 0 {
			continue
		}
		var boundaries int32
		switch {
		case b.LowerInclusive && b.UpperInclusive:
			boundaries = 3
		case b.LowerInclusive:
			boundaries = 1
		case b.UpperInclusive:
			boundaries = 0
		default:
			boundaries = 2
		}
		sh.Buckets = append(sh.Buckets, &model.HistogramBucket{
			Boundaries: boundaries,
			Lower:      model.FloatString(b.Lower),
			Upper:      model.FloatString(b.Upper),
			Count:      model.FloatString(b.Count),
		})
	}
	return sh
}

// minLevel drops records below a level, whatever the wrapped handler allows.
type minLevel struct {
	slog.Handler
	level slog.Level
}

func (h minLevel) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= h.level && h.Handler.Enabled(ctx, l)
}

func (h minLevel) WithAttrs(attrs []slog.Attr) slog.Handler {
	return minLevel{h.Handler.WithAttrs(attrs), h.level}
}

func (h minLevel) WithGroup(name string) slog.Handler {
	return minLevel{h.Handler.WithGroup(name), h.level}
}
