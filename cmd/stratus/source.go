package main

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/stratus-monitoring/stratus/query"
)

// source is the data source a command reads: a Prometheus-compatible API, the
// embedded engine over loaded files, or the embedded engine running the demo.
type source struct {
	querier query.Querier
	// embedded is set when the embedded engine answers; the demo feeds it.
	embedded *query.Embedded
	// name is the source label of stratus_source_up.
	name string
	// fixedAt is the end of the loaded data when the data cannot move (loaded
	// files): every evaluation happens there. Zero when time is live.
	fixedAt time.Time
	demo    bool
}

const (
	sourcePrometheus  = "prometheus"
	sourceOpenMetrics = "openmetrics"
	sourceDemo        = "demo"
)

// openSource builds the data source the flags and configuration ask for.
func (g *globals) openSource(
	metrics *query.Metrics, reporter query.StatusReporter,
) (*source, error) {
	if url := g.cfg.Prometheus.URL; url != "" {
		retries := g.cfg.Prometheus.Retries
		if retries == 0 {
			retries = -1 // query treats 0 as "default"; the configuration means none
		}
		h, err := query.NewHTTP(query.HTTPOptions{
			URL:              url,
			HTTPClientConfig: g.cfg.Prometheus.HTTPClient,
			QueryTimeout:     time.Duration(g.cfg.Prometheus.QueryTimeout),
			MaxConcurrency:   g.cfg.Prometheus.MaxConcurrency,
			Retries:          retries,
			Reporter:         reporter,
			Metrics:          metrics,
			Logger:           g.logger,
		})
		if err != nil {
			return nil, err
		}
		return &source{querier: h, name: sourcePrometheus}, nil
	}

	// Only serve owns --storage.path (and locks it); a one-shot command's
	// embedded store lives in a temporary directory of its own, so that it
	// never touches the store of a serve running beside it.
	var dir string
	if g.storageLock != nil {
		var err error
		if dir, err = g.embeddedDir(); err != nil {
			return nil, err
		}
	}
	e, err := query.NewEmbedded(query.EmbeddedOptions{
		Dir:     dir,
		Metrics: metrics,
		Logger:  g.logger,
	})
	if err != nil {
		return nil, err
	}
	if len(g.openMetrics) == 0 {
		return &source{querier: e, embedded: e, name: sourceDemo, demo: true}, nil
	}
	for _, path := range g.openMetrics {
		if err := e.LoadOpenMetrics(path); err != nil {
			_ = e.Close()
			return nil, err
		}
	}
	if reporter != nil {
		reporter.ReportSuccess(sourceOpenMetrics, time.Now())
	}
	return &source{querier: e, embedded: e, name: sourceOpenMetrics, fixedAt: e.MaxTime()}, nil
}

// embeddedDir prepares the directory of serve's embedded TSDB under the
// locked --storage.path. Its contents are rebuilt on every start, so a
// leftover from an earlier run is removed first.
func (g *globals) embeddedDir() (string, error) {
	dir := filepath.Join(g.storagePath, "embedded-tsdb")
	if err := os.RemoveAll(dir); err != nil {
		return "", fmt.Errorf("--storage.path: clearing %s: %w", dir, err)
	}
	return dir, nil
}

func (s *source) close() error {
	if s.embedded != nil {
		return s.embedded.Close()
	}
	return nil
}

// clock returns the evaluation time for the source: now for live sources,
// the end of the data for loaded files.
func (s *source) clock() func() time.Time {
	if !s.fixedAt.IsZero() {
		at := s.fixedAt
		return func() time.Time { return at }
	}
	return time.Now
}
