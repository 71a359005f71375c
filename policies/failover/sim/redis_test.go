package sim

import (
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// TestRegionRedisPair: both zones of a region share one Redis pair
// (primary in the first zone, replica in the twin), so its faults act on
// the region: a primary's loss, in itself or with its zone, leaves the
// whole region without leases until the replica is promoted; losing the
// replica's zone changes nothing while the primary lives.
func TestRegionRedisPair(t *testing.T) {
	tm := failover.DefaultTimings
	cases := []struct {
		name        string
		fault       func(e *engine)
		availableAt time.Duration // −1: not before the instances return
		primaryZone string        // after the promotion, if any
	}{
		{"primary loss", func(e *engine) { e.loseRedisPrimary(0, time.Hour) }, tm.RedisFailover, "eu-west-1b"},
		{"zone of the primary", func(e *engine) { e.loseRedisIn(0, "eu-west-1a", time.Hour) }, tm.RedisFailover, "eu-west-1b"},
		{"zone of the replica", func(e *engine) { e.loseRedisIn(0, "eu-west-1b", time.Hour) }, 0, "eu-west-1a"},
		{"both instances", func(e *engine) { e.loseRedis(0, time.Minute) }, -1, "eu-west-1a"},
		{"primary without replica", func(e *engine) {
			e.loseRedisIn(0, "eu-west-1b", time.Hour)
			e.loseRedisPrimary(0, time.Hour)
		}, -1, "eu-west-1a"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := smallConfig(t, 10, 1, 1)
			e := newEngine(c)
			tc.fault(e)
			rp := e.redisOf(0)
			if tc.availableAt == 0 {
				if !rp.Available() || e.w.topo.Regions[0].Redis.Primary.Zone != tc.primaryZone {
					t.Fatalf("pair %+v, want it serving from %s", *rp, tc.primaryZone)
				}
				return
			}
			if rp.Available() {
				t.Fatalf("pair %+v still coordinates", *rp)
			}
			e.loop(10 * time.Second)
			if got := rp.Available(); got != (tc.availableAt > 0) {
				t.Fatalf("10 s later available = %v, want %v (pair %+v)", got, tc.availableAt > 0, *rp)
			}
			if tc.availableAt > 0 && (e.w.redisBackAt[0] != tc.availableAt || rp.Primary.Zone != tc.primaryZone) {
				t.Fatalf("back at %v with the primary in %s, want %v in %s", e.w.redisBackAt[0], rp.Primary.Zone, tc.availableAt, tc.primaryZone)
			}
			e.restartRedis(0, "")
			if !rp.Available() || !rp.Primary.Up || !rp.Replica.Up {
				t.Fatalf("restarted pair %+v", *rp)
			}
		})
	}
}
