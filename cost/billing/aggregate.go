package billing

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"time"
)

// Item is a reconciling item: a part of the bill that reconciliation shows on
// its own line, because an estimate from usage and list prices does not
// predict it.
type Item string

// The reconciling items.
const (
	// ItemUsage is usage at on-demand, spot or negotiated prices: what estimates price.
	ItemUsage Item = "usage"
	// ItemCommittedUsage is usage priced by a commitment (Savings Plan,
	// reservation, committed use discount), its negation lines, and the unused
	// part of a commitment: the amortisation of what was bought. GCP committed
	// use discount credits, which take the commitment's price off usage, belong
	// here too.
	ItemCommittedUsage Item = "committed_usage"
	// ItemPurchase is a purchase: commitment fees, upfront payments, marketplace.
	ItemPurchase Item = "purchase"
	// ItemCredit is a credit: promotional, free tier, sustained use and other discounts.
	ItemCredit Item = "credit"
	// ItemRefund is a refund or a correction of an earlier period.
	ItemRefund Item = "refund"
	// ItemTax is tax.
	ItemTax Item = "tax"
	// ItemAdjustment is an adjustment such as rounding.
	ItemAdjustment Item = "adjustment"
	// ItemOther is a row whose charge category is not a FOCUS one.
	ItemOther Item = "other"
)

// ItemOf returns the reconciling item a row belongs to.
func ItemOf(r *Row) Item {
	switch r.ChargeCategory {
	case CategoryUsage:
		if r.CommitmentDiscountID != "" || r.CommitmentDiscountStatus != "" ||
			r.PricingCategory == PricingCommitted {
			return ItemCommittedUsage
		}
		return ItemUsage
	case CategoryPurchase:
		return ItemPurchase
	case CategoryCredit:
		switch {
		case r.ChargeClass == ChargeClassCorrection || strings.EqualFold(r.ChargeType, "refund"):
			return ItemRefund
		case r.CommitmentDiscountID != "":
			return ItemCommittedUsage
		}
		return ItemCredit
	case CategoryTax:
		return ItemTax
	case CategoryAdjustment:
		return ItemAdjustment
	}
	return ItemOther
}

// Totals are the sums of a group of rows. BilledCost is known on every row;
// EffectiveCost and ListCost are summed over the rows that know them, and the
// rows that do not are counted.
type Totals struct {
	Rows             int
	Billed           float64
	Effective        float64
	List             float64
	EffectiveUnknown int
	ListUnknown      int
}

func (t *Totals) add(r *Row) {
	t.Rows++
	t.Billed += r.BilledCost
	if math.IsNaN(r.EffectiveCost) {
		t.EffectiveUnknown++
	} else {
		t.Effective += r.EffectiveCost
	}
	if math.IsNaN(r.ListCost) {
		t.ListUnknown++
	} else {
		t.List += r.ListCost
	}
}

// DayKey groups rows by cloud, account, service, day and reconciling item.
// Account is the sub-account (AWS account, GCP project, Azure subscription),
// or the billing account when the row has none. Currency is part of the key, so
// that amounts in different currencies are never added together.
type DayKey struct {
	Cloud    string
	Account  string
	Service  string
	Day      time.Time
	Item     Item
	Currency string
}

// DayTotal is the totals of one DayKey.
type DayTotal struct {
	DayKey
	Totals
}

// TotalsByDay sums rows by cloud, account, service, UTC day of the charge
// period start, reconciling item and currency, sorted by those fields.
func TotalsByDay(rows []Row) []DayTotal {
	groups := map[DayKey]*Totals{}
	for i := range rows {
		r := &rows[i]
		account := r.SubAccountID
		if account == "" {
			account = r.BillingAccountID
		}
		key := DayKey{
			Cloud: r.Cloud, Account: account, Service: r.ServiceName,
			Day: r.Day(), Item: ItemOf(r), Currency: r.Currency,
		}
		addTo(groups, key, r)
	}

	totals := make([]DayTotal, 0, len(groups))
	for key, t := range groups {
		totals = append(totals, DayTotal{DayKey: key, Totals: *t})
	}
	slices.SortFunc(totals, func(a, b DayTotal) int {
		return cmp.Or(
			cmp.Compare(a.Cloud, b.Cloud), cmp.Compare(a.Account, b.Account),
			cmp.Compare(a.Service, b.Service), a.Day.Compare(b.Day),
			cmp.Compare(a.Item, b.Item), cmp.Compare(a.Currency, b.Currency),
		)
	})
	return totals
}

// CategoryKey groups rows by cloud, charge category, reconciling item and currency.
type CategoryKey struct {
	Cloud    string
	Category ChargeCategory
	Item     Item
	Currency string
}

// CategoryTotal is the totals of one CategoryKey.
type CategoryTotal struct {
	CategoryKey
	Totals
}

// TotalsByCategory sums rows by cloud, charge category, reconciling item and
// currency, sorted by those fields: the reconciling items of each cloud.
func TotalsByCategory(rows []Row) []CategoryTotal {
	groups := map[CategoryKey]*Totals{}
	for i := range rows {
		r := &rows[i]
		key := CategoryKey{
			Cloud: r.Cloud, Category: r.ChargeCategory, Item: ItemOf(r), Currency: r.Currency,
		}
		addTo(groups, key, r)
	}

	totals := make([]CategoryTotal, 0, len(groups))
	for key, t := range groups {
		totals = append(totals, CategoryTotal{CategoryKey: key, Totals: *t})
	}
	slices.SortFunc(totals, func(a, b CategoryTotal) int {
		return cmp.Or(
			cmp.Compare(a.Cloud, b.Cloud), cmp.Compare(a.Category, b.Category),
			cmp.Compare(a.Item, b.Item), cmp.Compare(a.Currency, b.Currency),
		)
	})
	return totals
}

func addTo[K comparable](groups map[K]*Totals, key K, r *Row) {
	t := groups[key]
	if t == nil {
		t = &Totals{}
		groups[key] = t
	}
	t.add(r)
}

// PricedUsage returns the usage rows that a price book can check: usage (not
// credits, purchases or taxes) of a named resource with a known list unit price.
// Rows priced by a commitment are included; their ListUnitPrice is still the
// on-demand price.
func PricedUsage(rows []Row) []Row {
	var priced []Row
	for i := range rows {
		r := &rows[i]
		if r.ChargeCategory == CategoryUsage && r.ResourceID != "" && finite(r.ListUnitPrice) {
			priced = append(priced, *r)
		}
	}
	return priced
}
