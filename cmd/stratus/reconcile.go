package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/stratus-monitoring/stratus/analysis"
	"github.com/stratus-monitoring/stratus/cost"
	"github.com/stratus-monitoring/stratus/cost/billing"
	"github.com/stratus-monitoring/stratus/internal/atomicfile"
	"github.com/stratus-monitoring/stratus/query"
)

// Defaults of `stratus cost reconcile`.
const (
	// defaultMaxError is the requirement: estimates within 10 % of the bill.
	defaultMaxError = 0.10
	// defaultMaxCycles bounds the cost cycles a reconciliation runs: one per
	// hour of a 31-day month.
	defaultMaxCycles = 744
	// calibrationFile is where the learned calibration is kept under
	// --storage.path.
	calibrationFile = "calibration.json"
	// dataLookback is how long after its last sample loaded data is taken to
	// cover, as a Prometheus instant query would (its lookback delta).
	dataLookback = 5 * time.Minute
)

type costReconcileCommand struct {
	billing          []string
	output           string
	from, to         string
	maxError         float64
	maxCycles        int
	writeCalibration bool
}

func newCostReconcileCommand(cmd *kingpin.CmdClause) *costReconcileCommand {
	c := &costReconcileCommand{}
	cmd.Flag("billing", "Billing export to reconcile with: FOCUS 1.x CSV, AWS CUR 2.0 "+
		"(CSV or Parquet), GCP BigQuery export (CSV or JSON) or Azure cost export CSV; "+
		"the format is detected. Repeatable.").Required().PlaceHolder("FILE").
		StringsVar(&c.billing)
	cmd.Flag("output", "Output format: text or json.").Default("text").
		EnumVar(&c.output, "text", "json")
	cmd.Flag("from", "Start of the period to reconcile, RFC 3339 or Unix seconds. "+
		"Default: the export's first charge period.").StringVar(&c.from)
	cmd.Flag("to", "End of the period to reconcile (exclusive), RFC 3339 or Unix "+
		"seconds. Default: the export's last charge period end.").StringVar(&c.to)
	cmd.Flag("max-error", "Exit 1 when a cloud's |error_ratio| (or, with no metrics "+
		"source, the price book's cost error) exceeds this.").
		Default(fmt.Sprint(defaultMaxError)).Float64Var(&c.maxError)
	cmd.Flag("max-cycles", "Most cost cycles to run over the period; a longer period "+
		"is sampled every few hours, each cycle standing for the hours around it.").
		Default(fmt.Sprint(defaultMaxCycles)).IntVar(&c.maxCycles)
	cmd.Flag("write-calibration", "Write the per-cloud calibration factors learned to "+
		"<storage.path>/"+calibrationFile+" (with a metrics source only).").
		Default("true").BoolVar(&c.writeCalibration)
	return c
}

// run reconciles the billing exports with the cost engine's estimates, or, with
// no metrics source, re-prices their usage rows with the price book.
func (c *costReconcileCommand) run(ctx context.Context, g *globals) int {
	fail := func(err error) int {
		fmt.Fprintf(g.stderr, "stratus: %v\n", err)
		return exitError
	}
	if c.maxError < 0 || math.IsNaN(c.maxError) {
		return fail(errors.New("--max-error: must be a non-negative ratio"))
	}
	if c.maxCycles < 1 {
		return fail(errors.New("--max-cycles: must be at least 1"))
	}
	from, to, err := c.bounds()
	if err != nil {
		return fail(err)
	}
	rows, err := readBillingExports(c.billing, g)
	if err != nil {
		return fail(err)
	}
	book, err := g.newPriceBook()
	if err != nil {
		return fail(err)
	}
	g.loadCachedCatalogs(book)

	report := reconcileReport{Files: c.billing}
	in := cost.ReconcileInput{Rows: rows, From: from, To: to}
	if g.cfg.Prometheus.URL == "" && len(g.openMetrics) == 0 {
		// No metrics source: never the demo, whose estimates would be of
		// another world. Re-price the export instead.
		report.Mode = "reprice"
		rec := cost.Reconcile(in)
		report.fill(rec, nil)
		report.PriceBook = priceBookReports(cost.CheckPriceBook(periodRows(rows, rec.Period), book))
		return c.finish(g, report)
	}

	report.Mode = "metrics"
	src, err := g.openSource(nil, nil)
	if err != nil {
		return fail(err)
	}
	defer func() { _ = src.close() }()
	engine, err := g.newWindowCostEngine(src.querier, book, false)
	if err != nil {
		return fail(err)
	}
	period := in.Period()
	dataStart, dataEnd := time.Time{}, time.Time{}
	if src.embedded != nil {
		dataStart, dataEnd = src.embedded.MinTime(), src.embedded.MaxTime().Add(dataLookback)
	}
	windows := costWindows(period, dataStart, dataEnd, c.maxCycles)
	ctx = query.WithEngine(ctx, cost.EngineName)
	estimates, err := estimateWindows(ctx, engine, windows,
		time.Duration(g.cfg.Engines.Cost.Timeout))
	if err != nil {
		return fail(err)
	}
	in.Estimates = estimates
	rec := cost.Reconcile(in)
	cal := cost.CalibrationOf(rec, time.Now())
	report.Cycles = len(windows)
	report.fill(rec, &cal)
	if c.writeCalibration && len(cal.Clouds) > 0 {
		path := filepath.Join(g.storagePath, calibrationFile)
		if err := writeCalibration(path, cal); err != nil {
			return fail(err)
		}
		report.CalibrationFile = path
	}
	return c.finish(g, report)
}

// bounds parses --from and --to.
func (c *costReconcileCommand) bounds() (from, to time.Time, err error) {
	if c.from != "" {
		if from, err = parseTime(c.from); err != nil {
			return from, to, fmt.Errorf("--from: %w", err)
		}
	}
	if c.to != "" {
		if to, err = parseTime(c.to); err != nil {
			return from, to, fmt.Errorf("--to: %w", err)
		}
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, errors.New("--to must be after --from")
	}
	return from, to, nil
}

// finish writes the report and returns the exit code: 2 when there is
// nothing to compare, 1 when an error exceeds --max-error, 0 otherwise.
func (c *costReconcileCommand) finish(g *globals, r reconcileReport) int {
	var err error
	if c.output == "json" {
		enc := json.NewEncoder(g.stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(r)
	} else {
		err = writeReconcileText(g.stdout, r)
	}
	if err != nil {
		fmt.Fprintf(g.stderr, "stratus: writing the report: %v\n", err)
		return exitError
	}

	compared, exceeded := false, []string{}
	check := func(cloud string, v *float64) {
		if v == nil {
			return
		}
		compared = true
		if math.Abs(*v) > c.maxError {
			exceeded = append(exceeded, fmt.Sprintf("%s %+.4f", cloud, *v))
		}
	}
	if r.Mode == "reprice" {
		for _, p := range r.PriceBook {
			check(p.Cloud, p.CostErrorRatio)
		}
	} else {
		for _, cl := range r.Clouds {
			check(cl.Cloud, cl.ErrorRatio)
		}
	}
	switch {
	case !compared:
		fmt.Fprintln(g.stderr, "stratus: nothing to compare: no billed usage matched a "+
			"resource Stratus estimated or a price in the price book")
		return exitInconclusive
	case len(exceeded) > 0:
		fmt.Fprintf(g.stderr, "stratus: error beyond --max-error %.4f: %s\n", c.maxError,
			strings.Join(exceeded, ", "))
		return exitFinding
	}
	return exitOK
}

// readBillingExports reads every export; a skipped row is logged with its
// file and line, and a file that cannot be read is an error naming it.
func readBillingExports(paths []string, g *globals) ([]billing.Row, error) {
	var rows []billing.Row
	for _, path := range paths {
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("--billing: %w", err)
		}
		read, skipped, err := billing.Detect(f, path)
		_ = f.Close()
		if err != nil {
			return nil, err
		}
		for _, s := range skipped {
			if s.Kind == billing.SkippedRow {
				g.logger.Warn("billing row skipped", "file", path, "line", s.Line,
					"field", s.Field, "reason", s.Reason)
			}
		}
		rows = append(rows, read...)
	}
	return rows, nil
}

// periodRows returns the rows whose charge period starts in p.
func periodRows(rows []billing.Row, p cost.Period) []billing.Row {
	var out []billing.Row
	for i := range rows {
		t := rows[i].ChargePeriodStart
		if !t.Before(p.Start) && t.Before(p.End) {
			out = append(out, rows[i])
		}
	}
	return out
}

// costWindow is a stretch of time one cost cycle stands for: the cycle runs
// at its middle.
type costWindow struct{ start, end time.Time }

// costWindows divides a period into the windows of at most maxCycles cost
// cycles: whole UTC hours, or runs of several hours when the period has more
// hours than maxCycles. Windows are clipped to the data when its bounds are
// known (dataStart and dataEnd non-zero); windows outside it are dropped.
func costWindows(p cost.Period, dataStart, dataEnd time.Time, maxCycles int) []costWindow {
	start := p.Start.UTC().Truncate(time.Hour)
	hours := int(math.Ceil(p.End.Sub(start).Hours()))
	if hours <= 0 {
		return nil
	}
	stride := time.Duration((hours+maxCycles-1)/maxCycles) * time.Hour
	var out []costWindow
	for t := start; t.Before(p.End); t = t.Add(stride) {
		w := costWindow{start: laterOf(t, p.Start), end: earlierOf(t.Add(stride), p.End)}
		if !dataStart.IsZero() {
			w.start = laterOf(w.start, dataStart)
		}
		if !dataEnd.IsZero() {
			w.end = earlierOf(w.end, dataEnd)
		}
		if w.end.After(w.start) {
			out = append(out, w)
		}
	}
	return out
}

func laterOf(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlierOf(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// estimateWindows runs one cost cycle in the middle of each window and turns
// each priced resource's cost per hour (nodes, inventory resources) into an estimate for every UTC hour the
// window overlaps, in proportion to the overlap.
func estimateWindows(ctx context.Context, engine analysis.Engine, windows []costWindow,
	timeout time.Duration,
) ([]cost.ResourceHourEstimate, error) {
	var out []cost.ResourceHourEstimate
	for _, w := range windows {
		at := w.start.Add(w.end.Sub(w.start) / 2)
		cycleCtx, cancel := context.WithTimeout(ctx, timeout)
		v, err := engine.Run(cycleCtx, at)
		cancel()
		if err != nil {
			return nil, fmt.Errorf("cost cycle at %s: %w", at.Format(time.RFC3339), err)
		}
		snap := v.(*cost.Snapshot)
		for h := w.start.Truncate(time.Hour); h.Before(w.end); h = h.Add(time.Hour) {
			overlap := earlierOf(h.Add(time.Hour), w.end).Sub(laterOf(h, w.start)).Hours()
			for _, r := range snap.Result.Resources {
				out = append(out, cost.ResourceHourEstimate{Cloud: r.Cloud,
					ResourceID: cost.BilledResourceID(r.ID), Hour: h,
					Cost:     r.CostPerHour * overlap,
					Currency: snap.Currency})
			}
		}
	}
	return out, nil
}

// writeCalibration writes the calibration atomically: to a temporary file in
// the same directory, then renamed over the old one.
func writeCalibration(path string, cal cost.Calibration) error {
	data, err := json.MarshalIndent(cal, "", "  ")
	if err != nil {
		return fmt.Errorf("calibration: %w", err)
	}
	if err := atomicfile.Write(path, append(data, '\n')); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// readCalibration reads a calibration written by writeCalibration.
func readCalibration(path string) (cost.Calibration, error) {
	var cal cost.Calibration
	data, err := os.ReadFile(path)
	if err != nil {
		return cal, err
	}
	if err := json.Unmarshal(data, &cal); err != nil {
		return cal, fmt.Errorf("%s: %w", path, err)
	}
	return cal, nil
}

// reconcileReport is the JSON schema of `stratus cost reconcile --output=json`.
// Money is in each cloud's currency; ratios are null when undefined.
type reconcileReport struct {
	// Mode is "metrics" (estimates from the cost engine) or "reprice" (no
	// metrics source: the price book against the export's list prices).
	Mode   string   `json:"mode"`
	Files  []string `json:"files"`
	Period struct {
		Start string `json:"start"`
		End   string `json:"end"`
	} `json:"period"`
	// Cycles is how many cost cycles ran (metrics mode).
	Cycles           int               `json:"cycles"`
	Clouds           []cloudReport     `json:"clouds"`
	ByAccountService []groupReport     `json:"by_account_service"`
	ByDay            []groupReport     `json:"by_day"`
	PriceBook        []priceBookReport `json:"price_book,omitempty"`
	CalibrationFile  string            `json:"calibration_file,omitempty"`
}

type cloudReport struct {
	Cloud              string      `json:"cloud"`
	Currency           string      `json:"currency"`
	BilledUsage        float64     `json:"billed_usage"`
	Billed             float64     `json:"billed"`
	Estimated          float64     `json:"estimated"`
	EstimatedCommitted float64     `json:"estimated_committed"`
	EstimatedUnmatched float64     `json:"estimated_unmatched"`
	ErrorRatio         *float64    `json:"error_ratio"`
	CoverageRatio      *float64    `json:"coverage_ratio"`
	CalibrationFactor  *float64    `json:"calibration_factor"`
	MatchedResources   int         `json:"matched_resources"`
	UnmatchedResources int         `json:"unmatched_resources"`
	TotalBilled        float64     `json:"total_billed"`
	Items              itemsReport `json:"items"`
}

type itemsReport struct {
	Credits     float64 `json:"credits"`
	Commitments float64 `json:"commitments"`
	Refunds     float64 `json:"refunds"`
	Taxes       float64 `json:"taxes"`
	Adjustments float64 `json:"adjustments"`
	Other       float64 `json:"other"`
	// The parts of Commitments, and what the covered usage would have cost.
	CommitmentPurchases   float64 `json:"commitment_purchases"`
	CoveredUsageBilled    float64 `json:"covered_usage_billed"`
	CoveredUsageEffective float64 `json:"covered_usage_effective"`
	CoveredUsageList      float64 `json:"covered_usage_list"`
}

type groupReport struct {
	Cloud      string   `json:"cloud"`
	Currency   string   `json:"currency"`
	Account    string   `json:"account,omitempty"`
	Service    string   `json:"service,omitempty"`
	Day        string   `json:"day,omitempty"`
	Billed     float64  `json:"billed"`
	Estimated  float64  `json:"estimated"`
	ErrorRatio *float64 `json:"error_ratio"`
	Coverage   *float64 `json:"coverage_ratio"`
}

type priceBookReport struct {
	Cloud             string         `json:"cloud"`
	Currency          string         `json:"currency"`
	UsageRows         int            `json:"usage_rows"`
	PricedRows        int            `json:"priced_rows"`
	CostCoverageRatio *float64       `json:"cost_coverage_ratio"`
	MeanAbsErrorRatio *float64       `json:"mean_abs_error_ratio"`
	MaxAbsErrorRatio  *float64       `json:"max_abs_error_ratio"`
	MeanErrorRatio    *float64       `json:"mean_error_ratio"`
	CostErrorRatio    *float64       `json:"cost_error_ratio"`
	MaxErrorRow       string         `json:"max_error_row,omitempty"`
	Unpriced          map[string]int `json:"unpriced"`
}

// ratio is a ratio for JSON: nil (null) when undefined.
func ratio(v float64) *float64 {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return nil
	}
	return &v
}

// fill sets the report's figures from a reconciliation; cal is nil in
// re-price mode, where nothing was estimated.
func (r *reconcileReport) fill(rec cost.Reconciliation, cal *cost.Calibration) {
	r.Period.Start = rec.Period.Start.Format(time.RFC3339)
	r.Period.End = rec.Period.End.Format(time.RFC3339)
	r.Clouds, r.ByAccountService, r.ByDay = []cloudReport{}, []groupReport{}, []groupReport{}
	for _, c := range rec.Clouds {
		cr := cloudReport{
			Cloud: c.Cloud, Currency: c.Currency, BilledUsage: c.BilledUsage,
			Billed: c.Billed, Estimated: c.Estimated, EstimatedCommitted: c.EstimatedCommitted,
			EstimatedUnmatched: c.EstimatedUnmatched,
			MatchedResources:   c.MatchedResources, UnmatchedResources: c.UnmatchedResources,
			TotalBilled: c.TotalBilled,
			Items: itemsReport{
				Credits: c.Items.Credits, Commitments: c.Items.Commitments(),
				Refunds: c.Items.Refunds, Taxes: c.Items.Taxes, Adjustments: c.Items.Adjustments,
				Other: c.Items.Other, CommitmentPurchases: c.Items.Purchases,
				CoveredUsageBilled: c.Items.CoveredBilled, CoveredUsageEffective: c.Items.CoveredEffective,
				CoveredUsageList: c.Items.CoveredList,
			},
		}
		if cal != nil {
			cr.CoverageRatio = ratio(c.CoverageRatio())
			cr.ErrorRatio = ratio(c.ErrorRatio())
			cr.CalibrationFactor = ratio(c.CalibrationFactor())
		}
		r.Clouds = append(r.Clouds, cr)
	}
	if cal == nil {
		return
	}
	for _, g := range rec.ByAccountService {
		r.ByAccountService = append(r.ByAccountService, groupOf(g))
	}
	for _, g := range rec.ByDay {
		r.ByDay = append(r.ByDay, groupOf(g))
	}
}

func groupOf(g cost.GroupReconciliation) groupReport {
	out := groupReport{Cloud: g.Cloud, Currency: g.Currency, Account: g.Account,
		Service: g.Service, Billed: g.Billed, Estimated: g.Estimated,
		ErrorRatio: ratio(g.ErrorRatio()), Coverage: ratio(g.CoverageRatio())}
	if !g.Day.IsZero() {
		out.Day = g.Day.Format(time.DateOnly)
	}
	return out
}

func priceBookReports(checks []cost.PriceBookCheck) []priceBookReport {
	out := make([]priceBookReport, 0, len(checks))
	for _, c := range checks {
		out = append(out, priceBookReport{
			Cloud: c.Cloud, Currency: c.Currency, UsageRows: c.UsageRows,
			PricedRows: c.PricedRows, CostCoverageRatio: ratio(c.CostCoverage()),
			MeanAbsErrorRatio: ratio(c.MeanAbsError), MaxAbsErrorRatio: ratio(c.MaxAbsError),
			MeanErrorRatio: ratio(c.MeanError), CostErrorRatio: ratio(c.CostError()),
			MaxErrorRow: c.MaxErrorRow, Unpriced: c.Unpriced,
		})
	}
	return out
}

// writeReconcileText writes the report as tables: per cloud, reconciling
// items, and in re-price mode the price book's error.
func writeReconcileText(w io.Writer, r reconcileReport) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "Reconciliation of %s, %s to %s (%s", strings.Join(r.Files, ", "),
		r.Period.Start, r.Period.End, r.Mode)
	if r.Mode == "metrics" {
		fmt.Fprintf(tw, ", %d cost cycles", r.Cycles)
	}
	fmt.Fprint(tw, ")\n\n")
	if r.Mode == "metrics" {
		fmt.Fprintln(tw, "CLOUD\tCURRENCY\tBILLED USAGE\tMATCHED BILLED\tESTIMATED\tERROR\t"+
			"COVERAGE\tCALIBRATION\tCOMMITTED EST.\tUNMATCHED EST.")
		for _, c := range r.Clouds {
			fmt.Fprintf(tw, "%s\t%s\t%.4f\t%.4f\t%.4f\t%s\t%s\t%s\t%.4f\t%.4f\n", c.Cloud,
				c.Currency, c.BilledUsage, c.Billed, c.Estimated, pct(c.ErrorRatio),
				pct(c.CoverageRatio), factor(c.CalibrationFactor), c.EstimatedCommitted,
				c.EstimatedUnmatched)
		}
	} else {
		fmt.Fprintln(tw, "CLOUD\tCURRENCY\tBILLED USAGE (no metrics source: nothing estimated)")
		for _, c := range r.Clouds {
			fmt.Fprintf(tw, "%s\t%s\t%.4f\n", c.Cloud, c.Currency, c.BilledUsage)
		}
	}
	fmt.Fprintln(tw, "\nReconciling items (billed cost, not part of the error):")
	fmt.Fprintln(tw, "CLOUD\tCREDITS\tCOMMITMENTS\t(PURCHASES\tCOVERED USAGE)\tREFUNDS\tTAXES\t"+
		"ADJUSTMENTS\tTOTAL BILLED")
	for _, c := range r.Clouds {
		i := c.Items
		fmt.Fprintf(tw, "%s\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\t%.4f\n", c.Cloud,
			i.Credits, i.Commitments, i.CommitmentPurchases, i.CoveredUsageBilled, i.Refunds,
			i.Taxes, i.Adjustments, c.TotalBilled)
	}
	if len(r.PriceBook) > 0 {
		fmt.Fprintln(tw, "\nPrice book against the export's list unit prices:")
		fmt.Fprintln(tw, "CLOUD\tUSAGE ROWS\tPRICED\tCOST COVERAGE\tMEAN |ERR|\tMAX |ERR|\t"+
			"COST ERROR\tUNPRICED BY REASON")
		for _, p := range r.PriceBook {
			var reasons []string
			for _, k := range slices.Sorted(maps.Keys(p.Unpriced)) {
				reasons = append(reasons, fmt.Sprintf("%s=%d", k, p.Unpriced[k]))
			}
			fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\t%s\n", p.Cloud, p.UsageRows,
				p.PricedRows, pct(p.CostCoverageRatio), pct(p.MeanAbsErrorRatio),
				pct(p.MaxAbsErrorRatio), pct(p.CostErrorRatio), strings.Join(reasons, " "))
		}
	}
	if r.CalibrationFile != "" {
		fmt.Fprintf(tw, "\nCalibration written to %s\n", r.CalibrationFile)
	}
	return tw.Flush()
}

func pct(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%+.2f%%", *v*100)
}

func factor(v *float64) string {
	if v == nil {
		return "-"
	}
	return fmt.Sprintf("%.4f", *v)
}
