package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/pricing"
	"github.com/stratus-monitoring/stratus/sim"
)

// costWorld writes a simulated hour of kube-state-metrics and cAdvisor data as
// OpenMetrics and returns the file.
func costWorld(t *testing.T) string {
	t.Helper()
	w, err := sim.New(sim.Options{Scenario: "steady", Seed: 1,
		Start:    time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC),
		Duration: time.Hour, Step: time.Minute, Telemetry: []string{}})
	require.NoError(t, err)
	path := filepath.Join(t.TempDir(), "world.om")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, w.WriteOpenMetrics(f))
	require.NoError(t, f.Close())
	return path
}

func TestCostReport(t *testing.T) {
	world := "--source.openmetrics=" + costWorld(t)
	storage := "--storage.path=" + t.TempDir()

	code, out, stderr := runCommand(t, storage, world, "cost", "report", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var report cost.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Equal(t, "2025-03-04T07:00:00Z", report.At, "defaults to the end of the data")
	require.Equal(t, "USD", report.Currency)
	require.Positive(t, report.TotalPerHour)
	require.Empty(t, report.Unpriced)
	require.Equal(t, cost.QueriesPerCycle, report.Queries)
	sum, names := 0.0, map[string]bool{}
	for _, s := range report.Services {
		sum += s.CostPerHour
		names[s.Service] = true
		parts := 0.0
		for _, v := range s.ByComponent {
			parts += v
		}
		require.InEpsilon(t, s.CostPerHour, parts, 1e-9, s.Service)
	}
	require.InEpsilon(t, report.TotalPerHour, sum, 1e-9)
	require.True(t, names["frontend"] && names[cost.Idle], names)
	require.ElementsMatch(t, []string{"aws", "gcp", "azure"}, keys(report.ByCloud))
	for _, r := range report.Resources {
		require.Equal(t, pricing.SourceSnapshot, r.PriceSource)
	}
	require.Empty(t, report.RecommendationError)
	require.NotEmpty(t, report.Recommendations, "the world's requests exceed its usage")
	for _, r := range report.Recommendations {
		require.Positive(t, r.SavingsPerHour, r.ResourceID)
		require.InEpsilon(t, r.SavingsPerHour*pricing.HoursPerMonth, r.SavingsPerMonth, 1e-12)
		require.NotEmpty(t, r.Kind)
		require.NotEmpty(t, r.Reason)
	}

	code, out, stderr = runCommand(t, storage, world, "cost", "report")
	require.Equal(t, exitOK, code, stderr)
	require.Contains(t, out, "Cost at 2025-03-04T07:00:00Z")
	require.Regexp(t, `SERVICE\s+NAMESPACE\s+CLUSTER\s+PER HOUR`, out)
	require.Regexp(t, `frontend\s+\S+\s+prod-\S+\s+\d+\.\d{4}\s+compute=`, out)
	require.Contains(t, out, "__idle__")
	require.NotContains(t, out, "Unpriced")
	require.Regexp(t, `Recommendations \(\d+\), savings in USD per month`, out)
	require.Regexp(t, `over_requested_container\s+\S+/\S+\s+\S+\s+\d+\.\d{2}\s+`, out)
}

func keys(m map[string]float64) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// TestCostReportNothingPriced: data without nodes, or nodes the book cannot
// price, is inconclusive; the unpriced nodes are listed.
func TestCostReportNothingPriced(t *testing.T) {
	storage := "--storage.path=" + t.TempDir()
	code, out, stderr := runCommand(t, storage, "--source.openmetrics=testdata/small.om",
		"cost", "report", "--output=json")
	require.Equal(t, exitInconclusive, code, stderr)
	require.Contains(t, stderr, "no resource could be priced")
	var report cost.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.Zero(t, report.TotalPerHour)
	require.Empty(t, report.Services)

	// The snapshot's list prices are in USD, and Stratus converts no currency.
	cfg := writeTemp(t, "stratus.yml", "pricing:\n  currency: EUR\n")
	code, out, stderr = runCommand(t, storage, "--config.file="+cfg,
		"--source.openmetrics="+costWorld(t), "cost", "report")
	require.Equal(t, exitInconclusive, code, stderr)
	require.Contains(t, out, "Unpriced resources")
	require.Regexp(t, `aws:///\S+\s+kubernetes_node\s+prod-aws-us-east-1\s+aws\s+us-east-1\s+`+
		`m5.xlarge\s+`+
		pricing.ReasonCurrencyMismatch, out)
}

func TestCostReportErrors(t *testing.T) {
	storage := "--storage.path=" + t.TempDir()
	for name, args := range map[string][]string{
		"bad time":   {"--source.openmetrics=testdata/small.om", "cost", "report", "--at=soon"},
		"bad output": {"--source.openmetrics=testdata/small.om", "cost", "report", "--output=xml"},
		"no file":    {"--source.openmetrics=testdata/absent.om", "cost", "report"},
	} {
		code, _, stderr := runCommand(t, append([]string{storage}, args...)...)
		require.Equal(t, exitError, code, name)
		require.NotEmpty(t, stderr, name)
	}

	cfg := writeTemp(t, "stratus.yml", "pricing:\n  files: [missing-prices.csv]\n")
	code, _, stderr := runCommand(t, storage, "--config.file="+cfg,
		"--source.openmetrics=testdata/small.om", "cost", "report")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "missing-prices.csv")
	code, _, stderr = runCommand(t, storage, "--config.file="+cfg, "serve", "--config.check")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "missing-prices.csv")

	// A Prometheus that fails the queries: an error, not an empty report.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnprocessableEntity)
		_, _ = io.WriteString(w, `{"status":"error","errorType":"execution","error":"boom"}`)
	}))
	t.Cleanup(srv.Close)
	cfg = writeTemp(t, "stratus.yml", "prometheus:\n  retries: 0\n")
	code, _, stderr = runCommand(t, "--config.file="+cfg, "--prometheus.url="+srv.URL,
		"cost", "report")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "allocating cost")
	require.Contains(t, stderr, "boom")
}

// TestCostReportUsesCachedCatalogs: a catalog that serve fetched and cached is
// used by a one-shot report, which itself calls no cloud API.
func TestCostReportUsesCachedCatalogs(t *testing.T) {
	dir := t.TempDir()
	cache := pricing.Cache{Dir: filepath.Join(dir, "prices")}
	require.NoError(t, cache.Save(pricing.AWSPriceListSource, time.Now(), []pricing.Price{{
		Key: pricing.Key{Cloud: "aws", Region: "us-east-1", Kind: pricing.KindCompute,
			Product: "m5.xlarge", OS: "linux", Purchase: pricing.OnDemand},
		Value: 0.5, Unit: pricing.PerHour, Currency: "USD", VCPU: 4, MemoryGiB: 16,
	}}))
	cfg := writeTemp(t, "stratus.yml", "pricing:\n  aws:\n    enabled: true\n"+
		"    regions: [us-east-1]\n")
	code, out, stderr := runCommand(t, "--storage.path="+dir, "--config.file="+cfg,
		"--source.openmetrics="+costWorld(t), "cost", "report", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var report cost.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	for _, r := range report.Resources {
		if r.Cloud == "aws" {
			require.Equal(t, pricing.AWSPriceListSource, r.PriceSource)
			require.Equal(t, 0.5, r.ListPricePerHour)
		} else {
			require.Equal(t, pricing.SourceSnapshot, r.PriceSource)
		}
	}
}

// TestServeCost: serve runs the cost engine on the demo world, exposes the cost
// families and /api/v1/cost, and prices every demo node from the snapshot.
func TestServeCost(t *testing.T) {
	cfg := writeTemp(t, "stratus.yml", "demo:\n  backfill: 20m\n")
	s := startServe(t, "--config.file="+cfg)

	status, body := s.get("/api/v1/cost")
	require.Equal(t, http.StatusOK, status, body)
	var report cost.Report
	require.NoError(t, json.Unmarshal([]byte(body), &report))
	require.Positive(t, report.TotalPerHour)
	for _, u := range report.Unpriced {
		require.NotEqual(t, cost.ResourceTypeNode, u.ResourceType,
			"every demo node type is in the embedded snapshot")
		require.Contains(t, []string{pricing.ReasonUnknownProduct, pricing.ReasonUnknownCloud},
			u.Reason, "managed store classes and on-premises types are not: %+v", u)
	}
	vms := 0
	for _, r := range report.Resources {
		if r.ResourceType == "vm" {
			vms++
			require.Equal(t, pricing.SourceSnapshot, r.PriceSource)
		}
	}
	require.Positive(t, vms, "the demo's cloud VMs are priced from its inventory")

	_, body = s.get("/metrics")
	require.Contains(t, body, `stratus_cost_info{currency="USD"} 1`)
	require.Contains(t, body, `stratus_service_cost_per_hour{cloud="aws",cluster="prod-aws-us-east-1",component="compute",namespace="",region="us-east-1",service="__idle__"}`)
	require.Regexp(t, `stratus_resource_cost_per_hour\{cloud="gcp",region="us-central1",`+
		`resource_id="gce://[^"]+",resource_type="kubernetes_node"\} 0.194236`, body)
	require.Contains(t, body, `stratus_pricing_prices{source="embedded-snapshot"}`)
	require.Contains(t, body, `stratus_cost_unpriced_resources{cloud="onprem",reason="unknown_cloud"}`)
	require.Contains(t, body, `stratus_service_info{cluster="",namespace="",`+
		`owner="carol@example.com",service="ci-runner",team="platform"} 1`, "from the inventory")
	require.Contains(t, body, `stratus_service_info{cluster="prod-aws-us-east-1",`+
		`namespace="online-boutique",owner="",service="cartservice",team=""} 1`,
		"the demo's kube-state-metrics has no label allowlist")
	require.NotContains(t, body, `source="aws-price-list"`, "no fetcher runs by default")

	// The metric sum equals the report's total.
	sum := 0.0
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "stratus_service_cost_per_hour{") {
			var v float64
			_, err := fmt.Sscan(line[strings.LastIndex(line, " ")+1:], &v)
			require.NoError(t, err)
			sum += v
		}
	}
	require.InEpsilon(t, report.TotalPerHour, sum, 1e-9)
	require.False(t, math.IsNaN(sum))
}

// TestCostReportAppliesCalibration: with cost.apply_calibration, the factors a
// reconciliation saved under --storage.path scale the nodes of their cloud.
func TestCostReportAppliesCalibration(t *testing.T) {
	world := "--source.openmetrics=" + costWorld(t)
	dir := t.TempDir()
	require.NoError(t, writeCalibration(filepath.Join(dir, calibrationFile), cost.Calibration{
		Clouds: []cost.CloudCalibration{{Cloud: "gcp", Currency: "USD", Factor: 0.95}},
	}))
	report := func(cfg string) cost.Report {
		code, out, stderr := runCommand(t, "--storage.path="+dir, world,
			"--config.file="+writeTemp(t, "stratus.yml", cfg), "cost", "report", "--output=json")
		require.Equal(t, exitOK, code, stderr)
		var r cost.Report
		require.NoError(t, json.Unmarshal([]byte(out), &r))
		return r
	}
	plain := report("")
	calibrated := report("cost:\n  apply_calibration: true\n")
	require.Len(t, calibrated.Resources, len(plain.Resources))
	for i, r := range calibrated.Resources {
		want := 1.0
		if r.Cloud == "gcp" {
			want = 0.95
		}
		require.Equal(t, want, r.CalibrationFactor, r.ResourceID)
		require.Equal(t, 1.0, plain.Resources[i].CalibrationFactor)
	}
	require.Less(t, calibrated.TotalPerHour, plain.TotalPerHour)

	require.NoError(t, os.WriteFile(filepath.Join(dir, calibrationFile), []byte("{"), 0o600))
	broken := report("cost:\n  apply_calibration: true\n")
	require.Equal(t, plain.TotalPerHour, broken.TotalPerHour, "an unreadable file applies nothing")
}

// TestCostReportInventory prices the resources of cost.inventory next to the
// nodes, resolving the file against the configuration's directory; a broken
// inventory stops the report and fails --config.check, naming file and line.
func TestCostReportInventory(t *testing.T) {
	world := "--source.openmetrics=" + costWorld(t)
	storage := "--storage.path=" + t.TempDir()
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "inventory.yaml"), []byte(
		"resources:\n"+
			"  - {id: i-ci, type: vm, cloud: aws, region: us-east-1, instance_type: m5.large,\n"+
			"     tags: {Service: ci-runner, team: platform, owner: ops@example.com}}\n"+
			"  - {id: vol-1, type: volume, cloud: aws, region: us-east-1, product: ebs-gp3,\n"+
			"     size_gib: 730}\n"+
			"  - {id: db-1, type: database, cloud: aws, region: us-east-1,\n"+
			"     instance_type: db.r6g.large}\n"), 0o600))
	cfg := filepath.Join(dir, "stratus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("cost:\n  inventory: [inventory.yaml]\n"), 0o600))

	code, out, stderr := runCommand(t, storage, world, "cost", "report", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var bare cost.Report
	require.NoError(t, json.Unmarshal([]byte(out), &bare))

	code, out, stderr = runCommand(t, storage, world, "--config.file="+cfg,
		"cost", "report", "--output=json")
	require.Equal(t, exitOK, code, stderr)
	var report cost.Report
	require.NoError(t, json.Unmarshal([]byte(out), &report))
	require.InDelta(t, bare.TotalPerHour+0.096+0.08, report.TotalPerHour, 1e-9,
		"an m5.large at 0.096 and 730 GiB of gp3 at 0.08 a month")
	byService := map[string]float64{}
	for _, s := range report.Services {
		byService[s.Service] += s.CostPerHour
	}
	require.InDelta(t, 0.096, byService["ci-runner"], 1e-12)
	require.InDelta(t, 0.08, byService[cost.Unallocated]-bareCost(bare, cost.Unallocated), 1e-12)
	require.Len(t, report.Unpriced, 1)
	require.Equal(t, "db-1", report.Unpriced[0].ResourceID)
	require.Equal(t, "database", report.Unpriced[0].ResourceType)

	code, out, stderr = runCommand(t, storage, world, "--config.file="+cfg, "cost", "report")
	require.Equal(t, exitOK, code, stderr)
	require.Regexp(t, `ci-runner\s+-\s+-\s+0\.0960\s+compute=0\.0960\s+aws=0\.0960`, out)
	require.Regexp(t, `db-1\s+database\s+-\s+aws\s+us-east-1\s+db\.r6g\.large\s+`+
		`unknown_product`, out)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "inventory.yaml"),
		[]byte("resources:\n  - {id: x, type: disk, cloud: aws}\n"), 0o600))
	want := filepath.Join(dir, "inventory.yaml") + `:2: resources[0].type: "disk" is not one of`
	code, _, stderr = runCommand(t, storage, world, "--config.file="+cfg, "cost", "report")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, want)
	code, _, stderr = runCommand(t, storage, "--config.file="+cfg, "serve", "--config.check")
	require.Equal(t, exitError, code)
	require.Contains(t, stderr, "cost.inventory: "+want)
}

// bareCost is a service's cost in a report, 0 when absent.
func bareCost(r cost.Report, service string) float64 {
	var sum float64
	for _, s := range r.Services {
		if s.Service == service {
			sum += s.CostPerHour
		}
	}
	return sum
}

// TestServeMetricsDocumented: every stratus_ family that serve exposes on the
// demo world is in the README's metrics table.
func TestServeMetricsDocumented(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, table, ok := strings.Cut(string(readme), "\n## Metrics\n")
	require.True(t, ok)
	cfg := writeTemp(t, "stratus.yml", "demo:\n  backfill: 20m\n")
	s := startServe(t, "--config.file="+cfg)
	_, body := s.get("/metrics")
	seen := 0
	for _, line := range strings.Split(body, "\n") {
		name, ok := strings.CutPrefix(line, "# TYPE ")
		if !ok || !strings.HasPrefix(name, "stratus_") {
			continue
		}
		name, _, _ = strings.Cut(name, " ")
		require.Contains(t, table, "| `"+name+"` |", "%s is exposed but not documented", name)
		seen++
	}
	require.Greater(t, seen, 20)
}

// TestServeInventoryHealth: stratus_source_up{source="inventory"} is 1 while
// the inventory files are in use, and 0 once an edit breaks them, the last
// good inventory still priced.
func TestServeInventoryHealth(t *testing.T) {
	dir := t.TempDir()
	inv := filepath.Join(dir, "inventory.yaml")
	require.NoError(t, os.WriteFile(inv, []byte("resources:\n  - {id: i-ci, type: vm, "+
		"cloud: aws, region: us-east-1, instance_type: m5.large}\n"), 0o600))
	cfg := filepath.Join(dir, "stratus.yml")
	require.NoError(t, os.WriteFile(cfg, []byte("engines:\n  cost:\n    interval: 50ms\n"+
		"cost:\n  inventory: [inventory.yaml]\n"), 0o600))
	s := startServe(t, "--config.file="+cfg, "--source.openmetrics="+costWorld(t),
		"--storage.path="+t.TempDir())
	up := func(v string) func() bool {
		return func() bool {
			_, body := s.get("/metrics")
			return strings.Contains(body, `stratus_source_up{source="inventory"} `+v) &&
				strings.Contains(body, `resource_id="i-ci",resource_type="vm"`)
		}
	}
	require.Eventually(t, up("1"), 10*time.Second, 20*time.Millisecond)
	require.NoError(t, os.WriteFile(inv, []byte("resources: {}\n"), 0o600))
	require.NoError(t, os.Chtimes(inv, time.Now().Add(time.Minute), time.Now().Add(time.Minute)))
	require.Eventually(t, up("0"), 10*time.Second, 20*time.Millisecond)
}
