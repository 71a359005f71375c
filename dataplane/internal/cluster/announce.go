package cluster

import (
	"context"
	"time"
)

// Announcer is told of the changes of a stream's live state that only its
// leader may announce (the node's signed events). Each call is made while
// this node holds the lease with token, so the announcer can fence on it
// (LeaseKey); InputSwitched is made just after the lease was handed to the
// node with the backup feed, with the token the handover gave it. A call
// may take one Redis round trip; it must return within ctx.
type Announcer interface {
	// Leading: this node began a term. reason says why the lease came to
	// it when another node led before: "handover" (handed over: drain, a
	// failed ladder) or "leader_lost" (the lease expired or was released).
	Leading(ctx context.Context, stream string, token uint64, reason string)
	// Idle: this node gives the stream up with no node to succeed it
	// ("no_media": its input is gone; "drain": drained with no standby).
	Idle(ctx context.Context, stream string, token uint64, reason string)
	// InputSwitched: the backup encoder's feed, on node to, replaces this
	// node's quiet primary feed; called just before the lease is handed
	// to it.
	InputSwitched(ctx context.Context, stream, to string, token uint64)
}

// LeaseKey is the Redis key of a stream's lease (a hash with holder and
// token): what a fenced write checks.
func LeaseKey(stream string) string { return keyLease(stream) }

// Failover reasons.
const (
	ReasonHandover   = "handover"
	ReasonLeaderLost = "leader_lost"
)

// announce runs fn with the announcer under a renewal period's timeout;
// nothing without an announcer.
func (j *job) announce(fn func(ctx context.Context, a Announcer)) {
	a := j.c.cfg.Announcer
	if a == nil {
		return
	}
	ctx, cancel := context.WithTimeout(j.c.ctx, j.c.t.LeaseRenew)
	defer cancel()
	start := time.Now()
	fn(ctx, a)
	if d := time.Since(start); d > j.c.t.LeaseRenew/2 {
		j.log.Info("announcing the live state was slow", "took", d)
	}
}
