package pricing

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Metrics exposes what a price book holds per source. Like every Stratus
// collector it reads the book's current state and calls no source.
type Metrics struct {
	book        *Book
	prices      *prometheus.Desc
	lastRefresh *prometheus.Desc
}

// NewMetrics returns a collector of stratus_pricing_prices{source} for every
// source and stratus_pricing_last_refresh_timestamp_seconds{source} for the
// fetched catalogs (the other sources are not refreshed).
func NewMetrics(book *Book) *Metrics {
	return &Metrics{
		book: book,
		prices: prometheus.NewDesc("stratus_pricing_prices",
			"Prices the price book holds from the source.",
			[]string{"source"}, nil),
		lastRefresh: prometheus.NewDesc("stratus_pricing_last_refresh_timestamp_seconds",
			"Time the source's price catalog in use was fetched.",
			[]string{"source"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (m *Metrics) Describe(ch chan<- *prometheus.Desc) {
	ch <- m.prices
	ch <- m.lastRefresh
}

// Collect implements prometheus.Collector.
func (m *Metrics) Collect(ch chan<- prometheus.Metric) {
	for _, s := range m.book.Sources() {
		ch <- prometheus.MustNewConstMetric(m.prices, prometheus.GaugeValue,
			float64(s.Prices), s.Source)
		if !s.Refreshed.IsZero() {
			ch <- prometheus.MustNewConstMetric(m.lastRefresh, prometheus.GaugeValue,
				float64(s.Refreshed.UnixNano())/1e9, s.Source)
		}
	}
}
