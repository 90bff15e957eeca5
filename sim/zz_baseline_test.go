package sim

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

func TestZZBaselineHashes(t *testing.T) {
	for _, o := range hashCaseOptions() {
		w, err := New(o)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		if err := w.WriteOpenMetrics(&buf); err != nil {
			t.Fatal(err)
		}
		fmt.Printf("%x %d\n", sha256.Sum256(buf.Bytes()), buf.Len())
	}
}

func hashCaseOptions() []Options {
	a := smallOptions()
	b := smallOptions()
	b.Scenario, b.Seed, b.Duration = "steady", 3, 90*time.Minute
	c := smallOptions()
	c.Resources, c.KSMLabelsAllowlist, c.IstioSourceHistograms = 10, true, true
	c.LinkerdShare, c.TracedShare = 0.5, 1
	return []Options{a, b, c}
}

func TestZZMeasure(t *testing.T) {
	if os.Getenv("SIM_MEASURE") == "" {
		t.Skip()
	}
	days, _ := time.ParseDuration(os.Getenv("SIM_MEASURE"))
	opts := Options{Scenario: "startup", Seed: 1, Start: testStart, Duration: 4 * time.Hour, Step: 15 * time.Second}
	w, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	emit := func(labels.Labels, int64, float64) error { n++; return nil }
	for d := time.Duration(0); d <= days; d += 24 * time.Hour {
		if err := w.Advance(testStart.Add(d), emit); err != nil {
			t.Fatal(err)
		}
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		metrics := 0
		for _, f := range w.reg.families {
			metrics += len(f.metrics)
		}
		k := w.emitters[0].(*ksmEmitter)
		c := w.emitters[1].(*cadvisorEmitter)
		ie := w.emitters[2].(*istioEmitter)
		le := w.emitters[4].(*linkerdEmitter)
		live := 0
		for _, s := range w.services {
			if s.deploy != nil {
				live += len(s.deploy.pods)
			}
		}
		fmt.Printf("day %v: livepods=%d ksm.pods=%d cadvisor.pods=%d istio=%d linkerd=%d registry=%d heap=%.1fMiB samples=%d\n",
			d.Hours()/24, live, len(k.pods), len(c.pods), len(ie.series), len(le.series), metrics, float64(ms.HeapAlloc)/(1<<20), n)
	}
}
