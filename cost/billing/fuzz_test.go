package billing

import (
	"bytes"
	"math"
	"os"
	"testing"
)

// checkRead is what every fuzz target asserts: no panic (the fuzzer reports
// one), every row says where it came from, billed costs and totals are finite,
// and every skip names a line.
func checkRead(t *testing.T, name string, rows []Row, skipped []Skip) {
	t.Helper()
	total := 0.0
	for i := range rows {
		r := &rows[i]
		if r.File != name || r.Line < 1 {
			t.Fatalf("row %d has no file line: %q:%d", i, r.File, r.Line)
		}
		if !finite(r.BilledCost) {
			t.Fatalf("%s: billed cost %v", r.Pos(), r.BilledCost)
		}
		for _, x := range []float64{r.ListCost, r.EffectiveCost, r.PricingQuantity, r.ListUnitPrice} {
			if math.IsInf(x, 0) {
				t.Fatalf("%s: infinite figure", r.Pos())
			}
		}
		total += r.BilledCost
	}
	for _, s := range skipped {
		if s.Kind == SkippedRow && s.Line < 1 {
			t.Fatalf("skip without a line: %v", s)
		}
	}
	for _, d := range TotalsByDay(rows) {
		if !finite(d.Billed) || !finite(d.Effective) || !finite(d.List) {
			if !math.IsInf(total, 0) { // sums of huge finite values may overflow
				t.Fatalf("total not finite: %+v", d)
			}
		}
	}
}

func addFixture(f *testing.F, path string) {
	data, err := os.ReadFile(path)
	if err != nil {
		f.Fatal(err)
	}
	if len(data) > 8<<10 {
		data = data[:8<<10]
	}
	f.Add(data)
}

func FuzzReadFOCUS(f *testing.F) {
	addFixture(f, focusSamplePath)
	f.Add([]byte(focusHeader10 + "\nAWS,1,2,Usage,,2024-09-01,,EC2,r,i,1,h,1,1,1,1,USD,\"{}\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, skipped, err := ReadFOCUS(bytes.NewReader(data), "f.csv")
		if err == nil {
			checkRead(t, "f.csv", rows, skipped)
		}
	})
}

func FuzzReadCUR(f *testing.F) {
	addFixture(f, curFixture)
	f.Add(curCSVToParquet(f, curFixture))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, read := range []ReadFunc{ReadCUR, ReadCURParquet} {
			rows, skipped, err := read(bytes.NewReader(data), "f.cur")
			if err == nil {
				checkRead(t, "f.cur", rows, skipped)
			}
		}
	})
}

func FuzzReadGCP(f *testing.F) {
	addFixture(f, "testdata/gcp_billing.jsonl")
	addFixture(f, "testdata/gcp_billing.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, read := range []ReadFunc{ReadGCP, ReadGCPJSON} {
			rows, skipped, err := read(bytes.NewReader(data), "f.gcp")
			if err == nil {
				checkRead(t, "f.gcp", rows, skipped)
			}
		}
	})
}

func FuzzReadAzure(f *testing.F) {
	addFixture(f, "testdata/azure_ea.csv")
	addFixture(f, "testdata/azure_mca.csv")
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, skipped, err := ReadAzure(bytes.NewReader(data), "f.csv")
		if err == nil {
			checkRead(t, "f.csv", rows, skipped)
		}
		rows, skipped, err = Detect(bytes.NewReader(data), "f.csv")
		if err == nil {
			checkRead(t, "f.csv", rows, skipped)
		}
	})
}
