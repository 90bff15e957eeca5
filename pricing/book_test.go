package pricing

import (
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// price returns a valid USD price of kind for product in aws/us-east-1, on
// demand and (for compute) linux, from source.
func price(kind Kind, product string, value float64, source string) Price {
	p := Price{
		Key: Key{Cloud: "aws", Region: "us-east-1", Kind: kind, Product: product,
			Purchase: OnDemand},
		Value: value, Unit: UnitOf(kind), Currency: "USD", Source: source,
	}
	if kind == KindCompute {
		p.OS = "linux"
	}
	return p
}

func with(p Price, change func(*Price)) Price {
	change(&p)
	return p
}

func TestBookLayersInPrecedence(t *testing.T) {
	b := NewBook("")
	require.Equal(t, "USD", b.Currency())
	key := Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.large"}

	// Each step adds a layer above the last; the lookup must follow it.
	steps := []struct {
		name   string
		add    func()
		source string
		value  float64
	}{
		{"snapshot", func() {
			b.SetSnapshot([]Price{price(KindCompute, "m5.large", 0.096, SourceSnapshot)})
		}, SourceSnapshot, 0.096},
		{"second catalog", func() {
			b.SetCatalog("azure-retail-prices",
				[]Price{price(KindCompute, "m5.large", 0.2, "")}, time.Unix(1, 0))
		}, "azure-retail-prices", 0.2},
		{"first catalog set after, second in order", func() {
			b.SetCatalog("aws-price-list",
				[]Price{price(KindCompute, "m5.large", 0.095, "")}, time.Unix(2, 0))
		}, "azure-retail-prices", 0.2},
		{"catalog replaced in place", func() {
			b.SetCatalog("azure-retail-prices", nil, time.Unix(3, 0))
		}, "aws-price-list", 0.095},
		{"price file", func() {
			require.NoError(t, b.SetFilePrices(
				[]Price{price(KindCompute, "m5.large", 0.05, "negotiated.csv")}))
		}, "negotiated.csv", 0.05},
		{"override", func() {
			require.NoError(t, b.SetOverrides(
				[]Price{price(KindCompute, "m5.large", 0.04, SourceOverride)}))
		}, SourceOverride, 0.04},
	}
	for _, step := range steps {
		step.add()
		got, err := b.Lookup(key)
		require.NoError(t, err, step.name)
		require.Equal(t, step.source, got.Source, step.name)
		require.InDelta(t, step.value, got.Value, 1e-12, step.name)
	}
}

func TestBookLookup(t *testing.T) {
	b := NewBook("USD")
	b.SetCatalog("aws-price-list", []Price{
		price(KindCompute, "m5.large", 0.096, ""),
		with(price(KindCompute, "m5.large", 0.03, ""),
			func(p *Price) { p.Purchase = Spot }),
		with(price(KindCompute, "Standard_D4s_v5", 0.192, ""),
			func(p *Price) { p.Cloud, p.Region = "azure", "eastus" }),
		price(KindStorage, "ebs-gp3", 0.08, ""),
		// A second listing of a key: the first stands.
		price(KindStorage, "ebs-gp3", 0.5, ""),
		with(price(KindCompute, "m5.large", 0.1, ""),
			func(p *Price) { p.Region, p.Currency = "eu-west-1", "EUR" }),
		// Invalid: left out of the book.
		price(KindStorage, "ebs-gp2", math.NaN(), ""),
	}, time.Unix(10, 0))

	key := func(change func(*Key)) Key {
		k := Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.large"}
		change(&k)
		return k
	}
	tests := []struct {
		name   string
		key    Key
		value  float64
		reason string
	}{
		{"defaults linux on demand", key(func(*Key) {}), 0.096, ""},
		{"explicit defaults", key(func(k *Key) { k.OS, k.Purchase = "linux", OnDemand }), 0.096, ""},
		{"spot", key(func(k *Key) { k.Purchase = Spot }), 0.03, ""},
		{"case and spaces", key(func(k *Key) { k.Cloud, k.Product = " AWS", "M5.Large " }), 0.096, ""},
		{"azure spelling", Key{Cloud: "azure", Region: "EastUS", Kind: KindCompute,
			Product: "standard_d4s_v5"}, 0.192, ""},
		{"storage ignores os", Key{Cloud: "aws", Region: "us-east-1", Kind: KindStorage,
			Product: "ebs-gp3", OS: "windows"}, 0.08, ""},
		{"no cloud", key(func(k *Key) { k.Cloud = " " }), 0, ReasonInvalidKey},
		{"no product", key(func(k *Key) { k.Product = "" }), 0, ReasonInvalidKey},
		{"unknown kind", key(func(k *Key) { k.Kind = "gpu" }), 0, ReasonInvalidKey},
		{"unknown purchase", key(func(k *Key) { k.Purchase = "savings" }), 0, ReasonInvalidKey},
		{"unknown cloud", key(func(k *Key) { k.Cloud = "oracle" }), 0, ReasonUnknownCloud},
		{"unknown region", key(func(k *Key) { k.Region = "ap-south-1" }), 0,
			ReasonUnknownRegion},
		{"unknown product", key(func(k *Key) { k.Product = "m5.huge" }), 0,
			ReasonUnknownProduct},
		{"kind not priced", key(func(k *Key) { k.Kind = KindVCPU }), 0, ReasonUnknownProduct},
		{"invalid price left out", Key{Cloud: "aws", Region: "us-east-1", Kind: KindStorage,
			Product: "ebs-gp2"}, 0, ReasonUnknownProduct},
		{"unknown os", key(func(k *Key) { k.OS = "windows" }), 0, ReasonUnknownOS},
		{"no fallback to on demand", key(func(k *Key) { k.Purchase = Reserved }), 0,
			ReasonNoPurchaseOption},
		{"other currency", key(func(k *Key) { k.Region = "eu-west-1" }), 0,
			ReasonCurrencyMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.Lookup(tt.key)
			if tt.reason != "" {
				require.ErrorIs(t, err, ErrNoPrice)
				require.Equal(t, tt.reason, NoPriceReason(err))
				require.Contains(t, err.Error(), tt.reason)
				require.Contains(t, err.Error(), tt.key.String())
				return
			}
			require.NoError(t, err)
			require.InDelta(t, tt.value, got.Value, 1e-12)
			require.Equal(t, "aws-price-list", got.Source)
		})
	}
}

func TestNoPriceReason(t *testing.T) {
	require.Empty(t, NoPriceReason(nil))
	require.Empty(t, NoPriceReason(errors.New("other")))
	wrapped := fmt.Errorf("pricing node: %w",
		&NoPriceError{Key: Key{Cloud: "gcp"}, Reason: ReasonUnknownRegion})
	require.Equal(t, ReasonUnknownRegion, NoPriceReason(wrapped))
}

func TestBookMissReasonAcrossLayers(t *testing.T) {
	// The most specific reason wins whichever layer knows the most.
	b := NewBook("USD")
	b.SetSnapshot([]Price{price(KindCompute, "m5.large", 0.096, SourceSnapshot)})
	require.NoError(t, b.SetOverrides([]Price{
		with(price(KindCompute, "c5.large", 0.085, SourceOverride),
			func(p *Price) { p.Region = "us-west-2" }),
	}))
	_, err := b.Lookup(Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute,
		Product: "m5.large", Purchase: Committed})
	require.Equal(t, ReasonNoPurchaseOption, NoPriceReason(err))
	_, err = b.Lookup(Key{Cloud: "aws", Region: "us-west-2", Kind: KindCompute,
		Product: "m5.large"})
	require.Equal(t, ReasonUnknownProduct, NoPriceReason(err))
}

func TestBookStrictLayers(t *testing.T) {
	tests := []struct {
		name    string
		prices  []Price
		wantErr string
	}{
		{"invalid", []Price{price(KindStorage, "ebs-gp3", -1, "a.csv")},
			"overrides: a.csv: aws/us-east-1 storage ebs-gp3: price -1"},
		{"other currency", []Price{with(price(KindStorage, "ebs-gp3", 1, "a.csv"),
			func(p *Price) { p.Currency = "EUR" })},
			"currency EUR, but the price book's is USD"},
		{"twice", []Price{
			price(KindCompute, "m5.large", 1, "a.csv"),
			with(price(KindCompute, "M5.LARGE", 2, "b.yaml"), func(p *Price) { p.OS = "" }),
		}, "aws/us-east-1 compute m5.large linux: priced twice, by a.csv and by b.yaml"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := NewBook("USD")
			err := b.SetOverrides(tt.prices)
			require.ErrorContains(t, err, tt.wantErr)
			require.ErrorContains(t, b.SetFilePrices(tt.prices), "price files: ")
		})
	}
}

func TestBookSources(t *testing.T) {
	b := NewBook("USD")
	b.SetSnapshot([]Price{
		price(KindCompute, "m5.large", 0.096, SourceSnapshot),
		price(KindCompute, "m5.xlarge", 0.192, SourceSnapshot),
	})
	require.NoError(t, b.SetFilePrices([]Price{
		price(KindCompute, "dc1-node", 0.5, "a.csv"),
		price(KindCompute, "dc2-node", 0.5, "b.yaml"),
		price(KindCompute, "dc3-node", 0.5, "b.yaml"),
	}))
	fetched := time.Date(2026, 8, 1, 12, 0, 0, 0, time.UTC)
	b.SetCatalog("gcp-billing-catalog", nil, fetched)
	b.SetCatalog("aws-price-list", []Price{price(KindCompute, "m5.large", 0.096, "x")}, fetched)

	require.Equal(t, []SourceStats{
		{Source: "a.csv", Prices: 1},
		{Source: "aws-price-list", Prices: 1, Refreshed: fetched},
		{Source: "b.yaml", Prices: 2},
		{Source: SourceSnapshot, Prices: 2},
		{Source: "gcp-billing-catalog", Refreshed: fetched},
	}, b.Sources())
}

func TestSplitCompute(t *testing.T) {
	b := NewBook("USD")
	gcp := func(kind Kind, product string, value float64) Price {
		return with(price(kind, product, value, ""), func(p *Price) {
			p.Cloud, p.Region = "gcp", "us-central1"
		})
	}
	b.SetCatalog("gcp-billing-catalog", []Price{
		gcp(KindVCPU, "n2", 0.031611),
		gcp(KindMemory, "n2", 0.004237),
		gcp(KindVCPU, "e2", 0), // free unit prices say nothing of the proportion
		gcp(KindMemory, "e2", 0),
		gcp(KindVCPU, "c3", 0.03465), // no memory price for c3
	}, time.Unix(0, 0))
	sized := func(p Price, vcpu, mem float64) Price {
		p.VCPU, p.MemoryGiB = vcpu, mem
		return p
	}

	tests := []struct {
		name      string
		price     Price
		cpu, mem  float64
		source    string
		wantError string
	}{
		{"gcp unit prices add up", sized(gcp(KindCompute, "n2-standard-4", 0.194236), 4, 16),
			0.031611, 0.004237, SplitUnitPrices, ""},
		{"scaled to the machine price",
			sized(gcp(KindCompute, "n2-custom-2-4096", 2*0.194236/4), 2, 4),
			0.031611 * 0.097118 / 0.080170, 0.004237 * 0.097118 / 0.080170,
			SplitUnitPrices, ""},
		{"zero unit prices", sized(gcp(KindCompute, "e2-standard-2", 0.067011), 2, 8),
			0.067011 * DefaultCPUMemoryCostRatio / (2*DefaultCPUMemoryCostRatio + 8),
			0.067011 / (2*DefaultCPUMemoryCostRatio + 8), SplitDefaultRatio, ""},
		{"one unit price missing", sized(gcp(KindCompute, "c3-standard-4", 0.2), 4, 16),
			0.2 * DefaultCPUMemoryCostRatio / (4*DefaultCPUMemoryCostRatio + 16),
			0.2 / (4*DefaultCPUMemoryCostRatio + 16), SplitDefaultRatio, ""},
		{"aws default ratio", sized(price(KindCompute, "m5.large", 0.096, ""), 2, 8),
			0.096 * DefaultCPUMemoryCostRatio / (2*DefaultCPUMemoryCostRatio + 8),
			0.096 / (2*DefaultCPUMemoryCostRatio + 8), SplitDefaultRatio, ""},
		{"not compute", price(KindStorage, "ebs-gp3", 0.08, ""), 0, 0, "",
			"not an hourly compute price"},
		{"no size", sized(price(KindCompute, "m5.large", 0.096, ""), 2, math.NaN()), 0, 0, "",
			"size unknown (2 vCPU, NaN GiB)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cpu, mem, source, err := b.SplitCompute(tt.price)
			if tt.wantError != "" {
				require.ErrorContains(t, err, tt.wantError)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.source, source)
			require.InDelta(t, tt.cpu, cpu, 1e-9)
			require.InDelta(t, tt.mem, mem, 1e-9)
			// The parts conserve the machine's price.
			total := cpu*tt.price.VCPU + mem*tt.price.MemoryGiB
			require.InEpsilon(t, tt.price.Value, total, 1e-12)
		})
	}
}

func TestDefaultCPUMemoryCostRatio(t *testing.T) {
	// Recompute the ratio from the snapshot's n2 prices in us-central1, as its
	// doc comment derives it, and check every n2 shape against the rates.
	prices, _, err := SnapshotPrices()
	require.NoError(t, err)
	n2 := map[string]Price{}
	for _, p := range prices {
		if p.Cloud == "gcp" && p.Region == "us-central1" && ComputeFamily(p.Product) == "n2" {
			n2[p.Product] = p
		}
	}
	standard, highcpu := n2["n2-standard-2"], n2["n2-highcpu-2"]
	memRate := (standard.Value - highcpu.Value) / (standard.MemoryGiB - highcpu.MemoryGiB)
	cpuRate := (highcpu.Value - memRate*highcpu.MemoryGiB) / highcpu.VCPU
	require.InDelta(t, DefaultCPUMemoryCostRatio, cpuRate/memRate, 1e-6)
	require.InDelta(t, 7.46, DefaultCPUMemoryCostRatio, 0.005)
	require.Len(t, n2, 11)
	for name, p := range n2 {
		require.InDelta(t, p.Value, cpuRate*p.VCPU+memRate*p.MemoryGiB, 2e-6, name)
	}
}

func TestComputeFamily(t *testing.T) {
	for product, want := range map[string]string{
		"n2-standard-4":     "n2",
		"n2d-custom-4-8192": "n2d",
		"m5.xlarge":         "m5",
		"Standard_D4s_v5":   "Standard_D4s_v5",
		"fargate":           "fargate",
		"-odd":              "-odd",
	} {
		require.Equal(t, want, ComputeFamily(product), product)
	}
}

func TestDiscount(t *testing.T) {
	b := NewBook("USD")
	require.NoError(t, b.SetDiscounts([]DiscountConfig{
		{Cloud: "aws", Percent: 10},
		{Cloud: "aws", Account: "1234", Percent: 20},
		{Service: "checkout", Percent: 30},
		{Cloud: "aws", Service: "checkout", Percent: 35},
		{Account: "billing-9", Percent: 5},
	}))
	tests := []struct {
		cloud, account, service string
		want                    float64
	}{
		{"aws", "", "", 10},
		{"AWS", "999", "search", 10},
		{"aws", "1234", "search", 20},
		{"aws", "1234", "checkout", 35},
		{"gcp", "1234", "checkout", 30},
		{"gcp", "billing-9", "search", 5},
		{"gcp", "", "", 0},
	}
	for _, tt := range tests {
		require.InDelta(t, tt.want, b.Discount(tt.cloud, tt.account, tt.service), 0,
			"%s/%s/%s", tt.cloud, tt.account, tt.service)
	}
	require.ErrorContains(t, b.SetDiscounts([]DiscountConfig{{Percent: 5}}),
		"discounts[0]: name a cloud, account or service")
	require.InDelta(t, 10, b.Discount("aws", "", ""), 0, "kept after a rejected update")
}

func TestConfigValidate(t *testing.T) {
	good := PriceEntry{Cloud: "onprem", Region: "dc1", Kind: "compute", Product: "node",
		Price: 300, Unit: "month"}
	tests := []struct {
		name    string
		cfg     Config
		wantErr []string
	}{
		{"zero", Config{}, nil},
		{"full", Config{
			RefreshInterval: model.Duration(6 * time.Hour), Files: []string{"a.csv"},
			Overrides: []PriceEntry{good}, Currency: "EUR",
			Discounts: []DiscountConfig{{Cloud: "aws", Percent: 100}},
			AWS:       CloudConfig{Enabled: true, Regions: []string{"us-east-1"}},
		}, nil},
		{"short interval", Config{RefreshInterval: model.Duration(time.Minute)},
			[]string{"refresh_interval: 1m is shorter than the minimum 1h"}},
		{"currency", Config{Currency: "usd"}, []string{`currency: "usd" is not an ISO 4217`}},
		{"currency length", Config{Currency: "DOLLAR"}, []string{"currency: "}},
		{"empty file", Config{Files: []string{"a.csv", " "}}, []string{"files[1]: empty path"}},
		{"override", Config{Overrides: []PriceEntry{good, with2(good, "kind", "gpu")}},
			[]string{`overrides[1].kind: "gpu" is not one of`}},
		{"override twice", Config{Overrides: []PriceEntry{good, good}},
			[]string{"overrides[1]: same key as overrides[0]"}},
		{"override currency", Config{Currency: "EUR", Overrides: []PriceEntry{
			with2(good, "currency", "USD")}},
			[]string{`overrides[0].currency: "USD", but the price book's currency is EUR`}},
		{"discounts", Config{Discounts: []DiscountConfig{
			{Cloud: "aws", Percent: 10},
			{Cloud: "aws", Percent: 20},
			{Service: "a", Percent: 0},
			{Service: "b", Percent: math.NaN()},
			{Percent: 5},
		}}, []string{
			"discounts[1]: same scope as discounts[0]",
			"discounts[2].percent: 0 is not in (0, 100]",
			"discounts[3].percent: NaN is not in (0, 100]",
			"discounts[4]: name a cloud, account or service",
		}},
		{"regions", Config{
			GCP:   CloudConfig{Regions: []string{"us-central1", ""}},
			Azure: CloudConfig{Regions: []string{" "}},
		}, []string{"azure.regions[0]: empty region", "gcp.regions[1]: empty region"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.cfg.Validate()
			if tt.wantErr == nil {
				require.NoError(t, err)
				return
			}
			for _, want := range tt.wantErr {
				require.ErrorContains(t, err, want)
			}
		})
	}
}

// with2 returns e with one field, named as in YAML, set to value.
func with2(e PriceEntry, field, value string) PriceEntry {
	switch field {
	case "kind":
		e.Kind = value
	case "currency":
		e.Currency = value
	}
	return e
}

func TestConfigDefaults(t *testing.T) {
	require.Equal(t, DefaultRefreshInterval, Config{}.Interval())
	require.Equal(t, 2*time.Hour, Config{RefreshInterval: model.Duration(2 * time.Hour)}.Interval())
	require.Equal(t, "USD", Config{}.BookCurrency())
	require.Equal(t, "EUR", Config{Currency: "EUR"}.BookCurrency())
}

func TestNewBookFromConfig(t *testing.T) {
	dir := t.TempDir()
	csvPath := filepath.Join(dir, "onprem.csv")
	require.NoError(t, os.WriteFile(csvPath, []byte(
		"cloud,region,kind,product,price,unit\n"+
			"onprem,dc1,compute,rack-node,730,month\n"+
			"aws,us-east-1,compute,m5.large,0.08,hour\n"), 0o600))
	yamlPath := filepath.Join(dir, "more.yaml")
	require.NoError(t, os.WriteFile(yamlPath, []byte(
		"- {cloud: onprem, region: dc1, kind: storage, product: ceph, price: 0.02, "+
			"unit: gib-month}\n"), 0o600))

	b, err := NewBookFromConfig(Config{
		Files: []string{csvPath, yamlPath},
		Overrides: []PriceEntry{{Cloud: "aws", Region: "us-east-1", Kind: "compute",
			Product: "m5.xlarge", Price: 0.15, Unit: "hour"}},
		Discounts: []DiscountConfig{{Cloud: "aws", Percent: 12.5}},
	})
	require.NoError(t, err)

	lookups := []struct {
		key    Key
		value  float64
		source string
	}{
		{Key{Cloud: "onprem", Region: "dc1", Kind: KindCompute, Product: "rack-node"},
			1, csvPath},
		{Key{Cloud: "onprem", Region: "dc1", Kind: KindStorage, Product: "ceph"},
			0.02, yamlPath},
		{Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.large"},
			0.08, csvPath},
		{Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.xlarge"},
			0.15, SourceOverride},
		{Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.2xlarge"},
			0.384, SourceSnapshot},
	}
	for _, l := range lookups {
		got, err := b.Lookup(l.key)
		require.NoError(t, err, l.key.String())
		require.InDelta(t, l.value, got.Value, 1e-12, l.key.String())
		require.Equal(t, l.source, got.Source, l.key.String())
	}
	require.InDelta(t, 12.5, b.Discount("aws", "", "x"), 0)

	// Errors, each from one part of the configuration.
	dupPath := filepath.Join(dir, "dup.csv")
	require.NoError(t, os.WriteFile(dupPath, []byte(
		"cloud,kind,product,price,unit,region\nonprem,storage,ceph,1,gib-month,dc1\n"), 0o600))
	override := PriceEntry{Cloud: "aws", Kind: "compute", Product: "x", Price: 1, Unit: "hour"}
	bad := []struct {
		name    string
		cfg     Config
		wantErr string
	}{
		{"missing file", Config{Files: []string{filepath.Join(dir, "none.csv")}},
			"price file: open "},
		{"two files", Config{Files: []string{yamlPath, dupPath}},
			"priced twice, by " + yamlPath + " and by " + dupPath},
		{"override", Config{Overrides: []PriceEntry{with2(override, "kind", "")}},
			`overrides[0].kind: "" is not one of`},
		{"overrides twice", Config{Overrides: []PriceEntry{override, override}},
			"priced twice, by override and by override"},
		{"discount", Config{Discounts: []DiscountConfig{{Cloud: "aws", Percent: 101}}},
			"discounts[0].percent: 101"},
	}
	for _, tt := range bad {
		_, err := NewBookFromConfig(tt.cfg)
		require.ErrorContains(t, err, tt.wantErr, tt.name)
	}

	// A broken snapshot can only come from a broken build; it is still an error.
	saved := snapshotFiles
	t.Cleanup(func() { snapshotFiles = saved })
	snapshotFiles = fstest.MapFS{}
	_, err = NewBookFromConfig(Config{})
	require.ErrorContains(t, err, "price snapshot: open snapshot/compute.csv")
}

func TestBookConcurrentLookupsDuringRefresh(t *testing.T) {
	// Run with -race: lookups read while catalogs are replaced.
	b := NewBook("USD")
	key := Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.large"}
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				b.SetCatalog(fmt.Sprintf("source-%d", w),
					[]Price{price(KindCompute, "m5.large", float64(i), "")}, time.Unix(int64(i), 0))
			}
		})
		wg.Go(func() {
			for range 200 {
				if p, err := b.Lookup(key); err == nil {
					require.GreaterOrEqual(t, p.Value, 0.0)
				} else {
					require.Equal(t, ReasonUnknownCloud, NoPriceReason(err))
				}
				b.Sources()
			}
		})
	}
	wg.Wait()
	require.Len(t, b.Sources(), 4)
}
