package sim

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// WriteOpenMetrics writes the whole world, [Start, Start+Duration], as timestamped
// OpenMetrics text ending in "# EOF". It simulates a fresh copy of the world, so it
// does not disturb Advance. Families are written one after another, each metric's
// points in time order, as promtool tsdb create-blocks-from openmetrics requires.
func (w *World) WriteOpenMetrics(out io.Writer) error {
	fresh, err := w.runBuffered()
	if err != nil {
		return err
	}
	return fresh.writeBuffered(out)
}

// runBuffered simulates a fresh copy of the world to its end, keeping every value.
func (w *World) runBuffered() (*World, error) {
	fresh, err := newWorld(w.opts, bufferSink{})
	if err != nil {
		return nil, err
	}
	if err := fresh.advanceTo(fresh.endMs()); err != nil {
		return nil, err
	}
	return fresh, nil
}

func (w *World) writeBuffered(out io.Writer) error {
	bw := bufio.NewWriterSize(out, 1<<20)
	var line []byte
	for _, f := range w.reg.families {
		if len(f.metrics) == 0 {
			continue
		}
		fmt.Fprintf(bw, "# TYPE %s %s\n# HELP %s %s\n", f.name, f.typ, f.name, escapeHelp(f.help))
		for _, m := range f.metrics {
			prefixes := make([][]byte, len(m.comps))
			for i, c := range m.comps {
				prefixes[i] = seriesPrefix(c)
			}
			n := len(m.comps)
			for k := 0; k*n < len(m.vals); k++ {
				ts := w.startMs + int64(m.startStep+k)*w.stepMs
				for i := range n {
					v := m.vals[k*n+i]
					if isGap(v) {
						continue
					}
					line = append(line[:0], prefixes[i]...)
					line = strconv.AppendFloat(line, v, 'g', -1, 64)
					line = append(line, ' ')
					line = appendTimestamp(line, ts)
					line = append(line, '\n')
					if _, err := bw.Write(line); err != nil {
						return fmt.Errorf("write openmetrics: %w", err)
					}
				}
			}
		}
	}
	if _, err := bw.WriteString("# EOF\n"); err != nil {
		return fmt.Errorf("write openmetrics: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write openmetrics: %w", err)
	}
	return nil
}

// seriesPrefix renders `name{label="value",...} ` once per series.
func seriesPrefix(lset labels.Labels) []byte {
	var b []byte
	b = append(b, lset.Get(model.MetricNameLabel)...)
	first := true
	lset.Range(func(l labels.Label) {
		if l.Name == model.MetricNameLabel {
			return
		}
		if first {
			b = append(b, '{')
			first = false
		} else {
			b = append(b, ',')
		}
		b = append(b, l.Name...)
		b = append(b, '=', '"')
		b = append(b, escapeLabelValue(l.Value)...)
		b = append(b, '"')
	})
	if !first {
		b = append(b, '}')
	}
	return append(b, ' ')
}

var labelEscaper = strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)

func escapeLabelValue(s string) string { return labelEscaper.Replace(s) }

var helpEscaper = strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)

func escapeHelp(s string) string { return helpEscaper.Replace(s) }

// appendTimestamp writes milliseconds as OpenMetrics seconds with millisecond
// precision, without going through floating point.
func appendTimestamp(b []byte, ms int64) []byte {
	b = strconv.AppendInt(b, ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		b = append(b, '.')
		b = append(b, byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
	}
	return b
}

// WriteDir simulates the world of opts and writes dir/metrics.om (OpenMetrics) and
// dir/truth.json (ground truth), creating dir if needed; with Options.Billing also
// dir/billing_focus.csv (the FOCUS billing export, see WriteBillingFOCUS).
func WriteDir(dir string, opts Options) error {
	w, err := New(opts)
	if err != nil {
		return err
	}
	fresh, err := w.runBuffered()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create output directory: %w", err)
	}
	if err := writeFile(filepath.Join(dir, "metrics.om"), fresh.writeBuffered); err != nil {
		return err
	}
	if err := writeFile(filepath.Join(dir, InventoryFile), fresh.WriteInventory); err != nil {
		return err
	}
	if opts.Billing {
		err := writeFile(filepath.Join(dir, BillingFile), fresh.WriteBillingFOCUS)
		if err != nil {
			return err
		}
	}
	truth := fresh.truth()
	return writeFile(filepath.Join(dir, "truth.json"), func(out io.Writer) error {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(truth)
	})
}

func writeFile(path string, write func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	return nil
}
