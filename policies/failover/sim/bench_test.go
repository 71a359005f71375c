package sim

import (
	"testing"
	"time"
)

// BenchmarkDefaultScenario runs the contract's scenario (10,000 streams, 6
// regions, 24 h) and reports simulated events per second, wall seconds per
// run, how many times faster than real time it simulates, and the share of
// the 30 s budget (issue 5) one run takes on this machine.
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
	perRun := wall / float64(b.N)
	b.ReportMetric(perRun, "wall-s/run")
	b.ReportMetric(c.Duration.Seconds()/perRun, "x-realtime")
	b.ReportMetric(100*perRun/30, "%-of-30s-budget")
}
