package pricing

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/stratus-monitoring/stratus/internal/atomicfile"
)

// cacheVersion is the version of the cache file format; a file of another
// version is ignored as if corrupt, and fetched anew.
const cacheVersion = 1

// Cache keeps fetched catalogs on disk, one JSON file per source, so that a
// restart prices at once with what was fetched last instead of waiting for
// the clouds' APIs. Stratus keeps it under <storage.path>/prices.
type Cache struct {
	Dir string
}

// CachedCatalog is a catalog as the cache holds it.
type CachedCatalog struct {
	Source    string
	FetchedAt time.Time
	Prices    []Price
}

// cacheFile is the file format: every field named, so that the file reads
// without Stratus's source at hand and survives renamed Go fields.
type cacheFile struct {
	Version   int          `json:"version"`
	Source    string       `json:"source"`
	FetchedAt time.Time    `json:"fetched_at"`
	Prices    []cachePrice `json:"prices"`
}

type cachePrice struct {
	Cloud     string    `json:"cloud"`
	Region    string    `json:"region"`
	Kind      Kind      `json:"kind"`
	Product   string    `json:"product"`
	OS        string    `json:"os,omitempty"`
	Purchase  Purchase  `json:"purchase"`
	Value     float64   `json:"value"`
	Unit      Unit      `json:"unit"`
	Currency  string    `json:"currency"`
	AsOf      time.Time `json:"as_of,omitzero"`
	VCPU      float64   `json:"vcpu,omitempty"`
	MemoryGiB float64   `json:"memory_gib,omitempty"`
}

// Path is the file that holds the catalog of source.
func (c Cache) Path(source string) string {
	return filepath.Join(c.Dir, cacheFileName(source))
}

// cacheFileName keeps a source name from leaving the directory or making an
// odd file name: anything but letters, digits, '-' and '_' becomes '_'.
func cacheFileName(source string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9',
			r == '-', r == '_':
			return r
		}
		return '_'
	}, source)
	return safe + ".json"
}

// Save writes the catalog of source atomically: to a temporary file in the
// same directory, synced, then renamed over the old one, so that a crash
// leaves either the old catalog or the new one, never half of one.
func (c Cache) Save(source string, fetchedAt time.Time, prices []Price) error {
	file := cacheFile{Version: cacheVersion, Source: source, FetchedAt: fetchedAt.UTC(),
		Prices: make([]cachePrice, 0, len(prices))}
	for _, p := range prices {
		file.Prices = append(file.Prices, cachePrice{
			Cloud: p.Cloud, Region: p.Region, Kind: p.Kind, Product: p.Product, OS: p.OS,
			Purchase: p.Purchase, Value: p.Value, Unit: p.Unit, Currency: p.Currency,
			AsOf: p.AsOf, VCPU: p.VCPU, MemoryGiB: p.MemoryGiB,
		})
	}
	data, err := json.Marshal(file)
	if err != nil {
		return fmt.Errorf("price cache for %s: %w", source, err)
	}

	if err := atomicfile.Write(c.Path(source), data); err != nil {
		return fmt.Errorf("price cache: %w", err)
	}
	return nil
}

// ErrNotCached says that the cache holds no catalog for a source.
var ErrNotCached = errors.New("not cached")

// Load reads the catalog of source. A missing file is ErrNotCached; a file
// that does not parse, is of another version or source, or holds a price
// that fails Validate is an error naming the file, and the caller should
// fetch anew rather than trust any of it.
func (c Cache) Load(source string) (CachedCatalog, error) {
	path := c.Path(source)
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return CachedCatalog{}, fmt.Errorf("price cache %s: %w", path, ErrNotCached)
	}
	if err != nil {
		return CachedCatalog{}, fmt.Errorf("price cache: %w", err)
	}

	var file cacheFile
	if err := json.Unmarshal(data, &file); err != nil {
		return CachedCatalog{}, fmt.Errorf("price cache %s: corrupt: %w", path, err)
	}
	switch {
	case file.Version != cacheVersion:
		return CachedCatalog{}, fmt.Errorf("price cache %s: version %d, want %d",
			path, file.Version, cacheVersion)
	case file.Source != source:
		return CachedCatalog{}, fmt.Errorf("price cache %s: holds source %q, want %q",
			path, file.Source, source)
	case file.FetchedAt.IsZero():
		return CachedCatalog{}, fmt.Errorf("price cache %s: no fetched_at", path)
	}

	out := CachedCatalog{Source: source, FetchedAt: file.FetchedAt,
		Prices: make([]Price, 0, len(file.Prices))}
	for i, cp := range file.Prices {
		p := Price{
			Key: Key{Cloud: cp.Cloud, Region: cp.Region, Kind: cp.Kind, Product: cp.Product,
				OS: cp.OS, Purchase: cp.Purchase},
			Value: cp.Value, Unit: cp.Unit, Currency: cp.Currency, Source: source,
			AsOf: cp.AsOf, VCPU: cp.VCPU, MemoryGiB: cp.MemoryGiB,
		}
		if err := p.Validate(); err != nil {
			return CachedCatalog{}, fmt.Errorf("price cache %s: prices[%d]: %w", path, i, err)
		}
		out.Prices = append(out.Prices, p)
	}
	return out, nil
}
