package failover

import (
	"fmt"
	"time"
)

// Fencing is how the nodes take a dead node out of its load balancer
// before the load balancer's own health checks would (NLBDetection), and a
// dead zone out of the accelerator before its traffic shift would. A node
// is fenced only with Redis's agreement: its lease for a stream has been
// taken over (a higher fencing token exists) and Redis has heard no
// registry heartbeat from it for QuietAfter. A node cut off from Redis can
// therefore never fence anyone, and a node that still renews its
// heartbeat, or still holds the lease it is fenced under, is never fenced.
type Fencing struct {
	// Enabled turns fast fencing on. Off, only the load balancers' health
	// checks take a dead node or zone out of service (the what-if the
	// simulator prints with -no-fencing).
	Enabled bool
	// QuietAfter is how long Redis must have heard no heartbeat from a node
	// before another node may fence it: two heartbeats, so one lost or late
	// heartbeat never fences a live node.
	QuietAfter time.Duration
	// Deregistration is the budget from the DeregisterTargets call to the
	// NLB sending the fenced target's flows elsewhere (the API call and the
	// load balancer acting on it; an assumption, measured only against the
	// local stand-in).
	Deregistration time.Duration
	// WeightShift is the budget from the UpdateEndpointGroup call that sets
	// a dead zone's endpoint weight to 0 to the accelerator sending new
	// flows to the twin zone (an assumption, as Deregistration).
	WeightShift time.Duration
	// ZoneHealthyFor is how long a fenced zone must report a healthy node
	// (a registry heartbeat with readiness) before its endpoint weight is
	// put back, so that a flapping zone is not given traffic and taken
	// away again.
	ZoneHealthyFor time.Duration
	// Retry is the pause between attempts of a fencing call that failed
	// (throttled or unreachable API); every call is idempotent.
	Retry time.Duration
}

// DefaultFencing is the fencing zonecast ships with.
var DefaultFencing = Fencing{
	Enabled:        true,
	QuietAfter:     2 * DefaultTimings.NodeHeartbeat,
	Deregistration: 1 * time.Second,
	WeightShift:    2 * time.Second,
	ZoneHealthyFor: 30 * time.Second,
	Retry:          500 * time.Millisecond,
}

// SRTHandshakeResend is how often an SRT caller resends its handshake
// while connecting (libsrt resends the induction every 250 ms until
// SRTO_CONNTIMEO). An attempt that landed on a dead target before it was
// fenced therefore completes at the first resend after the load balancer,
// terminating the fenced target's flows on deregistration, sends the flow
// to a live node (ReconnectMovedAt); a flow past its handshake is not
// rescued so, since the live node ignores packets for a socket it never
// accepted (gosrt and libsrt drop them).
const SRTHandshakeResend = 250 * time.Millisecond

// Validate reports how the fencing contradicts the timings.
func (f Fencing) Validate(t Timings) error {
	if !f.Enabled {
		return nil
	}
	switch {
	case f.QuietAfter < 2*t.NodeHeartbeat:
		return fmt.Errorf("fencing quiet time %v must span two node heartbeats (%v)", f.QuietAfter, t.NodeHeartbeat)
	case f.QuietAfter > t.NodeTTL:
		return fmt.Errorf("fencing quiet time %v must not exceed the node TTL %v (the registry forgets the node then)", f.QuietAfter, t.NodeTTL)
	case f.Deregistration <= 0 || f.WeightShift <= 0 || f.Retry <= 0:
		return fmt.Errorf("fencing budgets must be positive")
	case f.ZoneHealthyFor < t.NLBRecovery():
		return fmt.Errorf("zone restore wait %v must be at least the NLB's recovery %v", f.ZoneHealthyFor, t.NLBRecovery())
	}
	return nil
}

// FencedAt is when a node that went silent at silent (died, froze, or was
// cut off) is out of its load balancer: a survivor fences it once it took
// over a lease the node held (takenOver: the lease lapsed, at most LeaseTTL
// after the node's last renewal, and the leader's relay has been silent
// LeaderSilentAfter, without which its standby does not take over), Redis
// has heard no heartbeat from it for QuietAfter, and Redis can run the
// agreement (redisBack, after a promotion); the deregistration then takes
// its budget. The data plane and the simulator act on this one rule.
func (f Fencing) FencedAt(t Timings, silent, takenOver, redisBack time.Duration) time.Duration {
	return max(takenOver, silent+t.LeaderSilentAfter(), silent+f.QuietAfter, redisBack) + f.Deregistration
}

// NodeFencedAfter is FencedAt's worst case for a node that dies: its
// lease was renewed just before, so it lapses a whole LeaseTTL later.
func (f Fencing) NodeFencedAfter(t Timings) time.Duration {
	return f.FencedAt(t, 0, t.LeaseTTL, 0)
}

// ZoneFencedAt is when new flows leave a zone whose nodes all went silent
// at silent: once Redis has heard none of them for QuietAfter (and can
// answer: redisBack, the promotion of the twin's replica when the zone held
// the region's primary), a survivor sets the zone's endpoint weight to 0,
// which the accelerator applies within WeightShift. No lease is involved:
// every node of the zone is quiet.
func (f Fencing) ZoneFencedAt(silent, redisBack time.Duration) time.Duration {
	return max(silent+f.QuietAfter, redisBack) + f.WeightShift
}

// RecordFor is how long Redis remembers a node's last heartbeat, and a
// fence, once the node went quiet. Every lease a dead node held lapses
// within LeaseTTL of its last renewal and is taken over then; the survivor
// then waits at most QuietAfter and one heartbeat for the agreement. Twice
// that, so a takeover slowed by a loaded Redis still finds the record,
// while a dead node's record does not linger.
func (f Fencing) RecordFor(t Timings) time.Duration {
	return 2 * (t.LeaseTTL + f.QuietAfter + t.NodeHeartbeat)
}
