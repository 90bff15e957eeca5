// Package billing reads cloud billing exports into one typed model, so that
// reconciliation can compare Stratus's estimates with what a provider billed.
//
// Five export formats are read: FinOps FOCUS 1.x CSV ([ReadFOCUS]), AWS Cost and
// Usage Report 2.0 as CSV or Parquet ([ReadCUR], [ReadCURParquet]), the Google Cloud
// BigQuery billing export as CSV or newline-delimited JSON ([ReadGCP],
// [ReadGCPJSON]) and the Azure cost details export as CSV ([ReadAzure]). [Detect]
// sniffs the format from the first bytes and dispatches. Every reader returns the
// same [Row] type, named in FOCUS terms whatever the source called it.
//
// # Unknown values
//
// A value the export leaves out, spells NULL, or leaves empty is unknown: "" for
// strings, NaN for numbers, the zero time for times. The FOCUS sample data uses the
// literal NULL on some providers' rows and empty strings on others'; both read
// the same. Only BilledCost is required on every row, because reconciliation is
// about it: a row without one is skipped.
//
// # Bad input
//
// A file that cannot be read at all (no header, not CSV or JSON, a required column
// missing) is an error naming the file and what is missing. A row that cannot be
// read (a number that is garbage, NaN or infinite, a time that does not parse, tags
// that are not JSON, the wrong number of fields) is a [Skip] naming the line and the
// column, and reading goes on. Columns the reader does not know are reported once
// each as a Skip of kind [IgnoredColumn] on the header line; no row is lost for
// them. Negative costs are valid (credits, refunds, corrections) and kept. Rows in
// several currencies are kept, each with its own; [Currencies] lists them. Rows
// from a provider Stratus does not know are kept with the provider as written and
// [Row.UnknownProvider] set.
//
// Costs are parsed with [strconv.ParseFloat]: a float64 holds the decimal figures of
// a billing export (up to 15 significant digits) exactly enough for sums compared
// to 1e-9.
package billing

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"time"
)

// Format names a billing export format.
type Format string

// The billing export formats Stratus reads.
const (
	FormatFOCUS      Format = "focus"
	FormatCUR        Format = "aws-cur"
	FormatCURParquet Format = "aws-cur-parquet"
	FormatGCP        Format = "gcp-bigquery-csv"
	FormatGCPJSON    Format = "gcp-bigquery-json"
	FormatAzure      Format = "azure-cost-csv"
)

// Formats lists every format [Detect] knows, in the order it tries them.
var Formats = []Format{
	FormatCURParquet, FormatGCPJSON, FormatFOCUS, FormatCUR, FormatGCP, FormatAzure,
}

// ChargeCategory is the FOCUS ChargeCategory: the highest-level kind of a charge.
type ChargeCategory string

// The FOCUS 1.x charge categories.
const (
	CategoryUsage      ChargeCategory = "Usage"
	CategoryPurchase   ChargeCategory = "Purchase"
	CategoryTax        ChargeCategory = "Tax"
	CategoryCredit     ChargeCategory = "Credit"
	CategoryAdjustment ChargeCategory = "Adjustment"
)

// ChargeClassCorrection is the FOCUS ChargeClass of a row that corrects a charge
// of an earlier period; refunds read from CUR and Azure exports carry it.
const ChargeClassCorrection = "Correction"

// PricingCategory is the FOCUS PricingCategory: how the price was set.
type PricingCategory string

// The FOCUS 1.x pricing categories. Dynamic covers spot and preemptible prices.
const (
	PricingStandard  PricingCategory = "Standard"
	PricingDynamic   PricingCategory = "Dynamic"
	PricingCommitted PricingCategory = "Committed"
	PricingOther     PricingCategory = "Other"
)

// The Stratus cloud names that [CloudOf] maps provider names to. They are the
// values of the cloud label in Stratus's metrics.
const (
	CloudAWS    = "aws"
	CloudGCP    = "gcp"
	CloudAzure  = "azure"
	CloudOracle = "oracle"
)

// providerClouds maps the provider names that billing exports write (FOCUS
// ProviderName, lower-cased and trimmed) to Stratus cloud names. The FOCUS sample
// data writes "AWS", "Microsoft" and "Oracle"; the other spellings are the ones
// providers use in their own FOCUS exports and invoices.
var providerClouds = map[string]string{
	"aws":                         CloudAWS,
	"amazon web services":         CloudAWS,
	"amazon web services, inc.":   CloudAWS,
	"amazon":                      CloudAWS,
	"google":                      CloudGCP,
	"google cloud":                CloudGCP,
	"google cloud platform":       CloudGCP,
	"gcp":                         CloudGCP,
	"microsoft":                   CloudAzure,
	"microsoft azure":             CloudAzure,
	"azure":                       CloudAzure,
	"oracle":                      CloudOracle,
	"oracle cloud infrastructure": CloudOracle,
	"oci":                         CloudOracle,
}

// CloudOf maps a provider name as a billing export writes it to the Stratus cloud
// name (aws, gcp, azure, oracle). For a provider it does not know it returns the
// name as written and false.
func CloudOf(provider string) (cloud string, known bool) {
	cloud, known = providerClouds[strings.ToLower(strings.TrimSpace(provider))]
	if !known {
		return provider, false
	}
	return cloud, true
}

// Row is one charge of a billing export, in FOCUS terms. Numbers that the export
// leaves unknown are NaN, strings "", times the zero time; see the package comment.
type Row struct {
	// File and Line say where the row came from. Line is the 1-based line of the
	// record's first field in a CSV or JSON file, and the 1-based row number in a
	// Parquet file.
	File   string
	Line   int
	Format Format

	// Provider is the provider as the export wrote it; Cloud the Stratus cloud
	// name. When the provider is unknown, Cloud is the provider as written and
	// UnknownProvider is set.
	Provider        string
	Cloud           string
	UnknownProvider bool

	BillingAccountID   string
	BillingAccountName string
	SubAccountID       string // AWS linked account, GCP project, Azure subscription
	SubAccountName     string

	BillingPeriodStart time.Time // UTC
	BillingPeriodEnd   time.Time // UTC
	ChargePeriodStart  time.Time // UTC
	ChargePeriodEnd    time.Time // UTC, exclusive

	ChargeCategory    ChargeCategory
	ChargeClass       string // "" or ChargeClassCorrection
	ChargeDescription string
	ChargeFrequency   string // One-Time, Recurring, Usage-Based (as written)
	// ChargeType is the provider's own kind of charge where it has one: the CUR
	// line item type, the Azure ChargeType, the GCP cost type or credit type.
	ChargeType string

	ServiceName      string
	ServiceCategory  string
	RegionID         string
	RegionName       string
	AvailabilityZone string
	ResourceID       string
	ResourceName     string
	ResourceType     string
	SkuID            string
	SkuPriceID       string
	// UsageType is the provider's usage type or meter where it has one (CUR
	// line_item_usage_type, Azure MeterName), the key price books use.
	UsageType string

	PricingQuantity  float64
	PricingUnit      string
	ConsumedQuantity float64
	ConsumedUnit     string

	ListUnitPrice       float64
	ListCost            float64
	BilledCost          float64 // never NaN
	EffectiveCost       float64
	ContractedUnitPrice float64
	ContractedCost      float64
	Currency            string // BillingCurrency, as written (ISO 4217 upper case)

	CommitmentDiscountID       string
	CommitmentDiscountName     string
	CommitmentDiscountType     string // e.g. Savings Plan, Reservation, Committed Use Discount
	CommitmentDiscountCategory string // Spend or Usage
	CommitmentDiscountStatus   string // Used or Unused
	PricingCategory            PricingCategory

	// Tags are the resource's tags or labels; nil when the export has none.
	Tags map[string]string

	// LinkedLine is, on a credit row split off a GCP usage row, the line of that
	// usage row; 0 otherwise.
	LinkedLine int
}

// Pos returns "file:line", the way errors and reports name a row.
func (r *Row) Pos() string {
	return fmt.Sprintf("%s:%d", r.File, r.Line)
}

// Day returns the UTC day the charge period starts in.
func (r *Row) Day() time.Time {
	return r.ChargePeriodStart.UTC().Truncate(24 * time.Hour)
}

// SkipKind says what a [Skip] left out.
type SkipKind int

// The kinds of Skip.
const (
	// SkippedRow is a row that could not be read and is not in the result.
	SkippedRow SkipKind = iota
	// IgnoredColumn is a header column the reader does not use: unknown, vendor
	// specific (FOCUS x_ columns) or a duplicate. No row is lost for it.
	IgnoredColumn
)

// Skip is something a reader left out and says so: a row it could not read, or
// a column it ignored.
type Skip struct {
	Kind SkipKind
	// Line is the line (or Parquet row) of the row skipped, or the header line
	// of an ignored column.
	Line int
	// Field names the column at fault, when one is.
	Field  string
	Reason string
}

// String names the line, the field and the reason.
func (s Skip) String() string {
	if s.Field == "" {
		return fmt.Sprintf("line %d: %s", s.Line, s.Reason)
	}
	return fmt.Sprintf("line %d: %s: %s", s.Line, s.Field, s.Reason)
}

// SkippedRows counts the skips that lost a row.
func SkippedRows(skips []Skip) int {
	n := 0
	for _, s := range skips {
		if s.Kind == SkippedRow {
			n++
		}
	}
	return n
}

// IgnoredColumns returns the names of the columns that were ignored, in header order.
func IgnoredColumns(skips []Skip) []string {
	var names []string
	for _, s := range skips {
		if s.Kind == IgnoredColumn {
			names = append(names, s.Field)
		}
	}
	return names
}

// Currencies returns the currencies the rows are billed in, sorted. An unknown
// currency is listed as "".
func Currencies(rows []Row) []string {
	seen := map[string]bool{}
	for i := range rows {
		seen[rows[i].Currency] = true
	}
	currencies := make([]string, 0, len(seen))
	for c := range seen {
		currencies = append(currencies, c)
	}
	slices.Sort(currencies)
	return currencies
}

// UnknownProviders returns the providers, as written, of rows whose provider is
// not known to [CloudOf], sorted.
func UnknownProviders(rows []Row) []string {
	seen := map[string]bool{}
	for i := range rows {
		if rows[i].UnknownProvider {
			seen[rows[i].Provider] = true
		}
	}
	providers := make([]string, 0, len(seen))
	for p := range seen {
		providers = append(providers, p)
	}
	slices.Sort(providers)
	return providers
}

// newRow returns a row with every number unknown.
func newRow(file string, line int, format Format) Row {
	nan := math.NaN()
	return Row{
		File: file, Line: line, Format: format,
		PricingQuantity: nan, ConsumedQuantity: nan,
		ListUnitPrice: nan, ListCost: nan, BilledCost: nan, EffectiveCost: nan,
		ContractedUnitPrice: nan, ContractedCost: nan,
	}
}

// setProvider sets Provider, Cloud and UnknownProvider from a provider name as
// written.
func (r *Row) setProvider(provider string) {
	r.Provider = provider
	r.Cloud, r.UnknownProvider = CloudOf(provider)
	r.UnknownProvider = !r.UnknownProvider
}
