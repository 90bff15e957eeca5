package sim

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/stratus-monitoring/stratus/cost/billing"
	"github.com/stratus-monitoring/stratus/pricing"
)

// BillingFile is the name WriteDir gives the FOCUS billing export.
const BillingFile = "billing_focus.csv"

// focusHeader is the export's header: the 43 columns of FOCUS 1.0 in the order
// the FinOps Foundation's sample writes them (without its non-standard Id), then
// the simulator's own x_ columns.
var focusHeader = append(slices.Clone(billing.FOCUS10Columns),
	"x_ResourceKind", "x_PriceSource", "x_PriceNote")

// FOCUS charge categories the export writes.
const (
	chargeUsage      = "Usage"
	chargePurchase   = "Purchase"
	chargeTax        = "Tax"
	chargeCredit     = "Credit"
	chargeAdjustment = "Adjustment"
)

// Where a usage row's list price came from (x_PriceSource).
const (
	priceFromSnapshot = pricing.SourceSnapshot
	// priceFromFallback is a price of billingFallbackPrices: a type the snapshot
	// lacks, at a list price the simulator assumes.
	priceFromFallback = "sim-fallback"
	// priceFromDefault is billingDefaultPrice, for a type neither knows.
	priceFromDefault = "sim-default"
)

// billingFallbackPrices are the hourly list prices, in USD, the simulator assumes
// for the managed-store offerings of its world that the embedded snapshot (which
// holds machine prices only) lacks. They are approximate on-demand prices of a
// single-zone instance, whatever the region; rows priced by them say so in
// x_PriceSource and x_PriceNote, and truth.json lists the resources.
var billingFallbackPrices = []struct {
	cloud, product string
	perHour        float64
}{
	{"aws", "db.r6g.large", 0.225},          // RDS for PostgreSQL
	{"aws", "mq.m5.large", 0.288},           // Amazon MQ, single instance
	{"gcp", "db-custom-2-7680", 0.1351},     // Cloud SQL: 2 vCPU and 7.5 GiB
	{"azure", "GP_Standard_D2ds_v4", 0.178}, // PostgreSQL flexible server
	{"azure", "Standard", 0.0137},           // Service Bus Standard: 10 a month
}

// billingDefaultPrice is the hourly price of a billed resource whose type neither
// the snapshot nor billingFallbackPrices knows: never free, always visible.
const billingDefaultPrice = 0.10

// billingProfile is how one cloud bills the world: the names its exports write
// and the terms of the simulated contract.
type billingProfile struct {
	cloud, provider, issuer string
	regionNames             map[string]string
	// discounts are the negotiated discounts one is drawn from (AWS EDP, a GCP
	// or Azure agreement), as fractions of list price.
	discounts []float64
	// The commitment covering some of the cloud's Kubernetes nodes, and its
	// discount off list price.
	commitmentType, commitmentCategory string
	commitmentRate                     float64
	purchaseService                    string
}

var billingProfiles = []billingProfile{
	{
		cloud: "aws", provider: "AWS", issuer: "Amazon Web Services, Inc.",
		regionNames:    map[string]string{"us-east-1": "US East (N. Virginia)"},
		discounts:      []float64{0.03, 0.05, 0.07, 0.10},
		commitmentType: "Savings Plan", commitmentCategory: "Spend", commitmentRate: 0.28,
		purchaseService: "Savings Plans for AWS Compute usage",
	},
	{
		cloud: "gcp", provider: "Google Cloud", issuer: "Google LLC",
		regionNames:    map[string]string{"us-central1": "Iowa"},
		discounts:      []float64{0, 0.02, 0.03, 0.05},
		commitmentType: "Committed Use Discount", commitmentCategory: "Usage",
		commitmentRate: 0.37, purchaseService: "Compute Engine",
	},
	{
		cloud: "azure", provider: "Microsoft", issuer: "Microsoft",
		regionNames:    map[string]string{"eastus": "East US"},
		discounts:      []float64{0, 0, 0.02, 0.04},
		commitmentType: "Reservation", commitmentCategory: "Usage", commitmentRate: 0.36,
		purchaseService: "Virtual Machines",
	},
}

// billingTaxRates are the sales-tax rates one is drawn from for the whole
// account: the customer's address decides it, not the cloud.
var billingTaxRates = []float64{0.06, 0.0625, 0.07, 0.0825}

// serviceOfKind returns the FOCUS ServiceName, ServiceCategory and ResourceType
// of a resource of the world.
func serviceOfKind(cloud, kind string) (name, category, resourceType string) {
	switch cloud + "/" + kind {
	case "aws/kubernetes_node", "aws/vm":
		return "Amazon Elastic Compute Cloud", "Compute", "Instance"
	case "aws/aws_db_instance":
		return "Amazon Relational Database Service", "Databases", "DB Instance"
	case "aws/aws_mq_broker":
		return "Amazon MQ", "Integration", "Broker"
	case "gcp/kubernetes_node", "gcp/vm", "gcp/google_compute_instance":
		return "Compute Engine", "Compute", "VM Instance"
	case "gcp/google_sql_database_instance":
		return "Cloud SQL", "Databases", "Cloud SQL Instance"
	case "azure/kubernetes_node":
		return "Virtual Machine Scale Sets", "Compute", "Virtual machine scale set"
	case "azure/vm":
		return "Virtual Machines", "Compute", "Virtual machine"
	case "azure/azurerm_postgresql_flexible_server":
		return "Azure Database for PostgreSQL", "Databases",
			"Azure Database for PostgreSQL flexible server"
	case "azure/azurerm_servicebus_namespace":
		return "Service Bus", "Integration", "Service Bus Namespace"
	}
	return kind, "Other", kind
}

// money is an amount in units of 1e-10 USD. Rows carry exact decimals, so that the
// truth's sums are exact and equal what a reader summing the file gets.
type money int64

const moneyPerUSD = 1e10

func moneyOf(usd float64) money { return money(math.Round(usd * moneyPerUSD)) }

// roundCents rounds to whole cents, as taxes and credits are billed.
func (m money) roundCents() money {
	const cent = moneyPerUSD / 100
	return money(math.Round(float64(m)/cent) * cent)
}

func (m money) usd() float64 { return float64(m) / moneyPerUSD }

// String writes the amount with ten decimals, as billing exports do.
func (m money) String() string {
	sign, v := "", int64(m)
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%d.%010d", sign, v/moneyPerUSD, v%moneyPerUSD)
}

// focusRow is one charge of the export; an empty string or a NaN number is null.
type focusRow struct {
	cloud    *billingCloud
	zone     string
	category string
	desc     string
	freq     string
	from, to time.Time

	billed, contracted, effective, list money
	listUnit, contractedUnit            float64
	quantity                            float64
	unit                                string
	pricingCategory                     string

	commitment       *billingCommitment
	commitmentStatus string

	resourceID, resourceName, resourceType string
	serviceName, serviceCategory           string
	skuID, skuPriceID                      string
	tags                                   string
	kind, priceSource, priceNote           string
}

// billingCloud is one cloud's account and contract in the export.
type billingCloud struct {
	profile           *billingProfile
	accountID         string
	accountName       string
	subAccountID      string
	subAccountName    string
	discountRate      float64
	taxRate           float64
	region            string
	commitment        *billingCommitment
	billedResourceIDs []string
}

// billingCommitment is a Savings Plan, committed use discount or reservation
// covering some of a cloud's Kubernetes nodes. It is sized to what it covers, so
// that it is always fully used.
type billingCommitment struct {
	id, name string
	covered  map[string]bool
	ids      []string
}

// billedResource is a resource of a cloud with its list price.
type billedResource struct {
	res             TruthResource
	cloud           *billingCloud
	zone            string
	price           float64
	source          string
	note            string
	serviceName     string
	serviceCategory string
	resType         string
	tags            string
	skuID           string
}

// chargeHour is one hourly charge period and the hours of it inside the world.
type chargeHour struct {
	from, to time.Time
	hours    float64
}

// billingExport is the world's FOCUS export and its truth.
type billingExport struct {
	rows  []focusRow
	truth TruthBilling
}

var (
	snapshotComputeOnce  sync.Once
	snapshotComputeByKey map[string]float64
	snapshotComputeErr   error
)

// snapshotComputePrices returns the embedded snapshot's on-demand hourly machine
// prices by cloud/region/type; the snapshot is read once.
func snapshotComputePrices() (map[string]float64, error) {
	snapshotComputeOnce.Do(func() {
		prices, _, err := pricing.SnapshotPrices()
		if err != nil {
			snapshotComputeErr = fmt.Errorf("billing export: %w", err)
			return
		}
		snapshotComputeByKey = map[string]float64{}
		for _, p := range prices {
			if p.Kind == pricing.KindCompute && p.Unit == pricing.PerHour &&
				p.Purchase == pricing.OnDemand && p.OS == "linux" {
				snapshotComputeByKey[p.Cloud+"/"+p.Region+"/"+p.Product] = p.Value
			}
		}
	})
	return snapshotComputeByKey, snapshotComputeErr
}

// WriteBillingFOCUS writes the world's FOCUS 1.0 billing export for [Start,
// Start+Duration] as RFC 4180 CSV (sim/README.md describes it), whether or not
// Options.Billing is set. It needs no simulation: the billed resources live for
// the whole world.
func (w *World) WriteBillingFOCUS(out io.Writer) error {
	b, err := w.billingExport()
	if err != nil {
		return err
	}
	cw := csv.NewWriter(out)
	cw.UseCRLF = true
	if err := cw.Write(focusHeader); err != nil {
		return fmt.Errorf("write billing export: %w", err)
	}
	for i := range b.rows {
		if err := cw.Write(b.rows[i].record()); err != nil {
			return fmt.Errorf("write billing export: %w", err)
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("write billing export: %w", err)
	}
	return nil
}

// billingExport builds the export: usage of every cloud resource per hour, the
// commitments' purchases, taxes per cloud and day, one credit and one refund.
func (w *World) billingExport() (*billingExport, error) {
	prices, err := snapshotComputePrices()
	if err != nil {
		return nil, err
	}
	r := newRand(w.opts.Seed, streamBilling)
	clouds := w.billingClouds(r)
	resources, unpriced, excluded := w.billedResources(clouds, prices)
	hours := w.chargeHours()
	b := &billingExport{}
	b.truth.UnpricedResources = unpriced
	b.truth.ExcludedResources = excluded
	for _, c := range clouds {
		w.coverNodes(r, c, resources)
	}

	// Usage and purchases hour by hour; each day's taxes after its last hour.
	usage := make([][]money, len(resources)) // billed cost per resource and hour
	taxBase := map[*billingCloud]money{}
	for h, ch := range hours {
		purchases := map[*billingCloud]money{}
		for i, br := range resources {
			row := usageRow(br, ch)
			usage[i] = append(usage[i], row.billed)
			taxBase[br.cloud] += row.billed
			if row.commitment != nil {
				purchases[br.cloud] += row.effective
			}
			b.rows = append(b.rows, row)
		}
		for _, c := range clouds {
			if fee, ok := purchases[c]; ok {
				b.rows = append(b.rows, purchaseRow(c, ch, fee))
				taxBase[c] += fee
			}
		}
		if h == len(hours)-1 || !sameDay(ch.from, hours[h+1].from) {
			for _, c := range clouds {
				if base := taxBase[c]; base > 0 {
					b.rows = append(b.rows, taxRow(c, dayStart(ch.from, hours), ch.to, base))
				}
			}
			taxBase = map[*billingCloud]money{}
		}
	}

	b.rows = append(b.rows, creditAndRefund(r, clouds, resources, hours, usage)...)
	b.truth.fill(w, clouds, b.rows)
	return b, nil
}

// billingClouds draws each cloud's accounts and contract, in a fixed order.
func (w *World) billingClouds(r *rand.Rand) []*billingCloud {
	taxRate := billingTaxRates[r.IntN(len(billingTaxRates))]
	var clouds []*billingCloud
	for i := range billingProfiles {
		p := &billingProfiles[i]
		c := &billingCloud{profile: p, taxRate: taxRate, region: profileOf(p.cloud).region,
			discountRate: p.discounts[r.IntN(len(p.discounts))]}
		switch p.cloud {
		case "aws":
			c.accountID = fmt.Sprintf("%012d", 1e11+r.Int64N(9e11))
			c.accountName = "stratus-demo-payer"
			c.subAccountID = fmt.Sprintf("%012d", 1e11+r.Int64N(9e11))
			c.subAccountName = "stratus-demo-prod"
		case "gcp":
			c.accountID = fmt.Sprintf("%06X-%06X-%06X", r.IntN(1<<24), r.IntN(1<<24),
				r.IntN(1<<24))
			c.accountName = "Stratus Demo billing"
			// The project the node provider IDs name.
			c.subAccountID, c.subAccountName = "stratus-demo", "stratus-demo"
		default:
			c.accountID = fmt.Sprintf("/providers/Microsoft.Billing/billingAccounts/%08d",
				1e7+r.IntN(9e7))
			c.accountName = "Stratus Demo EA"
			c.subAccountID = "/subscriptions/" + uuidFrom(r)
			c.subAccountName = "stratus-demo-prod"
		}
		clouds = append(clouds, c)
	}
	return clouds
}

// billedResources prices every cloud resource of the world. On-premises resources
// are no cloud's to bill and are returned apart.
func (w *World) billedResources(clouds []*billingCloud, prices map[string]float64) (
	[]*billedResource, []TruthUnpricedResource, []string,
) {
	zones := map[string]string{}
	for _, c := range w.clusters {
		for _, n := range c.nodes {
			zones[n.providerID] = n.zone
		}
	}
	var (
		out      []*billedResource
		unpriced = []TruthUnpricedResource{}
		excluded = []string{}
	)
	for _, res := range w.resources {
		var cloud *billingCloud
		for _, c := range clouds {
			if c.profile.cloud == res.Cloud {
				cloud = c
			}
		}
		if cloud == nil {
			excluded = append(excluded, res.ID)
			continue
		}
		br := &billedResource{res: res, cloud: cloud, zone: zones[res.ID]}
		br.serviceName, br.serviceCategory, br.resType = serviceOfKind(res.Cloud, res.Kind)
		tags, _ := json.Marshal(res.Tags) // a map of strings always marshals
		br.tags = string(tags)
		br.skuID = skuID(res.Cloud, res.Region, res.Kind, res.Type)
		br.price, br.source = prices[res.Cloud+"/"+res.Region+"/"+res.Type], priceFromSnapshot
		if _, ok := prices[res.Cloud+"/"+res.Region+"/"+res.Type]; !ok {
			br.price, br.source = billingDefaultPrice, priceFromDefault
			for _, f := range billingFallbackPrices {
				if f.cloud == res.Cloud && f.product == res.Type {
					br.price, br.source = f.perHour, priceFromFallback
				}
			}
			br.note = fmt.Sprintf("%s is not in the embedded price snapshot for %s %s; "+
				"priced at the simulator's assumed list price of %s USD an hour",
				res.Type, res.Cloud, res.Region, strconv.FormatFloat(br.price, 'f', -1, 64))
			unpriced = append(unpriced, TruthUnpricedResource{
				ID: res.ID, Cloud: res.Cloud, Region: res.Region, Type: res.Type, Kind: res.Kind,
				PriceSource: br.source, ListUnitPrice: br.price,
			})
		}
		cloud.billedResourceIDs = append(cloud.billedResourceIDs, res.ID)
		out = append(out, br)
	}
	return out, unpriced, excluded
}

// coverNodes gives a cloud with Kubernetes nodes a commitment covering 40–70 % of
// them (at least one), the first in the world's order: nodes are the steady part
// of a bill, what commitments are bought for.
func (w *World) coverNodes(r *rand.Rand, c *billingCloud, resources []*billedResource) {
	share := 0.4 + 0.3*r.Float64()
	suffix := uuidFrom(r)
	var nodes []*billedResource
	for _, br := range resources {
		if br.cloud == c && br.res.Kind == "kubernetes_node" {
			nodes = append(nodes, br)
		}
	}
	if len(nodes) == 0 {
		return
	}
	n := max(1, int(math.Round(share*float64(len(nodes)))))
	typ := nodes[0].res.Type
	cm := &billingCommitment{covered: map[string]bool{}}
	switch c.profile.cloud {
	case "aws":
		cm.id = fmt.Sprintf("arn:aws:savingsplans::%s:savingsplan/%s", c.accountID, suffix)
		cm.name = "Compute Savings Plan, 1 year, No Upfront"
	case "gcp":
		cm.id = fmt.Sprintf("projects/%s/regions/%s/commitments/commitment-%s",
			c.subAccountID, c.region, suffix[:8])
		cm.name = fmt.Sprintf("Commitment: %s in %s, 1 year", typ, c.region)
	default:
		cm.id = fmt.Sprintf("/providers/Microsoft.Capacity/reservationOrders/%s/"+
			"reservations/%s", suffix, uuidFrom(r))
		cm.name = fmt.Sprintf("VM RI - %s - 1 year", typ)
	}
	for _, br := range nodes[:n] {
		cm.covered[br.res.ID] = true
		cm.ids = append(cm.ids, br.res.ID)
	}
	c.commitment = cm
}

// chargeHours lists the whole UTC hours that overlap [Start, Start+Duration], with
// the part of each inside the world: billing exports have hourly charge periods,
// and a resource that ran half an hour has a quantity of 0.5.
func (w *World) chargeHours() []chargeHour {
	start, end := w.opts.Start, w.opts.Start.Add(w.opts.Duration)
	var out []chargeHour
	for from := start.Truncate(time.Hour); from.Before(end); from = from.Add(time.Hour) {
		to := from.Add(time.Hour)
		inside := minTime(to, end).Sub(maxTime(from, start))
		out = append(out, chargeHour{from: from, to: to, hours: inside.Hours()})
	}
	return out
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func sameDay(a, b time.Time) bool {
	return a.UTC().Truncate(24 * time.Hour).Equal(b.UTC().Truncate(24 * time.Hour))
}

// dayStart returns the start of the first charge hour on the day of t.
func dayStart(t time.Time, hours []chargeHour) time.Time {
	for _, ch := range hours {
		if sameDay(ch.from, t) {
			return ch.from
		}
	}
	return t
}

// usageRow is one resource's usage in one charge hour: list price times hours,
// billed after the negotiated discount, or billed 0 where a commitment covers it.
func usageRow(br *billedResource, ch chargeHour) focusRow {
	c := br.cloud
	res := br.res
	contractedUnit := moneyOf(br.price * (1 - c.discountRate)).usd()
	row := focusRow{
		cloud: c, zone: br.zone, category: chargeUsage, freq: "Usage-Based",
		from: ch.from, to: ch.to,
		list:       moneyOf(br.price * ch.hours),
		contracted: moneyOf(contractedUnit * ch.hours),
		listUnit:   br.price, contractedUnit: contractedUnit,
		quantity: ch.hours, unit: "Hours", pricingCategory: "Standard",
		resourceID: res.ID, resourceName: res.Name, resourceType: br.resType,
		serviceName: br.serviceName, serviceCategory: br.serviceCategory,
		skuID: br.skuID, skuPriceID: br.skuID + ".OD", tags: br.tags,
		kind: res.Kind, priceSource: br.source, priceNote: br.note,
	}
	price := strconv.FormatFloat(br.price, 'f', -1, 64)
	row.desc = fmt.Sprintf("%s %s hour in %s, list %s USD an hour", res.Type, br.serviceName,
		c.regionName(), price)
	if br.resType == "Instance" && c.profile.cloud == "aws" {
		// AWS's own wording of on-demand EC2 instance hours, as its FOCUS
		// exports write it.
		row.desc = fmt.Sprintf("$%s per On Demand Linux %s Instance Hour", price, res.Type)
	}
	row.billed, row.effective = row.contracted, row.contracted
	if cm := c.commitment; cm != nil && cm.covered[res.ID] {
		row.commitment, row.commitmentStatus = cm, "Used"
		row.pricingCategory = "Committed"
		row.billed = 0
		row.effective = moneyOf(br.price * (1 - c.profile.commitmentRate) * ch.hours)
		row.desc += ", covered by " + cm.name
	}
	return row
}

// purchaseRow is a commitment's recurring fee for one charge hour: the covered
// usage at the commitment's rate, so the commitment is fully used. EffectiveCost is
// 0, as FOCUS requires of purchases whose cost is amortized onto the usage rows.
func purchaseRow(c *billingCloud, ch chargeHour, fee money) focusRow {
	cm := c.commitment
	return focusRow{
		cloud: c, category: chargePurchase, freq: "Recurring", from: ch.from, to: ch.to,
		desc:   fmt.Sprintf("%s recurring fee: %s", c.profile.commitmentType, cm.name),
		billed: fee, contracted: fee, list: fee,
		listUnit: math.NaN(), contractedUnit: math.NaN(), quantity: math.NaN(),
		pricingCategory: "Standard", commitment: cm,
		resourceID: cm.id, resourceName: cm.name, resourceType: c.profile.commitmentType,
		serviceName: c.profile.purchaseService, serviceCategory: "Compute",
		skuID: skuID(c.profile.cloud, c.region, "commitment", cm.name),
	}
}

// taxRow is a cloud's sales tax on one day's usage and purchases, in cents.
func taxRow(c *billingCloud, from, to time.Time, base money) focusRow {
	tax := moneyOf(base.usd() * c.taxRate).roundCents()
	return focusRow{
		cloud: c, category: chargeTax, freq: "Recurring", from: from, to: to,
		desc: fmt.Sprintf("Sales tax %s %% on the charges of %s",
			strconv.FormatFloat(c.taxRate*100, 'f', -1, 64), from.Format(time.DateOnly)),
		billed: tax, contracted: tax, effective: tax, list: tax,
		listUnit: math.NaN(), contractedUnit: math.NaN(), quantity: math.NaN(),
		serviceName: "Tax", serviceCategory: "Other",
	}
}

// creditAndRefund draws the world's one promotional credit (5–15 % of a cloud's
// billed usage, in cents) and one refund: an Adjustment returning what a resource
// not covered by a commitment was billed for one to three hours.
func creditAndRefund(r *rand.Rand, clouds []*billingCloud, resources []*billedResource,
	hours []chargeHour, usage [][]money,
) []focusRow {
	billedUsage := map[*billingCloud]money{}
	var refundable []int
	for i, br := range resources {
		for _, m := range usage[i] {
			billedUsage[br.cloud] += m
		}
		if cm := br.cloud.commitment; cm == nil || !cm.covered[br.res.ID] {
			refundable = append(refundable, i)
		}
	}
	var withUsage []*billingCloud
	for _, c := range clouds {
		if billedUsage[c] > 0 {
			withUsage = append(withUsage, c)
		}
	}
	// Draw everything first, so that the stream does not depend on the world.
	creditCloud, creditHour, creditShare := r.IntN(3), r.IntN(len(hours)), 0.05+0.1*r.Float64()
	refundPick, refundHours := r.IntN(1<<30), 1+r.IntN(3)
	refundStart := r.IntN(1 << 30)

	var rows []focusRow
	if len(withUsage) > 0 {
		c := withUsage[creditCloud%len(withUsage)]
		credit := -max(moneyOf(0.01), moneyOf(billedUsage[c].usd()*creditShare).roundCents())
		ch := hours[creditHour]
		rows = append(rows, focusRow{
			cloud: c, category: chargeCredit, freq: "One-Time", from: ch.from, to: ch.to,
			desc:   "Promotional credit applied to the account",
			billed: credit, contracted: credit, effective: credit, list: credit,
			listUnit: math.NaN(), contractedUnit: math.NaN(), quantity: math.NaN(),
			serviceName: computeService(c), serviceCategory: "Compute",
		})
	}
	if len(refundable) == 0 {
		return rows
	}
	i := refundable[refundPick%len(refundable)]
	br := resources[i]
	n := min(refundHours, len(hours))
	first := refundStart % (len(hours) - n + 1)
	var refund money
	for _, m := range usage[i][first : first+n] {
		refund -= m
	}
	if refund == 0 {
		return rows
	}
	rows = append(rows, focusRow{
		cloud: br.cloud, category: chargeAdjustment, freq: "One-Time",
		from: hours[first].from, to: hours[first+n-1].to,
		desc: fmt.Sprintf("Refund of %d h billed for %s while it was unavailable",
			n, br.res.Name),
		billed: refund, contracted: refund, effective: refund, list: refund,
		listUnit: math.NaN(), contractedUnit: math.NaN(), quantity: math.NaN(),
		resourceID: br.res.ID, resourceName: br.res.Name, resourceType: br.resType,
		serviceName: br.serviceName, serviceCategory: br.serviceCategory, tags: br.tags,
		kind: br.res.Kind,
	})
	return rows
}

func computeService(c *billingCloud) string {
	name, _, _ := serviceOfKind(c.profile.cloud, "vm")
	return name
}

func (c *billingCloud) regionName() string {
	if n, ok := c.profile.regionNames[c.region]; ok {
		return n
	}
	return c.region
}

// skuID derives a stable SKU id in the cloud's style from what is billed.
func skuID(cloud, region, kind, product string) string {
	h := fnv.New64a()
	fmt.Fprintf(h, "%s/%s/%s/%s", cloud, region, kind, product)
	v := h.Sum64()
	switch cloud {
	case "aws":
		const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
		b := make([]byte, 16)
		for i := range b {
			b[i] = alphabet[v%32]
			v = v/32 ^ uint64(i)*0x9e3779b97f4a7c15
		}
		return string(b)
	case "gcp":
		return fmt.Sprintf("%04X-%04X-%04X", v>>48, v>>32&0xffff, v>>16&0xffff)
	}
	return strconv.FormatUint(v%1e8, 10)
}

// record writes the row in focusHeader's order.
func (r *focusRow) record() []string {
	c := r.cloud
	var cmCategory, cmID, cmName, cmType string
	if r.commitment != nil {
		cmCategory, cmID, cmName = c.profile.commitmentCategory, r.commitment.id,
			r.commitment.name
		cmType = c.profile.commitmentType
	}
	periodStart := time.Date(r.from.Year(), r.from.Month(), 1, 0, 0, 0, 0, time.UTC)
	consumed, consumedUnit := r.quantity, r.unit
	if r.category != chargeUsage {
		consumed, consumedUnit = math.NaN(), ""
	}
	return []string{
		r.zone, r.billed.String(), c.accountID, c.accountName,
		"USD", focusTime(periodStart.AddDate(0, 1, 0)), focusTime(periodStart), r.category,
		// ChargeClass is null: no row corrects a past billing period.
		"", r.desc, r.freq, focusTime(r.to),
		focusTime(r.from), cmCategory, cmID,
		cmName, r.commitmentStatus, cmType,
		focusNumber(consumed), consumedUnit, r.contracted.String(), focusNumber(r.contractedUnit),
		r.effective.String(), c.profile.issuer, r.list.String(), focusNumber(r.listUnit),
		r.pricingCategory,
		focusNumber(r.quantity), r.unit, c.profile.provider, c.profile.issuer, c.region,
		c.regionName(), r.resourceID, r.resourceName, r.resourceType, r.serviceCategory,
		r.serviceName, r.skuID, r.skuPriceID, c.subAccountID, c.subAccountName, r.tags,
		r.kind, r.priceSource, r.priceNote,
	}
}

// focusTime writes a time as FOCUS does: RFC 3339 in UTC.
func focusTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

func focusNumber(v float64) string {
	if math.IsNaN(v) {
		return ""
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// fill sums the rows into the truth. Sums are exact decimals, so they equal what a
// reader summing the file gets, up to that reader's own rounding.
func (t *TruthBilling) fill(w *World, clouds []*billingCloud, rows []focusRow) {
	type sums struct {
		rows                                          int
		list, billedUsage, negotiated                 money
		coveredList, coveredEffective, purchases      money
		credits, taxes, adjustments, total, effective money
	}
	byCloud := map[*billingCloud]*sums{}
	for _, c := range clouds {
		byCloud[c] = &sums{}
	}
	var total money
	t.File, t.Currency = BillingFile, "USD"
	t.RowsByCategory = map[string]int{}
	for i := range rows {
		r := &rows[i]
		s := byCloud[r.cloud]
		s.rows++
		s.total += r.billed
		s.effective += r.effective
		total += r.billed
		t.RowsByCategory[r.category]++
		switch r.category {
		case chargeUsage:
			s.list += r.list
			s.billedUsage += r.billed
			if r.commitment != nil {
				s.coveredList += r.list
				s.coveredEffective += r.effective
			} else {
				s.negotiated += r.list - r.billed
			}
		case chargePurchase:
			s.purchases += r.billed
		case chargeCredit:
			s.credits += r.billed
		case chargeTax:
			s.taxes += r.billed
		case chargeAdjustment:
			s.adjustments += r.billed
		}
	}
	t.Rows, t.TotalBilled = len(rows), total.usd()
	hours := w.chargeHours()
	t.ChargePeriodStart = focusTime(hours[0].from)
	t.ChargePeriodEnd = focusTime(hours[len(hours)-1].to)

	for _, c := range clouds {
		s := byCloud[c]
		tc := TruthBillingCloud{
			Cloud: c.profile.cloud, ProviderName: c.profile.provider,
			BillingAccountID: c.accountID, SubAccountID: c.subAccountID,
			Rows: s.rows, BilledResources: len(c.billedResourceIDs),
			ListCost: s.list.usd(), DiscountRate: c.discountRate,
			NegotiatedDiscount: s.negotiated.usd(), BilledUsage: s.billedUsage.usd(),
			Credits: s.credits.usd(), TaxRate: c.taxRate, Taxes: s.taxes.usd(),
			Adjustments: s.adjustments.usd(), TotalBilled: s.total.usd(),
			EffectiveCost: s.effective.usd(),
		}
		if cm := c.commitment; cm != nil {
			tc.Commitment = &TruthCommitment{
				ID: cm.id, Name: cm.name, Type: c.profile.commitmentType,
				Category: c.profile.commitmentCategory, DiscountRate: c.profile.commitmentRate,
				CoveredResources: cm.ids, CoveredListCost: s.coveredList.usd(),
				CoveredEffectiveCost: s.coveredEffective.usd(), Purchases: s.purchases.usd(),
			}
		}
		t.Clouds = append(t.Clouds, tc)
	}
}
