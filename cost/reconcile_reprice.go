package cost

import (
	"cmp"
	"maps"
	"math"
	"regexp"
	"slices"
	"strings"

	"github.com/stratus-monitoring/stratus/cost/billing"
	"github.com/stratus-monitoring/stratus/pricing"
)

// Reasons a usage row is not re-priced by CheckPriceBook, besides the price
// book's own (pricing.Reason*).
const (
	// RepriceNoListPrice: the row has no ListUnitPrice to compare with.
	RepriceNoListPrice = "no_list_price"
	// RepriceZeroListPrice: the row's list price is 0 (free tiers, bundled
	// bandwidth); a relative error against it means nothing.
	RepriceZeroListPrice = "zero_list_price"
	// RepriceUnknownProvider: the row's provider is not a cloud Stratus knows.
	RepriceUnknownProvider = "unknown_provider"
	// RepriceNotCompute: the row is not an instance-hour the book prices
	// (storage, transfer, requests, managed services, or a provider whose
	// export names no instance type).
	RepriceNotCompute = "not_compute"
	// RepriceNotHourly: an instance usage row not priced per hour.
	RepriceNotHourly = "not_hourly"
)

// PriceBookCheck is how well a price book's compute prices agree with the
// list unit prices of one cloud's usage rows. Relative errors are
// (book − list) / list per row.
type PriceBookCheck struct {
	Cloud, Currency string
	// UsageRows counts the cloud's usage rows, PricedRows those re-priced.
	UsageRows, PricedRows int
	// ListCost is the list cost of every usage row that has one;
	// PricedListCost that of the rows re-priced, BookCost the book's price
	// times their quantity.
	ListCost, PricedListCost, BookCost float64
	// MeanAbsError, MaxAbsError and MeanError are over the rows re-priced;
	// NaN when none was. MaxErrorRow names the row of the largest error.
	MeanAbsError, MaxAbsError, MeanError float64
	MaxErrorRow                          string
	// Unpriced counts the rows not re-priced, by reason.
	Unpriced map[string]int
}

// CostCoverage is PricedListCost / ListCost, NaN when no list cost is known.
func (c PriceBookCheck) CostCoverage() float64 {
	if c.ListCost == 0 {
		return math.NaN()
	}
	return c.PricedListCost / c.ListCost
}

// CostError is (BookCost − PricedListCost) / PricedListCost, NaN when
// nothing was re-priced.
func (c PriceBookCheck) CostError() float64 {
	if c.PricedListCost == 0 {
		return math.NaN()
	}
	return (c.BookCost - c.PricedListCost) / c.PricedListCost
}

// awsUsageType reads an AWS EC2 usage type: an optional region prefix
// ("USE1-"), the kind of usage and the instance type.
var awsUsageType = regexp.MustCompile(`^(?:[A-Z]{2,4}[0-9]?-)?([A-Za-z]+Usage):([a-z0-9][a-z0-9.-]*)$`)

// awsDescription reads the instance-hour description AWS writes on
// on-demand EC2 rows: "$0.17 per On Demand Linux c5.xlarge Instance Hour".
var awsDescription = regexp.MustCompile(
	`per On Demand (.+?) ([a-z0-9][a-z0-9-]*\.[a-z0-9]+) Instance Hour`)

// ComputeProductOf returns the pricing key of an instance-hour usage row,
// without its region: the instance type and operating system from the AWS
// usage type (BoxUsage:m5.xlarge, USE1-BoxUsage:m5.xlarge; SpotUsage is a
// spot price) or, where the export has no usage type as in FOCUS 1.0, from
// AWS's description of on-demand instance hours. Other providers' exports
// name no instance type in a column Stratus reads, so their rows are not
// compute here: ok is false.
func ComputeProductOf(r *billing.Row) (key pricing.Key, ok bool) {
	if r.Cloud != billing.CloudAWS {
		return pricing.Key{}, false
	}
	key = pricing.Key{Cloud: r.Cloud, Region: r.RegionID, Kind: pricing.KindCompute,
		OS: "linux", Purchase: pricing.OnDemand}
	if m := awsUsageType.FindStringSubmatch(r.UsageType); m != nil {
		switch m[1] {
		case "BoxUsage":
		case "SpotUsage":
			key.Purchase = pricing.Spot
		default:
			return pricing.Key{}, false // dedicated hosts, reserved fees
		}
		key.Product = m[2]
		return key, true
	}
	if m := awsDescription.FindStringSubmatch(r.ChargeDescription); m != nil {
		key.Product = m[2]
		if os := strings.ToLower(m[1]); os != "linux" {
			key.OS = os
		}
		return key, true
	}
	return pricing.Key{}, false
}

// hourlyUnits are the PricingUnit spellings of an hour.
var hourlyUnits = map[string]bool{"hours": true, "hour": true, "hrs": true, "hr": true, "1 hour": true}

// CheckPriceBook re-prices the usage rows of a billing export with a price
// book and reports, per cloud and currency, how far the book's unit prices
// are from the rows' ListUnitPrice, and which rows it could not price and
// why. Credits, taxes, purchases and adjustments are not usage and are left
// out; commitment-covered usage is kept, since its ListUnitPrice is still the
// on-demand price.
func CheckPriceBook(rows []billing.Row, book *pricing.Book) []PriceBookCheck {
	checks := map[currencyCloud]*PriceBookCheck{}
	var sumAbs, sum = map[currencyCloud]float64{}, map[currencyCloud]float64{}
	for i := range rows {
		r := &rows[i]
		if r.ChargeCategory != billing.CategoryUsage {
			continue
		}
		k := currencyCloud{r.Cloud, r.Currency}
		c, ok := checks[k]
		if !ok {
			c = &PriceBookCheck{Cloud: r.Cloud, Currency: r.Currency, Unpriced: map[string]int{},
				MeanAbsError: math.NaN(), MaxAbsError: math.NaN(), MeanError: math.NaN()}
			checks[k] = c
		}
		c.UsageRows++
		list := listCost(r)
		c.ListCost += list

		reason, price := repriceRow(r, book)
		if reason != "" {
			c.Unpriced[reason]++
			continue
		}
		rel := (price - r.ListUnitPrice) / r.ListUnitPrice
		c.PricedRows++
		c.PricedListCost += list
		c.BookCost += price * known(quantity(r))
		sumAbs[k] += math.Abs(rel)
		sum[k] += rel
		if math.IsNaN(c.MaxAbsError) || math.Abs(rel) > c.MaxAbsError {
			c.MaxAbsError, c.MaxErrorRow = math.Abs(rel), r.Pos()
		}
	}

	out := make([]PriceBookCheck, 0, len(checks))
	for _, k := range slices.SortedFunc(maps.Keys(checks), func(a, b currencyCloud) int {
		return cmp.Or(cmp.Compare(a.cloud, b.cloud), cmp.Compare(a.currency, b.currency))
	}) {
		c := checks[k]
		if c.PricedRows > 0 {
			c.MeanAbsError = sumAbs[k] / float64(c.PricedRows)
			c.MeanError = sum[k] / float64(c.PricedRows)
		}
		out = append(out, *c)
	}
	return out
}

// repriceRow returns the book's unit price for a usage row, or why it has none.
func repriceRow(r *billing.Row, book *pricing.Book) (reason string, price float64) {
	switch {
	case r.UnknownProvider:
		return RepriceUnknownProvider, 0
	case math.IsNaN(r.ListUnitPrice):
		return RepriceNoListPrice, 0
	}
	key, ok := ComputeProductOf(r)
	switch {
	case !ok:
		return RepriceNotCompute, 0
	case !hourlyUnits[strings.ToLower(strings.TrimSpace(r.PricingUnit))]:
		return RepriceNotHourly, 0
	case r.ListUnitPrice == 0:
		return RepriceZeroListPrice, 0
	case r.Currency != book.Currency():
		return pricing.ReasonCurrencyMismatch, 0
	}
	p, err := book.Lookup(key)
	if err != nil {
		return pricing.NoPriceReason(err), 0
	}
	return "", p.Value
}

// listCost is a row's ListCost, or its unit price times its quantity when the
// export leaves ListCost out; 0 when neither is known.
func listCost(r *billing.Row) float64 {
	if !math.IsNaN(r.ListCost) {
		return r.ListCost
	}
	if v := r.ListUnitPrice * quantity(r); !math.IsNaN(v) {
		return v
	}
	return 0
}

func quantity(r *billing.Row) float64 {
	if !math.IsNaN(r.PricingQuantity) {
		return r.PricingQuantity
	}
	return r.ConsumedQuantity
}
