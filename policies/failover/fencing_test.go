package failover

import (
	"testing"
	"time"
)

// TestFencedAt: a node is fenced only once every condition of the
// agreement holds — a survivor took over its lease (the lapse), the leader
// has been silent long enough for its standby to take over, Redis has not
// heard it for the quiet time and can answer — and the deregistration then
// takes its budget. A zone's weight needs only the quiet time and Redis.
func TestFencedAt(t *testing.T) {
	f, tm := DefaultFencing, DefaultTimings
	s := time.Second
	nodes := []struct {
		name                         string
		silent, takenOver, redisBack time.Duration
		want                         time.Duration
	}{
		{"lease lapses last (the worst case)", 0, 6 * s, 0, 7 * s},
		{"an earlier lapse", 0, 5 * s, 0, 6 * s},
		{"the quiet time and the leader's silence bound it", 10 * s, 0, 0, 12*s + f.Deregistration},
		{"Redis is being promoted", 0, 5 * s, 9 * s, 10 * s},
	}
	for _, c := range nodes {
		if got := f.FencedAt(tm, c.silent, c.takenOver, c.redisBack); got != c.want {
			t.Errorf("node, %s: fenced at %v, want %v", c.name, got, c.want)
		}
	}
	if got := f.NodeFencedAfter(tm); got != tm.LeaseTTL+f.Deregistration {
		t.Errorf("worst node fence %v, want the lease and the deregistration", got)
	}
	zones := []struct {
		name              string
		silent, redisBack time.Duration
		want              time.Duration
	}{
		{"replica's zone: quiet time and weight shift", 0, 0, 4 * s},
		{"primary's zone: after the promotion", 0, tm.RedisFailover, 6 * s},
	}
	for _, c := range zones {
		if got := f.ZoneFencedAt(c.silent, c.redisBack); got != c.want {
			t.Errorf("zone, %s: weight 0 applied at %v, want %v", c.name, got, c.want)
		}
	}
	// Fencing moves flows before the health checks would, or it is moot.
	if f.NodeFencedAfter(tm) >= tm.NLBDetection() || f.ZoneFencedAt(0, tm.RedisFailover) >= tm.NLBDetection()+tm.GATrafficShift {
		t.Errorf("fencing (%v node, %v zone) no faster than the health checks (%v, %v)", f.NodeFencedAfter(tm), f.ZoneFencedAt(0, tm.RedisFailover),
			tm.NLBDetection(), tm.NLBDetection()+tm.GATrafficShift)
	}
}

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
