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

	// OriginResponseTimeout is how long the CDN waits for an origin's answer
	// before it tries the other origin of its origin group (CloudFront's
	// origin response timeout, 1–60 whole seconds). A frozen node still
	// accepts connections (the kernel does), so this, not the connection
	// timeout, bounds what a frozen origin costs a viewer. A live playlist
	// answers at once, and a blocking reload within about a part; one that
	// waits longer is at an origin whose stream has stalled, where trying
	// the other origin is right.
	OriginResponseTimeout time.Duration

	// OriginHold is the longest the origin holds a request on purpose: a
	// blocking playlist reload, the part a playlist hints at, the
	// multivariant playlist at a stream's start. It must end, with an
	// answer, OriginHoldMargin before the CDN's OriginResponseTimeout:
	// a hold the CDN cuts short is retried on the other origin, which
	// holds the same way, and the viewer gets a 504 instead of an answer.
	OriginHold time.Duration

	// The broadcaster's side of SRT, which zonecast does not control but
	// which bounds every failover that moves the ingest. SRTPeerIdleTimeout
	// is how long a sender takes to notice a silent peer (libsrt's
	// SRTO_PEERIDLETIMEO, 5 s by default); SRTConnectTimeout is how long a
	// connection attempt to a dead target takes to fail (SRTO_CONNTIMEO, 3 s
	// by default); BroadcasterRetry is the pause an encoder makes before it
	// reconnects (an assumption: OBS and hardware encoders retry within
	// about a second when set to reconnect).
	SRTPeerIdleTimeout time.Duration
	SRTConnectTimeout  time.Duration
	BroadcasterRetry   time.Duration
}

// HoldBackSegments is how far behind the live end players start and stay:
// RFC 8216 asks for a HOLD-BACK of at least three target durations, and
// hls.js keeps liveSyncDurationCount = 3. A node whose playlist lists fewer
// complete segments than this (a standby that just joined) would make a
// player positioned there skip media, so such a node does not serve yet.
const HoldBackSegments = 3

// OriginHoldMargin is what separates the end of the origin's longest hold
// from the CDN's origin response timeout: the round trip between a CDN
// edge and a distant origin (the timeout runs from the request sent to the
// first byte back) plus the origin writing its answer.
const OriginHoldMargin = 300 * time.Millisecond

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

	// The shortest timeout CloudFront allows: every second of it is what
	// a frozen origin costs a viewer on each request before the other
	// origin answers (docs/cdn.md weighs it against longer holds).
	OriginResponseTimeout: 1 * time.Second,
	// Three parts: the next part of a blocking reload or a hinted part
	// arrives within one, with two of slack for a late input.
	OriginHold: 600 * time.Millisecond,

	SRTPeerIdleTimeout: 5 * time.Second,
	SRTConnectTimeout:  3 * time.Second,
	BroadcasterRetry:   1 * time.Second,
}

// Validate reports every way the timings contradict each other (each rule
// is one error, all joined, so an operator sees every problem at once).
func (t Timings) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	positive := []struct {
		name string
		d    time.Duration
	}{
		{"NodeHeartbeat", t.NodeHeartbeat}, {"NodeTTL", t.NodeTTL}, {"LeaseTTL", t.LeaseTTL}, {"LeaseRenew", t.LeaseRenew},
		{"RedisFailover", t.RedisFailover}, {"SentinelDownAfter", t.SentinelDownAfter}, {"RelayTimeout", t.RelayTimeout},
		{"DrainDeadline", t.DrainDeadline}, {"LifecycleHookTimeout", t.LifecycleHookTimeout},
		{"SegmentDuration", t.SegmentDuration}, {"PartDuration", t.PartDuration}, {"GATrafficShift", t.GATrafficShift}, {"OriginHold", t.OriginHold},
		{"SRTPeerIdleTimeout", t.SRTPeerIdleTimeout}, {"SRTConnectTimeout", t.SRTConnectTimeout}, {"BroadcasterRetry", t.BroadcasterRetry},
	}
	for _, p := range positive {
		check(p.d > 0, "%s must be positive, got %v", p.name, p.d)
	}
	check(t.NLBHealthCheckInterval >= 5*time.Second && t.NLBHealthCheckInterval <= 300*time.Second,
		"NLB health-check interval %v outside AWS's 5–300 s", t.NLBHealthCheckInterval)
	check(t.NLBHealthCheckInterval%time.Second == 0, "NLB health-check interval %v must be whole seconds (AWS takes seconds)", t.NLBHealthCheckInterval)
	check(t.NLBHealthyThreshold >= 2 && t.NLBHealthyThreshold <= 10, "NLB healthy threshold %d outside 2–10", t.NLBHealthyThreshold)
	check(t.NLBUnhealthyThreshold >= 2 && t.NLBUnhealthyThreshold <= 10, "NLB unhealthy threshold %d outside 2–10", t.NLBUnhealthyThreshold)
	check(len(t.NLBHealthCheckPath) > 1 && t.NLBHealthCheckPath[0] == '/', "NLB health-check path %q must be an absolute path", t.NLBHealthCheckPath)
	check(t.GAHealthCheckInterval == 10*time.Second || t.GAHealthCheckInterval == 30*time.Second,
		"Global Accelerator health-check interval %v must be 10 s or 30 s", t.GAHealthCheckInterval)
	check(t.GAThreshold >= 1 && t.GAThreshold <= 10, "Global Accelerator threshold %d outside 1–10", t.GAThreshold)
	check(t.NodeTTL > 2*t.NodeHeartbeat, "node TTL %v must outlive two heartbeats (%v)", t.NodeTTL, t.NodeHeartbeat)
	check(t.LeaseTTL > 2*t.LeaseRenew, "lease TTL %v must outlive two renewals (%v)", t.LeaseTTL, t.LeaseRenew)
	// A Redis failover must not depose healthy leaders: a lease outlives a
	// missed renewal plus the whole promotion.
	check(t.LeaseTTL > t.LeaseRenew+t.RedisFailover,
		"lease TTL %v must outlive a missed renewal (%v) plus a Redis failover (%v)", t.LeaseTTL, t.LeaseRenew, t.RedisFailover)
	// Readiness outlasts a lost heartbeat (see RedisUnreadyAfter).
	check(t.RedisUnreadyAfter() >= 2*t.NodeHeartbeat, "readiness's Redis grace %v must span two node heartbeats (%v)", t.RedisUnreadyAfter(), t.NodeHeartbeat)
	check(t.RedisFailover > t.SentinelDownAfter, "Redis failover budget %v must exceed Sentinel's down-after %v", t.RedisFailover, t.SentinelDownAfter)
	// The registry must notice a dead node no later than its leases lapse,
	// so that the standby it fed is re-placed by the time it leads.
	check(t.NodeTTL <= t.LeaseTTL, "node TTL %v must not exceed the lease TTL %v", t.NodeTTL, t.LeaseTTL)
	check(t.PartDuration > 0 && t.SegmentDuration >= 2*t.PartDuration, "segment %v must hold at least two parts of %v", t.SegmentDuration, t.PartDuration)
	check(t.PartDuration > 0 && t.SegmentDuration%t.PartDuration == 0, "segment %v must be a whole number of parts of %v", t.SegmentDuration, t.PartDuration)
	check(t.RelayTimeout < t.SegmentDuration, "relay timeout %v must be shorter than a segment (%v)", t.RelayTimeout, t.SegmentDuration)
	// One late part must not make the standby give up on the relay.
	check(t.RelayTimeout >= 2*t.PartDuration, "relay timeout %v must span at least two parts of %v", t.RelayTimeout, t.PartDuration)
	check(t.OriginResponseTimeout >= time.Second && t.OriginResponseTimeout <= 60*time.Second && t.OriginResponseTimeout%time.Second == 0,
		"origin response timeout %v must be whole seconds within CloudFront's 1–60 s", t.OriginResponseTimeout)
	// A healthy blocking reload (the next part) must be answered within
	// the hold, and every hold must end before the CDN gives up on it.
	check(t.OriginHold >= 3*t.PartDuration, "origin hold %v must span three parts of %v (a blocking reload's wait for the next part, with slack)", t.OriginHold, t.PartDuration)
	check(t.OriginHold+OriginHoldMargin <= t.OriginResponseTimeout,
		"origin hold %v plus a margin of %v exceeds the CDN's origin response timeout %v (the CDN would cut held requests and retry the other origin)",
		t.OriginHold, OriginHoldMargin, t.OriginResponseTimeout)
	check(t.LifecycleHookTimeout > t.DrainDeadline, "lifecycle hook %v must outlast the drain deadline %v", t.LifecycleHookTimeout, t.DrainDeadline)
	// A drain hands its streams over, waits until the NLB has stopped sending
	// new flows to it (unhealthy threshold × interval), then closes the
	// broadcasters' connections; their reconnections must land elsewhere
	// before the deadline.
	check(t.DrainDeadline >= t.DrainNeeds(), "drain deadline %v is shorter than a drain needs (%v: NLB detection %v + retry %v + SRT connect %v + a segment)",
		t.DrainDeadline, t.DrainNeeds(), t.NLBDetection(), t.BroadcasterRetry, t.SRTConnectTimeout)
	check(t.LifecycleHookTimeout <= 7200*time.Second, "lifecycle hook %v exceeds AWS's 7200 s heartbeat timeout maximum", t.LifecycleHookTimeout)
	return errors.Join(errs...)
}

// ForCadence is t for a node packaging with other segment and part
// durations (the edge's hls settings): the relay timeout is moved, when it
// has to be, to span two parts and stay under a segment (Validate's rules),
// so that a standby notices a silent relay before the next cut.
func (t Timings) ForCadence(segment, part time.Duration) Timings {
	t.SegmentDuration, t.PartDuration = segment, part
	t.RelayTimeout = max(t.RelayTimeout, 2*part)
	if t.RelayTimeout >= segment {
		t.RelayTimeout = max(segment-part, 2*part)
	}
	// Likewise the origin's hold must cover a blocking reload, and the
	// CDN's wait the hold (whole seconds).
	t.OriginHold = max(t.OriginHold, 3*part)
	if need := t.OriginHold + OriginHoldMargin; t.OriginResponseTimeout < need {
		t.OriginResponseTimeout = (need + time.Second - 1).Truncate(time.Second)
	}
	return t
}

// NLBDetection is the worst-case time the NLB takes to mark a dead target
// unhealthy: the unhealthy threshold of consecutive failed checks, one
// interval apart, the first of which may start just before the failure.
func (t Timings) NLBDetection() time.Duration {
	return time.Duration(t.NLBUnhealthyThreshold) * t.NLBHealthCheckInterval
}

// NLBRecovery is the worst-case time a restored target needs to be healthy
// again in the NLB's eyes.
func (t Timings) NLBRecovery() time.Duration {
	return time.Duration(t.NLBHealthyThreshold) * t.NLBHealthCheckInterval
}

// DrainNeeds is the shortest drain deadline that lets a draining node hand
// over its streams and move its broadcasters' connections (see Validate).
func (t Timings) DrainNeeds() time.Duration {
	return t.NLBDetection() + t.BroadcasterRetry + t.SRTConnectTimeout + t.SegmentDuration
}
