package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/config"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/topology"
)

// runCommand runs the CLI in-process and returns the exit code and outputs.
func runCommand(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), args, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

func TestVersionAndHelp(t *testing.T) {
	code, out, _ := runCommand(t, "version")
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "stratus, version")

	code, out, _ = runCommand(t, "--help")
	require.Equal(t, exitOK, code)
	for _, cmd := range []string{"serve", "simulate", "telemetry", "version"} {
		require.Contains(t, out, cmd)
	}
}

func TestBadInputExitsWithThree(t *testing.T) {
	badConfig := writeTemp(t, "stratus.yml", "engines:\n  telemetry:\n    intervall: 1m\n")
	badWeb := writeTemp(t, "web.yml", "tls_server_config:\n  cert_file: /nonexistent.pem\n")
	cases := []struct {
		name string
		args []string
		want []string
	}{
		{"unknown flag", []string{"serve", "--no-such-flag"}, []string{"no-such-flag"}},
		{"unknown command", []string{"frobnicate"}, []string{"frobnicate"}},
		{"missing config", []string{"--config.file=/nonexistent/stratus.yml", "serve"},
			[]string{"/nonexistent/stratus.yml"}},
		{"bad config names file and line", []string{"--config.file=" + badConfig, "serve"},
			[]string{badConfig + ": line 3", "intervall"}},
		{"bad web config", []string{"serve", "--web.config.file=" + badWeb, "--config.check"},
			[]string{badWeb}},
		{"bad prometheus url", []string{"--prometheus.url=ftp://x", "telemetry"},
			[]string{"--prometheus.url"}},
		{"two sources", []string{"--prometheus.url=http://127.0.0.1:1",
			"--source.openmetrics=testdata/small.om", "telemetry"}, []string{"exclude"}},
		{"malformed openmetrics names file and line",
			[]string{"--source.openmetrics=testdata/malformed.om", "telemetry"},
			[]string{"testdata/malformed.om:3"}},
		{"missing openmetrics", []string{"--source.openmetrics=testdata/absent.om", "telemetry"},
			[]string{"testdata/absent.om"}},
		{"bad --at", []string{"--source.openmetrics=testdata/small.om", "telemetry",
			"--at=yesterday"}, []string{"--at", "yesterday"}},
		{"bad max concurrency", []string{"--prometheus.max-concurrency=-2", "telemetry"},
			[]string{"--prometheus.max-concurrency"}},
		{"zero max concurrency", []string{"--prometheus.max-concurrency=0", "telemetry"},
			[]string{"--prometheus.max-concurrency"}},
		{"bad --output", []string{"telemetry", "--output=xml"}, []string{"xml"}},
		{"bad duration", []string{"simulate", "--output-dir=" + t.TempDir(), "--duration=1x"},
			[]string{"--duration"}},
		{"bad step", []string{"simulate", "--output-dir=" + t.TempDir(), "--step=often"},
			[]string{"--step"}},
		{"bad start", []string{"simulate", "--output-dir=" + t.TempDir(), "--start=dawn"},
			[]string{"--start"}},
		{"zero duration", []string{"simulate", "--output-dir=" + t.TempDir(), "--duration=0s"},
			[]string{"--duration"}},
		{"zero step", []string{"simulate", "--output-dir=" + t.TempDir(), "--step=0s"},
			[]string{"--step"}},
		{"untagged share above one", []string{"simulate", "--output-dir=" + t.TempDir(),
			"--untagged-share=2"}, []string{"--untagged-share"}},
		{"relative telemetry path", []string{"serve", "--web.telemetry-path=metrics",
			"--config.check"}, []string{"--web.telemetry-path"}},
		{"reserved telemetry path", []string{"serve", "--web.telemetry-path=/-/healthy",
			"--config.check"}, []string{"--web.telemetry-path"}},
		{"bad listen address", []string{"serve", "--web.listen-address=:99999",
			"--config.check"}, []string{"--web.listen-address"}},
		{"missing password file", []string{"--config.file=" + writeTemp(t, "pw.yml",
			"prometheus:\n  http_client:\n    basic_auth:\n      username: u\n"+
				"      password_file: /nonexistent/pw\n"), "serve", "--config.check"},
			[]string{"basic_auth.password_file", "/nonexistent/pw"}},
		{"missing topology", []string{"simulate", "--output-dir=" + t.TempDir(),
			"--topology=/nonexistent.edges"}, []string{"/nonexistent.edges"}},
		{"missing output dir", []string{"simulate"}, []string{"output-dir"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := runCommand(t, append([]string{"--storage.path=" + t.TempDir()},
				tc.args...)...)
			require.Equal(t, exitError, code, stderr)
			for _, w := range tc.want {
				require.Contains(t, stderr, w)
			}
		})
	}
}

func TestUnreachablePrometheusFailsOneShotCommand(t *testing.T) {
	addr := closedAddr(t)
	code, _, stderr := runCommand(t, "--prometheus.url=http://"+addr, "telemetry")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, addr, "the error names the URL")
	require.Contains(t, stderr, "refused", "and the reason")
}

func TestConfigCheck(t *testing.T) {
	good := writeTemp(t, "stratus.yml", "engines:\n  telemetry:\n    interval: 5m\n")
	code, out, stderr := runCommand(t, "--config.file="+good, "serve", "--config.check")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "valid")
}

func TestTelemetryReport(t *testing.T) {
	storage := "--storage.path=" + t.TempDir()
	code, out, stderr := runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"telemetry", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var report telemetryReportJSON
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Equal(t, "1970-01-01T00:16:55Z", report.At, "defaults to the end of the data")
	present := map[string]int{}
	for _, f := range report.Families {
		if f.Present {
			present[f.Family] = f.Series
		}
	}
	require.Equal(t, map[string]int{"kube_state_metrics": 2, "istio": 2, "linkerd": 1,
		"span_metrics": 1}, present)

	code, out, stderr = runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"telemetry", "--at=1015")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "telemetry at 1970-01-01T00:16:55Z")
	require.Regexp(t, `istio\s+yes\s+2\s+Istio`, out)
	require.Regexp(t, `hubble\s+no\s+0`, out)

	// Long after the data, nothing is within the lookback: inconclusive.
	code, _, stderr = runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"telemetry", "--at=2020-01-01T00:00:00Z")
	require.Equal(t, exitInconclusive, code, stderr)

	code, _, stderr = runCommand(t, storage, "--source.openmetrics=testdata/nothing-known.om",
		"telemetry")
	require.Equal(t, exitInconclusive, code, stderr)
}

func TestTelemetryReportOnTheDemo(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml", "demo:\n  backfill: 10m\n")
	code, out, stderr := runCommand(t, "--storage.path="+t.TempDir(), "--config.file="+cfg,
		"telemetry")
	require.Equal(t, exitOK, code, stderr)
	require.Regexp(t, `istio\s+yes`, out)
}

func TestSimulateIsDeterministic(t *testing.T) {
	write := func() (string, string) {
		dir := t.TempDir()
		code, _, stderr := runCommand(t, "simulate", "--output-dir="+dir, "--seed=3",
			"--start=2026-01-01T00:00:00Z", "--duration=10m", "--scenario=steady")
		require.Equal(t, exitOK, code, stderr)
		om, err := os.ReadFile(filepath.Join(dir, "metrics.om"))
		require.NoError(t, err)
		truth, err := os.ReadFile(filepath.Join(dir, "truth.json"))
		require.NoError(t, err)
		return string(om), string(truth)
	}
	om1, truth1 := write()
	om2, truth2 := write()
	require.Equal(t, om1, om2)
	require.Equal(t, truth1, truth2)
	require.True(t, strings.HasSuffix(om1, "# EOF\n"))
	require.Contains(t, truth1, `"scenario": "steady"`)
}

func TestSimulateDefaultStart(t *testing.T) {
	c := &simulateCommand{scenario: "startup", step: "15s"}
	now := time.Date(2026, 12, 4, 16, 42, 7, 0, time.UTC)
	opts, err := c.options(now)
	require.NoError(t, err)
	require.Equal(t, time.Date(2026, 12, 4, 11, 0, 0, 0, time.UTC), opts.Start,
		"six hours before the next full hour")
}

func TestParseTime(t *testing.T) {
	for in, want := range map[string]time.Time{
		"2026-12-04T10:00:00Z":      time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		"2026-12-04T11:00:00+01:00": time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC),
		"1700000000":                time.Unix(1700000000, 0).UTC(),
		"1700000000.25":             time.Unix(1700000000, 250_000_000).UTC(),
	} {
		got, err := parseTime(in)
		require.NoError(t, err, in)
		require.True(t, want.Equal(got), "%s: got %s", in, got)
	}
	for _, bad := range []string{"", "now", "NaN", "+Inf", "2026-13-01T00:00:00Z", "1e30",
		"-1e19", "253402300800"} {
		_, err := parseTime(bad)
		require.Error(t, err, bad)
	}
}

// closedAddr returns a loopback address nothing listens on.
func closedAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// serving is a `stratus serve` running in-process on a free port.
type serving struct {
	addr   string
	cancel context.CancelFunc
	done   chan int
	stderr *lockedBuffer
}

type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func startServe(t *testing.T, args ...string) *serving {
	t.Helper()
	s := &serving{addr: closedAddr(t), done: make(chan int, 1), stderr: &lockedBuffer{}}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	all := append([]string{"serve", "--web.listen-address=" + s.addr}, args...)
	if !slices.ContainsFunc(args, func(a string) bool {
		return strings.HasPrefix(a, "--storage.path=")
	}) {
		all = append(all, "--storage.path="+t.TempDir())
	}
	go func() { s.done <- run(ctx, all, io.Discard, s.stderr) }()
	t.Cleanup(func() {
		if code := s.stop(); code != exitOK {
			t.Errorf("serve exited with %d:\n%s", code, s.stderr.String())
		}
	})
	require.Eventually(t, func() bool {
		status, _ := s.get("/-/ready")
		return status == http.StatusOK
	}, 30*time.Second, 20*time.Millisecond, "not ready; log:\n%s", s.stderr)
	return s
}

func (s *serving) get(path string) (int, string) {
	resp, err := http.Get("http://" + s.addr + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

var stopOnce sync.Map

// stop cancels serve, as SIGTERM does, and returns its exit code.
func (s *serving) stop() int {
	if v, ok := stopOnce.Load(s); ok {
		return v.(int)
	}
	s.cancel()
	code := <-s.done
	stopOnce.Store(s, code)
	return code
}

func TestServeOpenMetrics(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml", "engines:\n  telemetry:\n    interval: 50ms\n")
	s := startServe(t, "--config.file="+cfg, "--source.openmetrics=testdata/small.om")

	status, body := s.get("/metrics")
	require.Equal(t, http.StatusOK, status)
	for _, line := range []string{
		`stratus_source_up{source="openmetrics"} 1`,
		`stratus_telemetry_present{family="istio"} 1`,
		`stratus_telemetry_series{family="kube_state_metrics"} 2`,
		`stratus_telemetry_present{family="hubble"} 0`,
		`stratus_analysis_runs_total{engine="telemetry",result="failure"} 0`,
	} {
		require.Contains(t, body, line)
	}
	require.Regexp(t, `stratus_build_info\{.*\} 1`, body)
	require.Regexp(t, `stratus_analysis_duration_seconds\{engine="telemetry"\} `, body)
	require.Regexp(t, `stratus_queries_total\{engine="telemetry"\} [1-9]`, body)

	status, body = s.get("/api/v1/telemetry")
	require.Equal(t, http.StatusOK, status)
	var report telemetryReportJSON
	require.NoError(t, json.Unmarshal([]byte(body), &report))
	require.Equal(t, "1970-01-01T00:16:55Z", report.At)

	status, body = s.get("/api/v1/graph")
	require.Equal(t, http.StatusOK, status)
	var graph topology.GraphReport
	require.NoError(t, json.Unmarshal([]byte(body), &graph))
	require.Len(t, graph.Edges, 1)
	_, body = s.get("/metrics")
	// rate() over the 5m window of two samples 15 s apart, the second at --at: 10
	// calls, extrapolated by half an interval before the first (15), over 300 s.
	require.Contains(t, body, `stratus_dependency_requests_per_second{client="front",`+
		`client_cluster="",client_namespace="",protocol="http",server="cart",server_cluster="",`+
		`server_namespace=""} 0.05`+"\n")

	status, body = s.get("/")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "Stratus")
	require.Contains(t, body, "/api/v1/graph")
	status, _ = s.get("/-/healthy")
	require.Equal(t, http.StatusOK, status)

	require.Equal(t, exitOK, s.stop())
	require.Contains(t, s.stderr.String(), "shutting down")
}

// TestScrapeNeverQueries: with one analysis run an hour, any number of
// scrapes leaves the query counter where the first run put it.
func TestScrapeNeverQueries(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml", "engines:\n  telemetry:\n    interval: 1h\n")
	s := startServe(t, "--config.file="+cfg, "--source.openmetrics=testdata/small.om")
	for range 5 {
		status, body := s.get("/metrics")
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, body, `stratus_queries_total{engine="telemetry"} 1`+"\n")
	}
}

func TestServeUnreachablePrometheus(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml",
		"engines:\n  telemetry:\n    interval: 50ms\nprometheus:\n  retries: 0\n")
	s := startServe(t, "--config.file="+cfg, "--prometheus.url=http://"+closedAddr(t))

	status, body := s.get("/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `stratus_source_up{source="prometheus"} 0`)
	require.Contains(t, body, `stratus_source_last_success_timestamp_seconds{source="prometheus"} 0`)
	require.NotContains(t, body, "stratus_telemetry_present")

	status, _ = s.get("/api/v1/telemetry")
	require.Equal(t, http.StatusServiceUnavailable, status)
	status, _ = s.get("/api/v1/graph")
	require.Equal(t, http.StatusServiceUnavailable, status)
	// The outage is logged once however many runs fail.
	require.Eventually(t, func() bool {
		_, body := s.get("/metrics")
		return regexp.MustCompile(
			`stratus_analysis_runs_total\{engine="telemetry",result="failure"\} ([3-9]|\d\d)`).
			MatchString(body)
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, 1, strings.Count(s.stderr.String(), "data source unavailable"))
	for _, engine := range []string{"telemetry", "dependencies"} {
		failed := regexp.MustCompile(`msg="analysis failed[^"]*" engine=` + engine + `\b`)
		require.Len(t, failed.FindAllString(s.stderr.String(), -1), 1, engine)
	}
}

func TestServeDemo(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml",
		"engines:\n  telemetry:\n    interval: 50ms\ndemo:\n  backfill: 20m\n")
	s := startServe(t, "--config.file="+cfg)

	status, body := s.get("/metrics")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, `stratus_source_up{source="demo"} 1`)
	require.Contains(t, body, `stratus_telemetry_present{family="istio"} 1`)
	require.Contains(t, body, `stratus_telemetry_present{family="service_graph"} 1`)
}

func TestServeTelemetryPathAndCustomAddress(t *testing.T) {
	s := startServe(t, "--source.openmetrics=testdata/small.om",
		"--web.telemetry-path=/custom")
	status, body := s.get("/custom")
	require.Equal(t, http.StatusOK, status)
	require.Contains(t, body, "stratus_build_info")
	status, _ = s.get("/metrics")
	require.Equal(t, http.StatusNotFound, status)
}

func TestFlagsOverrideTheConfigFile(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml",
		"prometheus:\n  url: http://from-file:9090\n  max_concurrency: 2\n")
	g := &globals{configFile: cfg, promURL: "http://from-flag:9090", maxConc: 7,
		maxConcSet: true}
	require.NoError(t, g.loadConfig())
	require.Equal(t, "http://from-flag:9090", g.cfg.Prometheus.URL)
	require.Equal(t, 7, g.cfg.Prometheus.MaxConcurrency)

	g = &globals{configFile: cfg}
	require.NoError(t, g.loadConfig())
	require.Equal(t, "http://from-file:9090", g.cfg.Prometheus.URL)
	require.Equal(t, 2, g.cfg.Prometheus.MaxConcurrency)
}

// TestDemoKeepsASlidingWindow advances the demo world by hand far past its
// window and checks that old samples are dropped and new ones arrive.
func TestDemoKeepsASlidingWindow(t *testing.T) {
	store, err := query.NewEmbedded(query.EmbeddedOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = store.Close() })

	cfg := config.Default().Demo
	cfg.Backfill = model.Duration(30 * time.Minute)
	d, err := newDemo(cfg, store, nil, promslog.NewNopLogger())
	require.NoError(t, err)
	require.Equal(t, 2*time.Hour, d.window, "at least two hours")

	now := time.Now()
	require.NoError(t, d.backfill(now))
	start := store.MinTime()
	require.WithinDuration(t, now.Add(-30*time.Minute), start, demoStep)

	// Three simulated hours later, pruned on the way.
	later := now.Add(3 * time.Hour)
	require.NoError(t, d.advance(context.Background(), later))
	require.WithinDuration(t, later, store.MaxTime(), demoStep)
	require.True(t, store.MinTime().After(start), "old samples were dropped")
	require.False(t, store.MinTime().Before(later.Add(-d.window).Truncate(time.Millisecond)),
		"min %s, window starts %s", store.MinTime(), later.Add(-d.window))
}

// TestStorageIsOwnedByOneServe: a second serve on the same --storage.path
// refuses to start, and a one-shot command beside it leaves it alone.
func TestStorageIsOwnedByOneServe(t *testing.T) {
	storage := t.TempDir()
	s := startServe(t, "--storage.path="+storage, "--source.openmetrics=testdata/small.om")

	code, _, stderr := runCommand(t, "--storage.path="+storage, "serve",
		"--web.listen-address="+closedAddr(t), "--source.openmetrics=testdata/small.om")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "in use by another stratus serve")

	code, _, stderr = runCommand(t, "--storage.path="+storage,
		"--source.openmetrics=testdata/small.om", "telemetry")
	require.Equal(t, exitOK, code, stderr)
	status, _ := s.get("/metrics")
	require.Equal(t, http.StatusOK, status)
	_, err := os.Stat(filepath.Join(storage, "embedded-tsdb", "lock"))
	require.NoError(t, err, "serve's store is untouched")
}

// TestTelemetryHonoursTheEngineTimeout: against a Prometheus that never
// answers, the one-shot command gives up at engines.telemetry.timeout.
func TestTelemetryHonoursTheEngineTimeout(t *testing.T) {
	hung := httptest.NewServer(http.HandlerFunc(func(_ http.ResponseWriter, r *http.Request) {
		// Reading the body lets the server notice when the client hangs up.
		_, _ = io.ReadAll(r.Body)
		<-r.Context().Done()
	}))
	t.Cleanup(hung.Close)
	cfg := writeTemp(t, "stratus.yml", "engines:\n  telemetry:\n    timeout: 200ms\n")
	began := time.Now()
	code, _, stderr := runCommand(t, "--config.file="+cfg, "--prometheus.url="+hung.URL,
		"telemetry")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, hung.URL)
	require.Less(t, time.Since(began), 5*time.Second)
}

func TestDepsGraph(t *testing.T) {
	storage := "--storage.path=" + t.TempDir()
	code, out, stderr := runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"deps", "graph", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var report topology.GraphReport
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Equal(t, time.Unix(1015, 0).UTC(), report.At, "defaults to the end of the data")
	require.Len(t, report.Edges, 1)
	edge := report.Edges[0]
	require.Equal(t, "//front", edge.Client)
	require.Equal(t, "//cart", edge.Server)
	require.Equal(t, []string{"istio", "linkerd"}, edge.Sources)
	require.Equal(t, []string{"//front"}, report.EntryPoints)

	code, out, stderr = runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"deps", "graph", "--output=mermaid")
	require.Equal(t, exitOK, code, stderr)
	require.True(t, strings.HasPrefix(out, "flowchart LR") || strings.Contains(out, "\nflowchart LR"), out)

	// Long after the data, with a short retention, there is no edge: inconclusive.
	code, _, stderr = runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"deps", "graph", "--at=100000", "--retention=1h")
	require.Equal(t, exitInconclusive, code)
	require.Contains(t, stderr, "no dependency edge")

	for _, bad := range [][]string{{"--retention=soon"}, {"--retention=0s"}, {"--output=svg"}} {
		code, _, stderr = runCommand(t, append([]string{storage,
			"--source.openmetrics=testdata/small.om", "deps", "graph"}, bad...)...)
		require.Equal(t, exitError, code, bad)
		require.NotEmpty(t, stderr)
	}
}

func TestDepsGraphOnTheDemo(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml", "demo:\n  backfill: 10m\n")
	code, out, stderr := runCommand(t, "--storage.path="+t.TempDir(), "--config.file="+cfg,
		"deps", "graph")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "checkoutservice")
	require.Contains(t, out, "CRITICAL PATHS")
}

// TestDepsGraphFailedSource: a source whose queries fail makes the graph partial,
// which the command says and exits 3 for.
func TestDepsGraphFailedSource(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.Contains(r.FormValue("query"), "hubble_") {
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = io.WriteString(w, `{"status":"error","errorType":"execution",`+
				`"error":"query processing would load too many samples into memory"}`)
			return
		}
		_, _ = io.WriteString(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
	}))
	t.Cleanup(srv.Close)
	cfg := writeTemp(t, "stratus.yml", "prometheus:\n  retries: 0\n")
	code, _, stderr := runCommand(t, "--config.file="+cfg, "--prometheus.url="+srv.URL,
		"deps", "graph")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "source hubble failed")
	require.Contains(t, stderr, "too many samples")
	require.NotContains(t, stderr, "source istio failed")
}

func TestSimulateBilling(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCommand(t, "simulate", "--output-dir="+dir, "--billing",
		"--start=2026-01-05T00:00:00Z", "--duration=2h", "--step=1m", "--scenario=steady")
	require.Equal(t, exitOK, code, stderr)
	csv, err := os.ReadFile(filepath.Join(dir, "billing_focus.csv"))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(string(csv), "AvailabilityZone,"), string(csv[:80]))
	truth, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	require.NoError(t, err)
	require.Contains(t, string(truth), `"billing":`)

	dir = t.TempDir()
	code, _, stderr = runCommand(t, "simulate", "--output-dir="+dir,
		"--start=2026-01-05T00:00:00Z", "--duration=10m", "--scenario=steady")
	require.Equal(t, exitOK, code, stderr)
	_, err = os.Stat(filepath.Join(dir, "billing_focus.csv"))
	require.ErrorIs(t, err, os.ErrNotExist, "no export unless asked for")
}

func TestSimulateBuiltinTopologyByName(t *testing.T) {
	dir := t.TempDir()
	code, _, stderr := runCommand(t, "simulate", "--output-dir="+dir, "--topology=sock-shop",
		"--start=2026-01-05T00:00:00Z", "--duration=10m", "--step=1m", "--scenario=steady")
	require.Equal(t, exitOK, code, stderr)
	truth, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	require.NoError(t, err)
	require.Contains(t, string(truth), `"topology": "sock-shop"`)

	code, _, stderr = runCommand(t, "simulate", "--output-dir="+t.TempDir(),
		"--topology=no-such-topology", "--duration=10m")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "no-such-topology")
}
