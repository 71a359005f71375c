package failover

import "time"

// Clock assumptions behind LeaseClockMargin. A leader stops acting on its
// lease LeaseClockMargin before the lease's TTL, counted on its own monotonic
// clock from the moment it *sent* the acquire/renew request; Redis counts the
// TTL from when it *executed* the request, which is later. What remains is
// clock error: the rate difference between the node's and Redis' clocks over
// one TTL, and (after a Sentinel failover, where the expiry replicates as an
// absolute time) the wall-clock skew between the two Redis hosts.
const (
	// ClockDriftRate bounds the relative rate error between two clocks
	// (quartz is ~1e-4; 1 % leaves a wide margin for VM steal and slewing).
	ClockDriftRate = 0.01
	// RedisClockSkew bounds the wall-clock difference between a Redis primary
	// and its replica (NTP/chrony in one region keeps it far below this).
	RedisClockSkew = 100 * time.Millisecond
)

// LeaseClockMargin is how long before its Redis-side expiry a leader's local
// lease deadline falls (see docs/cluster.md, "Why a frozen leader cannot
// publish").
func (t Timings) LeaseClockMargin() time.Duration {
	return time.Duration(float64(t.LeaseTTL)*ClockDriftRate) + RedisClockSkew
}
