package sim

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// serverlessOptions is a short world, with or without its serverless resources.
func serverlessOptions(on bool) Options {
	return Options{Scenario: "startup", Seed: 3, Start: time.Date(2025, 3, 4, 6, 0, 0, 0,
		time.UTC), Duration: 30 * time.Minute, Step: time.Minute, Telemetry: []string{},
		Serverless: on}
}

func writeServerlessWorld(t *testing.T, on bool) (*parsed, Truth) {
	t.Helper()
	w, err := New(serverlessOptions(on))
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, w.WriteOpenMetrics(&buf))
	return parseOpenMetrics(t, buf.Bytes()), w.Truth()
}

// serverlessFamilies are the families the serverless emitter adds, as stored.
var serverlessFamilies = []string{
	"aws_lambda_invocations_sum", "aws_lambda_duration_sum", "aws_lambda_info",
	"aws_ecs_containerinsights_cpu_reserved_average",
	"aws_ecs_containerinsights_memory_reserved_average", "aws_ecs_containerinsights_info",
	"stackdriver_cloud_run_revision_run_googleapis_com_container_cpu_allocation_time_total",
	"stackdriver_cloud_run_revision_run_googleapis_com_container_memory_allocation_time_total",
	"stackdriver_cloud_run_revision_run_googleapis_com_request_count_total",
}

// TestServerlessLeavesTheWorld checks that turning Options.Serverless on adds
// its families and truth and changes nothing else, and that off it adds
// nothing at all.
func TestServerlessLeavesTheWorld(t *testing.T) {
	off, offTruth := writeServerlessWorld(t, false)
	on, onTruth := writeServerlessWorld(t, true)

	for k, points := range off.points {
		require.Equal(t, points, on.points[k], k)
	}
	for k, l := range on.series {
		if _, ok := off.series[k]; !ok {
			require.Contains(t, serverlessFamilies, l.Get(model.MetricNameLabel), k)
		}
	}
	for _, name := range serverlessFamilies {
		require.Empty(t, off.byName(name), name)
		require.NotEmpty(t, on.byName(name), name)
		require.Positive(t, onTruth.SeriesCounts[name], name)
	}

	require.Nil(t, offTruth.Serverless)
	text, err := json.Marshal(offTruth)
	require.NoError(t, err)
	require.NotContains(t, string(text), "serverless")
	onTruth.Serverless, onTruth.SeriesCounts = nil, offTruth.SeriesCounts
	require.Equal(t, offTruth, onTruth)
}

// TestServerlessShapes checks the series against the exporters' shapes and
// the truth: yace's labels and sums over its period, stackdriver_exporter's
// monotonic counters, and tags as the truth gives them.
func TestServerlessShapes(t *testing.T) {
	p, truth := writeServerlessWorld(t, true)
	kinds := map[string]int{}
	for _, r := range truth.Serverless {
		kinds[r.Kind]++
		require.NotEmpty(t, r.ID)
		require.NotEmpty(t, r.TrueService)
	}
	require.Equal(t, map[string]int{ServerlessLambda: 3, ServerlessFargate: 2,
		ServerlessCloudRun: 2}, kinds)

	byID := map[string]TruthServerless{}
	for _, r := range truth.Serverless {
		byID[r.ID] = r
	}
	for _, l := range p.byName("aws_lambda_invocations_sum") {
		r, ok := byID[l.Get("name")]
		require.True(t, ok, l.String())
		require.Equal(t, "us-east-1", l.Get("region"))
		require.Equal(t, simAWSAccount, l.Get("account_id"))
		require.Equal(t, r.Name, l.Get("dimension_FunctionName"))
		require.True(t, strings.HasPrefix(r.ID, "arn:aws:lambda:us-east-1:"), r.ID)
		for _, s := range p.points[l.String()] {
			require.InDelta(t, r.InvocationsPerSecond*CloudWatchPeriodSeconds, s.v, 1e-9)
		}
		require.Positive(t, r.MemoryMiB)
	}
	tagged := 0
	for _, l := range p.byName("aws_lambda_info") {
		r := byID[l.Get("name")]
		require.Equal(t, r.Tags["service"], l.Get("tag_service"))
		if r.Service != "" {
			tagged++
			require.Equal(t, r.Team, l.Get("tag_team"))
			require.Equal(t, r.Owner, l.Get("tag_owner"))
		}
	}
	require.Equal(t, 2, tagged)
	for _, l := range p.byName("aws_ecs_containerinsights_cpu_reserved_average") {
		r := byID[l.Get("name")]
		require.Equal(t, r.Cluster, l.Get("dimension_ClusterName"))
		require.Equal(t, r.Name, l.Get("dimension_ServiceName"))
		for _, s := range p.points[l.String()] {
			require.InDelta(t, r.VCPU*1024, s.v, 1e-9)
		}
	}
	for _, name := range serverlessFamilies[6:] {
		series := p.byName(name)
		require.NotEmpty(t, series)
		for _, l := range series {
			require.NotEmpty(t, l.Get("unit"), l.String())
			require.NotEmpty(t, l.Get("revision_name"), l.String())
			points := p.points[l.String()]
			for i := 1; i < len(points); i++ {
				require.Greater(t, points[i].v, points[i-1].v, l.String())
			}
		}
	}
	require.Equal(t, "counter", p.types[strings.TrimSuffix(serverlessFamilies[6], "_total")])
}
