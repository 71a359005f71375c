package sim

import (
	"math/rand/v2"
	"testing"
	"time"
)

// BenchmarkDefaultScenario runs the contract's scenario (10,000 streams, 6
// regions, 24 h) and reports simulated events per second, wall seconds per
// run, how many times faster than real time it simulates, the share of the
// 30 s budget for one simulated day that one run takes on this machine, and the cost of an
// event relative to a bare push and pop of the event queue measured in the
// same run (the baseline: what the model adds per event).
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
	perRun := wall / float64(b.N)
	perEvent := wall / float64(events)
	b.ReportMetric(float64(events)/wall, "events/s")
	b.ReportMetric(perRun, "wall-s/run")
	b.ReportMetric(c.Duration.Seconds()/perRun, "x-realtime")
	b.ReportMetric(100*perRun/30, "%-of-30s-budget")
	b.ReportMetric(perEvent/queueBaseline(int(events/uint64(b.N))), "x-queue-op")
}

// queueBaseline is the seconds one push and pop take on a heap of n events
// at random times.
func queueBaseline(n int) float64 {
	var q queue
	rng := rand.New(rand.NewPCG(1, 1))
	start := time.Now()
	for i := range n {
		q.push(event{at: time.Duration(rng.Int64N(int64(24 * time.Hour))), a: int32(i)})
	}
	for q.len() > 0 {
		q.pop()
	}
	return time.Since(start).Seconds() / float64(n)
}
