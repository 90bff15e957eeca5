package collector

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/promslog"
	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/query"
	"github.com/stratus-monitoring/stratus/telemetry"
)

func TestSourceHealth(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	h := NewSourceHealth(logger, "prometheus")
	var _ query.StatusReporter = h

	// Known but not yet reported: down, never succeeded.
	require.NoError(t, testutil.CollectAndCompare(h, strings.NewReader(`
# HELP stratus_source_last_success_timestamp_seconds Time of the latest successful request to the data source; 0 if none succeeded yet.
# TYPE stratus_source_last_success_timestamp_seconds gauge
stratus_source_last_success_timestamp_seconds{source="prometheus"} 0
# HELP stratus_source_up Whether the latest request to the data source succeeded (1) or not (0).
# TYPE stratus_source_up gauge
stratus_source_up{source="prometheus"} 0
`)))

	h.ReportSuccess("prometheus", time.Unix(1700000000, 500_000_000))
	h.ReportFailure("prometheus", time.Unix(1700000060, 0), errors.New("connection refused"))
	h.ReportFailure("prometheus", time.Unix(1700000070, 0), errors.New("connection refused"))
	h.ReportSuccess("demo", time.Unix(1700000080, 0))
	require.False(t, h.Up("prometheus"))
	require.True(t, h.Up("demo"))
	require.False(t, h.Up("absent"))

	require.NoError(t, testutil.CollectAndCompare(h, strings.NewReader(`
# HELP stratus_source_last_success_timestamp_seconds Time of the latest successful request to the data source; 0 if none succeeded yet.
# TYPE stratus_source_last_success_timestamp_seconds gauge
stratus_source_last_success_timestamp_seconds{source="demo"} 1.70000008e+09
stratus_source_last_success_timestamp_seconds{source="prometheus"} 1.7000000005e+09
# HELP stratus_source_up Whether the latest request to the data source succeeded (1) or not (0).
# TYPE stratus_source_up gauge
stratus_source_up{source="demo"} 1
stratus_source_up{source="prometheus"} 0
`)))
	require.Equal(t, 1, strings.Count(logs.String(), "data source unavailable"),
		"an outage is logged once, not per failed request")

	h.ReportSuccess("prometheus", time.Unix(1700000090, 0))
	require.Equal(t, 1, strings.Count(logs.String(), "data source recovered"))
	require.True(t, h.Up("prometheus"))

	problems, err := testutil.CollectAndLint(h)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestSourceHealthFirstFailureIsLogged(t *testing.T) {
	var logs bytes.Buffer
	h := NewSourceHealth(slog.New(slog.NewTextHandler(&logs, nil)))
	h.ReportFailure("prometheus", time.Now(), errors.New("no such host"))
	require.Contains(t, logs.String(), "no such host")
}

type fixedEngine struct{ result telemetry.Result }

func (e fixedEngine) Name() string { return telemetry.EngineName }
func (e fixedEngine) Run(context.Context, time.Time) (any, error) {
	return e.result, nil
}

func TestTelemetryCollector(t *testing.T) {
	families := telemetry.Known[:3]
	result := telemetry.Interpret(families, model.Vector{
		{Metric: model.Metric{"stratus_family": model.LabelValue(families[1].Name)}, Value: 12},
	}, time.Unix(100, 0))
	job := analysis.Job{Engine: fixedEngine{result}, Interval: time.Minute, Timeout: time.Second}
	sched, err := analysis.NewScheduler([]analysis.Job{job}, time.Now,
		promslog.NewNopLogger(), nil)
	require.NoError(t, err)
	c := NewTelemetryCollector(sched.Snapshot)

	require.Equal(t, 0, testutil.CollectAndCount(c),
		"nothing is exposed before the first discovery")

	sched.RunOnce(context.Background(), job)
	require.NoError(t, testutil.CollectAndCompare(c, strings.NewReader(`
# HELP stratus_telemetry_present Whether series of the telemetry family were found at the latest discovery (1) or not (0).
# TYPE stratus_telemetry_present gauge
stratus_telemetry_present{family="cadvisor"} 1
stratus_telemetry_present{family="kube_state_metrics"} 0
stratus_telemetry_present{family="node_exporter"} 0
# HELP stratus_telemetry_series Number of series of the telemetry family found at the latest discovery.
# TYPE stratus_telemetry_series gauge
stratus_telemetry_series{family="cadvisor"} 12
stratus_telemetry_series{family="kube_state_metrics"} 0
stratus_telemetry_series{family="node_exporter"} 0
`)))
	problems, err := testutil.CollectAndLint(c)
	require.NoError(t, err)
	require.Empty(t, problems)
}

func TestRegistry(t *testing.T) {
	reg := NewRegistry()
	families, err := reg.Gather()
	require.NoError(t, err)
	names := map[string]bool{}
	for _, f := range families {
		names[f.GetName()] = true
	}
	for _, want := range []string{"stratus_build_info", "go_goroutines",
		"process_cpu_seconds_total"} {
		require.True(t, names[want], want)
	}
	problems, err := testutil.GatherAndLint(reg, "stratus_build_info")
	require.NoError(t, err)
	require.Empty(t, problems)
}
