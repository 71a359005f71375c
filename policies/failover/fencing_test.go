package failover

import "testing"

// TestFencingRecordOutlivesTakeover: the heartbeat and fence records must
// still exist when the last lease of a dead node is taken over and the
// survivor has waited for the quiet time and one more heartbeat.
func TestFencingRecordOutlivesTakeover(t *testing.T) {
	cases := []struct {
		name string
		t    Timings
		f    Fencing
	}{
		{"shipped", DefaultTimings, DefaultFencing},
		{"fast cadence", DefaultTimings.ForCadence(DefaultTimings.SegmentDuration/2, DefaultTimings.PartDuration/2), DefaultFencing},
	}
	for _, c := range cases {
		if err := c.f.Validate(c.t); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		need := c.t.LeaseTTL + c.f.QuietAfter + c.t.NodeHeartbeat
		if got := c.f.RecordFor(c.t); got <= need {
			t.Errorf("%s: RecordFor %v must exceed the takeover window %v", c.name, got, need)
		}
	}
}
