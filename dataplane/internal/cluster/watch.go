package cluster

import (
	"context"
	"time"
)

// AwaitLease blocks until this node holds the stream's lease, ctx ends or
// the keeper's owner gives up. It is the standby's side of a takeover: it
// reads the lease's remaining TTL and tries to acquire the moment it
// expires (Redis expires a key exactly on access), so a takeover follows a
// lost lease within milliseconds; nudge (relay lost, handover announced)
// makes it look again at once. floor returns the highest token seen.
func (k *Keeper) AwaitLease(ctx context.Context, floor func() uint64, nudge <-chan struct{}) (Grant, error) {
	t := k.store.timings
	for {
		l, err := k.store.Lease(ctx, k.stream)
		wait := t.PartDuration
		if err == nil {
			if (l.Holder == "" || l.Holder == k.node) && (k.Eligible == nil || k.Eligible()) {
				f := l.Token
				if floor != nil {
					f = max(f, floor())
				}
				g, err := k.Acquire(ctx, f)
				if err == nil && g.Held {
					return g, nil
				}
				if err == nil {
					l = g.Current
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
