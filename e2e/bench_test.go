//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/telemetry"
)

// BenchmarkWorld measures the two ways Stratus can read a simulated world:
// the embedded engine (OpenMetrics loaded into its own TSDB, PromQL in
// process) and a real Prometheus over blocks that promtool backfilled from
// the same file. For each world size it reports load time, peak memory and
// the time of the same queries on both, and their ratios. The two engines
// are measured in the same run and their queries interleaved, because only
// ratios survive a noisy machine.
//
// These are whole-system measurements, one per world: run with
// -benchtime=1x. The timing the framework reports per iteration is
// suppressed; every figure is a custom metric (see BENCHMARKS.md):
//
//	STRATUS_PROMETHEUS=... STRATUS_PROMTOOL=... go test -tags e2e -run '^$' \
//	    -bench BenchmarkWorld -benchtime=1x -timeout 60m ./e2e/
func BenchmarkWorld(b *testing.B) {
	env := benchEnv{
		stratus:    benchStratusBinary(b),
		promtool:   binary(b, "STRATUS_PROMTOOL"),
		prometheus: binary(b, "STRATUS_PROMETHEUS"),
		// An hour that ended at least an hour ago and at most two: recent
		// enough for Prometheus's retention, fixed for the whole run.
		start: time.Now().Add(-time.Hour).Truncate(time.Hour).UTC(),
	}
	b.Logf("world start %s, duration 1h, step 15s, scenario startup, seed 1",
		env.start.Format(time.RFC3339))
	for _, n := range []int{10, 100, 1000} {
		b.Run(fmt.Sprintf("resources=%d", n), func(b *testing.B) {
			benchOneWorld(b, env, n)
		})
	}
}

// benchEnv is what every world size shares.
type benchEnv struct {
	stratus, promtool, prometheus string
	start                         time.Time
}

// benchQueryRuns is how many times each query runs after its first (cold)
// run; the median of these is its warm time.
const benchQueryRuns = 5

// benchRangeExpressions are range queries over the whole world at a one
// minute step, the shape of the before/after windows of the scaling and
// deployment engines. They touch every chunk of the series they select,
// where the instant queries touch the last five minutes only.
var benchRangeExpressions = []string{
	`sum by (destination_workload) (rate(istio_requests_total{reporter="destination"}[5m]))`,
	`histogram_quantile(0.95, sum by (destination_workload, le) ` +
		`(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m])))`,
	`sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))`,
}

func benchOneWorld(b *testing.B, env benchEnv, n int) {
	if b.N > 1 {
		b.Logf("b.N=%d: this benchmark measures one whole world per run; use -benchtime=1x", b.N)
	}
	dir := b.TempDir()
	worldDir := filepath.Join(dir, "world")
	om := filepath.Join(worldDir, "metrics.om")
	end := env.start.Add(time.Hour)
	at := end.Add(-time.Minute)
	ctx := context.Background()

	// The world.
	sim := benchRun(b, "stratus simulate", env.stratus, "simulate", "--scenario=startup",
		"--seed=1", "--resources="+strconv.Itoa(n), "--duration=1h",
		"--start="+env.start.Format(time.RFC3339), "--output-dir="+worldDir)
	fi, err := os.Stat(om)
	if err != nil {
		b.Fatalf("stratus simulate wrote no metrics.om: %v", err)
	}
	resources := benchTruthResources(b, filepath.Join(worldDir, "truth.json"))

	// Embedded engine, as a user runs it: a one-shot command in its own
	// process, so that its peak RSS is its own.
	cli := benchRun(b, "stratus telemetry", env.stratus, "telemetry",
		"--source.openmetrics="+om, "--storage.path="+filepath.Join(dir, "stratus-storage"),
		"--output=json", "--log.format=json")
	var report struct {
		Families []struct {
			Present bool `json:"present"`
		} `json:"families"`
	}
	if err := json.Unmarshal(cli.stdout, &report); err != nil || len(report.Families) == 0 {
		b.Fatalf("stratus telemetry printed no report (%v):\n%s", err, cli.stdout)
	}
	samples, series := benchLoadedCounts(b, cli.stderr)

	// Embedded engine in process: the load alone, and the heap it keeps.
	heapBefore := benchHeap()
	loadStart := time.Now()
	embedded, err := query.NewEmbedded(query.EmbeddedOptions{Dir: filepath.Join(dir, "embedded")})
	if err != nil {
		b.Fatalf("opening the embedded engine: %v", err)
	}
	b.Cleanup(func() { _ = embedded.Close() })
	if err := embedded.LoadOpenMetrics(om); err != nil {
		b.Fatalf("loading %s into the embedded engine: %v", om, err)
	}
	load := time.Since(loadStart)
	heap := benchHeap() - heapBefore
	if got := embedded.MaxTime(); got.Before(at) {
		b.Fatalf("embedded engine holds data until %s, want at least %s", got, at)
	}

	// Real Prometheus: backfill with promtool, then start over the blocks.
	promData := filepath.Join(dir, "prometheus-data")
	backfill := benchRun(b, "promtool tsdb create-blocks-from openmetrics", env.promtool,
		"tsdb", "create-blocks-from", "openmetrics", om, promData)
	blocks := benchDirSize(b, promData)
	addr := freeAddr(b)
	cfg := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfg, []byte("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"),
		0o600); err != nil {
		b.Fatal(err)
	}
	promStart := time.Now()
	prom := start(b, "prometheus", env.prometheus,
		"--config.file="+cfg,
		"--storage.tsdb.path="+promData,
		"--web.listen-address="+addr,
		"--storage.tsdb.retention.time=30d",
		"--log.level=warn",
	)
	waitHTTP(b, prom, "http://"+addr+"/-/ready", 5*time.Minute)
	promReady := time.Since(promStart)
	promClient, err := query.NewHTTP(query.HTTPOptions{URL: "http://" + addr, Retries: -1,
		QueryTimeout: 5 * time.Minute})
	if err != nil {
		b.Fatalf("Prometheus client: %v", err)
	}

	// The same queries on both, interleaved so that both see the same noise.
	exprs := append([]string{telemetry.Query(telemetry.Known)}, vmExpressions...)
	instant := func(q query.Querier, expr string) (int, error) {
		v, err := q.Query(ctx, expr, at)
		return len(v), err
	}
	rng := query.Range{Start: env.start, End: end, Step: time.Minute}
	ranged := func(q query.Querier, expr string) (int, error) {
		m, err := q.QueryRange(ctx, expr, rng)
		return len(m), err
	}
	embInstant, promInstant := benchQueries(b, embedded, promClient, exprs, instant)
	embRange, promRange := benchQueries(b, embedded, promClient, benchRangeExpressions, ranged)

	// Both engines must have done the same work.
	if diffs := query.Compare(ctx, embedded, promClient, exprs, at, 1e-9); len(diffs) > 0 {
		b.Fatalf("embedded engine and Prometheus disagree (%d differences), first: %v",
			len(diffs), diffs[0])
	}

	// VmHWM, not the rusage of the ended process: see benchRun.
	promMem, err := benchReadStatus(prom.cmd.Process.Pid)
	if err != nil {
		b.Fatalf("reading Prometheus's peak RSS: %v", err)
	}
	promRSS := promMem.hwm
	prom.stop()

	b.Logf("peak RSS MB (file-backed part at the peak sample): stratus telemetry %.1f (%.1f), "+
		"promtool %.1f (%.1f), prometheus %.1f (%.1f at the end)",
		float64(cli.maxRSS)/1e6, float64(cli.fileRSS)/1e6,
		float64(backfill.maxRSS)/1e6, float64(backfill.fileRSS)/1e6,
		float64(promRSS)/1e6, float64(promMem.file)/1e6)
	// Per-query figures, in the order of the expression lists (the
	// discovery query, then vmExpressions; benchRangeExpressions). Benchmark
	// logs are cut after ten lines, so they come as lists.
	b.Logf("instant warm ms: embedded %v prometheus %v", benchMs(embInstant.warm), benchMs(promInstant.warm))
	b.Logf("instant cold ms: embedded %v prometheus %v", benchMs(embInstant.cold), benchMs(promInstant.cold))
	b.Logf("instant series: %v", embInstant.series)
	b.Logf("range warm ms: embedded %v prometheus %v, series %v",
		benchMs(embRange.warm), benchMs(promRange.warm), embRange.series)

	b.ReportMetric(0, "ns/op") // one whole-system run; the figures below say what it took
	b.ReportMetric(float64(resources), "resources")
	b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
	b.ReportMetric(float64(samples), "samples")
	b.ReportMetric(float64(series), "series")
	b.ReportMetric(sim.wall.Seconds(), "sim-s")

	b.ReportMetric(cli.wall.Seconds(), "emb-cli-s")
	b.ReportMetric(float64(cli.maxRSS)/1e6, "emb-rss-MB")
	b.ReportMetric(load.Seconds(), "emb-load-s")
	b.ReportMetric(float64(heap)/1e6, "emb-heap-MB")
	b.ReportMetric(embInstant.coldTotal(), "emb-cold-query-ms")
	b.ReportMetric(embInstant.warmTotal(), "emb-query-ms")
	b.ReportMetric(embRange.warmTotal(), "emb-range-ms")

	b.ReportMetric(backfill.wall.Seconds(), "backfill-s")
	b.ReportMetric(float64(backfill.maxRSS)/1e6, "promtool-rss-MB")
	b.ReportMetric(float64(blocks)/1e6, "blocks-MB")
	b.ReportMetric(promReady.Seconds(), "prom-start-s")
	b.ReportMetric(float64(promRSS)/1e6, "prom-rss-MB")
	b.ReportMetric(promInstant.coldTotal(), "prom-cold-query-ms")
	b.ReportMetric(promInstant.warmTotal(), "prom-query-ms")
	b.ReportMetric(promRange.warmTotal(), "prom-range-ms")

	b.ReportMetric(embInstant.warmTotal()/promInstant.warmTotal(), "query-ratio")
	b.ReportMetric(embRange.warmTotal()/promRange.warmTotal(), "range-ratio")
	b.ReportMetric(load.Seconds()/(backfill.wall+promReady).Seconds(), "load-ratio")
	b.ReportMetric(float64(cli.maxRSS)/float64(series), "emb-rss-B/series")
	b.ReportMetric(float64(promRSS)/float64(series), "prom-rss-B/series")
}

// benchTimes are the times of a list of queries on one engine, in
// milliseconds, and the number of series each returned.
type benchTimes struct {
	cold, warm []float64
	series     []int
}

func (t benchTimes) coldTotal() float64 { return benchSum(t.cold) }
func (t benchTimes) warmTotal() float64 { return benchSum(t.warm) }

func benchSum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// benchQueries runs each expression once cold and benchQueryRuns times warm
// on a and b in turn, and fails if either engine errs or if they return a
// different number of series.
func benchQueries(
	tb testing.TB,
	a, b query.Querier,
	exprs []string,
	run func(query.Querier, string) (int, error),
) (benchTimes, benchTimes) {
	tb.Helper()
	engines := []struct {
		name string
		q    query.Querier
	}{{"embedded", a}, {"prometheus", b}}
	runs := make([][][]float64, len(engines)) // engine, expression, run
	series := make([][]int, len(engines))
	for e := range engines {
		runs[e] = make([][]float64, len(exprs))
		series[e] = make([]int, len(exprs))
	}
	for r := 0; r <= benchQueryRuns; r++ {
		for i, expr := range exprs {
			for e, eng := range engines {
				start := time.Now()
				n, err := run(eng.q, expr)
				took := time.Since(start)
				if err != nil {
					tb.Fatalf("%s: query %d failed: %v", eng.name, i, err)
				}
				runs[e][i] = append(runs[e][i], float64(took.Microseconds())/1000)
				series[e][i] = n
			}
			if series[0][i] != series[1][i] {
				tb.Fatalf("query %d: embedded returned %d series, Prometheus %d: %s",
					i, series[0][i], series[1][i], expr)
			}
		}
	}
	out := make([]benchTimes, len(engines))
	for e := range engines {
		for i := range exprs {
			out[e].cold = append(out[e].cold, runs[e][i][0])
			out[e].warm = append(out[e].warm, benchMedian(runs[e][i][1:]))
		}
		out[e].series = series[e]
	}
	return out[0], out[1]
}

func benchMedian(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// benchMs formats milliseconds for a log line.
func benchMs(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = strconv.FormatFloat(x, 'f', 2, 64)
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// benchDirSize returns the bytes of the regular files under dir.
func benchDirSize(tb testing.TB, dir string) int64 {
	tb.Helper()
	var size int64
	err := filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		size += fi.Size()
		return nil
	})
	if err != nil {
		tb.Fatalf("measuring %s: %v", dir, err)
	}
	return size
}

// benchHeap returns the live heap after a full collection.
func benchHeap() int64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapAlloc)
}

// benchStratusBinary builds Stratus without the coverage instrumentation of
// stratusBin, whose counters would be part of what is timed.
func benchStratusBinary(tb testing.TB) string {
	tb.Helper()
	bin := filepath.Join(tb.TempDir(), "stratus")
	build := exec.Command("go", "build",
		"-ldflags=-X github.com/prometheus/common/version.Version="+testVersion,
		"-o", bin, "github.com/stratus-monitoring/stratus/cmd/stratus")
	if out, err := build.CombinedOutput(); err != nil {
		tb.Fatalf("building stratus for the benchmark: %v\n%s", err, out)
	}
	return bin
}

// benchResult is what a finished command left behind.
type benchResult struct {
	wall           time.Duration
	maxRSS         int64 // peak resident set, bytes
	fileRSS        int64 // its file-backed part (mapped files) at the sample with the highest RSS
	stdout, stderr []byte
}

// benchRun runs a command to completion, timing it, and fails with its
// output if it does not exit 0 within 15 minutes.
//
// Its peak RSS is the highest VmHWM read from /proc while it runs, every
// 5 ms. The rusage of the ended process (ProcessState.SysUsage's Maxrss)
// would be wrong here: Go starts processes with vfork, so the child runs in
// the benchmark's own address space until it calls exec, and Linux keeps the
// larger of that address space's peak and the child's own as the child's
// Maxrss. With a world loaded in the benchmark process, every child would
// seem to use as much memory as the benchmark itself.
func benchRun(tb testing.TB, what, bin string, args ...string) benchResult {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = os.Environ()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		tb.Fatalf("starting %s: %v", what, err)
	}
	done := make(chan struct{})
	peak := make(chan benchStatus, 1)
	go func() { peak <- benchWatch(cmd.Process.Pid, done) }()
	err := cmd.Wait()
	wall := time.Since(start)
	close(done)
	mem := <-peak
	if err != nil {
		tb.Fatalf("%s failed after %s: %v\nstderr:\n%s\nstdout (start):\n%.2000s",
			what, wall.Round(time.Millisecond), err, stderr.Bytes(), stdout.Bytes())
	}
	if mem.hwm == 0 {
		tb.Fatalf("%s: could not read its memory from /proc", what)
	}
	return benchResult{wall: wall, maxRSS: mem.hwm, fileRSS: mem.file,
		stdout: stdout.Bytes(), stderr: stderr.Bytes()}
}

// benchWatch samples a process's memory every 5 ms until done is closed and
// returns the highest peak seen, with the file-backed part of the sample
// whose RSS was highest. Reads fail once the process has exited; those are
// ignored.
func benchWatch(pid int, done <-chan struct{}) benchStatus {
	var best benchStatus
	var bestRSS int64
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for {
		if st, err := benchReadStatus(pid); err == nil {
			best.hwm = max(best.hwm, st.hwm)
			if st.rss >= bestRSS {
				bestRSS, best.file = st.rss, st.file
			}
		}
		select {
		case <-done:
			return best
		case <-tick.C:
		}
	}
}

// benchStatus is the memory of a process, in bytes, from /proc/<pid>/status:
// its peak resident set (VmHWM), its resident set now (VmRSS) and the part
// of that backed by files (RssFile: mapped binaries, TSDB chunks and index).
type benchStatus struct {
	hwm, rss, file int64
}

// benchReadStatus reads the memory lines of /proc/<pid>/status.
func benchReadStatus(pid int) (benchStatus, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return benchStatus{}, err
	}
	defer f.Close()
	var st benchStatus
	fields := map[string]*int64{"VmHWM:": &st.hwm, "VmRSS:": &st.rss, "RssFile:": &st.file}
	found := 0
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		parts := strings.Fields(sc.Text())
		if len(parts) != 3 || parts[2] != "kB" {
			continue
		}
		dst, ok := fields[parts[0]]
		if !ok {
			continue
		}
		kib, err := strconv.ParseInt(parts[1], 10, 64)
		if err != nil {
			return benchStatus{}, fmt.Errorf("/proc/%d/status: %q: %w", pid, sc.Text(), err)
		}
		*dst = kib * 1024
		found++
	}
	if err := sc.Err(); err != nil {
		return benchStatus{}, err
	}
	if found != len(fields) {
		return benchStatus{}, fmt.Errorf("/proc/%d/status has no memory lines (exited?)", pid)
	}
	return st, nil
}

// benchLoadedCounts finds the samples and series of the loaded file in the
// JSON log of a stratus command.
func benchLoadedCounts(tb testing.TB, stderr []byte) (samples, series int64) {
	tb.Helper()
	for _, line := range bytes.Split(stderr, []byte("\n")) {
		var rec struct {
			Msg     string `json:"msg"`
			Samples int64  `json:"samples"`
			Series  int64  `json:"series"`
		}
		if json.Unmarshal(line, &rec) == nil && rec.Msg == "loaded OpenMetrics" {
			samples += rec.Samples
			series += rec.Series
		}
	}
	if series == 0 {
		tb.Fatalf("no \"loaded OpenMetrics\" log line with series in:\n%s", stderr)
	}
	return samples, series
}

// benchTruthResources counts the world's resources from its truth.json:
// nodes, VMs and stores, plus every pod that existed.
func benchTruthResources(tb testing.TB, path string) int {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatalf("reading the ground truth: %v", err)
	}
	var truth struct {
		Resources []json.RawMessage `json:"resources"`
		Pods      []json.RawMessage `json:"pods"`
	}
	if err := json.Unmarshal(data, &truth); err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return len(truth.Resources) + len(truth.Pods)
}
