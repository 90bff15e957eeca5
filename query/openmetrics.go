package query

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/storage"
)

// The OpenMetrics parser works on a byte slice. Rather than hold a whole file
// of tens of millions of samples in memory, the loader hands it chunks of
// whole lines. The parser remembers one thing from line to line, the type of
// the current family, so each chunk after the first starts with a copy of the
// last "# TYPE" line and ends with "# EOF", neither counted as input lines.
// omChunkSize is a variable so that tests can cross chunk boundaries cheaply.
var omChunkSize = 4 << 20

const (
	omCommitEvery = 100_000
	omEOFLine     = "# EOF"
)

// LoadOpenMetrics loads a file of timestamped OpenMetrics text. Every sample
// must carry a timestamp. Classic histograms and summaries become their
// _bucket, _sum, _count and quantile series, as Prometheus stores them when it
// scrapes; _created series are kept as series too, as promtool's backfill does.
// Errors name the file and line; samples before the failing line may remain
// loaded.
func (e *Embedded) LoadOpenMetrics(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("loading OpenMetrics: %w", err)
	}
	defer f.Close()
	return e.LoadOpenMetricsReader(f, path)
}

// LoadOpenMetricsReader loads timestamped OpenMetrics text from r, as
// LoadOpenMetrics does; name stands for the input in errors.
func (e *Embedded) LoadOpenMetricsReader(r io.Reader, name string) error {
	start := time.Now()
	ld := &omLoader{
		app: e.db.AppenderV2(context.Background()),
		newApp: func() storage.AppenderV2 {
			return e.db.AppenderV2(context.Background())
		},
		name:  name,
		line:  1,
		cache: map[string]omSeries{},
	}
	if err := ld.load(r); err != nil {
		_ = ld.app.Rollback()
		return err
	}
	if err := ld.app.Commit(); err != nil {
		return fmt.Errorf("%s: committing samples: %w", name, err)
	}
	e.logger.Info("loaded OpenMetrics", "data_source", "openmetrics", "file", name,
		"samples", ld.samples, "series", len(ld.cache), "duration", time.Since(start))
	return nil
}

// maxTimestampMillis is 9999-12-31T23:59:59Z. A later timestamp is almost
// always a file written in milliseconds, which would otherwise load silently
// thousands of years away from the data the user meant.
const maxTimestampMillis = 253402300799000

// omSeries is what the loader remembers of a series it has seen, so that
// repeated samples of it skip building labels and looking the series up.
type omSeries struct {
	ref   storage.SeriesRef
	lset  labels.Labels
	lastT int64
}

// omLoader is the state of one load.
type omLoader struct {
	app      storage.AppenderV2
	newApp   func() storage.AppenderV2
	name     string
	line     int    // line number of the next input line
	typeLine []byte // the last "# TYPE" line, prefixed to every later chunk
	sawEOF   bool
	pending  int // samples appended since the last commit
	samples  int
	cache    map[string]omSeries
	work     []byte
}

// load splits r into chunks of whole lines and parses each.
func (ld *omLoader) load(r io.Reader) error {
	buf := make([]byte, 0, omChunkSize)
	for {
		// Fill the buffer, growing it only for a line longer than a chunk.
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, rerr := io.ReadFull(r, buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		atEnd := errors.Is(rerr, io.EOF) || errors.Is(rerr, io.ErrUnexpectedEOF)
		if rerr != nil && !atEnd {
			return fmt.Errorf("%s: reading: %w", ld.name, rerr)
		}

		if atEnd {
			if err := ld.chunk(buf); err != nil {
				return err
			}
			if !ld.sawEOF {
				return fmt.Errorf("%s:%d: missing %q at the end of the input", ld.name, ld.line, omEOFLine)
			}
			return nil
		}
		cut := bytes.LastIndexByte(buf, '\n')
		if cut < 0 {
			continue
		}
		if err := ld.chunk(buf[:cut+1]); err != nil {
			return err
		}
		buf = buf[:copy(buf, buf[cut+1:])]
	}
}

// chunk parses whole lines.
func (ld *omLoader) chunk(lines []byte) error {
	if ld.sawEOF {
		if len(bytes.TrimSpace(lines)) > 0 {
			return fmt.Errorf("%s:%d: unexpected data after %q", ld.name, ld.line, omEOFLine)
		}
		return nil
	}
	if len(lines) == 0 {
		return nil
	}

	// The real "# EOF" ends the input only on the last line; anywhere else
	// the parser finds it followed by data and says so.
	trimmed := bytes.TrimRight(lines, "\n")
	endsWithEOF := bytes.Equal(trimmed, []byte(omEOFLine)) ||
		bytes.HasSuffix(trimmed, []byte("\n"+omEOFLine))

	ld.work = ld.work[:0]
	prefixed := ld.typeLine != nil
	if prefixed {
		ld.work = append(ld.work, ld.typeLine...)
	}
	if endsWithEOF {
		// Drop the blank lines a file may carry after "# EOF"; the parser
		// would take them for data.
		lines = lines[:len(trimmed)]
	}
	ld.work = append(ld.work, lines...)
	if endsWithEOF {
		ld.work = append(ld.work, '\n')
	} else {
		if lines[len(lines)-1] != '\n' {
			ld.work = append(ld.work, '\n')
		}
		ld.work = append(ld.work, omEOFLine+"\n"...)
	}

	if err := ld.parse(ld.work, prefixed); err != nil {
		return err
	}
	ld.sawEOF = endsWithEOF
	return nil
}

// parse appends the samples of one chunk. Every entry the OpenMetrics parser
// returns is one line, so counting entries counts lines.
func (ld *omLoader) parse(data []byte, prefixed bool) error {
	p := textparse.NewOpenMetricsParser(data, nil)
	if prefixed {
		if _, err := p.Next(); err != nil {
			return fmt.Errorf("%s:%d: repeating the family type: %w", ld.name, ld.line, err)
		}
	}

	var lset labels.Labels
	for {
		entry, err := p.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s:%d: %w", ld.name, ld.line, err)
		}

		switch entry {
		case textparse.EntryType:
			name, typ := p.Type()
			ld.typeLine = append(ld.typeLine[:0], "# TYPE "...)
			ld.typeLine = append(ld.typeLine, omMetricName(string(name))...)
			ld.typeLine = append(ld.typeLine, ' ')
			ld.typeLine = append(ld.typeLine, typ...)
			ld.typeLine = append(ld.typeLine, '\n')
		case textparse.EntrySeries:
			series, ts, v := p.Series()
			if ts == nil {
				return fmt.Errorf("%s:%d: sample of %s has no timestamp", ld.name, ld.line, series)
			}
			if *ts > maxTimestampMillis {
				return fmt.Errorf("%s:%d: timestamp of %s is after the year 9999: OpenMetrics "+
					"timestamps are seconds, and this looks like milliseconds",
					ld.name, ld.line, series)
			}
			if err := ld.append(p, series, &lset, *ts, v); err != nil {
				return fmt.Errorf("%s:%d: %w", ld.name, ld.line, err)
			}
		case textparse.EntryHistogram:
			// The OpenMetrics 1.0 text format has no native histograms; this
			// keeps the loader correct should the parser ever return one.
			series, _, _, _ := p.Histogram()
			return fmt.Errorf("%s:%d: native histogram %s is not supported", ld.name, ld.line, series)
		}
		ld.line++
	}
}

// append stores one float sample, committing every omCommitEvery samples so
// that the appender does not hold the whole file.
func (ld *omLoader) append(
	p textparse.Parser,
	series []byte,
	lset *labels.Labels,
	t int64,
	v float64,
) error {
	s, ok := ld.cache[string(series)]
	if !ok {
		p.Labels(lset)
		s.lset = *lset
	} else if t <= s.lastT {
		// OpenMetrics orders a series' samples by time. The head would keep
		// one of two samples with the same timestamp without a word, and
		// file the older one out of order; a file that has either is wrong.
		return fmt.Errorf("sample of %s at %s is not after the previous one at %s",
			series, formatMillis(t), formatMillis(s.lastT))
	}
	ref, err := ld.app.Append(s.ref, s.lset, 0, t, v, nil, nil, storage.AOptions{})
	if err != nil {
		return fmt.Errorf("appending %s at %s: %w", series, formatMillis(t), err)
	}
	s.ref, s.lastT = ref, t
	ld.cache[string(series)] = s

	ld.samples++
	ld.pending++
	if ld.pending >= omCommitEvery {
		if err := ld.app.Commit(); err != nil {
			return fmt.Errorf("committing samples: %w", err)
		}
		ld.app = ld.newApp()
		ld.pending = 0
	}
	return nil
}

// omMetricName writes a metric name as a TYPE line needs it, quoting names
// that are not valid in the classic character set.
func omMetricName(name string) string {
	if model.LegacyValidation.IsValidMetricName(name) {
		return name
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
	return `"` + r.Replace(name) + `"`
}

// formatMillis formats a sample timestamp for error messages.
func formatMillis(t int64) string {
	return time.UnixMilli(t).UTC().Format(time.RFC3339Nano)
}
