//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/telemetry"
)

// world is a simulated world written to disk and backfilled into a
// Prometheus data directory.
type world struct {
	dir     string // metrics.om and truth.json
	dataDir string // a private copy of the Prometheus TSDB with the world's blocks
	start   time.Time
	end     time.Time
}

// worldCache makes a world once per test binary.
type worldCache struct {
	once  sync.Once
	err   error
	world world
}

var (
	// presentWorld is a 90-minute startup world, an hour of it past, so that
	// tests that query "now" find its samples however long the run takes.
	presentWorld worldCache
	// fixedWorld is an hour at a fixed time in the past: the same bytes on
	// every run, for comparisons that must not depend on the time of day
	// (the load, and so the autoscalers' churn, follows the clock).
	fixedWorld worldCache
)

// fixedWorldStart is a Monday night, in the diurnal trough.
var fixedWorldStart = time.Date(2026, 1, 5, 2, 0, 0, 0, time.UTC)

// simulateWorld returns the present world, backfilled with promtool.
func simulateWorld(t *testing.T) world {
	t.Helper()
	start := time.Now().Add(-time.Hour).Truncate(time.Minute).UTC()
	return cachedWorld(t, &presentWorld, "present", start, 90*time.Minute)
}

// simulateFixedWorld returns the fixed world, backfilled with promtool.
func simulateFixedWorld(t *testing.T) world {
	t.Helper()
	return cachedWorld(t, &fixedWorld, "fixed", fixedWorldStart, time.Hour)
}

// cachedWorld makes the world once; each test gets its own copy of the
// Prometheus data directory, since Prometheus writes to it.
func cachedWorld(t *testing.T, c *worldCache, name string, start time.Time,
	length time.Duration,
) world {
	t.Helper()
	promtool := binary(t, "STRATUS_PROMTOOL")
	c.once.Do(func() { c.world, c.err = makeWorld(t, promtool, name, start, length) })
	require.NoError(t, c.err)

	w := c.world
	w.dataDir = filepath.Join(t.TempDir(), "prometheus-data")
	out, err := exec.Command("cp", "-r", c.world.dataDir, w.dataDir).CombinedOutput()
	require.NoError(t, err, "copying the data directory: %s", out)
	return w
}

func makeWorld(t *testing.T, promtool, name string, start time.Time,
	length time.Duration,
) (world, error) {
	dir := filepath.Join(workDir, "world-"+name)
	code, _, stderr := runStratus(t, "simulate", "--scenario=startup", "--seed=7",
		"--start="+strconv.FormatInt(start.Unix(), 10),
		"--duration="+model.Duration(length).String(), "--output-dir="+dir)
	if code != 0 {
		return world{}, fmt.Errorf("stratus simulate exited with %d: %s", code, stderr)
	}
	dataDir := filepath.Join(dir, "prometheus-data")
	out, err := exec.Command(promtool, "tsdb", "create-blocks-from", "openmetrics",
		filepath.Join(dir, "metrics.om"), dataDir).CombinedOutput()
	if err != nil {
		return world{}, fmt.Errorf("promtool backfill: %w: %s", err, out)
	}
	return world{dir: dir, dataDir: dataDir, start: start, end: start.Add(length)}, nil
}

// startPrometheus runs a real Prometheus on addr over dataDir with the given
// scrape configuration (empty for a query-only server).
func startPrometheus(t testing.TB, name, addr, dataDir, scrapeConfig string) *process {
	t.Helper()
	cfg := writeFile(t, t.TempDir(), "prometheus.yml",
		"global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n"+scrapeConfig)
	p := start(t, name, binary(t, "STRATUS_PROMETHEUS"),
		"--config.file="+cfg,
		"--storage.tsdb.path="+dataDir,
		"--web.listen-address="+addr,
		// Long enough to keep the fixed world, which lies in the past.
		"--storage.tsdb.retention.time=100y",
		"--log.level=warn",
	)
	waitHTTP(t, p, "http://"+addr+"/-/ready", 60*time.Second)
	return p
}

// stratusConfig is a configuration with a short analysis interval, the test
// profile of DESIGN.md.
const stratusConfig = `
engines:
  telemetry:
    interval: 1s
    timeout: 5s
prometheus:
  query_timeout: 2s
  retries: 1
`

// startStratus runs stratus serve with args and waits until it is ready.
func startStratus(t *testing.T, addr string, args ...string) *process {
	t.Helper()
	return startStratusConfig(t, addr, stratusConfig, args...)
}

// startStratusConfig runs stratus serve on addr with the given configuration.
func startStratusConfig(t *testing.T, addr, config string, args ...string) *process {
	t.Helper()
	dir := t.TempDir()
	cfg := writeFile(t, dir, "stratus.yml", config)
	all := append([]string{"serve", "--web.listen-address=" + addr,
		"--config.file=" + cfg, "--storage.path=" + filepath.Join(dir, "data")}, args...)
	p := start(t, "stratus", stratusBin, all...)
	waitHTTP(t, p, "http://"+addr+"/-/ready", 60*time.Second)
	return p
}

func newClient(t testing.TB, addr string) *query.HTTP {
	t.Helper()
	c, err := query.NewHTTP(query.HTTPOptions{URL: "http://" + addr, Retries: -1})
	require.NoError(t, err)
	return c
}

// eventuallyValue waits until expr, evaluated now on c, returns one sample
// with the wanted value.
func eventuallyValue(t *testing.T, c query.Querier, expr string, want float64) {
	t.Helper()
	eventually(t, 60*time.Second, func() string {
		v, err := c.Query(context.Background(), expr, time.Now())
		if err == nil && len(v) == 1 && float64(v[0].Value) == want {
			return ""
		}
		return fmt.Sprintf("%s never became %v; last answer: %v %v", expr, want, v, err)
	})
}

// TestPrometheusScrapesStratus is the path of a real deployment: Stratus
// queries one Prometheus and another one scrapes Stratus.
func TestPrometheusScrapesStratus(t *testing.T) {
	w := simulateWorld(t)
	sourceAddr := freeAddr(t)
	startPrometheus(t, "prometheus-source", sourceAddr, w.dataDir, "")

	stratusAddr := freeAddr(t)
	startStratus(t, stratusAddr, "--prometheus.url=http://"+sourceAddr)

	scraperAddr := freeAddr(t)
	startPrometheus(t, "prometheus-scraper", scraperAddr, t.TempDir(), fmt.Sprintf(
		"scrape_configs:\n- job_name: stratus\n  static_configs:\n  - targets: [%q]\n",
		stratusAddr))

	scraper := newClient(t, scraperAddr)
	eventuallyValue(t, scraper, `up{job="stratus"}`, 1)
	eventuallyValue(t, scraper, `count(stratus_build_info{version="`+testVersion+`"})`, 1)
	eventuallyValue(t, scraper, `stratus_source_up{source="prometheus"}`, 1)
	eventuallyValue(t, scraper, `count(stratus_source_last_success_timestamp_seconds{source="prometheus"} > 0)`, 1)
	eventuallyValue(t, scraper, `count(stratus_analysis_duration_seconds{engine="telemetry"})`, 1)
	eventuallyValue(t, scraper, `count(stratus_analysis_last_run_timestamp_seconds{engine="telemetry"})`, 1)
	eventuallyValue(t, scraper, `count(stratus_queries_total{engine="telemetry"} > 0)`, 1)
	// The simulated world carries these families; node_exporter it does not.
	for _, family := range []string{"kube_state_metrics", "cadvisor", "istio", "linkerd",
		"service_graph"} {
		eventuallyValue(t, scraper, fmt.Sprintf(`stratus_telemetry_present{family=%q}`, family), 1)
	}
	eventuallyValue(t, scraper, `stratus_telemetry_present{family="node_exporter"}`, 0)
}

// TestMetricsPassPromtoolCheck lints the whole /metrics output of a Stratus
// with every engine's results in it.
func TestMetricsPassPromtoolCheck(t *testing.T) {
	w := simulateWorld(t)
	addr := freeAddr(t)
	startStratus(t, addr, "--source.openmetrics="+filepath.Join(w.dir, "metrics.om"))

	status, body := httpGet("http://"+addr+"/metrics", nil)
	require.Equal(t, http.StatusOK, status)
	for _, family := range []string{"stratus_build_info", "stratus_source_up",
		"stratus_telemetry_present", "stratus_analysis_duration_seconds"} {
		require.Contains(t, body, "# TYPE "+family+" ")
	}

	cmd := exec.Command(binary(t, "STRATUS_PROMTOOL"), "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "promtool check metrics:\n%s", out)
}

// TestSourceOutageAndRecovery kills the Prometheus that Stratus queries and
// brings it back on the same address and data.
func TestSourceOutageAndRecovery(t *testing.T) {
	w := simulateWorld(t)
	sourceAddr := freeAddr(t)
	source := startPrometheus(t, "prometheus-source", sourceAddr, w.dataDir, "")

	addr := freeAddr(t)
	stratus := startStratus(t, addr, "--prometheus.url=http://"+sourceAddr)
	waitMetric(t, addr, `stratus_source_up{source="prometheus"}`, "1")

	source.kill()
	waitMetric(t, addr, `stratus_source_up{source="prometheus"}`, "0")
	// Still serving the last good discovery.
	waitMetric(t, addr, `stratus_telemetry_present{family="istio"}`, "1")
	require.False(t, stratus.exited())

	startPrometheus(t, "prometheus-source-again", sourceAddr, w.dataDir, "")
	waitMetric(t, addr, `stratus_source_up{source="prometheus"}`, "1")
}

// TestUnreachablePrometheusAtStart: Prometheus often starts after its
// sidecars, so serve starts anyway and says the source is down.
func TestUnreachablePrometheusAtStart(t *testing.T) {
	addr := freeAddr(t)
	stratus := startStratus(t, addr, "--prometheus.url=http://"+freeAddr(t))
	waitMetric(t, addr, `stratus_source_up{source="prometheus"}`, "0")
	require.False(t, stratus.exited())
}

// waitMetric waits until Stratus's own /metrics has the line prefix with the
// wanted value.
func waitMetric(t *testing.T, addr, prefix, want string) {
	t.Helper()
	eventually(t, 60*time.Second, func() string {
		_, body := httpGet("http://"+addr+"/metrics", nil)
		v, ok := metricLine(body, prefix+" ")
		if ok && v == want {
			return ""
		}
		return fmt.Sprintf("%s never became %s; last %q", prefix, want, v)
	})
}

// TestEmbeddedAnswersLikePrometheus: the embedded engine over the OpenMetrics
// file and a real Prometheus over the blocks promtool made of the same file
// give identical answers.
func TestEmbeddedAnswersLikePrometheus(t *testing.T) {
	w := simulateWorld(t)
	promAddr := freeAddr(t)
	startPrometheus(t, "prometheus", promAddr, w.dataDir, "")

	embedded, err := query.NewEmbedded(query.EmbeddedOptions{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = embedded.Close() })
	require.NoError(t, embedded.LoadOpenMetrics(filepath.Join(w.dir, "metrics.om")))

	exprs := append([]string{telemetry.Query(telemetry.Known)}, vmExpressions...)
	for _, at := range []time.Time{w.start.Add(30 * time.Minute), w.start.Add(time.Hour),
		w.end.Add(-time.Minute)} {
		diffs := query.Compare(context.Background(), newClient(t, promAddr), embedded,
			exprs, at, 1e-9)
		require.Empty(t, diffs, "at %s", at)
	}
}

// TestGracefulShutdown: SIGTERM, as Kubernetes sends it, ends serve cleanly
// with exit code 0.
func TestGracefulShutdown(t *testing.T) {
	addr := freeAddr(t)
	p := startStratus(t, addr, "--prometheus.url=http://"+freeAddr(t))
	began := time.Now()
	p.stop()
	require.NoError(t, p.err, "exit status after SIGTERM")
	require.Less(t, time.Since(began), 10*time.Second)
	require.Contains(t, p.out.String(), "shutting down")
}
