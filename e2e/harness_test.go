//go:build e2e

// Package e2e runs Stratus against the real components a user has: Prometheus
// 3 and promtool built from the module version go.mod pins, and
// VictoriaMetrics from Debian. Everything listens on loopback, on free ports.
//
// The binaries come from the environment (make e2e sets them):
// STRATUS_PROMETHEUS, STRATUS_PROMTOOL and STRATUS_VICTORIAMETRICS. A missing
// binary fails the test rather than skipping it, so that CI never passes by
// testing nothing.
package e2e

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// stratusBin is the Stratus binary under test, built once by TestMain with
// coverage instrumentation so that end-to-end runs count towards coverage.
// workDir holds it and whatever else the tests share.
var stratusBin, workDir string

// testVersion is the version the binary under test reports.
const testVersion = "0.0.0-e2e"

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "stratus-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	workDir = dir
	stratusBin = filepath.Join(dir, "stratus")
	build := exec.Command("go", "build", "-cover", "-coverpkg=github.com/stratus-monitoring/stratus/...",
		"-ldflags=-X github.com/prometheus/common/version.Version="+testVersion,
		"-o", stratusBin, "github.com/stratus-monitoring/stratus/cmd/stratus")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building stratus:", err)
		os.Exit(1)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// binary returns the path of a component named by an environment variable.
func binary(t testing.TB, env string) string {
	t.Helper()
	path := os.Getenv(env)
	require.NotEmptyf(t, path, "%s must name the binary (make e2e sets it)", env)
	_, err := os.Stat(path)
	require.NoErrorf(t, err, "%s=%s", env, path)
	return path
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr(t testing.TB) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	return addr
}

// process is a component started by a test. Its output is kept and printed
// when the test fails, which is usually the only way to see why.
type process struct {
	name string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// start runs a binary until the test ends. Stratus processes write coverage
// data into GOCOVERDIR when the environment sets it.
func start(t testing.TB, name, bin string, args ...string) *process {
	t.Helper()
	p := &process{name: name, out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.Env = os.Environ()
	require.NoError(t, p.cmd.Start(), "starting %s", name)
	go func() {
		p.err = p.cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			t.Logf("--- output of %s:\n%s", name, p.out.String())
		}
	})
	return p
}

// stop ends the process with SIGTERM, as a service manager would, and waits;
// SIGKILL follows if it does not exit within 10 s.
func (p *process) stop() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// kill ends the process at once, as a crash would.
func (p *process) kill() {
	_ = p.cmd.Process.Kill()
	<-p.done
}

// exited reports whether the process has ended.
func (p *process) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// runStratus runs a one-shot stratus command and returns its exit code,
// standard output and standard error.
func runStratus(t testing.TB, args ...string) (int, string, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, stratusBin, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.Env = os.Environ()
	err := cmd.Run()
	code := 0
	if err != nil {
		var exitErr *exec.ExitError
		require.ErrorAs(t, err, &exitErr, "running stratus %v", args)
		code = exitErr.ExitCode()
	}
	return code, stdout.String(), stderr.String()
}

// httpGet fetches url and returns the status and body; a transport error
// comes back as status 0.
func httpGet(url string, header http.Header) (int, string) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, err.Error()
	}
	req.Header = header
	client := &http.Client{Timeout: 5 * time.Second}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// waitHTTP waits until url answers 200, or the process dies, or timeout.
func waitHTTP(t testing.TB, p *process, url string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if p != nil && p.exited() {
			t.Fatalf("%s exited before %s answered: %v", p.name, url, p.err)
		}
		if status, _ := httpGet(url, nil); status == http.StatusOK {
			return
		}
		// Fine-grained, since benchmarks time start-to-ready with it.
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("%s did not answer 200 within %s", url, timeout)
}

// writeFile writes content to name in dir and returns the path.
func writeFile(t testing.TB, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	require.NoError(t, os.WriteFile(path, []byte(content), 0o600))
	return path
}

// metricLine finds the value of the exposition line that starts with prefix.
func metricLine(body, prefix string) (string, bool) {
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, prefix) {
			fields := strings.Fields(line)
			return fields[len(fields)-1], true
		}
	}
	return "", false
}

// eventually polls check until it returns "" or timeout passes, then fails
// with the last thing check said.
func eventually(t testing.TB, timeout time.Duration, check func() string) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		last := check()
		if last == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(last)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
