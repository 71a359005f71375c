package sim

import (
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// A region's one Redis pair (both zones share it) under faults: the
// primary's loss and the replica's promotion, both instances lost, the
// instance of a lost zone, and their return. The topology's pair counts a
// replica up only once promoted (failover.RedisPair.Available), so while a
// promotion runs neither instance is up.

func (e *engine) redisOf(region int) *failover.RedisPair { return &e.w.topo.Regions[region].Redis }

// loseRedisPrimary: the region's primary dies. A live replica is promoted
// RedisFailover later; without one the region has no Redis until an
// instance returns, at the latest by until.
func (e *engine) loseRedisPrimary(region int, until time.Duration) {
	rp := e.redisOf(region)
	if !rp.Primary.Up {
		return
	}
	rp.Primary.Up = false
	if !rp.Replica.Up {
		e.w.redisBackAt[region] = max(e.w.redisBackAt[region], until)
		return
	}
	rp.Replica.Up = false // serves once promoted
	e.w.promoting[region] = true
	e.w.redisBackAt[region] = e.now + e.c.Timings.RedisFailover
	e.q.push(event{at: e.w.redisBackAt[region], kind: evRedisPromoted, a: int32(region)})
}

// promoteReplica ends a promotion: the replica is the primary now, and the
// dead primary returns (when it does) as the replica.
func (e *engine) promoteReplica(region int) {
	if !e.w.promoting[region] {
		return
	}
	e.w.promoting[region] = false
	rp := e.redisOf(region)
	rp.Primary, rp.Replica = failover.RedisInstance{Zone: rp.Replica.Zone, Up: true}, failover.RedisInstance{Zone: rp.Primary.Zone}
}

// loseRedis: both instances are gone until until.
func (e *engine) loseRedis(region int, until time.Duration) {
	rp := e.redisOf(region)
	rp.Primary.Up, rp.Replica.Up = false, false
	e.w.promoting[region] = false
	e.w.redisBackAt[region] = max(e.w.redisBackAt[region], until)
}

// loseRedisIn: the instance running in the lost zone dies with it (the
// primary: a promotion in the twin; the replica: nothing while the primary
// lives). The zone is back by until.
func (e *engine) loseRedisIn(region int, zone string, until time.Duration) {
	rp := e.redisOf(region)
	switch {
	case rp.Primary.Zone == zone:
		e.loseRedisPrimary(region, until)
	case rp.Replica.Zone == zone:
		if e.w.promoting[region] {
			// The replica being promoted is gone too.
			e.w.promoting[region] = false
			e.w.redisBackAt[region] = max(e.w.redisBackAt[region], until)
		}
		rp.Replica.Up = false
	}
}

// restartRedis brings back the region's instances in zone ("" for any)
// whose zone is up; once the pair can coordinate, a pending promotion is
// moot.
func (e *engine) restartRedis(region int, zone string) {
	rp := e.redisOf(region)
	for _, inst := range []*failover.RedisInstance{&rp.Primary, &rp.Replica} {
		if (zone == "" || inst.Zone == zone) && e.zoneUp(region, inst.Zone) {
			inst.Up = true
		}
	}
	if rp.Available() {
		e.w.promoting[region] = false
		e.w.redisBackAt[region] = min(e.w.redisBackAt[region], e.now)
	}
}

func (e *engine) zoneUp(region int, name string) bool {
	for _, z := range e.w.topo.Regions[region].Zones {
		if z.Name == name {
			return z.Up
		}
	}
	return false
}
