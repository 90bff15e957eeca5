package sim

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkWriteDir measures a full world to disk: the default startup world and
// one scaled to 1000 resources, both 6h at 15s. Run with -benchtime=1x.
func BenchmarkWriteDir(b *testing.B) {
	for _, tc := range []struct {
		name      string
		resources int
	}{{"default", 0}, {"resources=1000", 1000}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			for b.Loop() {
				err := WriteDir(dir, Options{Scenario: "startup", Seed: 1,
					Start: time.Date(2025, 3, 4, 6, 0, 0, 0, time.UTC), Resources: tc.resources})
				if err != nil {
					b.Fatal(err)
				}
			}
			fi, err := os.Stat(filepath.Join(dir, "metrics.om"))
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(fi.Size())/1e6, "MB")
		})
	}
}
