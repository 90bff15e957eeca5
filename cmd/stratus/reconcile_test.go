package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/sim"
)

// focusSample is the real FOCUS sample (CC BY 4.0, see its README).
const focusSample = "../../testdata/billing/focus_sample.csv"

func decodeReconcile(t *testing.T, out string) reconcileReport {
	t.Helper()
	var r reconcileReport
	require.NoError(t, json.Unmarshal([]byte(out), &r), out)
	return r
}

func cloudOf(t *testing.T, r reconcileReport, cloud string) cloudReport {
	t.Helper()
	for _, c := range r.Clouds {
		if c.Cloud == cloud {
			return c
		}
	}
	t.Fatalf("no cloud %s in %+v", cloud, r.Clouds)
	return cloudReport{}
}

// TestCostReconcileFOCUSSample re-prices the real FOCUS sample with the
// embedded price book (no metrics source, so no demo either): the AWS
// instance hours the book covers agree with the sample's list unit prices,
// and the rows it cannot price are counted by reason.
func TestCostReconcileFOCUSSample(t *testing.T) {
	code, out, stderr := runCommand(t, "--storage.path="+t.TempDir(), "cost", "reconcile",
		"--billing="+focusSample, "--output=json")
	require.Equal(t, exitOK, code, stderr)
	r := decodeReconcile(t, out)
	require.Equal(t, "reprice", r.Mode)
	require.Equal(t, "2024-09-01T00:00:00Z", r.Period.Start)

	books := map[string]priceBookReport{}
	for _, p := range r.PriceBook {
		books[p.Cloud] = p
	}
	aws := books["aws"]
	require.Equal(t, 941, aws.UsageRows)
	require.Equal(t, 14, aws.PricedRows)
	require.InDelta(t, 0, *aws.MeanAbsErrorRatio, 1e-9)
	require.InDelta(t, 0, *aws.MaxAbsErrorRatio, 1e-9)
	require.InDelta(t, 0.5782, *aws.CostCoverageRatio, 1e-4)
	require.Equal(t, map[string]int{"not_compute": 915, "unknown_product": 5,
		"unknown_region": 7}, aws.Unpriced)
	require.Equal(t, map[string]int{"not_compute": 51}, books["azure"].Unpriced)
	require.Equal(t, map[string]int{"not_compute": 5}, books["oracle"].Unpriced)
	require.Nil(t, books["azure"].MeanAbsErrorRatio)
	t.Logf("FOCUS sample, AWS: %d of %d usage rows priced (%.2f %% of list cost), "+
		"mean |error| %.4f, max |error| %.4f", aws.PricedRows, aws.UsageRows,
		*aws.CostCoverageRatio*100, *aws.MeanAbsErrorRatio, *aws.MaxAbsErrorRatio)

	// The reconciling items are the sample's: one AWS credit, two Oracle adjustments.
	require.InDelta(t, -2.6137, cloudOf(t, r, "aws").Items.Credits, 1e-9)
	require.InDelta(t, 0.272, cloudOf(t, r, "oracle").Items.Adjustments, 1e-9)
	require.Nil(t, cloudOf(t, r, "aws").ErrorRatio)

	code, out, _ = runCommand(t, "--storage.path="+t.TempDir(), "cost", "reconcile",
		"--billing="+focusSample)
	require.Equal(t, exitOK, code)
	require.Contains(t, out, "not_compute=915")
}

func TestCostReconcileErrors(t *testing.T) {
	bad := writeTemp(t, "bad.csv", "a,b\n1,2\n")
	for name, tc := range map[string]struct {
		args []string
		code int
		want string
	}{
		"missing file": {[]string{"--billing=/nonexistent.csv"}, exitError, "nonexistent.csv"},
		"unknown":      {[]string{"--billing=" + bad}, exitError, "bad.csv"},
		"bad from":     {[]string{"--billing=" + focusSample, "--from=x"}, exitError, "--from"},
		"bad to":       {[]string{"--billing=" + focusSample, "--to=x"}, exitError, "--to"},
		"to before":    {[]string{"--billing=" + focusSample, "--from=2", "--to=1"}, exitError, "after"},
		"max error":    {[]string{"--billing=" + focusSample, "--max-error=-1"}, exitError, "--max-error"},
		"max cycles":   {[]string{"--billing=" + focusSample, "--max-cycles=0"}, exitError, "--max-cycles"},
		"nothing":      {[]string{"--billing=" + focusSample, "--from=2030-01-01T00:00:00Z"}, exitInconclusive, "nothing to compare"},
		"unreachable":  {[]string{"--billing=" + focusSample, "--prometheus.url=http://" + closedAddr(t)}, exitError, "cost cycle"},
	} {
		t.Run(name, func(t *testing.T) {
			args := append([]string{"--storage.path=" + t.TempDir(), "cost", "reconcile"},
				tc.args...)
			if strings.HasPrefix(tc.args[len(tc.args)-1], "--prometheus.url") {
				args = append([]string{tc.args[len(tc.args)-1]}, args[:len(args)-1]...)
			}
			code, _, stderr := runCommand(t, args...)
			require.Equal(t, tc.code, code, stderr)
			require.Contains(t, stderr, tc.want)
		})
	}
}

// simBilling writes a simulated world with its billing export: kube-state-
// metrics and cAdvisor only, at one-minute steps, and returns its directory
// and truth.
func simBilling(t *testing.T, seed int64, allowlist bool) (string, *sim.Truth) {
	t.Helper()
	dir := t.TempDir()
	opts := sim.Options{Scenario: "steady", Seed: seed,
		Start:    time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC),
		Duration: 6 * time.Hour, Step: time.Minute, Telemetry: []string{},
		Billing: true, KSMLabelsAllowlist: allowlist}
	require.NoError(t, sim.WriteDir(dir, opts))
	data, err := os.ReadFile(filepath.Join(dir, "truth.json"))
	require.NoError(t, err)
	var truth sim.Truth
	require.NoError(t, json.Unmarshal(data, &truth))
	require.NotNil(t, truth.Billing)
	return dir, &truth
}

// discountConfig writes a configuration whose pricing.discounts are the
// world's negotiated discounts (none with discounts false), and whose
// cost.inventory is the world's inventory.yaml in dir.
func discountConfig(t *testing.T, truth *sim.Truth, dir string, discounts bool) string {
	t.Helper()
	var b strings.Builder
	fmt.Fprintf(&b, "cost:\n  inventory: [%s]\n", filepath.Join(dir, sim.InventoryFile))
	if discounts {
		b.WriteString("pricing:\n  discounts:\n")
		for _, c := range truth.Billing.Clouds {
			if c.DiscountRate > 0 {
				fmt.Fprintf(&b, "    - {cloud: %s, percent: %v}\n", c.Cloud, c.DiscountRate*100)
			}
		}
	}
	return writeTemp(t, "stratus.yml", b.String())
}

func reconcileSim(t *testing.T, dir, storage, config string, extra ...string) reconcileReport {
	t.Helper()
	args := []string{"--storage.path=" + storage,
		"--source.openmetrics=" + filepath.Join(dir, "metrics.om")}
	if config != "" {
		args = append(args, "--config.file="+config)
	}
	args = append(args, "cost", "reconcile", "--output=json",
		"--billing="+filepath.Join(dir, "billing_focus.csv"))
	code, out, stderr := runCommand(t, append(args, extra...)...)
	require.Contains(t, []int{exitOK, exitFinding}, code, stderr)
	return decodeReconcile(t, out)
}

// TestCostReconcileSimulated reconciles simulated worlds end to end through
// the command: the reconciling items equal truth.json's billing figures, and
// the estimate of matched node usage is within 3 % of the bill with the
// negotiated discounts configured; without them, the calibration learned on
// the first half of the period brings the second half within 3 %.
func TestCostReconcileSimulated(t *testing.T) {
	if testing.Short() {
		t.Skip("simulates and loads two six-hour worlds")
	}
	for _, tc := range []struct {
		seed      int64
		allowlist bool
	}{{1, false}, {2, true}} {
		t.Run(fmt.Sprintf("seed=%d", tc.seed), func(t *testing.T) {
			dir, truth := simBilling(t, tc.seed, tc.allowlist)

			// With the negotiated discounts.
			r := reconcileSim(t, dir, t.TempDir(), discountConfig(t, truth, dir, true))
			require.Equal(t, "metrics", r.Mode)
			require.Equal(t, 6, r.Cycles)
			require.Equal(t, truth.Billing.ChargePeriodStart, r.Period.Start)
			compared := 0
			for _, want := range truth.Billing.Clouds {
				got := cloudOf(t, r, want.Cloud)
				require.InDelta(t, want.Credits, got.Items.Credits, 1e-9, want.Cloud)
				require.InDelta(t, want.Taxes, got.Items.Taxes, 1e-9, want.Cloud)
				require.InDelta(t, want.Adjustments, got.Items.Adjustments, 1e-9, want.Cloud)
				require.InDelta(t, want.BilledUsage, got.BilledUsage, 1e-9, want.Cloud)
				require.InDelta(t, want.TotalBilled, got.TotalBilled, 1e-9, want.Cloud)
				if want.Commitment != nil {
					require.InDelta(t, want.Commitment.Purchases,
						got.Items.CommitmentPurchases, 1e-9, want.Cloud)
					require.InDelta(t, want.Commitment.CoveredEffectiveCost,
						got.Items.CoveredUsageEffective, 1e-9, want.Cloud)
				}
				if got.ErrorRatio == nil {
					// Every node of the cloud is covered by its commitment: its
					// usage is a reconciling item, with nothing left to compare.
					require.Zero(t, got.Billed, want.Cloud)
					t.Logf("seed %d %s: all node usage covered by the commitment "+
						"(estimate %.6f against covered effective cost %.6f)", tc.seed,
						want.Cloud, got.EstimatedCommitted, got.Items.CoveredUsageEffective)
					continue
				}
				compared++
				require.Less(t, math.Abs(*got.ErrorRatio), 0.03, want.Cloud)
				t.Logf("seed %d %s, discount %.0f %% configured: billed %.6f estimated %.6f "+
					"error %+.4f %% coverage %.2f %% (credits %.2f taxes %.2f adjustments %.4f)",
					tc.seed, want.Cloud, want.DiscountRate*100, got.Billed, got.Estimated,
					*got.ErrorRatio*100, *got.CoverageRatio*100, got.Items.Credits,
					got.Items.Taxes, got.Items.Adjustments)
			}

			require.Positive(t, compared)

			// Without the discounts: learn on the first half, apply to the second.
			start, err := time.Parse(time.RFC3339, truth.Billing.ChargePeriodStart)
			require.NoError(t, err)
			end, err := time.Parse(time.RFC3339, truth.Billing.ChargePeriodEnd)
			require.NoError(t, err)
			mid := start.Add(end.Sub(start) / 2).Format(time.RFC3339)
			storage := t.TempDir()
			plain := discountConfig(t, truth, dir, false)
			first := reconcileSim(t, dir, storage, plain, "--to="+mid)
			require.NotEmpty(t, first.CalibrationFile)
			cal, err := readCalibration(first.CalibrationFile)
			require.NoError(t, err)
			second := reconcileSim(t, dir, t.TempDir(), plain, "--from="+mid,
				"--no-write-calibration")
			require.Empty(t, second.CalibrationFile)
			for _, c := range second.Clouds {
				if c.ErrorRatio == nil {
					continue
				}
				f := cal.Factor(c.Cloud, c.Currency)
				after := (c.Estimated*f - c.Billed) / c.Billed
				require.Less(t, math.Abs(after), 0.03, c.Cloud)
				t.Logf("seed %d %s, no discount configured: second-half error %+.4f %% "+
					"before calibration, %+.4f %% after (factor %.4f from the first half)",
					tc.seed, c.Cloud, *c.ErrorRatio*100, after*100, f)
			}
		})
	}
}

func TestCostWindows(t *testing.T) {
	h := func(n float64) time.Time {
		return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(n * float64(time.Hour)))
	}
	p := cost.Period{Start: h(0.5), End: h(4)}
	require.Equal(t, []costWindow{{h(0.5), h(1)}, {h(1), h(2)}, {h(2), h(3)}, {h(3), h(4)}},
		costWindows(p, time.Time{}, time.Time{}, 10))
	require.Equal(t, []costWindow{{h(0.5), h(2)}, {h(2), h(4)}},
		costWindows(p, time.Time{}, time.Time{}, 2))
	require.Equal(t, []costWindow{{h(1.25), h(2)}, {h(2), h(2.5)}},
		costWindows(p, h(1.25), h(2.5), 10))
	require.Empty(t, costWindows(cost.Period{Start: h(2), End: h(1)}, time.Time{}, time.Time{}, 1))
}

// TestBillingCostEngine reconciles in serve's cost job: once when the export
// appears, not again while it is unchanged.
func TestBillingCostEngine(t *testing.T) {
	dir, _ := simBilling(t, 1, false)
	code, _, stderr := runCommand(t, "--storage.path="+t.TempDir(),
		"--source.openmetrics="+filepath.Join(dir, "metrics.om"), "cost", "report")
	require.Equal(t, exitOK, code, stderr)

	g, src, e := billingEngineOver(t, dir, filepath.Join(dir, "billing_focus.csv"))
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err := e.Run(ctx, src.fixedAt)
	require.NoError(t, err)
	errs := e.billingErrors()
	require.Contains(t, errs, "aws")
	require.Greater(t, errs["aws"], 0.0, "no discount configured: the estimate is high")
	require.FileExists(t, filepath.Join(g.storagePath, calibrationFile))

	e.errors = nil
	_, err = e.Run(ctx, src.fixedAt)
	require.NoError(t, err)
	require.Empty(t, e.billingErrors(), "unchanged exports are not reconciled again")

	e.files = []string{filepath.Join(dir, "missing.csv")}
	_, err = e.Run(ctx, src.fixedAt)
	require.NoError(t, err, "a missing export never fails the cost cycle")
	require.Empty(t, e.billingErrors())

	// A missing export does not keep the readable ones from being reconciled.
	e.files = append(e.files, filepath.Join(dir, "billing_focus.csv"))
	_, err = e.Run(ctx, src.fixedAt)
	require.NoError(t, err)
	require.Contains(t, e.billingErrors(), "aws")
}

// TestCostReconcileSimulatedReprice re-prices a simulated export: its EC2
// instance hours are written in AWS's wording and priced by the embedded book
// at exactly their list unit price; the other rows (RDS, MQ, GCP and Azure,
// whose exports name no instance type Stratus reads) are not compute.
func TestCostReconcileSimulatedReprice(t *testing.T) {
	dir, truth := simBilling(t, 1, false)
	code, out, stderr := runCommand(t, "--storage.path="+t.TempDir(), "cost", "reconcile",
		"--billing="+filepath.Join(dir, "billing_focus.csv"), "--output=json")
	require.Equal(t, exitOK, code, stderr)
	r := decodeReconcile(t, out)
	require.Equal(t, "reprice", r.Mode)
	var aws priceBookReport
	for _, p := range r.PriceBook {
		if p.Cloud == "aws" {
			aws = p
		}
	}
	require.Positive(t, aws.PricedRows)
	require.InDelta(t, 0, *aws.MaxAbsErrorRatio, 1e-12)
	require.Equal(t, aws.UsageRows-aws.PricedRows, aws.Unpriced["not_compute"])
	require.NotNil(t, truth.Billing)
}

// TestBillingCostEnginePartial: when one of two exports goes missing, the
// clouds only it billed keep their last error and calibration.
func TestBillingCostEnginePartial(t *testing.T) {
	dir, _ := simBilling(t, 1, false)
	in, err := os.Open(filepath.Join(dir, "billing_focus.csv"))
	require.NoError(t, err)
	records, err := csv.NewReader(in).ReadAll()
	require.NoError(t, err)
	require.NoError(t, in.Close())
	provider := slices.Index(records[0], "ProviderName")
	split := map[bool][][]string{true: {records[0]}, false: {records[0]}}
	for _, r := range records[1:] {
		aws := r[provider] == "AWS"
		split[aws] = append(split[aws], r)
	}
	awsFile, otherFile := filepath.Join(dir, "aws.csv"), filepath.Join(dir, "other.csv")
	for file, rows := range map[string][][]string{awsFile: split[true], otherFile: split[false]} {
		f, err := os.Create(file)
		require.NoError(t, err)
		w := csv.NewWriter(f)
		require.NoError(t, w.WriteAll(rows))
		require.NoError(t, f.Close())
	}

	g, src, e := billingEngineOver(t, dir, awsFile, otherFile)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	_, err = e.Run(ctx, src.fixedAt)
	require.NoError(t, err)
	before := e.billingErrors()
	require.Contains(t, before, "aws")
	require.Contains(t, before, "gcp")

	require.NoError(t, os.Remove(awsFile))
	_, err = e.Run(ctx, src.fixedAt)
	require.NoError(t, err)
	require.Equal(t, before, e.billingErrors(), "aws keeps its last error")
	cal, err := readCalibration(filepath.Join(g.storagePath, calibrationFile))
	require.NoError(t, err)
	require.InDelta(t, 0.93, cal.Factor("aws", "USD"), 1e-9, "and its calibration")
	require.InDelta(t, 0.95, cal.Factor("gcp", "USD"), 1e-9)
}

// billingEngineOver builds serve's cost job over the world in dir, reconciling
// files: the engine and the source it reads, under fresh storage.
func billingEngineOver(t *testing.T, dir string, files ...string,
) (*globals, *source, *billingCostEngine) {
	t.Helper()
	g := &globals{stdout: io.Discard, stderr: io.Discard, logger: slog.New(slog.DiscardHandler),
		openMetrics: []string{filepath.Join(dir, "metrics.om")}, storagePath: t.TempDir()}
	require.NoError(t, g.loadConfig())
	src, err := g.openSource(nil, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = src.close() })
	book, err := g.newPriceBook()
	require.NoError(t, err)
	inner, err := g.newCostEngine(src.querier, book)
	require.NoError(t, err)
	e, err := g.newBillingCostEngine(inner, src, book, files)
	require.NoError(t, err)
	return g, src, e
}
