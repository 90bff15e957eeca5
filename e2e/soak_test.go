//go:build e2e && soak

package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// soakDuration is how long the soak tests run: SOAK_DURATION (a Go
// duration), three hours by default, which lets the demo's two-hour memory
// window fill and then hold.
func soakDuration(t *testing.T) time.Duration {
	t.Helper()
	v := os.Getenv("SOAK_DURATION")
	if v == "" {
		return 3 * time.Hour
	}
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "SOAK_DURATION")
	return d
}

// TestSoakDemo runs the live demo for the soak duration, scraping it like
// Prometheus would, and checks that it keeps answering and that its memory
// levels off once the demo's sliding window is full.
func TestSoakDemo(t *testing.T) {
	length := soakDuration(t)
	dir := t.TempDir()
	cfg := writeFile(t, dir, "stratus.yml",
		"engines:\n  telemetry:\n    interval: 15s\ndemo:\n  backfill: 30m\n")
	addr := freeAddr(t)
	p := start(t, "stratus", stratusBin, "serve", "--web.listen-address="+addr,
		"--config.file="+cfg, "--storage.path="+filepath.Join(dir, "data"))
	waitHTTP(t, p, "http://"+addr+"/-/ready", time.Minute)

	// The window is two hours: memory may grow until then, not after.
	const window = 2 * time.Hour
	var rssAtWindow int64
	began := time.Now()
	for time.Since(began) < length {
		time.Sleep(15 * time.Second)
		require.False(t, p.exited(), "stratus exited: %v", p.err)
		status, body := httpGet("http://"+addr+"/metrics", nil)
		require.Equal(t, 200, status)
		require.Contains(t, body, `stratus_source_up{source="demo"} 1`)
		require.Contains(t, body, `stratus_telemetry_present{family="istio"} 1`)

		st, err := benchReadStatus(p.cmd.Process.Pid)
		require.NoError(t, err)
		elapsed := time.Since(began)
		if rssAtWindow == 0 && elapsed > window+15*time.Minute {
			rssAtWindow = st.rss
		}
		if rssAtWindow > 0 {
			require.Less(t, float64(st.rss), 1.25*float64(rssAtWindow),
				"RSS keeps growing after the window filled: %d MiB at %s, %d MiB at %s",
				rssAtWindow>>20, window+15*time.Minute, st.rss>>20, elapsed.Round(time.Minute))
		}
	}
	t.Logf("RSS when the window had filled: %d MiB", rssAtWindow>>20)
}

// TestSoakLongOutage keeps the Prometheus that Stratus queries down for a
// third of the soak duration, then brings it back.
func TestSoakLongOutage(t *testing.T) {
	length := soakDuration(t)
	w := simulateWorld(t)
	sourceAddr := freeAddr(t)
	source := startPrometheus(t, "prometheus-source", sourceAddr, w.dataDir, "")

	addr := freeAddr(t)
	stratus := startStratus(t, addr, "--prometheus.url=http://"+sourceAddr)
	waitMetric(t, addr, `stratus_source_up{source="prometheus"}`, "1")

	source.kill()
	outageEnds := time.Now().Add(length / 3)
	for time.Now().Before(outageEnds) {
		time.Sleep(15 * time.Second)
		require.False(t, stratus.exited(), "stratus exited: %v", stratus.err)
		_, body := httpGet("http://"+addr+"/metrics", nil)
		v, _ := metricLine(body, `stratus_source_up{source="prometheus"} `)
		require.Equal(t, "0", v)
	}
	startPrometheus(t, "prometheus-source-again", sourceAddr, w.dataDir, "")
	waitMetric(t, addr, `stratus_source_up{source="prometheus"}`, "1")
	require.Equal(t, 1, strings.Count(stratus.out.String(), "data source unavailable"),
		"an outage is logged once")
	require.Equal(t, 1, strings.Count(stratus.out.String(), "data source recovered"))
	t.Logf("outage of %s survived", length/3)
}
