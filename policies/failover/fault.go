package failover

import "fmt"

// Fault is a kind of failure zonecast must survive.
type Fault int

// The faults of the failover policy, in the order of the worst-case table.
const (
	NodeLoss         Fault = iota // the node ingesting and leading a stream dies
	StandbyLoss                   // the node holding a stream's standby dies
	ZoneLoss                      // a whole availability zone: nodes, load balancer, the primary Redis of its pair
	RedisPrimaryLoss              // a zone's Redis primary dies; the replica is promoted
	RedisPairLoss                 // both Redis instances of a zone are gone for a while
	RegionLoss                    // every zone of a region
	Partition                     // a leading node is cut off from everything for a while, then returns
	LeaderFreeze                  // a leading node stops (SIGSTOP, a long GC or VM pause), then wakes up
	RollingUpdate                 // instance refresh: every node drained (SIGTERM) and replaced
	RedisPartition                // a leading node is cut off from Redis only (still reaches its standby and broadcasters)
)

// Faults lists every fault.
var Faults = []Fault{NodeLoss, StandbyLoss, ZoneLoss, RedisPrimaryLoss, RedisPairLoss, RegionLoss, Partition, LeaderFreeze, RollingUpdate, RedisPartition}

var faultNames = [...]string{"node-loss", "standby-loss", "zone-loss", "redis-primary-loss", "redis-pair-loss", "region-loss", "partition", "leader-freeze", "rolling-update", "redis-partition"}

func (f Fault) String() string {
	if f < 0 || int(f) >= len(faultNames) {
		return fmt.Sprintf("fault(%d)", int(f))
	}
	return faultNames[f]
}

// ParseFault reads a fault's name as String writes it.
func ParseFault(s string) (Fault, error) {
	for i, n := range faultNames {
		if n == s {
			return Fault(i), nil
		}
	}
	return 0, fmt.Errorf("failover: unknown fault %q", s)
}
