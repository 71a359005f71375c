package failover

import (
	"testing"
	"time"
)

// TestDerivedClocks: what the takeover logic relies on of each derived
// clock holds for every timing set Validate accepts (here the shipped and
// the local ones, and the relay timeout at both of its bounds).
func TestDerivedClocks(t *testing.T) {
	sets := map[string]Timings{"default": DefaultTimings, "local": LocalTimings}
	for _, seg := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second} {
		base := DefaultTimings.ForCadence(seg, DefaultTimings.PartDuration)
		lo, hi := base, base
		lo.RelayTimeout, hi.RelayTimeout = 2*base.PartDuration, seg-base.PartDuration
		sets["segment "+seg.String()+" relay low"], sets["segment "+seg.String()+" relay high"] = lo, hi
	}
	for name, tm := range sets {
		t.Run(name, func(t *testing.T) {
			if err := tm.Validate(); err != nil {
				t.Fatalf("not a valid set: %v", err)
			}
			// One late part never makes a node act on a quiet feed.
			if tm.FeedQuietAfter() < tm.PartDuration {
				t.Errorf("feed quiet after %v, under a part (%v)", tm.FeedQuietAfter(), tm.PartDuration)
			}
			// A standby serves its copy until a successor can lead.
			if tm.StandbyServesFor() <= tm.LeaseTTL {
				t.Errorf("standby serves for %v, not past the lease (%v)", tm.StandbyServesFor(), tm.LeaseTTL)
			}
			// A feed silent for a whole cut (a GOP of a segment) still counts.
			if tm.MediaFreshFor() <= tm.SegmentDuration {
				t.Errorf("media fresh for %v, not past a segment (%v)", tm.MediaFreshFor(), tm.SegmentDuration)
			}
			// Filler starts before the next cut would have been due.
			if tm.SlateAfter() >= tm.SegmentDuration {
				t.Errorf("slate after %v, not within a segment (%v)", tm.SlateAfter(), tm.SegmentDuration)
			}
			// A leader's own "I lead" outlasts a missed renewal.
			if tm.LeaderSilentAfter() <= tm.LeaseRenew {
				t.Errorf("leader silent after %v, within a renewal (%v)", tm.LeaderSilentAfter(), tm.LeaseRenew)
			}
		})
	}
}
