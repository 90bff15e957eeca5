package billing

import (
	"io"
	"slices"
	"strings"
)

// FOCUS10Columns are the 43 columns of FOCUS 1.0, in the order the FinOps
// Foundation's sample data writes them: what a FOCUS 1.0 export must have.
var FOCUS10Columns = []string{
	"AvailabilityZone", "BilledCost", "BillingAccountId", "BillingAccountName",
	"BillingCurrency", "BillingPeriodEnd", "BillingPeriodStart", "ChargeCategory",
	"ChargeClass", "ChargeDescription", "ChargeFrequency", "ChargePeriodEnd",
	"ChargePeriodStart", "CommitmentDiscountCategory", "CommitmentDiscountId",
	"CommitmentDiscountName", "CommitmentDiscountStatus", "CommitmentDiscountType",
	"ConsumedQuantity", "ConsumedUnit", "ContractedCost", "ContractedUnitPrice",
	"EffectiveCost", "InvoiceIssuerName", "ListCost", "ListUnitPrice", "PricingCategory",
	"PricingQuantity", "PricingUnit", "ProviderName", "PublisherName", "RegionId",
	"RegionName", "ResourceId", "ResourceName", "ResourceType", "ServiceCategory",
	"ServiceName", "SkuId", "SkuPriceId", "SubAccountId", "SubAccountName", "Tags",
}

// focusColumns are the columns of FOCUS 1.0, 1.1, 1.2 and 1.3. Columns a
// version renamed are all here: ProviderName (1.0–1.2) became
// ServiceProviderName in 1.3, beside HostProviderName. Columns that ReadFOCUS
// knows but does not read (capacity reservations, allocation, pricing-currency
// figures) are listed so that they are not reported as unknown.
var focusColumns = append(slices.Clone(FOCUS10Columns),
	// 1.1
	"CapacityReservationId", "CapacityReservationStatus", "CommitmentDiscountQuantity",
	"CommitmentDiscountUnit", "ServiceSubcategory", "SkuMeter", "SkuPriceDetails",
	// 1.2
	"BillingAccountType", "SubAccountType", "InvoiceId", "PricingCurrency",
	"PricingCurrencyContractedUnitPrice", "PricingCurrencyEffectiveCost",
	"PricingCurrencyListUnitPrice",
	// 1.3
	"ServiceProviderName", "HostProviderName", "ContractApplied", "AllocatedMethodId",
	"AllocatedMethodDetails", "AllocatedResourceId", "AllocatedResourceName",
	"AllocatedTags",
)

var focusKnown = normalisedSet(focusColumns)

// focusRequired are the columns without which a FOCUS file cannot be reconciled.
var focusRequired = [][]string{
	{"BilledCost"}, {"BillingCurrency"}, {"ChargeCategory"}, {"ChargePeriodStart"},
	{"ServiceProviderName", "ProviderName"},
}

func normalisedSet(names []string) map[string]bool {
	set := make(map[string]bool, len(names))
	for _, n := range names {
		set[normalise(n)] = true
	}
	return set
}

// ReadFOCUS reads a FinOps FOCUS 1.x billing export in CSV. Column names are
// matched without regard to case; NULL and empty values are unknown; times may
// be "2024-09-01 00:00:00" (UTC) or RFC 3339; Tags is a JSON object. Vendor
// columns (x_…) and columns FOCUS does not define are reported once each as
// ignored. Provider names map to Stratus clouds through [CloudOf].
func ReadFOCUS(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	known := func(norm, _ string) bool { return focusKnown[norm] }
	return readCSV(r, name, FormatFOCUS, known, focusRequired, func(rec *record) ([]Row, bool) {
		row := focusRow(rec)
		return []Row{row}, true
	})
}

func focusRow(rec *record) Row {
	row := newRow(rec.t.file, rec.line, FormatFOCUS)
	row.setProvider(rec.firstStr("serviceprovidername", "providername"))

	row.BillingAccountID = rec.str("billingaccountid")
	row.BillingAccountName = rec.str("billingaccountname")
	row.SubAccountID = rec.str("subaccountid")
	row.SubAccountName = rec.str("subaccountname")
	row.BillingPeriodStart = rec.time("billingperiodstart")
	row.BillingPeriodEnd = rec.time("billingperiodend")
	row.ChargePeriodStart = rec.time("chargeperiodstart")
	row.ChargePeriodEnd = rec.time("chargeperiodend")

	row.ChargeCategory = chargeCategoryOf(rec.str("chargecategory"))
	row.ChargeClass = rec.str("chargeclass")
	row.ChargeDescription = rec.str("chargedescription")
	row.ChargeFrequency = rec.str("chargefrequency")

	row.ServiceName = rec.str("servicename")
	row.ServiceCategory = rec.str("servicecategory")
	row.RegionID = rec.str("regionid")
	row.RegionName = rec.str("regionname")
	row.AvailabilityZone = rec.str("availabilityzone")
	row.ResourceID = rec.str("resourceid")
	row.ResourceName = rec.str("resourcename")
	row.ResourceType = rec.str("resourcetype")
	row.SkuID = rec.str("skuid")
	row.SkuPriceID = rec.str("skupriceid")
	row.UsageType = rec.str("skumeter")

	row.PricingQuantity = rec.num("pricingquantity")
	row.PricingUnit = rec.str("pricingunit")
	row.ConsumedQuantity = rec.num("consumedquantity")
	row.ConsumedUnit = rec.str("consumedunit")
	row.ListUnitPrice = rec.num("listunitprice")
	row.ListCost = rec.num("listcost")
	row.BilledCost = rec.num("billedcost")
	row.EffectiveCost = rec.num("effectivecost")
	row.ContractedUnitPrice = rec.num("contractedunitprice")
	row.ContractedCost = rec.num("contractedcost")
	row.Currency = strings.ToUpper(rec.str("billingcurrency"))

	row.CommitmentDiscountID = rec.str("commitmentdiscountid")
	row.CommitmentDiscountName = rec.str("commitmentdiscountname")
	row.CommitmentDiscountType = rec.str("commitmentdiscounttype")
	row.CommitmentDiscountCategory = rec.str("commitmentdiscountcategory")
	row.CommitmentDiscountStatus = rec.str("commitmentdiscountstatus")
	row.PricingCategory = pricingCategoryOf(rec.str("pricingcategory"))
	row.Tags = rec.tags("tags")

	requireBilled(rec, &row, "billedcost")
	requireCurrency(rec, &row, "billingcurrency")
	return row
}

// chargeCategoryOf returns the FOCUS charge category a value names, ignoring
// case; a value FOCUS does not define is kept as written.
func chargeCategoryOf(v string) ChargeCategory {
	for _, c := range []ChargeCategory{
		CategoryUsage, CategoryPurchase, CategoryTax, CategoryCredit, CategoryAdjustment,
	} {
		if strings.EqualFold(v, string(c)) {
			return c
		}
	}
	return ChargeCategory(v)
}

// pricingCategoryOf maps the pricing categories and purchase options exports
// write (FOCUS Standard, Dynamic, Committed, Other; Azure OnDemand, Spot,
// Reservation, SavingsPlan; CUR OnDemand, Reserved) to the FOCUS ones. A value
// it does not know is kept as written.
func pricingCategoryOf(v string) PricingCategory {
	switch normalise(v) {
	case "":
		return ""
	case "standard", "ondemand":
		return PricingStandard
	case "dynamic", "spot", "preemptible":
		return PricingDynamic
	case "committed", "reserved", "reservation", "savingsplan":
		return PricingCommitted
	case "other":
		return PricingOther
	}
	return PricingCategory(v)
}
