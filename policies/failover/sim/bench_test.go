package sim

import (
	"testing"
	"time"
)

// BenchmarkDefaultScenario runs the contract's scenario (10,000 streams, 6
// regions, 24 h) and reports simulated events per second and wall seconds
// per run.
func BenchmarkDefaultScenario(b *testing.B) {
	c, err := DefaultConfig(10000, 6, 24, 1)
	if err != nil {
		b.Fatal(err)
	}
	var events uint64
	start := time.Now()
	for b.Loop() {
		r, err := Run(c)
		if err != nil {
			b.Fatal(err)
		}
		events += r.Events
	}
	wall := time.Since(start).Seconds()
	b.ReportMetric(float64(events)/wall, "events/s")
	b.ReportMetric(wall/float64(b.N), "wall-s/run")
}
