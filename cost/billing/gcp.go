package billing

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"slices"
	"strings"
	"time"
)

// gcpPrefixes are the fields of the BigQuery billing export (standard and
// detailed usage cost), normalised; nested fields such as service.description
// or usage.amount_in_pricing_units start with their parent's name.
var gcpPrefixes = []string{
	"billingaccountid", "service", "sku", "usage", "project", "labels", "systemlabels",
	"location", "resource", "tags", "price", "subscription", "transactiontype",
	"sellername", "exporttime", "cost", "currency", "credits", "invoice",
	"adjustmentinfo", "consumptionmodel",
}

var gcpRequired = [][]string{
	{"cost"}, {"currency"}, {"usage_start_time"}, {"service.description", "service.id"},
}

func gcpKnown(norm, _ string) bool {
	for _, p := range gcpPrefixes {
		if strings.HasPrefix(norm, p) {
			return true
		}
	}
	return false
}

// ReadGCP reads the Google Cloud BigQuery billing export as CSV, as a query that
// flattens it writes it: nested fields as service.description or
// service_description, the repeated credits and labels fields as JSON arrays.
// Columns and credits map as in [ReadGCPJSON].
func ReadGCP(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	return readCSV(r, name, FormatGCP, gcpKnown, gcpRequired, func(rec *record) ([]Row, bool) {
		return gcpRows(rec, FormatGCP), true
	})
}

// ReadGCPJSON reads the Google Cloud BigQuery billing export as newline-delimited
// JSON, the way `bq extract --destination_format NEWLINE_DELIMITED_JSON` writes
// it. Each line becomes one usage row and one credit row per entry of credits[]:
//
//	billing_account_id             BillingAccountID
//	project.id, project.name       SubAccountID, SubAccountName
//	usage_start_time, _end_time    ChargePeriodStart/End
//	invoice.month (YYYYMM)         BillingPeriodStart/End
//	cost_type                      ChargeCategory: regular → Usage (Purchase for a
//	                               "Commitment …" SKU), tax → Tax, adjustment and
//	                               rounding_error → Adjustment
//	service.description            ServiceName
//	sku.id, sku.description        SkuID; ChargeDescription and UsageType
//	location.region (or .location) RegionID; location.zone: AvailabilityZone
//	resource.global_name, .name    ResourceID, ResourceName
//	usage.amount, usage.unit       ConsumedQuantity, ConsumedUnit
//	usage.amount_in_pricing_units, usage.pricing_unit  PricingQuantity, PricingUnit
//	cost                           BilledCost and EffectiveCost (before credits)
//	cost_at_list                   ListCost; ListUnitPrice is cost_at_list
//	                               divided by the pricing quantity
//	price.effective_price          ContractedUnitPrice
//	currency                       Currency
//	labels[] key/value             Tags
//
// A credit row copies its usage row's account, period, service, SKU, region and
// resource, takes the credit's amount as BilledCost and EffectiveCost, its type
// (e.g. SUSTAINED_USAGE_DISCOUNT) as ChargeType and its name as
// ChargeDescription, has category Credit, and names the usage row's line in
// LinkedLine. Committed use discount credits carry the commitment's id and type.
func ReadGCPJSON(r io.Reader, name string) (rows []Row, skipped []Skip, err error) {
	t := &table{file: name, format: FormatGCPJSON, index: map[string]int{}}
	in := bufio.NewReader(r)
	checked := false
	for line := 1; ; line++ {
		text, readErr := in.ReadBytes('\n')
		if readErr != nil && !errors.Is(readErr, io.EOF) {
			return rows, skipped, fmt.Errorf("%s: line %d: %w", name, line, readErr)
		}
		text = bytes.TrimSpace(text)
		if len(text) > 0 {
			object, err := decodeObject(text)
			switch {
			case err != nil && !checked:
				return nil, skipped, fmt.Errorf("%s: line %d: not newline-delimited JSON: %w",
					name, line, err)
			case err != nil:
				skipped = append(skipped, Skip{Kind: SkippedRow, Line: line,
					Reason: fmt.Sprintf("not a JSON object: %v", err)})
			default:
				rec := t.jsonRecord(object, line, &skipped)
				if !checked {
					if err := t.require(gcpRequired...); err != nil {
						return nil, skipped, err
					}
					checked = true
				}
				built := gcpRows(rec, FormatGCPJSON)
				if rec.fault != nil {
					skipped = append(skipped, *rec.fault)
				} else {
					rows = append(rows, built...)
				}
			}
		}
		if errors.Is(readErr, io.EOF) {
			break
		}
	}
	if !checked {
		return nil, skipped, fmt.Errorf("%s: no JSON records", name)
	}
	return rows, skipped, nil
}

// decodeObject decodes one JSON object, keeping numbers as written.
func decodeObject(text []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(text))
	dec.UseNumber()
	var object map[string]any
	if err := dec.Decode(&object); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("more than one value on the line")
	}
	if object == nil {
		return nil, errors.New("null, not an object")
	}
	return object, nil
}

// jsonRecord flattens a JSON object into a record of the table: nested objects
// become dotted columns (service.description), arrays stay JSON text. Columns
// seen for the first time are added to the table, and reported once if unknown.
func (t *table) jsonRecord(object map[string]any, line int, skips *[]Skip) *record {
	flat := map[string]string{}
	flatten("", object, flat)
	fields := make([]string, len(t.header))
	for _, key := range slices.Sorted(maps.Keys(flat)) {
		value := flat[key]
		norm := normalise(key)
		i, seen := t.index[norm]
		if !seen {
			i = len(t.header)
			t.index[norm] = i
			t.header = append(t.header, key)
			if !gcpKnown(norm, key) {
				*skips = append(*skips, ignored(line, key, "unknown field, not read"))
			}
		}
		for len(fields) <= i {
			fields = append(fields, "")
		}
		fields[i] = value
	}
	return &record{t: t, fields: fields, line: line}
}

// gcpRepeated are the export's repeated fields: they stay JSON text even when a
// damaged line holds an object there, so that they fail as a whole.
var gcpRepeated = map[string]bool{
	"credits": true, "labels": true, "system_labels": true, "project.labels": true, "tags": true,
}

func flatten(prefix string, object map[string]any, flat map[string]string) {
	for k, v := range object {
		key := k
		if prefix != "" {
			key = prefix + "." + k
		}
		switch v := v.(type) {
		case map[string]any:
			if gcpRepeated[key] {
				b, _ := json.Marshal(v)
				flat[key] = string(b)
				continue
			}
			flatten(key, v, flat)
		case nil:
			flat[key] = ""
		case string:
			flat[key] = v
		case json.Number:
			flat[key] = v.String()
		default:
			b, _ := json.Marshal(v)
			flat[key] = string(b)
		}
	}
}

func gcpRows(rec *record, format Format) []Row {
	row := newRow(rec.t.file, rec.line, format)
	row.setProvider("Google Cloud")

	row.BillingAccountID = rec.str("billingaccountid")
	row.SubAccountID = rec.str("projectid")
	row.SubAccountName = rec.str("projectname")
	row.ChargePeriodStart = rec.time("usagestarttime")
	row.ChargePeriodEnd = rec.time("usageendtime")
	row.BillingPeriodStart, row.BillingPeriodEnd = invoiceMonth(rec)

	row.ChargeType = rec.str("costtype")
	row.ServiceName = rec.str("servicedescription")
	row.SkuID = rec.str("skuid")
	row.ChargeDescription = rec.str("skudescription")
	row.UsageType = row.ChargeDescription
	row.RegionID = rec.firstStr("locationregion", "locationlocation")
	row.AvailabilityZone = rec.str("locationzone")
	row.ResourceName = rec.str("resourcename")
	row.ResourceID = rec.firstStr("resourceglobalname", "resourcename")

	row.ConsumedQuantity = rec.num("usageamount")
	row.ConsumedUnit = rec.str("usageunit")
	row.PricingQuantity = rec.num("usageamountinpricingunits")
	row.PricingUnit = rec.str("usagepricingunit")
	row.BilledCost = rec.num("cost")
	row.EffectiveCost = row.BilledCost
	row.ListCost = rec.num("costatlist")
	if finite(row.ListCost) && finite(row.PricingQuantity) && row.PricingQuantity != 0 {
		row.ListUnitPrice = row.ListCost / row.PricingQuantity
	}
	row.ContractedUnitPrice = rec.num("priceeffectiveprice")
	row.Currency = strings.ToUpper(rec.str("currency"))
	row.Tags = rec.tags("labels")
	gcpCategory(&row)
	requireBilled(rec, &row, "cost")
	requireCurrency(rec, &row, "currency")

	rows := []Row{row}
	credits := rec.str("credits")
	if credits == "" || rec.fault != nil {
		return rows
	}
	return append(rows, gcpCredits(rec, &row, credits)...)
}

// gcpCategory sets the charge category from cost_type and the SKU.
func gcpCategory(row *Row) {
	switch strings.ToLower(row.ChargeType) {
	case "", "regular":
		row.ChargeCategory = CategoryUsage
	case "tax":
		row.ChargeCategory = CategoryTax
	case "adjustment", "rounding_error":
		row.ChargeCategory = CategoryAdjustment
	}
	if row.ChargeCategory != CategoryUsage {
		return
	}

	description := strings.ToLower(row.ChargeDescription)
	switch {
	case strings.HasPrefix(description, "commitment"):
		row.ChargeCategory = CategoryPurchase
		row.ChargeFrequency = "Recurring"
		row.CommitmentDiscountType = "Committed Use Discount"
	case strings.Contains(description, "preemptible") || strings.Contains(description, "spot"):
		row.PricingCategory = PricingDynamic
		row.ChargeFrequency = "Usage-Based"
	default:
		row.PricingCategory = PricingStandard
		row.ChargeFrequency = "Usage-Based"
	}
}

// invoiceMonth reads invoice.month (YYYYMM) as the billing period.
func invoiceMonth(rec *record) (start, end time.Time) {
	v, column, _ := rec.raw("invoicemonth")
	if isNull(v) {
		return time.Time{}, time.Time{}
	}
	start, err := time.Parse("200601", v)
	if err != nil {
		rec.fail(column, "%q is not a month (want YYYYMM)", clip(v))
		return time.Time{}, time.Time{}
	}
	return start, start.AddDate(0, 1, 0)
}

// gcpCredit is one entry of the credits[] field.
type gcpCredit struct {
	Name     string `json:"name"`
	FullName string `json:"full_name"`
	ID       string `json:"id"`
	Type     string `json:"type"`
	Amount   any    `json:"amount"`
}

// gcpCredits splits the credits of a usage row into credit rows.
func gcpCredits(rec *record, usage *Row, text string) []Row {
	_, column, _ := rec.raw("credits")
	dec := json.NewDecoder(strings.NewReader(text))
	dec.UseNumber()
	var credits []gcpCredit
	if err := dec.Decode(&credits); err != nil {
		rec.fail(column, "not a JSON array of credits: %v", err)
		return nil
	}

	rows := make([]Row, 0, len(credits))
	for i, c := range credits {
		amount, err := creditAmount(c.Amount)
		if err != nil {
			rec.fail(fmt.Sprintf("%s[%d].amount", column, i), "%v", err)
			return nil
		}
		credit := *usage
		credit.LinkedLine = usage.Line
		credit.ChargeCategory = CategoryCredit
		credit.ChargeType = c.Type
		credit.ChargeDescription = firstNonEmpty(c.FullName, c.Name)
		credit.ChargeFrequency = "Usage-Based"
		credit.BilledCost, credit.EffectiveCost = amount, amount
		credit.ListCost, credit.ListUnitPrice = math.NaN(), math.NaN()
		credit.ContractedUnitPrice, credit.ContractedCost = math.NaN(), math.NaN()
		credit.PricingQuantity, credit.ConsumedQuantity = math.NaN(), math.NaN()
		credit.PricingCategory = ""
		credit.CommitmentDiscountType, credit.CommitmentDiscountID = "", ""
		if strings.HasPrefix(strings.ToUpper(c.Type), "COMMITTED_USAGE_DISCOUNT") {
			credit.CommitmentDiscountType = "Committed Use Discount"
			credit.CommitmentDiscountID = c.ID
			credit.CommitmentDiscountName = c.Name
		}
		if usage.Tags != nil {
			credit.Tags = make(map[string]string, len(usage.Tags))
			for k, v := range usage.Tags {
				credit.Tags[k] = v
			}
		}
		rows = append(rows, credit)
	}
	return rows
}

func creditAmount(v any) (float64, error) {
	switch v := v.(type) {
	case json.Number:
		return parseNumber(v.String())
	case string:
		return parseNumber(strings.TrimSpace(v))
	case nil:
		return math.NaN(), errors.New("no amount")
	default:
		return math.NaN(), fmt.Errorf("%v is not a number", v)
	}
}
