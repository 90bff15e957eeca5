package cost

import (
	"cmp"
	"maps"
	"math"
	"slices"
	"time"

	"github.com/stratus-monitoring/stratus/cost/billing"
)

// ResourceHourEstimate is Stratus's estimate of what one resource cost in one
// hour: its cost per hour at that hour times the share of the hour it was
// estimated for.
type ResourceHourEstimate struct {
	Cloud      string
	ResourceID string // as the cost engine names it: a providerID, or cluster/node
	Hour       time.Time
	Cost       float64
	Currency   string
}

// ReconcileInput is what Reconcile compares: the rows of billing exports and
// Stratus's estimates. From and To bound the period (To exclusive); zero
// values take the rows' own: the earliest charge period start and the latest
// charge period end.
type ReconcileInput struct {
	Rows      []billing.Row
	Estimates []ResourceHourEstimate
	From, To  time.Time
}

// Period is a time range, end exclusive.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// Reconciliation compares estimates with a bill, per cloud and currency and
// per cloud, account, service and day.
type Reconciliation struct {
	Period Period
	Clouds []CloudReconciliation
	// Groups break the comparison down by account and service, and by day.
	ByAccountService []GroupReconciliation
	ByDay            []GroupReconciliation
}

// Comparison is the estimate-against-bill part of a reconciliation.
//
// Billed figures are BilledCost of Usage rows not priced by a commitment
// (billing.ItemUsage). For those rows BilledCost is what the provider charged
// for the usage, and it is the column every export fills; EffectiveCost would
// say the same for them, but some exports leave it unknown or, like the FOCUS
// sample, rounded. Commitment-priced usage is billed through the commitment
// and is a reconciling item (Items.Commitments), never part of the error.
type Comparison struct {
	// BilledUsage is the BilledCost of every usage row in the period.
	BilledUsage float64
	// Billed is the part of BilledUsage matched to a resource Stratus
	// estimated, over the hours it estimated (a row spanning several hours,
	// such as a daily one, counts in proportion to the hours estimated).
	Billed float64
	// Estimated is Stratus's estimate of those same resources and hours.
	Estimated float64
	// EstimatedCommitted is the estimate of resource-hours the export prices
	// by a commitment: compare it with Items.CoveredEffective, not with Billed.
	EstimatedCommitted float64
	// EstimatedUnmatched is the estimate of resource-hours the export does not
	// bill: resources it does not name, or hours outside its rows.
	EstimatedUnmatched float64
	// MatchedRows counts usage rows matched, UsageRows all usage rows.
	MatchedRows, UsageRows int
}

// ErrorRatio is (Estimated − Billed) / Billed; NaN when nothing was matched.
func (c Comparison) ErrorRatio() float64 {
	if c.Billed == 0 {
		return math.NaN()
	}
	return (c.Estimated - c.Billed) / c.Billed
}

// CoverageRatio is Billed / BilledUsage: the share of billed usage matched to
// a resource Stratus estimated. NaN when no usage was billed.
func (c Comparison) CoverageRatio() float64 {
	if c.BilledUsage == 0 {
		return math.NaN()
	}
	return c.Billed / c.BilledUsage
}

// CalibrationFactor is Billed / Estimated on matched usage: what later
// estimates of the cloud are multiplied by. NaN when nothing was estimated.
func (c Comparison) CalibrationFactor() float64 {
	if c.Estimated == 0 {
		return math.NaN()
	}
	return c.Billed / c.Estimated
}

// Items are the reconciling items: the parts of a bill an estimate from usage
// and prices does not predict, each shown on its own and never mixed into the
// error. Amounts are BilledCost; credits, refunds and most adjustments are
// negative.
type Items struct {
	Credits     float64
	Refunds     float64
	Taxes       float64
	Adjustments float64
	// Purchases are commitment fees, upfront payments and marketplace purchases.
	Purchases float64
	// CoveredBilled is the BilledCost of usage a commitment priced (often 0:
	// the commitment's purchase pays for it), CoveredEffective its
	// EffectiveCost (the commitment amortised onto it), CoveredList its list cost.
	CoveredBilled, CoveredEffective, CoveredList float64
	// Other is rows whose charge category is not a FOCUS one.
	Other float64
}

// Commitments is what commitments added to the bill: purchases and the
// billed cost of the usage they priced.
func (i Items) Commitments() float64 { return i.Purchases + i.CoveredBilled }

// CloudReconciliation is the reconciliation of one cloud in one currency.
type CloudReconciliation struct {
	Cloud, Currency string
	Comparison
	Items Items
	// TotalBilled is the BilledCost of every row of the cloud in the period.
	TotalBilled float64
	// MatchedResources counts the billed resources matched to an estimate;
	// UnmatchedResources the resources estimated that the export does not bill.
	MatchedResources, UnmatchedResources int
}

// GroupReconciliation is the comparison of one cloud, currency and group:
// an account and service, or a UTC day (then Account and Service are empty).
type GroupReconciliation struct {
	Cloud, Currency, Account, Service string
	Day                               time.Time
	Comparison
}

type currencyCloud struct{ cloud, currency string }

type billedResourceKey struct {
	cloud, currency, key string
}

type groupKey struct {
	cloud, currency, account, service string
	day                               time.Time
}

// rowMatch is what matching learned of one usage or committed-usage row.
type rowMatch struct {
	row   *billing.Row
	item  billing.Item
	hours map[time.Time]bool // hours of the row estimated
}

// Reconcile compares estimates with billing rows. Rows and estimates in
// different currencies are never added: each (cloud, currency) is reconciled
// on its own. See BillingResourceKeys for how resources are matched.
//
// An estimate matches the usage and committed-usage rows of its resource whose
// charge period holds its hour. Its cost is split between the two in
// proportion to their list cost (all to usage when the rows give none), so a
// resource-hour partly covered by a commitment is compared in part.
func Reconcile(in ReconcileInput) Reconciliation {
	period := in.Period()
	rec := Reconciliation{Period: period}
	clouds := map[currencyCloud]*CloudReconciliation{}
	cloudOf := func(cloud, currency string) *CloudReconciliation {
		k := currencyCloud{cloud, currency}
		c, ok := clouds[k]
		if !ok {
			c = &CloudReconciliation{Cloud: cloud, Currency: currency}
			clouds[k] = c
		}
		return c
	}

	// Rows: reconciling items, usage totals, and an index of resource rows.
	byResource := map[billedResourceKey][]*rowMatch{}
	var matches []*rowMatch
	for i := range in.Rows {
		r := &in.Rows[i]
		if !inPeriod(r.ChargePeriodStart, period) {
			continue
		}
		c := cloudOf(r.Cloud, r.Currency)
		c.TotalBilled += r.BilledCost
		item := billing.ItemOf(r)
		addItem(&c.Items, item, r)
		if item == billing.ItemUsage {
			c.BilledUsage += r.BilledCost
			c.UsageRows++
		}
		if item != billing.ItemUsage && item != billing.ItemCommittedUsage {
			continue
		}
		m := &rowMatch{row: r, item: item, hours: map[time.Time]bool{}}
		matches = append(matches, m)
		if keys := BillingResourceKeys(r.ResourceID); len(keys) > 0 {
			k := billedResourceKey{r.Cloud, r.Currency, keys[0]}
			byResource[k] = append(byResource[k], m)
		}
	}

	// Estimates: each to the rows of its resource and hour.
	unmatched := map[billedResourceKey]bool{}
	for _, e := range in.Estimates {
		if !inPeriod(e.Hour, period) {
			continue
		}
		c := cloudOf(e.Cloud, e.Currency)
		rows := matchEstimate(byResource, e)
		if len(rows) == 0 {
			c.EstimatedUnmatched += e.Cost
			unmatched[billedResourceKey{e.Cloud, e.Currency, e.ResourceID}] = true
			continue
		}
		share := usageShare(rows)
		c.Estimated += e.Cost * share
		c.EstimatedCommitted += e.Cost * (1 - share)
		for _, m := range rows {
			m.hours[e.Hour.UTC().Truncate(time.Hour)] = true
		}
	}
	for k := range unmatched {
		clouds[currencyCloud{k.cloud, k.currency}].UnmatchedResources++
	}

	// Billed: the matched usage rows, in proportion to the hours estimated.
	accounts := map[groupKey]*GroupReconciliation{}
	days := map[groupKey]*GroupReconciliation{}
	group := func(groups map[groupKey]*GroupReconciliation, k groupKey) *Comparison {
		g, ok := groups[k]
		if !ok {
			g = &GroupReconciliation{Cloud: k.cloud, Currency: k.currency, Account: k.account,
				Service: k.service, Day: k.day}
			groups[k] = g
		}
		return &g.Comparison
	}
	matchedResources := map[billedResourceKey]bool{}
	for _, m := range matches {
		r := m.row
		ak := groupKey{cloud: r.Cloud, currency: r.Currency, account: accountOf(r),
			service: r.ServiceName}
		dk := groupKey{cloud: r.Cloud, currency: r.Currency, day: r.Day()}
		if m.item != billing.ItemUsage {
			continue
		}
		share := float64(len(m.hours)) / float64(rowHours(r))
		billed := r.BilledCost * min(share, 1)
		for _, g := range []*Comparison{group(accounts, ak), group(days, dk)} {
			g.UsageRows++
			g.BilledUsage += r.BilledCost
			if len(m.hours) > 0 {
				g.MatchedRows++
				g.Billed += billed
			}
		}
		if len(m.hours) == 0 {
			continue
		}
		c := clouds[currencyCloud{r.Cloud, r.Currency}]
		c.MatchedRows++
		c.Billed += billed
		matchedResources[billedResourceKey{r.Cloud, r.Currency, BillingResourceKeys(r.ResourceID)[0]}] = true
	}
	for k := range matchedResources {
		clouds[currencyCloud{k.cloud, k.currency}].MatchedResources++
	}

	// Estimates per group: spread each matched usage row's estimate over the
	// groups of the row it matched. A resource billed under one account,
	// service and day per hour, as exports do, gets its estimate exactly.
	for _, e := range in.Estimates {
		if !inPeriod(e.Hour, period) {
			continue
		}
		rows := matchEstimate(byResource, e)
		if len(rows) == 0 {
			continue
		}
		share := usageShare(rows)
		var usage []*rowMatch
		for _, m := range rows {
			if m.item == billing.ItemUsage {
				usage = append(usage, m)
			}
		}
		for _, m := range usage {
			part := e.Cost * share / float64(len(usage))
			r := m.row
			group(accounts, groupKey{cloud: r.Cloud, currency: r.Currency,
				account: accountOf(r), service: r.ServiceName}).Estimated += part
			group(days, groupKey{cloud: r.Cloud, currency: r.Currency, day: r.Day()}).
				Estimated += part
		}
	}

	for _, k := range slices.SortedFunc(maps.Keys(clouds), func(a, b currencyCloud) int {
		return cmp.Or(cmp.Compare(a.cloud, b.cloud), cmp.Compare(a.currency, b.currency))
	}) {
		rec.Clouds = append(rec.Clouds, *clouds[k])
	}
	rec.ByAccountService = sortedGroups(accounts)
	rec.ByDay = sortedGroups(days)
	return rec
}

// Period resolves the input's period: From and To, or the rows' own bounds.
func (in ReconcileInput) Period() Period {
	p := Period{Start: in.From.UTC(), End: in.To.UTC()}
	for i := range in.Rows {
		r := &in.Rows[i]
		if in.From.IsZero() && (p.Start.IsZero() || r.ChargePeriodStart.Before(p.Start)) {
			p.Start = r.ChargePeriodStart.UTC()
		}
		if in.To.IsZero() && r.ChargePeriodEnd.After(p.End) {
			p.End = r.ChargePeriodEnd.UTC()
		}
	}
	return p
}

func inPeriod(t time.Time, p Period) bool {
	return !t.Before(p.Start) && t.Before(p.End)
}

// matchEstimate returns the rows of an estimate's resource whose charge
// period holds its hour, under the first of its keys that has rows.
func matchEstimate(byResource map[billedResourceKey][]*rowMatch, e ResourceHourEstimate) []*rowMatch {
	for _, key := range BillingResourceKeys(e.ResourceID) {
		candidates, ok := byResource[billedResourceKey{e.Cloud, e.Currency, key}]
		if !ok {
			continue
		}
		var rows []*rowMatch
		for _, m := range candidates {
			if !e.Hour.Before(m.row.ChargePeriodStart) && e.Hour.Before(m.row.ChargePeriodEnd) {
				rows = append(rows, m)
			}
		}
		return rows
	}
	return nil
}

// usageShare is the share of an estimate that compares with usage rather
// than with commitment-covered usage: the usage rows' share of list cost.
func usageShare(rows []*rowMatch) float64 {
	var usage, covered float64
	var usageRows int
	for _, m := range rows {
		list := m.row.ListCost
		if math.IsNaN(list) || list < 0 {
			list = 0
		}
		if m.item == billing.ItemUsage {
			usage += list
			usageRows++
		} else {
			covered += list
		}
	}
	switch {
	case usage+covered > 0:
		return usage / (usage + covered)
	case usageRows > 0:
		return 1
	}
	return 0
}

// rowHours is the number of whole or partial hours a row's charge period spans.
func rowHours(r *billing.Row) int {
	start := r.ChargePeriodStart.UTC().Truncate(time.Hour)
	return max(1, int(math.Ceil(r.ChargePeriodEnd.Sub(start).Hours())))
}

func accountOf(r *billing.Row) string {
	if r.SubAccountID != "" {
		return r.SubAccountID
	}
	return r.BillingAccountID
}

func addItem(items *Items, item billing.Item, r *billing.Row) {
	switch item {
	case billing.ItemCommittedUsage:
		items.CoveredBilled += r.BilledCost
		items.CoveredEffective += known(r.EffectiveCost)
		items.CoveredList += known(r.ListCost)
	case billing.ItemPurchase:
		items.Purchases += r.BilledCost
	case billing.ItemCredit:
		items.Credits += r.BilledCost
	case billing.ItemRefund:
		items.Refunds += r.BilledCost
	case billing.ItemTax:
		items.Taxes += r.BilledCost
	case billing.ItemAdjustment:
		items.Adjustments += r.BilledCost
	case billing.ItemOther:
		items.Other += r.BilledCost
	}
}

func known(v float64) float64 {
	if math.IsNaN(v) {
		return 0
	}
	return v
}

func sortedGroups(groups map[groupKey]*GroupReconciliation) []GroupReconciliation {
	out := make([]GroupReconciliation, 0, len(groups))
	for _, g := range groups {
		out = append(out, *g)
	}
	slices.SortFunc(out, func(a, b GroupReconciliation) int {
		return cmp.Or(cmp.Compare(a.Cloud, b.Cloud), cmp.Compare(a.Currency, b.Currency),
			cmp.Compare(a.Account, b.Account), cmp.Compare(a.Service, b.Service),
			a.Day.Compare(b.Day))
	})
	return out
}

// Calibration holds a factor per cloud and currency that later estimates of
// that cloud are multiplied by: billed / estimated on matched usage, learned
// by a reconciliation.
type Calibration struct {
	// LearnedAt is when the factors were learned, Period the bill they came from.
	LearnedAt time.Time          `json:"learned_at"`
	Period    Period             `json:"period"`
	Clouds    []CloudCalibration `json:"clouds"`
}

// CloudCalibration is the factor of one cloud and currency.
type CloudCalibration struct {
	Cloud    string  `json:"cloud"`
	Currency string  `json:"currency"`
	Factor   float64 `json:"factor"`
	// ErrorRatio is the error the factor corrects.
	ErrorRatio float64 `json:"error_ratio"`
}

// CalibrationOf learns the factors of a reconciliation: one per cloud and
// currency with a matched estimate.
func CalibrationOf(r Reconciliation, at time.Time) Calibration {
	cal := Calibration{LearnedAt: at.UTC(), Period: r.Period, Clouds: []CloudCalibration{}}
	for _, c := range r.Clouds {
		f := c.CalibrationFactor()
		if math.IsNaN(f) || f <= 0 {
			continue
		}
		cal.Clouds = append(cal.Clouds, CloudCalibration{Cloud: c.Cloud, Currency: c.Currency,
			Factor: f, ErrorRatio: c.ErrorRatio()})
	}
	return cal
}

// KeepMissing adds to c the factors of older whose cloud and currency c has
// none of: when an export is missing for a while, its clouds keep what they
// last learned rather than falling back to no calibration.
func (c *Calibration) KeepMissing(older Calibration) {
	for _, o := range older.Clouds {
		if !slices.ContainsFunc(c.Clouds, func(n CloudCalibration) bool {
			return n.Cloud == o.Cloud && n.Currency == o.Currency
		}) {
			c.Clouds = append(c.Clouds, o)
		}
	}
}

// Factor returns the factor of a cloud and currency, 1 when none was learned.
func (c Calibration) Factor(cloud, currency string) float64 {
	for _, cc := range c.Clouds {
		if cc.Cloud == cloud && cc.Currency == currency {
			return cc.Factor
		}
	}
	return 1
}

// Apply returns the estimates with each cost multiplied by its cloud's factor.
func (c Calibration) Apply(estimates []ResourceHourEstimate) []ResourceHourEstimate {
	out := slices.Clone(estimates)
	for i := range out {
		out[i].Cost *= c.Factor(out[i].Cloud, out[i].Currency)
	}
	return out
}
