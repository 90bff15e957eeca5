package query

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

// fixtureStart is the first sample time of testdata/basic.om.
var fixtureStart = time.Unix(1700000000, 0).UTC()

func newEmbedded(t testing.TB, opts EmbeddedOptions) *Embedded {
	t.Helper()
	e, err := NewEmbedded(opts)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, e.Close()) })
	return e
}

func loadedEmbedded(t testing.TB) *Embedded {
	t.Helper()
	e := newEmbedded(t, EmbeddedOptions{})
	require.NoError(t, e.LoadOpenMetrics(filepath.Join("testdata", "basic.om")))
	return e
}

func TestEmbeddedMaxTime(t *testing.T) {
	e := newEmbedded(t, EmbeddedOptions{})
	require.True(t, e.MaxTime().IsZero())
	require.True(t, e.MinTime().IsZero())

	require.NoError(t, e.LoadOpenMetrics(filepath.Join("testdata", "basic.om")))
	require.Equal(t, fixtureStart.Add(30*time.Minute), e.MaxTime())
	require.Equal(t, fixtureStart, e.MinTime())
}

func TestEmbeddedQuery(t *testing.T) {
	e := loadedEmbedded(t)
	at := fixtureStart.Add(20 * time.Minute)

	cases := []struct {
		name string
		expr string
		want map[string]float64 // series (model.Metric.String()) to value
	}{
		{
			name: "gauge",
			expr: `cpu_usage_ratio`,
			want: map[string]float64{
				`cpu_usage_ratio{service="api"}`: 0.5,
				`cpu_usage_ratio{service="web"}`: 0.25,
			},
		},
		{
			name: "rate",
			expr: `rate(http_requests_total[5m])`,
			want: map[string]float64{
				`{code="200", service="api"}`: 2,
				`{code="500", service="api"}`: 0.1,
				`{code="200", service="web"}`: 1,
			},
		},
		{
			name: "sum by",
			expr: `sum by (service) (rate(http_requests_total[5m]))`,
			want: map[string]float64{`{service="api"}`: 2.1, `{service="web"}`: 1},
		},
		{
			name: "histogram_quantile",
			expr: `histogram_quantile(0.9, sum by (le) (rate(request_duration_seconds_bucket[5m])))`,
			want: map[string]float64{`{}`: 0.7},
		},
		{
			name: "summary quantile",
			expr: `rpc_latency_seconds{quantile="0.99"}`,
			want: map[string]float64{`rpc_latency_seconds{quantile="0.99", service="web"}`: 0.2},
		},
		{
			name: "untyped",
			expr: `legacy_value`,
			want: map[string]float64{`legacy_value{service="web"}`: 42},
		},
		{
			name: "scalar becomes one sample",
			expr: `scalar(sum(cpu_usage_ratio))`,
			want: map[string]float64{`{}`: 0.75},
		},
		{
			name: "no data",
			expr: `absent_metric_name`,
			want: map[string]float64{},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			vec, err := e.Query(context.Background(), tc.expr, at)
			require.NoError(t, err)
			got := map[string]float64{}
			for _, s := range vec {
				got[s.Metric.String()] = float64(s.Value)
				require.Equal(t, model.TimeFromUnixNano(at.UnixNano()), s.Timestamp)
			}
			require.Len(t, got, len(tc.want))
			for k, v := range tc.want {
				require.Contains(t, got, k)
				require.InDelta(t, v, got[k], 1e-9, k)
			}
		})
	}
}

func TestEmbeddedQueryNaNAndErrors(t *testing.T) {
	e := loadedEmbedded(t)
	at := fixtureStart.Add(10 * time.Minute)

	vec, err := e.Query(context.Background(), `0/0`, at)
	require.NoError(t, err)
	require.Len(t, vec, 1)
	require.True(t, math.IsNaN(float64(vec[0].Value)))

	_, err = e.Query(context.Background(), `sum(`, at)
	require.ErrorContains(t, err, `query "sum("`)

	_, err = e.Query(context.Background(), `"a string"`, at)
	require.ErrorContains(t, err, "string")

	_, err = e.Query(context.Background(), `http_requests_total[5m]`, at)
	require.ErrorContains(t, err, "matrix")
}

func TestEmbeddedStaleSeriesEnd(t *testing.T) {
	// A series stops at the end of the fixture: five minutes of lookback
	// later it is gone, as in Prometheus.
	e := loadedEmbedded(t)
	vec, err := e.Query(context.Background(), `cpu_usage_ratio`, e.MaxTime().Add(4*time.Minute))
	require.NoError(t, err)
	require.Len(t, vec, 2)
	vec, err = e.Query(context.Background(), `cpu_usage_ratio`, e.MaxTime().Add(6*time.Minute))
	require.NoError(t, err)
	require.Empty(t, vec)
}

func TestEmbeddedQueryRange(t *testing.T) {
	e := loadedEmbedded(t)
	r := Range{Start: fixtureStart.Add(10 * time.Minute), End: fixtureStart.Add(20 * time.Minute), Step: time.Minute}

	mat, err := e.QueryRange(context.Background(), `sum(rate(http_requests_total[5m]))`, r)
	require.NoError(t, err)
	require.Len(t, mat, 1)
	require.Len(t, mat[0].Values, 11)
	for _, p := range mat[0].Values {
		require.InDelta(t, 3.1, float64(p.Value), 1e-9)
	}

	mat, err = e.QueryRange(context.Background(), `1`, r)
	require.NoError(t, err)
	require.Len(t, mat, 1)

	_, err = e.QueryRange(context.Background(), `up`, Range{Start: r.Start, End: r.End})
	require.ErrorContains(t, err, "step")
	_, err = e.QueryRange(context.Background(), `up`, Range{Start: r.End, End: r.Start, Step: time.Minute})
	require.ErrorContains(t, err, "before")
	_, err = e.QueryRange(context.Background(), `up[5m]`, r)
	require.Error(t, err)
	_, err = e.QueryRange(context.Background(), `rate(`, r)
	require.Error(t, err)
}

func TestEmbeddedSeriesAndLabelValues(t *testing.T) {
	e := loadedEmbedded(t)
	ctx := context.Background()
	start, end := fixtureStart, fixtureStart.Add(time.Hour)

	sets, err := e.Series(ctx, []string{`http_requests_total{service="api"}`, `cpu_usage_ratio{service="api"}`}, start, end)
	require.NoError(t, err)
	require.Equal(t, []model.LabelSet{
		{"__name__": "cpu_usage_ratio", "service": "api"},
		{"__name__": "http_requests_total", "code": "200", "service": "api"},
		{"__name__": "http_requests_total", "code": "500", "service": "api"},
	}, sets)

	// Overlapping selectors list each series once.
	sets, err = e.Series(ctx, []string{`cpu_usage_ratio`, `{__name__="cpu_usage_ratio"}`}, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Len(t, sets, 2)

	// Outside the data's time range nothing matches.
	sets, err = e.Series(ctx, []string{`cpu_usage_ratio`}, end.Add(time.Hour), end.Add(2*time.Hour))
	require.NoError(t, err)
	require.Empty(t, sets)

	_, err = e.Series(ctx, nil, start, end)
	require.Error(t, err)
	_, err = e.Series(ctx, []string{`{`}, start, end)
	require.ErrorContains(t, err, `selector "{"`)

	values, err := e.LabelValues(ctx, "service", nil, start, end)
	require.NoError(t, err)
	require.Equal(t, []string{"api", "web"}, values)

	values, err = e.LabelValues(ctx, "code", []string{`http_requests_total{service="web"}`, `http_requests_total{code="200"}`}, start, end)
	require.NoError(t, err)
	require.Equal(t, []string{"200"}, values)

	values, err = e.LabelValues(ctx, "nope", nil, start, end)
	require.NoError(t, err)
	require.Empty(t, values)

	_, err = e.LabelValues(ctx, "code", []string{`{`}, start, end)
	require.Error(t, err)
}

func TestEmbeddedAppendAndMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	metrics := NewMetrics(reg)
	e := newEmbedded(t, EmbeddedOptions{Metrics: metrics})
	now := time.Now().Truncate(time.Second)

	lset := labels.FromStrings("__name__", "demo_value", "service", "api")
	require.NoError(t, e.Append(lset, now.UnixMilli(), 1))
	require.Error(t, e.Append(labels.EmptyLabels(), now.UnixMilli(), 1))

	b := e.Appender(context.Background())
	for i := 1; i <= 10; i++ {
		require.NoError(t, b.Append(lset, now.Add(time.Duration(i)*time.Second).UnixMilli(), float64(i)))
	}
	require.NoError(t, b.Commit())

	b = e.Appender(context.Background())
	require.NoError(t, b.Append(lset, now.Add(time.Hour).UnixMilli(), 99))
	require.NoError(t, b.Rollback())
	require.Equal(t, now.Add(10*time.Second).UTC(), e.MaxTime())

	// An older sample for the same series is out of order yet accepted.
	require.NoError(t, e.Append(lset, now.Add(-time.Minute).UnixMilli(), -1))

	ctx := WithEngine(context.Background(), "cost")
	vec, err := e.Query(ctx, `demo_value`, now.Add(10*time.Second))
	require.NoError(t, err)
	require.Len(t, vec, 1)
	require.InDelta(t, 10, float64(vec[0].Value), 0)
	_, err = e.Query(ctx, `bad(`, now)
	require.Error(t, err)

	require.InDelta(t, 2, testutil.ToFloat64(metrics.queries.WithLabelValues("cost")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(metrics.failures.WithLabelValues("cost")), 0)
	require.InDelta(t, 1, testutil.ToFloat64(metrics.samples.WithLabelValues("cost")), 0)
}

func TestEmbeddedDirOption(t *testing.T) {
	dir := t.TempDir()
	e, err := NewEmbedded(EmbeddedOptions{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, e.Close())
	_, err = os.Stat(dir)
	require.NoError(t, err, "a directory the caller gave is not removed")

	e, err = NewEmbedded(EmbeddedOptions{})
	require.NoError(t, err)
	tmp := e.dir
	require.NoError(t, e.Close())
	_, err = os.Stat(tmp)
	require.True(t, os.IsNotExist(err))

	file := filepath.Join(t.TempDir(), "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	_, err = NewEmbedded(EmbeddedOptions{Dir: file})
	require.Error(t, err)
}

func TestEmbeddedConcurrentAppendAndQuery(t *testing.T) {
	e := loadedEmbedded(t)
	start := e.MaxTime()
	ctx := context.Background()

	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1; i <= 200; i++ {
			b := e.Appender(ctx)
			ts := start.Add(time.Duration(i) * time.Second).UnixMilli()
			for _, svc := range []string{"api", "web"} {
				lset := labels.FromStrings("__name__", "cpu_usage_ratio", "service", svc)
				if err := b.Append(lset, ts, 0.5); err != nil {
					t.Error(err)
				}
			}
			if err := b.Commit(); err != nil {
				t.Error(err)
			}
		}
	}()
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 25 {
				if _, err := e.Query(ctx, `sum(cpu_usage_ratio)`, e.MaxTime()); err != nil {
					t.Error(err)
				}
				if _, err := e.LabelValues(ctx, "service", nil, time.Time{}, time.Time{}); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	require.Equal(t, start.Add(200*time.Second), e.MaxTime())
}

func TestLoadOpenMetricsErrors(t *testing.T) {
	const header = "# TYPE x gauge\n"
	cases := []struct {
		name  string
		input string
		want  string
	}{
		{"missing EOF", header + "x 1 1\n", `in.om:3: missing "# EOF"`},
		{"empty input", "", `in.om:1: missing "# EOF"`},
		{"no timestamp", header + "x 1 1\nx 2\n# EOF\n", "in.om:3: sample of x has no timestamp"},
		{"bad value", header + "x 1 1\nx one 2\n# EOF\n", "in.om:3:"},
		{"bad type", "# TYPE x sideways\n# EOF\n", "in.om:1:"},
		{"garbage line", header + "x 1 1\n}{\n# EOF\n", "in.om:3:"},
		{"data after EOF", header + "x 1 1\n# EOF\nx 2 2\n", "in.om:3:"},
		{"duplicate timestamp", header + "x 1 1\nx 2 1\n# EOF\n", "in.om:3: sample of x at"},
		{"timestamp going back", header + "x 1 10\nx 2 20\nx 3 10\n# EOF\n",
			"in.om:4: sample of x at 1970-01-01T00:00:10Z is not after"},
		{"milliseconds", header + "x 1 1700000000000\n# EOF\n", "in.om:2: timestamp of x is after"},
		{"unterminated labels", header + "x{a=\"1\" 1 1\n# EOF\n", "in.om:2:"},
		{"blank line", header + "x 1 1\n\nx 2 2\n# EOF\n", "in.om:3:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmbedded(t, EmbeddedOptions{})
			err := e.LoadOpenMetricsReader(strings.NewReader(tc.input), "in.om")
			require.Error(t, err)
			require.Contains(t, err.Error(), tc.want)
		})
	}

	e := newEmbedded(t, EmbeddedOptions{})
	err := e.LoadOpenMetrics(filepath.Join("testdata", "does-not-exist.om"))
	require.ErrorContains(t, err, "does-not-exist.om")
}

func TestLoadOpenMetricsAccepts(t *testing.T) {
	cases := []struct {
		name  string
		input string
	}{
		{"EOF without newline", "# TYPE x gauge\nx 1 1\n# EOF"},
		{"blank lines after EOF", "# TYPE x gauge\nx 1 1\n# EOF\n\n"},
		{"quoted UTF-8 name", "# TYPE \"my.metric\" gauge\n{\"my.metric\",a=\"b\"} 1 1\n# EOF\n"},
		{"fractional timestamp", "x 1 1.5\n# EOF\n"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEmbedded(t, EmbeddedOptions{})
			require.NoError(t, e.LoadOpenMetricsReader(strings.NewReader(tc.input), "in.om"))
		})
	}
}

// TestLoadOpenMetricsChunks checks that line numbers and family types carry
// across the chunks the loader splits large inputs into.
func TestLoadOpenMetricsChunks(t *testing.T) {
	defer func(size int) { omChunkSize = size }(omChunkSize)
	omChunkSize = 64 << 10

	var sb strings.Builder
	lines := 1
	sb.WriteString("# TYPE big counter\n")
	for i := 0; sb.Len() < 2*omChunkSize+1000; i++ {
		sb.WriteString(`big_total{instance="a-rather-long-instance-name-to-fill-the-chunks"} `)
		sb.WriteString(model.SampleValue(i).String() + " " + model.Time(i*1000).String() + "\n")
		lines++
	}
	good := sb.String()

	e := newEmbedded(t, EmbeddedOptions{})
	require.NoError(t, e.LoadOpenMetricsReader(strings.NewReader(good+"# EOF\n"), "big.om"))
	vec, err := e.Query(context.Background(), `big_total`, e.MaxTime())
	require.NoError(t, err)
	require.Len(t, vec, 1)
	require.InDelta(t, float64(lines-2), float64(vec[0].Value), 0)

	e = newEmbedded(t, EmbeddedOptions{})
	err = e.LoadOpenMetricsReader(strings.NewReader(good+"big_total oops 1\n# EOF\n"), "big.om")
	require.ErrorContains(t, err, "big.om:"+model.SampleValue(lines+1).String()+":")

	e = newEmbedded(t, EmbeddedOptions{})
	err = e.LoadOpenMetricsReader(strings.NewReader(good+"# EOF\n"+good), "big.om")
	require.ErrorContains(t, err, "after")
}

func FuzzLoadOpenMetrics(f *testing.F) {
	seed, err := os.ReadFile(filepath.Join("testdata", "basic.om"))
	require.NoError(f, err)
	f.Add(string(seed[:2000]) + "\n# EOF\n")
	f.Add("# TYPE x histogram\nx_bucket{le=\"1\"} 1 1\nx_count 1 1\n# EOF\n")
	f.Add("x{a=\"\\\"\"} NaN 1 # {trace=\"1\"} 1\n# EOF")
	f.Add("# HELP x \xff\n# EOF\n")

	f.Fuzz(func(t *testing.T, input string) {
		e := newEmbedded(t, EmbeddedOptions{})
		// Errors are expected; panics and hangs are not.
		_ = e.LoadOpenMetricsReader(strings.NewReader(input), "fuzz.om")
	})
}

func TestToSampleHistogram(t *testing.T) {
	h := &histogram.FloatHistogram{
		Count: 5, Sum: 7, ZeroThreshold: 0.001, ZeroCount: 1,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}},
		PositiveBuckets: []float64{2, 0},
		NegativeSpans:   []histogram.Span{{Offset: 0, Length: 1}},
		NegativeBuckets: []float64{2},
	}
	sh := toSampleHistogram(h)
	require.InDelta(t, 5, float64(sh.Count), 0)
	require.Len(t, sh.Buckets, 3, "empty buckets are left out")
	require.Equal(t, int32(1), sh.Buckets[0].Boundaries) // negative: [lower, upper)
	require.Equal(t, int32(3), sh.Buckets[1].Boundaries) // zero bucket: closed
	require.Equal(t, int32(0), sh.Buckets[2].Boundaries) // positive: (lower, upper]
}

// writeBenchmarkOpenMetrics writes families of series, one family after
// another and each over the whole time range, as the simulator does.
func writeBenchmarkOpenMetrics(tb testing.TB, path string, families, seriesPerFamily, steps int) int {
	tb.Helper()
	f, err := os.Create(path)
	require.NoError(tb, err)
	w := bufio.NewWriterSize(f, 1<<20)
	samples := 0
	for fam := range families {
		fmt.Fprintf(w, "# HELP bench_%d_total Benchmark counter.\n# TYPE bench_%d counter\n", fam, fam)
		for step := range steps {
			ts := 1700000000 + 15*step
			for s := range seriesPerFamily {
				fmt.Fprintf(w, "bench_%d_total{service=\"svc-%d\",instance=\"10.0.%d.%d:9100\"} %d %d\n",
					fam, s%50, s/250, s%250, step*(s+1), ts)
				samples++
			}
		}
	}
	fmt.Fprintln(w, "# EOF")
	require.NoError(tb, w.Flush())
	require.NoError(tb, f.Close())
	return samples
}

// BenchmarkLoadOpenMetrics loads one million samples: 10 families of 100
// series, 1000 steps of 15 s each.
func BenchmarkLoadOpenMetrics(b *testing.B) {
	path := filepath.Join(b.TempDir(), "bench.om")
	samples := writeBenchmarkOpenMetrics(b, path, 10, 100, 1000)
	info, err := os.Stat(path)
	require.NoError(b, err)
	b.SetBytes(info.Size())
	b.ResetTimer()
	for b.Loop() {
		e, err := NewEmbedded(EmbeddedOptions{})
		require.NoError(b, err)
		require.NoError(b, e.LoadOpenMetrics(path))
		b.StopTimer()
		vec, err := e.Query(context.Background(), `count(bench_9_total)`, e.MaxTime())
		require.NoError(b, err)
		require.InDelta(b, 100, float64(vec[0].Value), 0)
		require.NoError(b, e.Close())
		b.StartTimer()
	}
	b.ReportMetric(float64(samples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

func TestDropBefore(t *testing.T) {
	e := newEmbedded(t, EmbeddedOptions{})
	lset := labels.FromStrings("__name__", "demo_value", "pod", "a")
	gone := labels.FromStrings("__name__", "demo_value", "pod", "b")
	// Four hours of samples every 15 s, long enough that old chunks are
	// complete and can be freed; pod b stops after the first hour.
	for ts := int64(0); ts <= 4*3600*1000; ts += 15000 {
		require.NoError(t, e.Append(lset, ts, float64(ts)))
		if ts < 3600*1000 {
			require.NoError(t, e.Append(gone, ts, 1))
		}
	}
	cut := time.UnixMilli(3 * 3600 * 1000)
	require.NoError(t, e.DropBefore(cut))
	require.False(t, e.MinTime().Before(cut), "min time %s", e.MinTime())

	ctx := context.Background()
	v, err := e.Query(ctx, `demo_value`, time.UnixMilli(2*3600*1000))
	require.NoError(t, err)
	require.Empty(t, v, "samples before the cut are gone")
	v, err = e.Query(ctx, `demo_value`, time.UnixMilli(4*3600*1000))
	require.NoError(t, err)
	require.Len(t, v, 1)
	values, err := e.LabelValues(ctx, "pod", nil, time.Time{}, time.Time{})
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, values, "a series with no sample left is dropped")
}
