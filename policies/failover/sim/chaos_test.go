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
	// Direct routing: a killed leader's broadcaster notices at once and
	// reaches the standby, whose copy continues with the TS from the next
	// keyframe; a frozen or cut-off one costs the peer-idle timeout and the
	// probe first.
	frozenBack := tm.SRTPeerIdleTimeout + failover.DirectRouting.ProbeTimeout + tm.BroadcasterRetry
	want := map[string]struct{ minStall, maxStall time.Duration }{
		"sigkill-standby": {0, 0},
		"sigkill-leader":  {tm.BroadcasterRetry, tm.BroadcasterRetry + tm.SegmentDuration},
		// Modelled as sigkill-leader (the encoder's pause and a warm
		// same-zone standby change nothing in the model).
		"sigkill-leader-and-encoder":        {tm.BroadcasterRetry, tm.BroadcasterRetry + tm.SegmentDuration},
		"player-sigkill-leader-and-encoder": {tm.BroadcasterRetry, tm.BroadcasterRetry + tm.SegmentDuration},
		"sigkill-twin-then-leader":          {tm.BroadcasterRetry, tm.BroadcasterRetry + tm.SegmentDuration},
		// a2 forwards to the standby, which adopts the forward once the dead
		// leader's relay has been silent half a relay timeout.
		"sigkill-leader-reconnect-elsewhere": {tm.RelayTimeout / 2, tm.RelayTimeout/2 + tm.SegmentDuration},
		"sigkill-leader-then-new-leader":     {tm.RelayTimeout / 2, tm.RelayTimeout/2 + tm.SegmentDuration},
		"transcoder-sigkill-leader-ffmpeg":   {tm.PartDuration, tm.PartDuration},
		"sigstop-leader":                     {frozenBack, frozenBack + tm.SegmentDuration},
		"sigterm-drain":                      {tm.PartDuration, tm.BroadcasterRetry + tm.SegmentDuration},
		"api-drain":                          {tm.PartDuration, tm.BroadcasterRetry + tm.SegmentDuration},
		"sigterm-drain-reconnect-elsewhere":  {tm.PartDuration, tm.BroadcasterRetry + tm.SegmentDuration},
		"input-primary-feed-stops":           {tm.PartDuration, tm.PartDuration},
		"kill-redis-primary":                 {0, 0},
		"kill-both-redis-10s":                {0, 0},
		"partition-leader-from-redis":        {tm.PartDuration, tm.PartDuration},
		"partition-leader-full":              {frozenBack, frozenBack + tm.SegmentDuration},
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
	// The ingesting leader's death loses the media of the reconnection.
	for _, p := range preds {
		if p.Case.Name == "sigkill-leader" && p.LostMax != tm.BroadcasterRetry {
			t.Errorf("sigkill-leader loses %v, want %v", p.LostMax, tm.BroadcasterRetry)
		}
	}
	if _, err := PredictChaos(tm, failover.DirectRouting, 0, 1); err == nil {
		t.Error("zero runs accepted")
	}
}
