package billing

import (
	"io"
	"math"
	"strings"
)

// curPrefixes are the column groups of the AWS Cost and Usage Report, normalised.
// CUR 2.0 writes them in snake case (line_item_usage_start_date), the legacy CUR
// as category/Name (lineItem/UsageStartDate); both normalise alike. Columns of
// these groups that ReadCUR does not read are not reported as unknown: CUR has
// well over a hundred and varies with the report's options.
var curPrefixes = []string{
	"bill", "lineitem", "pricing", "product", "reservation", "savingsplan", "discount",
	"splitlineitem", "identity", "resourcetags", "costcategory", "capacityreservation",
}

var curRequired = [][]string{
	{"line_item_line_item_type"}, {"line_item_usage_start_date"},
	{"line_item_unblended_cost"}, {"line_item_currency_code"},
}

func curKnown(norm, _ string) bool {
	for _, p := range curPrefixes {
		if strings.HasPrefix(norm, p) {
			return true
		}
	}
	return false
}

// curLineItemType is how a CUR line item type maps to FOCUS.
type curLineItemType struct {
	category   ChargeCategory
	class      string
	frequency  string
	commitment string // the commitment discount type the line belongs to, if any
	committed  bool   // usage priced by a commitment
}

// curLineItemTypes maps line_item_line_item_type to FOCUS charge categories.
// Usage covered by a Savings Plan or a reservation, and the Savings Plan
// negation that offsets its on-demand cost, are usage priced by a commitment;
// the fees that buy commitments are purchases; refunds are credits that correct
// an earlier charge. A type not listed keeps an empty category and its name in
// ChargeType.
var curLineItemTypes = map[string]curLineItemType{
	"usage":                   {category: CategoryUsage, frequency: "Usage-Based"},
	"discountedusage":         {CategoryUsage, "", "Usage-Based", "Reservation", true},
	"savingsplancoveredusage": {CategoryUsage, "", "Usage-Based", "Savings Plan", true},
	"savingsplannegation":     {CategoryUsage, "", "Usage-Based", "Savings Plan", true},
	"savingsplanrecurringfee": {CategoryPurchase, "", "Recurring", "Savings Plan", false},
	"savingsplanupfrontfee":   {CategoryPurchase, "", "One-Time", "Savings Plan", false},
	"rifee":                   {CategoryPurchase, "", "Recurring", "Reservation", false},
	"fee":                     {category: CategoryPurchase, frequency: "One-Time"},
	"tax":                     {category: CategoryTax},
	"credit":                  {category: CategoryCredit, frequency: "One-Time"},
	"refund":                  {CategoryCredit, ChargeClassCorrection, "One-Time", "", false},
	"bundleddiscount":         {category: CategoryCredit},
	"discount":                {category: CategoryCredit},
	"edpdiscount":             {category: CategoryCredit},
	"privateratediscount":     {category: CategoryCredit},
}

// curServiceCategories gives the FOCUS service category of common AWS service
// codes; others are left unknown.
var curServiceCategories = map[string]string{
	"amazonec2": "Compute", "awslambda": "Compute", "amazonecs": "Compute",
	"amazoneks": "Compute", "awsfargate": "Compute",
	"amazons3": "Storage", "amazonefs": "Storage", "amazonglacier": "Storage",
	"amazonrds": "Databases", "amazondynamodb": "Databases",
	"amazonelasticache": "Databases", "amazonredshift": "Databases",
	"amazonvpc": "Networking", "amazoncloudfront": "Networking",
	"awselb": "Networking", "amazonroute53": "Networking",
	"awsdatatransfer": "Networking",
	"amazonsqs":       "Integration", "amazonsns": "Integration",
	"amazoncloudwatch": "Management and Governance",
}

// ReadCUR reads an AWS Cost and Usage Report 2.0 in CSV (the legacy CUR's
// category/Name headers read too). Each line item becomes one row:
//
//	line_item_line_item_type        ChargeCategory, ChargeClass, ChargeType (see below)
//	line_item_usage_start/end_date  ChargePeriodStart/End
//	bill_billing_period_*_date      BillingPeriodStart/End
//	bill_payer_account_id, _name    BillingAccountID, BillingAccountName
//	line_item_usage_account_id      SubAccountID (and _name)
//	product_product_name, product_servicecode, line_item_product_code  ServiceName
//	product_region_code             RegionID (product_location: RegionName)
//	line_item_availability_zone     AvailabilityZone
//	line_item_resource_id           ResourceID
//	product_sku, pricing_rate_id    SkuID, SkuPriceID
//	line_item_usage_type            UsageType
//	line_item_usage_amount          PricingQuantity and ConsumedQuantity
//	pricing_unit                    PricingUnit and ConsumedUnit
//	pricing_public_on_demand_rate   ListUnitPrice
//	pricing_public_on_demand_cost   ListCost
//	line_item_unblended_cost        BilledCost
//	savings_plan_savings_plan_effective_cost, reservation_effective_cost
//	                                EffectiveCost of covered usage (0 for the
//	                                negation, BilledCost elsewhere)
//	line_item_net_unblended_rate, _cost  ContractedUnitPrice, ContractedCost
//	line_item_currency_code         Currency
//	savings_plan_savings_plan_a_r_n, reservation_reservation_a_r_n  CommitmentDiscountID
//	pricing_term, line_item_usage_type  PricingCategory (Spot usage is Dynamic)
//	resource_tags                   Tags (a JSON object; the user_ prefix CUR
//	                                adds to user-defined tags is removed)
//
// Line item types map as: Usage → Usage; DiscountedUsage, SavingsPlanCoveredUsage,
// SavingsPlanNegation → Usage priced by a commitment; RIFee, Fee, SavingsPlan*Fee
// → Purchase; Tax → Tax; Credit and discounts → Credit; Refund → Credit of class
// Correction.
func ReadCUR(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	return readCSV(r, name, FormatCUR, curKnown, curRequired, curBuild(FormatCUR))
}

func curBuild(format Format) func(rec *record) ([]Row, bool) {
	return func(rec *record) ([]Row, bool) {
		row := curRow(rec, format)
		return []Row{row}, true
	}
}

func curRow(rec *record, format Format) Row {
	row := newRow(rec.t.file, rec.line, format)
	row.setProvider("AWS")
	product := rec.tags("product")

	row.BillingAccountID = rec.str("billpayeraccountid")
	row.BillingAccountName = rec.str("billpayeraccountname")
	row.SubAccountID = rec.str("lineitemusageaccountid")
	row.SubAccountName = rec.str("lineitemusageaccountname")
	row.BillingPeriodStart = rec.time("billbillingperiodstartdate")
	row.BillingPeriodEnd = rec.time("billbillingperiodenddate")
	row.ChargePeriodStart = rec.time("lineitemusagestartdate")
	row.ChargePeriodEnd = rec.time("lineitemusageenddate")

	row.ChargeType = rec.str("lineitemlineitemtype")
	kind := curLineItemTypes[normalise(row.ChargeType)]
	row.ChargeCategory = kind.category
	row.ChargeClass = kind.class
	row.ChargeFrequency = kind.frequency
	row.ChargeDescription = rec.str("lineitemlineitemdescription")

	serviceCode := rec.firstStr("productservicecode", "lineitemproductcode")
	row.ServiceName = firstNonEmpty(rec.str("productproductname"), product["product_name"],
		serviceCode)
	row.ServiceCategory = curServiceCategories[normalise(serviceCode)]
	row.RegionID = firstNonEmpty(rec.str("productregioncode"), product["region_code"],
		product["region"], rec.str("productregion"))
	row.RegionName = firstNonEmpty(rec.str("productlocation"), product["location"])
	row.AvailabilityZone = rec.str("lineitemavailabilityzone")
	row.ResourceID = rec.str("lineitemresourceid")
	row.SkuID = rec.str("productsku")
	row.SkuPriceID = rec.str("pricingrateid")
	row.UsageType = rec.str("lineitemusagetype")

	row.PricingQuantity = rec.num("lineitemusageamount")
	row.ConsumedQuantity = row.PricingQuantity
	row.PricingUnit = rec.str("pricingunit")
	row.ConsumedUnit = row.PricingUnit
	row.ListUnitPrice = rec.num("pricingpublicondemandrate")
	row.ListCost = rec.num("pricingpublicondemandcost")
	row.BilledCost = rec.num("lineitemunblendedcost")
	row.ContractedUnitPrice = rec.num("lineitemnetunblendedrate")
	row.ContractedCost = rec.num("lineitemnetunblendedcost")
	row.Currency = strings.ToUpper(rec.str("lineitemcurrencycode"))

	spEffective := rec.num("savingsplansavingsplaneffectivecost")
	riEffective := rec.num("reservationeffectivecost")
	switch normalise(row.ChargeType) {
	case "savingsplancoveredusage":
		row.EffectiveCost = spEffective
	case "discountedusage":
		row.EffectiveCost = riEffective
	case "savingsplannegation":
		row.EffectiveCost = 0
	default:
		row.EffectiveCost = row.BilledCost
	}

	curCommitment(rec, &row, kind)
	row.Tags = curTags(rec)
	requireBilled(rec, &row, "lineitemunblendedcost")
	requireCurrency(rec, &row, "lineitemcurrencycode")
	return row
}

// curCommitment fills the commitment discount and pricing category.
func curCommitment(rec *record, row *Row, kind curLineItemType) {
	switch kind.commitment {
	case "Savings Plan":
		row.CommitmentDiscountID = rec.str("savingsplansavingsplanarn")
	case "Reservation":
		row.CommitmentDiscountID = rec.str("reservationreservationarn")
	}
	if row.CommitmentDiscountID != "" || kind.committed {
		row.CommitmentDiscountType = kind.commitment
	}
	if kind.committed {
		row.CommitmentDiscountStatus = "Used"
	}

	if row.ChargeCategory != CategoryUsage {
		return
	}
	switch {
	case kind.committed:
		row.PricingCategory = PricingCommitted
	case strings.Contains(strings.ToLower(row.UsageType), "spotusage"):
		row.PricingCategory = PricingDynamic
	default:
		row.PricingCategory = pricingCategoryOf(rec.str("pricingterm"))
	}
}

// curTags reads resource_tags (CUR 2.0, a JSON object) or the legacy CUR's one
// column per tag (resourceTags/user:env, or resource_tags_user_env as Athena
// writes it). The user prefix CUR adds to user-defined tags is removed, so that
// a tag reads as it was set on the resource; AWS-generated tags (aws:…, aws_…)
// keep theirs.
func curTags(rec *record) map[string]string {
	tags := rec.tags("resourcetags")
	for i, name := range rec.t.header {
		lower := strings.ToLower(name)
		var key string
		switch {
		case strings.HasPrefix(lower, "resourcetags/"):
			key = name[len("resourcetags/"):]
		case strings.HasPrefix(lower, "resource_tags_"):
			key = name[len("resource_tags_"):]
		default:
			continue
		}
		if i >= len(rec.fields) || isNull(strings.TrimSpace(rec.fields[i])) {
			continue
		}
		if tags == nil {
			tags = map[string]string{}
		}
		tags[key] = strings.TrimSpace(rec.fields[i])
	}
	if tags == nil {
		return nil
	}

	clean := make(map[string]string, len(tags))
	for k, v := range tags {
		for _, prefix := range []string{"user_", "user:"} {
			if strings.HasPrefix(k, prefix) {
				k = k[len(prefix):]
				break
			}
		}
		clean[k] = v
	}
	return clean
}

func firstNonEmpty(values ...string) string {
	for _, v := range values {
		if !isNull(v) {
			return v
		}
	}
	return ""
}

// finite reports whether x is neither NaN nor infinite.
func finite(x float64) bool {
	return !math.IsNaN(x) && !math.IsInf(x, 0)
}
