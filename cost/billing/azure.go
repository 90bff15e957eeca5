package billing

import (
	"io"
	"math"
	"strings"
	"time"
)

// azureColumns are the columns of the Azure cost details export (actual cost)
// for Enterprise Agreement and Microsoft Customer Agreement accounts, with the
// older EA usage-details names. MCA writes them in camel case (costInBillingCurrency),
// EA in Pascal case; they normalise alike.
var azureColumns = []string{
	// Shared by EA and MCA.
	"BillingAccountId", "BillingAccountName", "BillingPeriodStartDate",
	"BillingPeriodEndDate", "BillingProfileId", "BillingProfileName", "AccountOwnerId",
	"AccountName", "SubscriptionId", "SubscriptionName", "Date", "Product", "ProductName",
	"PartNumber", "MeterId", "ProductId", "MeterName", "MeterCategory",
	"MeterSubCategory", "MeterRegion", "Quantity", "EffectivePrice",
	"CostInBillingCurrency", "CostInPricingCurrency", "CostInUsd", "CostCenter",
	"ConsumedService", "ResourceId", "ResourceName", "ResourceType", "Tags",
	"OfferId", "AdditionalInfo", "ServiceInfo1", "ServiceInfo2", "ResourceLocation",
	"Location", "ResourceGroup", "ResourceGroupName", "BillingCurrency",
	"BillingCurrencyCode", "PricingCurrency", "PricingCurrencyCode", "ChargeType",
	"Frequency", "PublisherType", "PublisherName", "PublisherId", "ReservationId",
	"ReservationName", "BenefitId", "BenefitName", "PricingModel", "UnitPrice",
	"PayGPrice", "PaygCostInBillingCurrency", "PaygCostInUsd", "UnitOfMeasure",
	"IsAzureCreditEligible", "InvoiceSectionId", "InvoiceSectionName", "InvoiceId",
	"PreviousInvoiceId", "ProductOrderId", "ProductOrderName", "Term", "PlanName",
	"ServiceFamily", "AvailabilityZone", "CostAllocationRuleName", "ExchangeRate",
	"ExchangeRateDate", "ExchangeRatePricingToBilling", "CustomerTenantId",
	"CustomerName", "PartnerTenantId", "PartnerName", "ResellerMpnId", "ResellerName",
	"PublisherType", "ServicePeriodStartDate", "ServicePeriodEndDate", "Provider",
	"MarketPrice", "BillingAccountType", "BillingType",
	// Older EA usage details.
	"UsageDateTime", "UsageDate", "SubscriptionGuid", "InstanceId", "InstanceName",
	"Cost", "PreTaxCost", "Currency", "ConsumedQuantity", "UsageQuantity",
	"ResourceRate", "DepartmentName", "DepartmentId", "AccountId", "EnrollmentNumber",
	"StoreServiceIdentifier", "ServiceAdministratorId", "ServiceName", "ServiceTier",
}

var azureKnown = normalisedSet(azureColumns)

var azureRequired = [][]string{
	{"Date", "UsageDateTime", "UsageDate"},
	{"CostInBillingCurrency", "Cost", "PreTaxCost"},
	{"BillingCurrency", "BillingCurrencyCode", "Currency"},
	{"MeterCategory", "ConsumedService"},
}

// azureChargeType is how an Azure ChargeType maps to FOCUS.
type azureChargeType struct {
	category ChargeCategory
	class    string
	unused   bool // the unused part of a reservation or savings plan
}

var azureChargeTypes = map[string]azureChargeType{
	"usage":              {category: CategoryUsage},
	"purchase":           {category: CategoryPurchase},
	"refund":             {CategoryCredit, ChargeClassCorrection, false},
	"unusedreservation":  {CategoryUsage, "", true},
	"unusedsavingsplan":  {CategoryUsage, "", true},
	"roundingadjustment": {category: CategoryAdjustment},
	"tax":                {category: CategoryTax},
	"credit":             {category: CategoryCredit},
}

// ReadAzure reads an Azure cost details export (actual cost) in CSV, from an
// Enterprise Agreement or a Microsoft Customer Agreement account, and the older
// EA usage-details layout. Each line is one day of one meter on one resource:
//
//	Date, UsageDateTime, UsageDate  ChargePeriodStart (ChargePeriodEnd a day later);
//	                                MM/DD/YYYY and ISO dates both read
//	BillingPeriodStartDate, EndDate BillingPeriodStart/End (the inclusive end
//	                                date becomes the exclusive next day)
//	BillingAccountId, _Name         BillingAccountID, BillingAccountName
//	SubscriptionId (SubscriptionGuid), SubscriptionName  SubAccountID, SubAccountName
//	ChargeType                      ChargeCategory: Usage → Usage, Purchase → Purchase,
//	                                Refund → Credit of class Correction,
//	                                UnusedReservation/UnusedSavingsPlan → Usage
//	                                (commitment status Unused), RoundingAdjustment
//	                                → Adjustment, Tax → Tax
//	MeterCategory                   ServiceName (ConsumedService when absent)
//	ServiceFamily                   ServiceCategory
//	MeterSubCategory, MeterName     ChargeDescription; MeterName: UsageType
//	MeterId                         SkuID
//	ResourceLocation (MeterRegion)  RegionID
//	ResourceId (InstanceId, InstanceName), ResourceName  ResourceID, ResourceName
//	Quantity (UsageQuantity), UnitOfMeasure  PricingQuantity/ConsumedQuantity, units
//	PayGPrice                       ListUnitPrice; ListCost is
//	                                PaygCostInBillingCurrency, else PayGPrice × Quantity
//	UnitPrice                       ContractedUnitPrice; ContractedCost is
//	                                UnitPrice × Quantity
//	CostInBillingCurrency (Cost, PreTaxCost)  BilledCost and EffectiveCost
//	BillingCurrency (BillingCurrencyCode, Currency)  Currency
//	PricingModel                    PricingCategory: OnDemand → Standard, Spot →
//	                                Dynamic, Reservation and SavingsPlan → Committed
//	ReservationId (BenefitId), ReservationName (BenefitName)  CommitmentDiscountID, Name
//	Tags                            Tags; the EA form without outer braces reads too
func ReadAzure(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	known := func(norm, _ string) bool { return azureKnown[norm] }
	return readCSV(r, name, FormatAzure, known, azureRequired, func(rec *record) ([]Row, bool) {
		return []Row{azureRow(rec)}, true
	})
}

func azureRow(rec *record) Row {
	row := newRow(rec.t.file, rec.line, FormatAzure)
	row.setProvider("Microsoft")

	row.BillingAccountID = rec.str("billingaccountid")
	row.BillingAccountName = rec.str("billingaccountname")
	row.SubAccountID = rec.firstStr("subscriptionid", "subscriptionguid")
	row.SubAccountName = rec.str("subscriptionname")
	row.BillingPeriodStart = rec.time("billingperiodstartdate")
	row.BillingPeriodEnd = inclusiveDayEnd(rec.time("billingperiodenddate"))
	row.ChargePeriodStart = rec.time("date", "usagedatetime", "usagedate")
	if !row.ChargePeriodStart.IsZero() {
		row.ChargePeriodEnd = row.ChargePeriodStart.Add(24 * time.Hour)
	}

	row.ChargeType = rec.str("chargetype")
	kind, known := azureChargeTypes[normalise(row.ChargeType)]
	if row.ChargeType == "" {
		kind, known = azureChargeTypes["usage"], true
	}
	if known {
		row.ChargeCategory, row.ChargeClass = kind.category, kind.class
	}
	row.ChargeFrequency = azureFrequency(rec.str("frequency"))

	row.ServiceName = rec.firstStr("metercategory", "consumedservice")
	row.ServiceCategory = rec.str("servicefamily")
	row.ChargeDescription = strings.TrimSpace(rec.str("metersubcategory") + " " +
		rec.str("metername"))
	row.UsageType = rec.str("metername")
	row.SkuID = rec.str("meterid")
	row.RegionID = rec.firstStr("resourcelocation", "meterregion")
	row.AvailabilityZone = rec.str("availabilityzone")
	row.ResourceID = rec.firstStr("resourceid", "instanceid", "instancename")
	row.ResourceName = rec.str("resourcename")
	row.ResourceType = rec.str("resourcetype")

	row.PricingQuantity = rec.num("quantity", "usagequantity", "consumedquantity")
	row.ConsumedQuantity = row.PricingQuantity
	row.PricingUnit = rec.str("unitofmeasure")
	row.ConsumedUnit = row.PricingUnit
	row.ListUnitPrice = rec.num("paygprice")
	row.ListCost = rec.num("paygcostinbillingcurrency")
	if math.IsNaN(row.ListCost) {
		row.ListCost = row.ListUnitPrice * row.PricingQuantity
	}
	row.ContractedUnitPrice = rec.num("unitprice", "resourcerate")
	row.ContractedCost = row.ContractedUnitPrice * row.PricingQuantity
	row.BilledCost = rec.num("costinbillingcurrency", "cost", "pretaxcost")
	row.EffectiveCost = row.BilledCost
	row.Currency = strings.ToUpper(rec.firstStr("billingcurrency", "billingcurrencycode", "currency"))
	row.Tags = rec.tags("tags")

	azureCommitment(rec, &row, kind)
	requireBilled(rec, &row, "costinbillingcurrency", "cost", "pretaxcost")
	requireCurrency(rec, &row, "billingcurrency", "billingcurrencycode", "currency")
	return row
}

// azureCommitment fills the commitment discount and pricing category from
// PricingModel and the reservation or benefit columns.
func azureCommitment(rec *record, row *Row, kind azureChargeType) {
	model := rec.str("pricingmodel")
	row.PricingCategory = pricingCategoryOf(model)
	row.CommitmentDiscountID = rec.firstStr("reservationid", "benefitid")
	row.CommitmentDiscountName = rec.firstStr("reservationname", "benefitname")
	switch normalise(model) {
	case "reservation":
		row.CommitmentDiscountType = "Reservation"
	case "savingsplan":
		row.CommitmentDiscountType = "Savings Plan"
	}
	if row.CommitmentDiscountID == "" || row.ChargeCategory != CategoryUsage {
		return
	}
	row.CommitmentDiscountStatus = "Used"
	if kind.unused {
		row.CommitmentDiscountStatus = "Unused"
	}
}

// azureFrequency spells Azure's Frequency the FOCUS way.
func azureFrequency(v string) string {
	switch normalise(v) {
	case "":
		return ""
	case "usagebased":
		return "Usage-Based"
	case "onetime":
		return "One-Time"
	case "recurring":
		return "Recurring"
	}
	return v
}

// inclusiveDayEnd turns an inclusive last day (Azure's BillingPeriodEndDate)
// into the exclusive end FOCUS uses: midnight after it.
func inclusiveDayEnd(t time.Time) time.Time {
	if t.IsZero() || !t.Equal(t.Truncate(24*time.Hour)) {
		return t
	}
	return t.Add(24 * time.Hour)
}
