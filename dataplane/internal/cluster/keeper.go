package cluster

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"
)

// Keeper holds one stream's lease for this node and knows, on the node's own
// monotonic clock, until when it may act as leader. The local deadline is
// LeaseClockMargin earlier than Redis' expiry counted from the moment the
// acquire/renew request was sent, so no other node can acquire the lease
// while this node still believes it leads — also after a freeze (SIGSTOP),
// since the monotonic clock keeps running while the process is stopped.
type Keeper struct {
	ledger *Ledger
	stream string
	node   string
	log    *slog.Logger

	// CanKeepWithoutRedis is asked when the local deadline passes while Redis
	// cannot be reached at all (not when Redis says the token is stale). If it
	// says yes (the standby confirms it cannot reach Redis either, so nobody
	// can acquire), the keeper keeps leading for one more renewal period.
	CanKeepWithoutRedis func() bool
	// Eligible, when set, must agree before AwaitLease acquires: only a node
	// that has the stream's media (its own ingest, or a live relay) takes
	// a lease over.
	Eligible func() bool
	// OnLost is called once when leadership ends (reason: "stale",
	// "unconfirmed", "released", "handover", "stopped").
	OnLost func(reason string)

	mu         sync.Mutex
	token      uint64
	deadline   time.Time // zero when not leading
	autonomous bool      // leading without Redis (see CanKeepWithoutRedis)
	lost       bool
	stop       chan struct{}
	done       chan struct{}
}

// NewKeeper prepares a keeper; call Acquire, then Run.
func NewKeeper(ledger *Ledger, stream, node string, log *slog.Logger) *Keeper {
	if log == nil {
		log = slog.Default()
	}
	return &Keeper{ledger: ledger, stream: stream, node: node, log: log.With("stream", stream, "node", node),
		stop: make(chan struct{}), done: make(chan struct{})}
}

// Acquire tries to take the lease; floor is the highest token seen so far.
func (k *Keeper) Acquire(ctx context.Context, floor uint64) (Grant, error) {
	start := time.Now()
	g, err := k.ledger.Acquire(ctx, k.stream, k.node, floor)
	if err != nil || !g.Held {
		return g, err
	}
	k.replicate(ctx)
	k.mu.Lock()
	k.token = g.Token
	k.deadline = start.Add(k.ledger.timings.LeaseTTL - k.ledger.timings.LeaseClockMargin())
	k.lost = false
	k.mu.Unlock()
	return g, nil
}

// replicate waits briefly for the replica to have what was just written, so
// that a Sentinel failover right now does not resurrect an older expiry.
func (k *Keeper) replicate(ctx context.Context) {
	wctx, cancel := context.WithTimeout(ctx, k.ledger.timings.LeaseRenew/2)
	defer cancel()
	if n, err := k.ledger.rdb.Do(wctx, "WAIT", 1, (k.ledger.timings.LeaseRenew / 4).Milliseconds()).Int64(); err == nil && n < 1 {
		k.log.Debug("lease write not yet on a replica")
	}
}

// AwaitLease blocks until this node holds the stream's lease, ctx ends or
// the keeper's owner gives up. It is the standby's side of a takeover: it
// reads the lease's remaining TTL and tries to acquire the moment it
// expires (Redis expires a key exactly on access), so a takeover follows a
// lost lease within milliseconds; nudge (relay lost, handover announced)
// makes it look again at once. floor returns the highest token seen.
func (k *Keeper) AwaitLease(ctx context.Context, floor func() uint64, nudge <-chan struct{}) (Grant, error) {
	t := k.ledger.timings
	var previous Lease // the last lease seen held by another node
	for {
		l, err := k.ledger.Lease(ctx, k.stream)
		wait := t.PartDuration
		if err == nil {
			if l.Holder != "" && l.Holder != k.node {
				previous = l
			}
			if (l.Holder == "" || l.Holder == k.node) && (k.Eligible == nil || k.Eligible()) {
				f := l.Token
				if floor != nil {
					f = max(f, floor())
				}
				g, err := k.Acquire(ctx, f)
				if err == nil && g.Held {
					g.Previous = previous
					return g, nil
				}
				if err == nil {
					l = g.Current
					if l.Holder != "" && l.Holder != k.node {
						previous = l
					}
				}
			}
			if l.Holder == "" && k.Eligible != nil && !k.Eligible() {
				wait = t.PartDuration / 2
			} else if l.Holder != "" && l.Holder != k.node {
				// Look again just after it would expire, or at the next
				// renewal if that is sooner.
				wait = min(l.TTL+2*time.Millisecond, t.LeaseRenew)
			}
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return Grant{}, ctx.Err()
		case <-nudge:
			timer.Stop()
		case <-timer.C:
		}
	}
}

// Leading reports the token and whether this node may act as the stream's
// leader right now.
func (k *Keeper) Leading() (uint64, bool) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.lost || k.token == 0 || !time.Now().Before(k.deadline) {
		return k.token, false
	}
	return k.token, true
}

// Token is the last token this keeper held (0 if never).
func (k *Keeper) Token() uint64 {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.token
}

// Autonomous reports whether the keeper leads without Redis confirmation.
func (k *Keeper) Autonomous() bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.autonomous
}

// Run renews the lease every LeaseRenew until it is lost or Stop is called.
func (k *Keeper) Run(ctx context.Context) {
	defer close(k.done)
	t := k.ledger.timings
	tick := time.NewTicker(t.LeaseRenew)
	defer tick.Stop()
	failing := false
	for {
		// The expiry check runs a little before the deadline, so that an
		// autonomous extension (or a last renewal) lands before Leading()
		// would turn false.
		k.mu.Lock()
		wait := time.Until(k.deadline) - t.LeaseRenew/4
		k.mu.Unlock()
		expiry := time.NewTimer(max(wait, 0))
		select {
		case <-ctx.Done():
			expiry.Stop()
			k.lose("stopped")
			return
		case <-k.stop:
			expiry.Stop()
			return
		case <-expiry.C:
			// Deadline reached without a successful renewal.
			if k.mayContinueWithoutRedis() {
				continue
			}
			// Redis may be back this very moment (its return is what makes
			// the standby stop confirming the outage): one last renewal.
			start := time.Now()
			rctx, cancel := context.WithTimeout(ctx, t.LeaseRenew/2)
			err := k.ledger.Renew(rctx, k.stream, k.node, k.Token())
			cancel()
			if err == nil {
				k.confirm(start)
				continue
			}
			k.lose("unconfirmed")
			return
		case <-tick.C:
			expiry.Stop()
		}
		start := time.Now()
		rctx, cancel := context.WithTimeout(ctx, t.LeaseRenew)
		err := k.ledger.Renew(rctx, k.stream, k.node, k.Token())
		if err == nil {
			k.replicate(rctx)
		}
		cancel()
		switch {
		case err == nil:
			failing = false
			k.confirm(start)
		case errors.Is(err, ErrStale):
			k.log.Warn("lease lost: token is stale", "err", err)
			k.lose("stale")
			return
		default:
			if !failing { // once per outage, not once a second
				k.log.Warn("lease renewal failed; retrying every renewal period", "err", err)
			}
			failing = true
		}
	}
}

// confirm records a successful renewal sent at start.
func (k *Keeper) confirm(start time.Time) {
	t := k.ledger.timings
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.autonomous {
		k.log.Info("redis reachable again: lease confirmed", "token", k.token)
	}
	k.autonomous = false
	k.deadline = start.Add(t.LeaseTTL - t.LeaseClockMargin())
}

// mayContinueWithoutRedis extends the deadline by one renewal period if the
// last renewal failed for lack of Redis and CanKeepWithoutRedis agrees.
func (k *Keeper) mayContinueWithoutRedis() bool {
	if k.CanKeepWithoutRedis == nil || !k.CanKeepWithoutRedis() {
		return false
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if !k.autonomous {
		k.log.Warn("redis unreachable from here and from the standby: leading without coordination", "token", k.token)
	}
	k.autonomous = true
	// Renewal period plus the early check's lead: the next check comes
	// one renewal period from now, before this deadline.
	t := k.ledger.timings
	k.deadline = time.Now().Add(t.LeaseRenew + t.LeaseRenew/4)
	return true
}

func (k *Keeper) lose(reason string) {
	k.mu.Lock()
	if k.lost {
		k.mu.Unlock()
		return
	}
	k.lost = true
	k.deadline = time.Time{}
	k.autonomous = false
	cb := k.OnLost
	k.mu.Unlock()
	k.log.Info("leadership ended", "reason", reason)
	if cb != nil {
		cb(reason)
	}
}

// Stop ends the renewals without releasing (the lease then expires).
func (k *Keeper) Stop() {
	select {
	case <-k.stop:
	default:
		close(k.stop)
	}
}

// Release stops leading at once and deletes the lease in Redis.
func (k *Keeper) Release(ctx context.Context) error {
	tok := k.Token()
	k.lose("released")
	k.Stop()
	_, err := k.ledger.Release(ctx, k.stream, k.node, tok)
	return err
}

// Handover stops leading at once and moves the lease to successor (drain).
// The returned token is the successor's.
func (k *Keeper) Handover(ctx context.Context, successor string) (uint64, error) {
	tok := k.Token()
	// Stop leading at once, but tell the owner only once the lease is the
	// successor's: an owner that still ingests waits for the lease again on
	// OnLost, and would otherwise find it still under its own name and take
	// it back with the old token.
	k.mu.Lock()
	cb := k.OnLost
	k.OnLost = nil
	k.mu.Unlock()
	k.lose("handover")
	k.Stop()
	next, err := k.ledger.Handover(ctx, k.stream, k.node, tok, successor)
	if cb != nil {
		cb("handover")
	}
	return next, err
}

// Depose ends leadership at once because Redis refused a fenced write.
func (k *Keeper) Depose(reason string) {
	k.lose(reason)
	k.Stop()
}
