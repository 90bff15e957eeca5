package pricing

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// PriceEntry is one price as a price file or an override in the configuration
// writes it. The unit is always explicit, so that a monthly price is never
// read as an hourly one; what each kind accepts is in fileUnits.
type PriceEntry struct {
	Cloud   string `yaml:"cloud"`
	Region  string `yaml:"region"`
	Kind    string `yaml:"kind"`
	Product string `yaml:"product"`
	// OS is for compute only; empty means linux.
	OS string `yaml:"os"`
	// Purchase is on_demand (when empty), spot, reserved or committed.
	Purchase string  `yaml:"purchase"`
	Price    float64 `yaml:"price"`
	Unit     string  `yaml:"unit"`
	// Currency is the price book's currency when empty, and must equal it
	// when set.
	Currency string `yaml:"currency"`
}

// priceFields are the fields of a price entry, in the order of a CSV header.
var priceFields = []string{
	"cloud", "region", "kind", "product", "os", "purchase", "price", "unit", "currency",
}

// requiredFields must be present in every entry; the others have defaults.
var requiredFields = []string{"cloud", "kind", "product", "price", "unit"}

// fileUnits maps, per kind, each unit a price file may use to what a price in
// it is divided by to get the kind's own unit (UnitOf): monthly prices of
// hourly kinds are divided by HoursPerMonth, per-second prices (how Fargate,
// Lambda and Cloud Run are quoted) by 1/secondsPerHour, and prices per
// million requests by a million.
var fileUnits = map[Kind]map[string]float64{
	KindCompute: {"hour": 1, "month": HoursPerMonth},
	KindVCPU: {
		"vcpu-hour": 1, "vcpu-month": HoursPerMonth, "vcpu-second": 1.0 / secondsPerHour,
	},
	KindMemory: {
		"gib-hour": 1, "gib-month": HoursPerMonth, "gib-second": 1.0 / secondsPerHour,
	},
	KindStorage: {"gib-month": 1},
	KindEgress:  {"gib": 1},
	KindRequest: {"request": 1, "million-requests": 1e6},
}

// secondsPerHour converts per-second prices to per-hour ones.
const secondsPerHour = 3600

// maxPrice bounds a price as Price.Validate does.
const maxPrice = 1e12

// fieldError is a problem with one field of an entry. Its message starts with
// the field's name, so that callers can prefix a file and line or a path in
// the configuration.
type fieldError struct {
	field string
	err   error
}

func (e *fieldError) Error() string { return e.field + ": " + e.err.Error() }

func fieldErrorf(field, format string, args ...any) *fieldError {
	return &fieldError{field: field, err: fmt.Errorf(format, args...)}
}

// toPrice checks an entry and converts it to a price in the kind's unit,
// with source as its Source and currency as the book's currency.
func (e PriceEntry) toPrice(source, currency string) (Price, *fieldError) {
	kind := Kind(strings.TrimSpace(e.Kind))
	units, ok := fileUnits[kind]
	switch {
	case strings.TrimSpace(e.Cloud) == "":
		return Price{}, fieldErrorf("cloud", "required")
	case !ok:
		return Price{}, fieldErrorf("kind", "%q is not one of compute, vcpu, memory, "+
			"storage, egress, request", e.Kind)
	case strings.TrimSpace(e.Product) == "":
		return Price{}, fieldErrorf("product", "required")
	case kind != KindCompute && e.OS != "":
		return Price{}, fieldErrorf("os", "only compute prices have an OS, not %s", kind)
	}

	system := strings.ToLower(strings.TrimSpace(e.OS))
	if kind == KindCompute && system == "" {
		system = "linux"
	}
	purchase := Purchase(strings.TrimSpace(e.Purchase))
	switch purchase {
	case "":
		purchase = OnDemand
	case OnDemand, Spot, Reserved, Committed:
	default:
		return Price{}, fieldErrorf("purchase", "%q is not one of on_demand, spot, "+
			"reserved, committed", e.Purchase)
	}

	divisor, ok := units[strings.TrimSpace(e.Unit)]
	if !ok {
		return Price{}, fieldErrorf("unit", "%q does not fit kind %s (use %s)",
			e.Unit, kind, strings.Join(sortedKeys(units), " or "))
	}
	value := e.Price / divisor
	if math.IsNaN(value) || value < 0 || value > maxPrice {
		return Price{}, fieldErrorf("price", "%v is not a number between 0 and %g",
			e.Price, float64(maxPrice))
	}
	cur := strings.TrimSpace(e.Currency)
	if cur == "" {
		cur = currency
	}
	if cur != currency {
		return Price{}, fieldErrorf("currency", "%q, but the price book's currency is %s",
			e.Currency, currency)
	}

	return Price{
		Key: Key{
			Cloud: strings.TrimSpace(e.Cloud), Region: strings.TrimSpace(e.Region),
			Kind: kind, Product: strings.TrimSpace(e.Product), OS: system, Purchase: purchase,
		},
		Value: value, Unit: UnitOf(kind), Currency: cur, Source: source,
	}, nil
}

func sortedKeys(m map[string]float64) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// LoadPriceFile reads the price file at path; see ParsePriceFile.
func LoadPriceFile(path, currency string) ([]Price, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("price file: %w", err)
	}
	return ParsePriceFile(path, data, currency)
}

// ParsePriceFile reads a price file: CSV when name ends in .csv, YAML when it
// ends in .yaml or .yml. Its prices carry name as their Source.
//
// A CSV file has a header naming its columns, from cloud, region, kind,
// product, os, purchase, price, unit and currency (cloud, kind, product, price
// and unit are required; lines starting with # are comments). A YAML file is
// a list of mappings with the same fields. Units must fit the kind: hour or
// month for compute, vcpu-hour, vcpu-month or vcpu-second for vcpu, gib-hour,
// gib-month or gib-second for memory, gib-month for storage, gib for egress,
// and request or million-requests for request; monthly prices of hourly
// kinds are divided by HoursPerMonth, per-second ones multiplied by 3600 and
// prices per million requests divided by a million. Every error names the
// file, the line and the field; a key priced twice names both lines.
func ParsePriceFile(name string, data []byte, currency string) ([]Price, error) {
	switch ext := strings.ToLower(filepath.Ext(name)); ext {
	case ".csv":
		return parseCSVPrices(name, data, currency)
	case ".yaml", ".yml":
		return parseYAMLPrices(name, data, currency)
	default:
		return nil, fmt.Errorf("%s: price files end in .csv, .yaml or .yml, not %q", name, ext)
	}
}

// pricedLines remembers the line that priced each key, to name both lines of
// a duplicate.
type pricedLines map[Key]int

func (seen pricedLines) add(name string, line int, p Price) error {
	k := lookupKey(p.Key)
	if first, dup := seen[k]; dup {
		return fmt.Errorf("%s:%d: %s is already priced at line %d", name, line, p.Key, first)
	}
	seen[k] = line
	return nil
}

func parseCSVPrices(name string, data []byte, currency string) ([]Price, error) {
	r := csv.NewReader(bytes.NewReader(data))
	r.Comment = '#'
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: empty price file: want a header of %s", name,
			strings.Join(priceFields, ","))
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	columns, err := csvColumns(header)
	if err != nil {
		line, _ := r.FieldPos(0)
		return nil, fmt.Errorf("%s:%d: header: %w", name, line, err)
	}

	var prices []Price
	seen := pricedLines{}
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return prices, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		fields := map[string]string{}
		for i, col := range columns {
			fields[col] = strings.TrimSpace(record[i])
		}
		lineOf := func(field string) int {
			line, _ := r.FieldPos(slices.Index(columns, field))
			return line
		}
		p, ferr := entryFromFields(fields).toPriceFromText(name, currency)
		if ferr != nil {
			return nil, fmt.Errorf("%s:%d: %w", name, lineOf(ferr.field), ferr)
		}
		if err := seen.add(name, lineOf("cloud"), p); err != nil {
			return nil, err
		}
		prices = append(prices, p)
	}
}

// csvColumns checks a CSV header: known, distinct column names, with every
// required one.
func csvColumns(header []string) ([]string, error) {
	columns := make([]string, len(header))
	var unknown []string
	for i, h := range header {
		col := strings.ToLower(strings.TrimSpace(h))
		switch {
		case !slices.Contains(priceFields, col):
			unknown = append(unknown, strconv.Quote(h))
		case slices.Contains(columns[:i], col):
			return nil, fmt.Errorf("column %q appears twice", col)
		}
		columns[i] = col
	}
	if len(unknown) > 0 {
		return nil, fmt.Errorf("unknown columns %s (known: %s)", strings.Join(unknown, ", "),
			strings.Join(priceFields, ","))
	}
	for _, req := range requiredFields {
		if !slices.Contains(columns, req) {
			return nil, fmt.Errorf("column %q is missing", req)
		}
	}
	return columns, nil
}

// textEntry is an entry whose price is still text, as files give it.
type textEntry struct {
	PriceEntry
	price string
}

func entryFromFields(f map[string]string) textEntry {
	return textEntry{
		PriceEntry: PriceEntry{
			Cloud: f["cloud"], Region: f["region"], Kind: f["kind"], Product: f["product"],
			OS: f["os"], Purchase: f["purchase"], Unit: f["unit"], Currency: f["currency"],
		},
		price: f["price"],
	}
}

// toPriceFromText parses the price, then converts the entry. The price is
// parsed last so that a wrong kind or unit, the likelier mistakes, is named
// first.
func (e textEntry) toPriceFromText(source, currency string) (Price, *fieldError) {
	if e.price == "" {
		return Price{}, fieldErrorf("price", "required")
	}
	v, err := strconv.ParseFloat(e.price, 64)
	if err != nil {
		return Price{}, fieldErrorf("price", "%q is not a number", e.price)
	}
	e.Price = v
	return e.toPrice(source, currency)
}

func parseYAMLPrices(name string, data []byte, currency string) ([]Price, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s: empty price file: want a list of prices", name)
	}
	list := doc.Content[0]
	if list.Kind != yaml.SequenceNode {
		return nil, fmt.Errorf("%s:%d: want a list of prices", name, list.Line)
	}

	var prices []Price
	seen := pricedLines{}
	for _, item := range list.Content {
		p, err := yamlPrice(name, item, currency)
		if err != nil {
			return nil, err
		}
		if err := seen.add(name, item.Line, p); err != nil {
			return nil, err
		}
		prices = append(prices, p)
	}
	return prices, nil
}

// yamlPrice reads one list item, naming the line of the field at fault (of
// the item itself for a field that is missing).
func yamlPrice(name string, item *yaml.Node, currency string) (Price, error) {
	if item.Kind != yaml.MappingNode {
		return Price{}, fmt.Errorf("%s:%d: want a mapping of %s", name, item.Line,
			strings.Join(priceFields, ", "))
	}
	fields := map[string]string{}
	lines := map[string]int{}
	for i := 0; i+1 < len(item.Content); i += 2 {
		key, value := item.Content[i], item.Content[i+1]
		if !slices.Contains(priceFields, key.Value) {
			return Price{}, fmt.Errorf("%s:%d: unknown field %q (known: %s)", name, key.Line,
				key.Value, strings.Join(priceFields, ", "))
		}
		if value.Kind != yaml.ScalarNode {
			return Price{}, fmt.Errorf("%s:%d: %s: want a single value", name, value.Line,
				key.Value)
		}
		text := strings.TrimSpace(value.Value)
		if value.Tag == "!!null" {
			text = "" // "os: ~" and "os:" mean the default, like a missing field
		}
		fields[key.Value], lines[key.Value] = text, value.Line
	}
	for _, req := range requiredFields {
		if _, ok := fields[req]; !ok {
			return Price{}, fmt.Errorf("%s:%d: %s: required", name, item.Line, req)
		}
	}
	p, ferr := entryFromFields(fields).toPriceFromText(name, currency)
	if ferr != nil {
		return Price{}, fmt.Errorf("%s:%d: %w", name, lines[ferr.field], ferr)
	}
	return p, nil
}
