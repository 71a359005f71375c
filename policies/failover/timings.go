package failover

import (
	"errors"
	"fmt"
	"time"
)

// Timings are the clocks of failover. Validate checks that they fit together.
type Timings struct {
	// NLB target-group health checks. Global Accelerator judges NLB endpoints
	// by the load balancer's own target health, so these are the checks that
	// decide when traffic leaves a node or zone.
	NLBHealthCheckInterval time.Duration // AWS allows 5–300 s
	NLBHealthyThreshold    int           // AWS allows 2–10
	NLBUnhealthyThreshold  int           // AWS allows 2–10
	NLBHealthCheckPath     string

	// Global Accelerator endpoint-group health checks (used only for EC2/EIP
	// endpoints) and the time AWS documents for moving traffic.
	GAHealthCheckInterval time.Duration // 10 or 30 s
	GAThreshold           int
	GATrafficShift        time.Duration

	// Node registry in Redis.
	NodeHeartbeat time.Duration
	NodeTTL       time.Duration

	// Stream leases in Redis (with fencing tokens).
	LeaseTTL   time.Duration
	LeaseRenew time.Duration

	// RedisFailover is the budget for Sentinel to notice a dead primary and
	// promote the replica (down-after-milliseconds plus the election).
	RedisFailover     time.Duration
	SentinelDownAfter time.Duration

	// RelayTimeout is how long the standby waits without TS from the leader's
	// QUIC relay before it considers the relay lost.
	RelayTimeout time.Duration

	// DrainDeadline bounds a graceful drain (SIGTERM): every led stream is
	// handed to its standby within it. LifecycleHookTimeout is what the
	// auto-scaling group's termination hook grants; it must exceed it.
	DrainDeadline        time.Duration
	LifecycleHookTimeout time.Duration

	// Packaging cadence, which bounds how quickly a takeover is visible.
	SegmentDuration time.Duration
	PartDuration    time.Duration
}

// DefaultTimings are the timings zonecast ships with.
var DefaultTimings = Timings{
	NLBHealthCheckInterval: 5 * time.Second,
	NLBHealthyThreshold:    2,
	NLBUnhealthyThreshold:  2,
	NLBHealthCheckPath:     "/readyz",

	GAHealthCheckInterval: 10 * time.Second,
	GAThreshold:           3,
	GATrafficShift:        30 * time.Second,

	NodeHeartbeat: 1 * time.Second,
	NodeTTL:       3 * time.Second,

	LeaseTTL:   6 * time.Second,
	LeaseRenew: 1 * time.Second,

	RedisFailover:     4 * time.Second,
	SentinelDownAfter: 1 * time.Second,

	RelayTimeout: 1 * time.Second,

	DrainDeadline:        60 * time.Second,
	LifecycleHookTimeout: 120 * time.Second,

	SegmentDuration: 2 * time.Second,
	PartDuration:    200 * time.Millisecond,
}

// Validate reports every way the timings contradict each other.
func (t Timings) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(t.NLBHealthCheckInterval >= 5*time.Second && t.NLBHealthCheckInterval <= 300*time.Second,
		"NLB health-check interval %v outside AWS's 5–300 s", t.NLBHealthCheckInterval)
	check(t.NLBHealthyThreshold >= 2 && t.NLBHealthyThreshold <= 10, "NLB healthy threshold %d outside 2–10", t.NLBHealthyThreshold)
	check(t.NLBUnhealthyThreshold >= 2 && t.NLBUnhealthyThreshold <= 10, "NLB unhealthy threshold %d outside 2–10", t.NLBUnhealthyThreshold)
	check(t.GAHealthCheckInterval == 10*time.Second || t.GAHealthCheckInterval == 30*time.Second,
		"Global Accelerator health-check interval %v must be 10 s or 30 s", t.GAHealthCheckInterval)
	check(t.NodeTTL > 2*t.NodeHeartbeat, "node TTL %v must outlive two heartbeats (%v)", t.NodeTTL, t.NodeHeartbeat)
	check(t.LeaseTTL > 2*t.LeaseRenew, "lease TTL %v must outlive two renewals (%v)", t.LeaseTTL, t.LeaseRenew)
	// A Redis failover must not depose healthy leaders: a lease outlives a
	// missed renewal plus the whole promotion.
	check(t.LeaseTTL > t.LeaseRenew+t.RedisFailover,
		"lease TTL %v must outlive a missed renewal (%v) plus a Redis failover (%v)", t.LeaseTTL, t.LeaseRenew, t.RedisFailover)
	check(t.RedisFailover > t.SentinelDownAfter, "Redis failover budget %v must exceed Sentinel's down-after %v", t.RedisFailover, t.SentinelDownAfter)
	check(t.PartDuration > 0 && t.SegmentDuration >= 2*t.PartDuration, "segment %v must hold at least two parts of %v", t.SegmentDuration, t.PartDuration)
	check(t.RelayTimeout < t.SegmentDuration, "relay timeout %v must be shorter than a segment (%v)", t.RelayTimeout, t.SegmentDuration)
	check(t.LifecycleHookTimeout > t.DrainDeadline, "lifecycle hook %v must outlast the drain deadline %v", t.LifecycleHookTimeout, t.DrainDeadline)
	return errors.Join(errs...)
}
