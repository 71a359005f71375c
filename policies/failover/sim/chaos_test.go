package sim

import (
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

func TestPredictChaosLocal(t *testing.T) {
	tm := failover.LocalTimings
	preds, err := PredictChaos(tm, failover.DirectRouting, 100, 1)
	if err != nil {
		t.Fatal(err)
	}
	if len(preds) != len(ChaosCases(tm)) {
		t.Fatalf("%d predictions", len(preds))
	}
	leaseFloor := tm.LeaseTTL - tm.LeaseRenew
	want := map[string]struct{ minStall, maxStall time.Duration }{
		"sigkill-standby":     {0, 0},
		"sigkill-leader":      {leaseFloor, tm.LeaseTTL + tm.SegmentDuration},
		"sigstop-leader":      {leaseFloor, tm.LeaseTTL + tm.SegmentDuration},
		"sigterm-drain":       {tm.PartDuration, tm.BroadcasterRetry + tm.SegmentDuration},
		"kill-redis-primary":  {0, 0},
		"kill-both-redis-10s": {0, 0},
	}
	for _, p := range preds {
		w, ok := want[p.Case.Name]
		if !ok {
			t.Fatalf("unexpected case %s", p.Case.Name)
		}
		if p.StallMin < w.minStall || p.StallMax > w.maxStall || p.StallMax > p.WorstStall || p.LostMax > p.WorstLost {
			t.Errorf("%s: stall %v–%v (worst case %v), want within %v–%v; lost up to %v (worst %v)",
				p.Case.Name, p.StallMin, p.StallMax, p.WorstStall, w.minStall, w.maxStall, p.LostMax, p.WorstLost)
		}
		if p.StallMin > p.StallMedian || p.StallMedian > p.StallMax {
			t.Errorf("%s: unordered distribution", p.Case.Name)
		}
	}
	// The ingesting leader's death loses the media of the reconnection:
	// the peer-idle timeout plus the retry.
	for _, p := range preds {
		if p.Case.Name == "sigkill-leader" && p.LostMax != tm.SRTPeerIdleTimeout+tm.BroadcasterRetry {
			t.Errorf("sigkill-leader loses %v, want %v", p.LostMax, tm.SRTPeerIdleTimeout+tm.BroadcasterRetry)
		}
	}
	if _, err := PredictChaos(tm, failover.DirectRouting, 0, 1); err == nil {
		t.Error("zero runs accepted")
	}
}
