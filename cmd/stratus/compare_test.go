package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/sim"
)

// startupWorld writes the startup scenario's six hours, from midnight, as
// OpenMetrics: fraud-detection appears at 55 % of them, 03:18.
func startupWorld(t *testing.T) string {
	t.Helper()
	w, err := sim.New(sim.Options{Scenario: "startup", Seed: 1,
		Start:    time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC),
		Duration: 6 * time.Hour, Step: time.Minute, Telemetry: []string{}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "startup.om")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, w.WriteOpenMetrics(f))
	require.NoError(t, f.Close())
	return path
}

func TestCostReportCompare(t *testing.T) {
	world := "--source.openmetrics=" + startupWorld(t)
	storage := "--storage.path=" + t.TempDir()
	// The later window, 03:18 to 05:18, has fraud-detection; the earlier one
	// does not, and has the end of the spike (01:12 to 01:37) that scaled the
	// HPAs up.
	code, out, stderr := runCommand(t, storage, world, "cost", "report",
		"--at=2025-03-04T05:18:00Z", "--compare=2h", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var report costReportJSON
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	c := report.Compare
	require.NotNil(t, c)
	require.Equal(t, "2h", c.Window)
	require.Equal(t, "2025-03-04T01:18:00Z", c.Before.Start)
	require.Equal(t, "2025-03-04T03:18:00Z", c.After.Start)
	require.Equal(t, "2025-03-04T05:18:00Z", c.After.End)
	require.Equal(t, 2, c.Before.CyclesWithData)
	require.Equal(t, 2, c.After.CyclesWithData)
	require.InDelta(t, c.After.TotalPerHour-c.Before.TotalPerHour, c.DifferencePerHour, 1e-9)
	require.InDelta(t, c.DifferencePerHour*730, c.DifferencePerMonth, 1e-9)

	// The parts sum to the whole: causes, services, components and clouds.
	require.InDelta(t, c.DifferencePerHour, sumEffects(c.Effects), 1e-9)
	for name, changes := range map[string][]compareChange{
		"services": c.Services, "components": c.Components, "clouds": c.Clouds,
	} {
		sum := 0.0
		for _, ch := range changes {
			sum += ch.DifferencePerHour
			require.InDelta(t, ch.DifferencePerHour, sumEffects(ch.Effects), 1e-9, ch)
		}
		require.InDelta(t, c.DifferencePerHour, sum, 1e-9, name)
	}

	// fraud-detection is new, and all its cost is the new-service effect.
	var fraud *compareChange
	for i, s := range c.Services {
		if s.Service == "fraud-detection" {
			fraud = &c.Services[i]
		}
	}
	require.NotNil(t, fraud, "fraud-detection is in the comparison")
	require.Equal(t, "new", fraud.Status)
	require.Zero(t, fraud.BeforePerHour)
	require.Positive(t, fraud.AfterPerHour)
	require.InDelta(t, fraud.AfterPerHour, fraud.Effects.NewService, 1e-12)
	require.InDelta(t, fraud.AfterPerHour, c.Effects.NewService, 1e-12, "the only new service")
	require.Negative(t, c.Effects.Replicas, "the HPAs scaled down after the spike")

	code, out, stderr = runCommand(t, storage, world, "cost", "report",
		"--at=2025-03-04T05:18:00Z", "--compare=2h")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "Compared with the 2h before: 2025-03-04T01:18:00Z to "+
		"2025-03-04T03:18:00Z (2 cycles)")
	require.Regexp(t, `Difference: [+-]\d+\.\d{4} USD per hour`, out)
	require.Regexp(t, `fraud-detection\s+online-boutique\s+\S+\s+new\s+0\.0000\s+\d\.\d{4}`+
		`\s+\+\d\.\d{4}\s+\+\d+\.\d{2}\s+new_service=\+`, out)
	require.Regexp(t, `(?m)^COMPONENT\s+BEFORE`, out)
	require.Regexp(t, `(?m)^CLOUD\s+BEFORE`, out)
}

func sumEffects(e compareEffects) float64 {
	return e.Replicas + e.Size + e.Price + e.Other + e.NewService + e.RemovedService +
		e.Added + e.Removed
}

// TestCostReportCompareNoData: a window before the data is inconclusive; the
// report is still written.
func TestCostReportCompareNoData(t *testing.T) {
	code, out, stderr := runCommand(t, "--storage.path="+t.TempDir(),
		"--source.openmetrics="+costWorld(t), "cost", "report", "--compare=1h",
		"--output=json")
	require.Equal(t, exitInconclusive, code, stderr)
	require.Contains(t, stderr, "earlier window")
	require.Contains(t, stderr, "has no priced node")
	var report costReportJSON
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Positive(t, report.TotalPerHour)
	require.Nil(t, report.Compare)
}

func TestCostReportCompareBadWindow(t *testing.T) {
	for _, window := range []string{"soon", "0s", "-1h", ""} {
		code, _, stderr := runCommand(t, "--storage.path="+t.TempDir(),
			"--source.openmetrics=testdata/small.om", "cost", "report", "--compare="+window)
		if window == "" {
			require.Equal(t, exitInconclusive, code, "no --compare: the plain report")
			continue
		}
		require.Equal(t, exitError, code, window)
		require.Contains(t, stderr, "--compare", window)
	}
}

func TestCompareCycleTimes(t *testing.T) {
	at := time.Date(2025, 3, 4, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		window time.Duration
		cycles int
		first  time.Duration
	}{
		{30 * time.Minute, 1, 15 * time.Minute},
		{time.Hour, 1, 30 * time.Minute},
		{90 * time.Minute, 2, 22*time.Minute + 30*time.Second},
		{48 * time.Hour, 48, 30 * time.Minute},
		{7 * 24 * time.Hour, maxCompareCycles, 7 * 24 * time.Hour / maxCompareCycles / 2},
	} {
		times := compareCycleTimes(at, at.Add(tc.window))
		require.Len(t, times, tc.cycles, tc.window)
		require.Equal(t, at.Add(tc.first), times[0], tc.window)
		require.True(t, times[len(times)-1].Before(at.Add(tc.window)), tc.window)
	}
}
