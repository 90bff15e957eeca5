package graph

import (
	"fmt"
	"testing"
)

func BenchmarkAnalyze(b *testing.B) {
	for _, size := range []struct{ nodes, edges int }{{50, 500}, {500, 5000}} {
		b.Run(fmt.Sprintf("nodes=%d/edges=%d", size.nodes, size.edges), func(b *testing.B) {
			g := randomGraph(1, size.nodes, size.edges)
			b.ReportAllocs()
			for b.Loop() {
				Analyze(g, Options{})
			}
		})
	}
}
