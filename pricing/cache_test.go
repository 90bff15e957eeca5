package pricing

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestCacheRoundTrip(t *testing.T) {
	c := Cache{Dir: filepath.Join(t.TempDir(), "prices")}
	fetched := time.Date(2026, 8, 1, 6, 0, 0, 0, time.FixedZone("CEST", 2*3600))
	prices := []Price{
		with(price(KindCompute, "m5.large", 0.096, "aws-price-list"), func(p *Price) {
			p.VCPU, p.MemoryGiB, p.AsOf = 2, 8, time.Date(2026, 7, 20, 0, 0, 0, 0, time.UTC)
		}),
		price(KindStorage, "ebs-gp3", 0.08, "aws-price-list"),
		with(price(KindCompute, "m5.large", 0.03, "aws-price-list"),
			func(p *Price) { p.Purchase = Spot }),
	}
	require.NoError(t, c.Save("aws-price-list", fetched, prices))
	// Saving again replaces the file and leaves no temporary file behind.
	require.NoError(t, c.Save("aws-price-list", fetched, prices))
	entries, err := os.ReadDir(c.Dir)
	require.NoError(t, err)
	require.Len(t, entries, 1)
	require.Equal(t, "aws-price-list.json", entries[0].Name())

	got, err := c.Load("aws-price-list")
	require.NoError(t, err)
	require.Equal(t, "aws-price-list", got.Source)
	require.True(t, fetched.Equal(got.FetchedAt))
	require.Equal(t, prices, got.Prices)
}

func TestCacheFileName(t *testing.T) {
	c := Cache{Dir: "/var/lib/stratus/prices"}
	require.Equal(t, "/var/lib/stratus/prices/gcp-billing-catalog.json",
		c.Path("gcp-billing-catalog"))
	require.Equal(t, "/var/lib/stratus/prices/___etc_passwd_x.json", c.Path("../etc/passwd x"))
}

func TestCacheLoadErrors(t *testing.T) {
	good := func(change func(*cacheFile)) string {
		f := cacheFile{Version: cacheVersion, Source: "src", FetchedAt: time.Unix(100, 0),
			Prices: []cachePrice{{Cloud: "aws", Kind: KindStorage, Product: "ebs-gp3",
				Purchase: OnDemand, Value: 0.08, Unit: PerGiBMonth, Currency: "USD"}}}
		change(&f)
		data, err := json.Marshal(f)
		require.NoError(t, err)
		return string(data)
	}
	tests := []struct {
		name, content, wantErr string
	}{
		{"good", good(func(*cacheFile) {}), ""},
		{"truncated", good(func(*cacheFile) {})[:40], "src.json: corrupt: unexpected end"},
		{"garbage", "<html>502 Bad Gateway</html>", "src.json: corrupt: invalid character"},
		{"version", good(func(f *cacheFile) { f.Version = 2 }), "src.json: version 2, want 1"},
		{"source", good(func(f *cacheFile) { f.Source = "other" }),
			`src.json: holds source "other", want "src"`},
		{"time", good(func(f *cacheFile) { f.FetchedAt = time.Time{} }), "src.json: no fetched_at"},
		{"price", good(func(f *cacheFile) { f.Prices[0].Unit = PerHour }),
			`src.json: prices[0]: aws/ storage ebs-gp3: unit "hour", want "gib-month"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Cache{Dir: t.TempDir()}
			require.NoError(t, os.WriteFile(c.Path("src"), []byte(tt.content), 0o600))
			got, err := c.Load("src")
			if tt.wantErr == "" {
				require.NoError(t, err)
				require.Len(t, got.Prices, 1)
				require.Equal(t, "src", got.Prices[0].Source)
				return
			}
			require.ErrorContains(t, err, "price cache "+c.Dir)
			require.ErrorContains(t, err, tt.wantErr)
			require.NotErrorIs(t, err, ErrNotCached)
		})
	}

	c := Cache{Dir: t.TempDir()}
	_, err := c.Load("missing")
	require.ErrorIs(t, err, ErrNotCached)
	require.NoError(t, os.Mkdir(c.Path("dir"), 0o750))
	_, err = c.Load("dir")
	require.ErrorContains(t, err, "is a directory")
	require.NotErrorIs(t, err, ErrNotCached)
}

func TestCacheSaveErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	require.NoError(t, os.WriteFile(file, nil, 0o600))
	ok := []Price{price(KindStorage, "ebs-gp3", 0.08, "")}

	err := Cache{Dir: filepath.Join(file, "prices")}.Save("src", time.Unix(1, 0), ok)
	require.ErrorContains(t, err, "price cache: mkdir")

	err = Cache{Dir: dir}.Save("src", time.Unix(1, 0),
		[]Price{price(KindStorage, "ebs-gp3", math.Inf(1), "")})
	require.ErrorContains(t, err, "price cache for src: json: unsupported value: +Inf")

	c := Cache{Dir: dir}
	require.NoError(t, os.MkdirAll(filepath.Join(c.Path("busy"), "x"), 0o750))
	err = c.Save("busy", time.Unix(1, 0), ok)
	require.ErrorContains(t, err, "price cache: rename")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	require.Len(t, entries, 2, "the temporary file is removed")
}
