//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/query"
)

// startVictoriaMetrics runs a single-node VictoriaMetrics on addr. The
// latency offset is 0 so that it does not hide the newest 30 s of data.
func startVictoriaMetrics(t *testing.T, addr string) *process {
	t.Helper()
	p := start(t, "victoria-metrics", binary(t, "STRATUS_VICTORIAMETRICS"),
		"-httpListenAddr="+addr,
		"-storageDataPath="+t.TempDir(),
		"-retentionPeriod=100y",
		"-search.latencyOffset=0s",
		"-search.disableCache",
		"-loggerLevel=ERROR",
	)
	waitHTTP(t, p, "http://"+addr+"/health", 60*time.Second)
	return p
}

// importOpenMetrics loads a timestamped OpenMetrics file into VictoriaMetrics
// through its Prometheus-text import API, which takes timestamps in
// milliseconds where OpenMetrics has seconds.
func importOpenMetrics(t *testing.T, addr, path string) {
	t.Helper()
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()

	pr, pw := io.Pipe()
	go func() {
		pw.CloseWithError(secondsToMillis(f, pw))
	}()
	resp, err := http.Post("http://"+addr+"/api/v1/import/prometheus", "text/plain", pr)
	require.NoError(t, err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode, string(body))

	status, body2 := httpGet("http://"+addr+"/internal/force_flush", nil)
	require.Equal(t, http.StatusOK, status, body2)
}

// secondsToMillis rewrites each sample line's trailing timestamp from
// seconds to milliseconds and drops the comment lines.
func secondsToMillis(r io.Reader, w io.Writer) error {
	scanner := bufio.NewScanner(r)
	scanner.Buffer(make([]byte, 1<<20), 1<<20)
	bw := bufio.NewWriter(w)
	for scanner.Scan() {
		line := scanner.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		cut := strings.LastIndexByte(line, ' ')
		if cut < 0 {
			return fmt.Errorf("sample without timestamp: %q", line)
		}
		secs, err := strconv.ParseFloat(line[cut+1:], 64)
		if err != nil {
			return fmt.Errorf("timestamp of %q: %w", line, err)
		}
		if _, err := fmt.Fprintf(bw, "%s %d\n", line[:cut], int64(secs*1000+0.5)); err != nil {
			return err
		}
	}
	if err := scanner.Err(); err != nil {
		return err
	}
	return bw.Flush()
}

// vmExpressions are queries of the shapes the engines ask: the discovery
// query, edge sets by identity labels, rates and latency quantiles.
var vmExpressions = []string{
	`count by (source_workload, destination_workload, reporter) (istio_requests_total)`,
	`count by (client, server) (traces_service_graph_request_total)`,
	`count by (deployment, dst_deployment) (request_total{direction="outbound"})`,
	`sum by (namespace) (kube_deployment_spec_replicas)`,
	`sum by (destination_workload) (rate(istio_requests_total{reporter="destination"}[5m]))`,
	`histogram_quantile(0.95, sum by (destination_workload, le) ` +
		`(rate(istio_request_duration_milliseconds_bucket{reporter="destination"}[5m])))`,
	`sum by (namespace) (rate(container_cpu_usage_seconds_total[5m]))`,
}

// vmTolerance is the relative difference allowed between VictoriaMetrics and
// Prometheus values: VictoriaMetrics' rate() does not extrapolate to the
// window's edges, which with 15 s samples in a 5 m window moves a rate by up
// to one sample interval in twenty (5%); histogram quantiles interpolate
// within a bucket and move less. Series sets must match exactly.
const vmTolerance = 0.06

// TestVictoriaMetricsAnswersLikePrometheus loads the same world into
// Prometheus and VictoriaMetrics and checks that Stratus gets the same answers
// from both.
func TestVictoriaMetricsAnswersLikePrometheus(t *testing.T) {
	w := simulateFixedWorld(t)
	promAddr := freeAddr(t)
	startPrometheus(t, "prometheus", promAddr, w.dataDir, "")
	vmAddr := freeAddr(t)
	startVictoriaMetrics(t, vmAddr)
	importOpenMetrics(t, vmAddr, filepath.Join(w.dir, "metrics.om"))

	at := quietTime(t, w, 6*time.Minute)
	t.Logf("comparing at %s, %s into the world", at.Format(time.RFC3339), at.Sub(w.start))
	prom, vm := newClient(t, promAddr), newClient(t, vmAddr)
	waitForIngestion(t, vmAddr, prom, vm, at)
	diffs := query.Compare(context.Background(), prom, vm, vmExpressions, at, vmTolerance)
	require.Empty(t, diffs)

	// Stratus's own report is the same from both.
	atFlag := "--at=" + at.Format(time.RFC3339)
	code, fromProm, stderr := runStratus(t, "telemetry", "--output=json", atFlag,
		"--prometheus.url=http://"+promAddr)
	require.Equal(t, 0, code, stderr)
	code, fromVM, stderr := runStratus(t, "telemetry", "--output=json", atFlag,
		"--prometheus.url=http://"+vmAddr)
	require.Equal(t, 0, code, stderr)

	var a, b map[string]any
	require.NoError(t, json.Unmarshal([]byte(fromProm), &a))
	require.NoError(t, json.Unmarshal([]byte(fromVM), &b))
	require.Equal(t, a, b)

	// The dependency graph: the same edges exactly, each seen by the same sources;
	// rates within the tolerance where there is traffic to compare.
	graphProm := depsGraph(t, atFlag, "--prometheus.url=http://"+promAddr)
	graphVM := depsGraph(t, atFlag, "--prometheus.url=http://"+vmAddr)
	require.Equal(t, edgeNames(graphProm), edgeNames(graphVM))
	for i, e := range graphProm.Edges {
		o := graphVM.Edges[i]
		require.Equal(t, e.Client, o.Client)
		require.Equal(t, e.Server, o.Server)
		require.Equal(t, e.Sources, o.Sources, "%s -> %s", e.Client, e.Server)
		if e.RequestsPerSecond > 1 {
			require.InEpsilon(t, e.RequestsPerSecond, o.RequestsPerSecond, vmTolerance,
				"%s -> %s", e.Client, e.Server)
		}
	}
}

// quietTime returns the latest time, at least half an hour into the past part
// of the world, with no pod created or deleted within the quiet period before
// it. Where pods come and go inside a rate window, VictoriaMetrics treats a
// counter series that starts within the window differently from Prometheus
// (it can count the first value as an increase), so the two stores differ
// there by far more than any tolerance; such a time compares the engines'
// semantics, not the data.
func quietTime(t *testing.T, w world, quiet time.Duration) time.Time {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(w.dir, "truth.json"))
	require.NoError(t, err)
	var truth struct {
		Pods []struct {
			Created string `json:"created"`
			Deleted string `json:"deleted"`
		} `json:"pods"`
	}
	require.NoError(t, json.Unmarshal(raw, &truth))
	var changes []time.Time
	for _, p := range truth.Pods {
		for _, s := range []string{p.Created, p.Deleted} {
			if ts, err := time.Parse(time.RFC3339, s); err == nil {
				changes = append(changes, ts)
			}
		}
	}
	latest := w.end
	if now := time.Now(); now.Before(latest) {
		latest = now
	}
	latest = latest.Add(-time.Minute)
	for at := latest.Truncate(15 * time.Second); at.After(w.start.Add(30 * time.Minute)); at = at.Add(-15 * time.Second) {
		calm := true
		for _, c := range changes {
			if c.After(at.Add(-quiet)) && !c.After(at) {
				calm = false
				break
			}
		}
		if calm {
			return at
		}
	}
	t.Fatalf("no %s without pod changes in the world's past", quiet)
	return time.Time{}
}

// waitForIngestion waits until VictoriaMetrics has every series Prometheus
// has for the test's queries. Its import answers before a busy machine has
// registered all new series, and force_flush makes searchable only what is
// registered; on a cold CI machine some series arrived seconds later. Only
// missing series are waited for: differing values still fail the test.
func waitForIngestion(t *testing.T, vmAddr string, prom, vm query.Querier, at time.Time) {
	t.Helper()
	eventually(t, 60*time.Second, func() string {
		httpGet("http://"+vmAddr+"/internal/force_flush", nil)
		for _, d := range query.Compare(context.Background(), prom, vm, vmExpressions, at, 1) {
			if d.Kind == query.DiffOnlyInA || d.Kind == query.DiffNothingCompared ||
				d.Kind == query.DiffError {
				return "VictoriaMetrics never got all the series: " + d.String()
			}
		}
		return ""
	})
}
