package cluster

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
)

// leaderState is this node's leadership term of the stream, and the
// takeover loop that waits for the next one. Whether the term still leads
// is its keeper's to say, on the node's own clock (keeper.go).
type leaderState struct {
	keeper *Keeper            // current or last term
	cancel context.CancelFunc // ends the current term's loops; nil once it ended
	since  time.Time          // when the current term began
	await  context.CancelFunc // stops the takeover loop, while one runs

	// protection is how the stream is guarded against this node's death
	// while it leads and ingests it, and why there is none (protection.go).
	protection    Protection
	protectionWhy string
}

func (j *job) leading() bool {
	j.mu.Lock()
	k := j.leader.keeper
	j.mu.Unlock()
	if k == nil {
		return false
	}
	_, ok := k.Leading()
	return ok
}

// term is this node's current leadership: token and since when.
func (j *job) term() (uint64, time.Time, bool) {
	j.mu.Lock()
	k, since := j.leader.keeper, j.leader.since
	j.mu.Unlock()
	if k == nil {
		return 0, time.Time{}, false
	}
	tok, ok := k.Leading()
	return tok, since, ok
}

// backupLive: this node leads and its standby, which answered within the
// relay timeout, receives the backup feed of the same encoder (input
// redundancy). When this node's own feed stops, its open segment is then
// left open rather than cut short: the standby, which cut the same parts
// from the same TS, goes on with it from its feed and takes the lease
// (switchToBackup), so nothing between the cut and the next keyframe is
// lost and no number names a short segment here and a whole one there.
func (j *job) backupLive() bool {
	if !j.leading() {
		return false
	}
	j.mu.Lock()
	out := j.ingest.out
	j.mu.Unlock()
	if out == nil || out.Err() != nil {
		return false
	}
	st, at := out.PeerStatus()
	return !at.IsZero() && time.Since(at) < j.c.t.RelayTimeout && st.Ingest
}

func (j *job) floor() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.maxToken
}

func (j *job) newKeeper() *Keeper {
	k := NewKeeper(j.c.ledger, j.name, j.c.cfg.Self.ID, j.c.log)
	k.Eligible = j.mayTakeOver
	k.CanKeepWithoutRedis = j.standbyAlsoCutOff
	return k
}

// standbyAlsoCutOff: Redis is unreachable from here, and the standby,
// which answered within the relay timeout, cannot reach it either. Then no
// node can acquire the lease, and leading on is safe.
func (j *job) standbyAlsoCutOff() bool {
	j.mu.Lock()
	out := j.ingest.out
	j.mu.Unlock()
	if out == nil || j.c.redisOK.Load() {
		return false
	}
	st, at := out.PeerStatus()
	return !at.IsZero() && time.Since(at) < j.c.t.RelayTimeout && !st.RedisOK
}

// startAwait runs the takeover loop unless one runs or this node leads.
func (j *job) startAwait() {
	if j.leading() {
		return
	}
	j.mu.Lock()
	if j.leader.await != nil {
		j.mu.Unlock()
		return
	}
	ctx, cancel := context.WithCancel(j.c.ctx)
	j.leader.await = cancel
	j.mu.Unlock()
	go func() {
		defer func() {
			j.mu.Lock()
			j.leader.await = nil
			j.mu.Unlock()
			cancel()
		}()
		k := j.newKeeper()
		g, err := k.AwaitLease(ctx, j.floor, j.nudge)
		if err != nil {
			return
		}
		if j.leading() {
			return // another path (the ingest's own acquisition) won: one term
		}
		j.becomeLeader(k, g)
	}()
}

// becomeLeader begins a term with the lease k just acquired.
func (j *job) becomeLeader(k *Keeper, g Grant) {
	j.seeToken(g.Token)
	// Continue the playlists of the previous leader.
	ctx, cancel := context.WithTimeout(j.c.ctx, j.c.t.LeaseRenew)
	st, ok, err := j.c.ledger.State(ctx, j.name)
	cancel()
	media := j.c.cfg.Media(j.name)
	switch {
	case err != nil:
		j.log.Warn("cannot read the successor state; continuing with the local one", "err", err)
	case ok && st.Token != g.Token && media != nil:
		j.mu.Lock()
		cold := st.Holder != j.c.cfg.Self.ID && j.alignedTo != st.Holder
		j.mu.Unlock()
		if cold {
			j.log.Info("cold takeover: resuming after the stored state, one sequence number skipped", "previous", st.Holder)
		}
		if err := media.Resume(st.Blob, cold); err != nil {
			j.log.Warn("resume from the previous leader's state failed", "err", err)
		}
	}
	j.stopForward()
	lctx, lcancel := context.WithCancel(j.c.ctx)
	k.OnLost = func(reason string) { j.onLost(k, reason) }
	j.mu.Lock()
	if j.leader.cancel != nil {
		j.leader.cancel()
	}
	j.leader.keeper = k
	j.leader.cancel = lcancel
	j.lastLeader = j.c.cfg.Self.ID
	j.leader.since = time.Now()
	j.lineage = j.c.cfg.Self.ID
	reason := ReasonLeaderLost
	if j.handedOver {
		reason = ReasonHandover
	}
	j.handedOver = false
	j.mu.Unlock()
	j.counters.add(func(c *jobCounters) { c.terms++ })
	j.log.Info("leading", "token", g.Token, "resumed_from", st.Holder)
	if f := j.c.cfg.Fencer; f != nil && reason != ReasonHandover {
		// Whom this term succeeds: the holder the takeover loop saw, else
		// the last leader that stored the state. Redis decides whether it
		// is dead (a live one heartbeats, one that left is not remembered).
		prev, prevToken := g.Previous.Holder, g.Previous.Token
		if prev == "" && ok {
			prev, prevToken = st.Holder, st.Token
		}
		if prev != "" && prev != j.c.cfg.Self.ID && prevToken < g.Token {
			f.TookOver(j.name, prev, prevToken)
		}
	}
	go k.Run(lctx)
	go j.leaderLoop(lctx, k)
	// Not on the publisher's path: its first bytes wait for this function.
	go j.announce(func(ctx context.Context, a Announcer) { a.Leading(ctx, j.name, g.Token, reason) })
}

// onLost ends the term of keeper k (its OnLost).
func (j *job) onLost(k *Keeper, reason string) {
	j.mu.Lock()
	if j.leader.keeper == k && j.leader.cancel != nil {
		j.leader.cancel()
		j.leader.cancel = nil
	}
	ingest := j.ingest.live
	j.leader.protection, j.leader.protectionWhy = "", "" // a next term logs its own
	j.mu.Unlock()
	j.counters.add(func(c *jobCounters) { c.ended[reason]++ })
	j.log.Info("no longer leading", "reason", reason, "token", k.Token())
	j.mu.Lock()
	out := j.ingest.out
	j.mu.Unlock()
	if out != nil {
		_ = out.Control(relay.Control{Token: k.Token()}) // "no longer leading"
	}
	// A node that still ingests keeps relaying to whoever it relays to (after
	// a handover or a partition that is the new leader) and waits to lead
	// again if needed.
	if ingest && reason != "stopped" {
		j.startAwait()
	}
}

// leaderLoop writes the successor state (fenced), keeps a standby fed and
// informed, and gives the lease up when this node has no media any more.
func (j *job) leaderLoop(ctx context.Context, k *Keeper) {
	t := j.c.t
	tick := time.NewTicker(t.PartDuration)
	defer tick.Stop()
	var lastMSN map[string]uint64
	var lastWrite, lastStandbyCheck, mediaSeen time.Time
	var msnBackSaid bool
	mediaSeen = time.Now()
	media := j.c.cfg.Media(j.name)
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		token, ok := k.Leading()
		if !ok {
			continue // the keeper decides; OnLost cancels ctx
		}
		now := time.Now()
		if j.switchToBackup(ctx, k) {
			return
		}
		if j.hasMedia() {
			mediaSeen = now
		} else if now.Sub(mediaSeen) > t.MediaFreshFor() {
			j.log.Info("leader without media: releasing the lease so that a node with the ingest can lead")
			// Announced before the release: only the lease's holder may.
			j.announce(func(ctx context.Context, a Announcer) { a.Idle(ctx, j.name, token, "no_media") })
			rctx, cancel := context.WithTimeout(context.Background(), t.LeaseRenew)
			_ = k.Release(rctx)
			cancel()
			return
		}
		if now.Sub(lastStandbyCheck) >= t.LeaseRenew {
			lastStandbyCheck = now
			j.ensureStandby(ctx, token)
		}
		if media == nil {
			continue
		}
		blob, msn, err := media.State()
		if err != nil {
			continue
		}
		changed := !maps.Equal(msn, lastMSN)
		if changed || now.Sub(lastWrite) >= t.LeaseRenew {
			wctx, cancel := context.WithTimeout(ctx, t.LeaseRenew)
			err := j.c.ledger.PutState(wctx, j.name, j.c.cfg.Self.ID, token, blob, msn)
			cancel()
			switch {
			case err == nil:
				lastMSN, lastWrite = msn, now
			case errors.Is(err, ErrStale):
				// The lease may just be missing (Redis came back without it):
				// the renew script takes it back if no newer token was issued.
				rctx, cancel := context.WithTimeout(ctx, t.LeaseRenew)
				rerr := j.c.ledger.Renew(rctx, j.name, j.c.cfg.Self.ID, token)
				cancel()
				if errors.Is(rerr, ErrStale) {
					j.log.Warn("state write refused: deposed", "err", err)
					k.Depose("stale")
					return
				}
			case errors.Is(err, ErrMSNBack):
				if !msnBackSaid { // loud once a term, not every part
					msnBackSaid = true
					j.log.Error("state write refused: media sequence would go back", "err", err)
				}
			}
			j.mu.Lock()
			out := j.ingest.out
			j.mu.Unlock()
			if out != nil {
				_ = out.Control(relay.Control{Token: token, State: blob, Leading: true})
			}
		}
	}
}

// switchToBackup is input redundancy: this node's feed has gone quiet for
// half the relay timeout while the standby receives the backup feed of the
// same stream itself; the lease moves to the standby at once, which goes on
// publishing from its feed with the same names.
func (j *job) switchToBackup(ctx context.Context, k *Keeper) bool {
	j.mu.Lock()
	out, sb := j.ingest.out, j.ingest.outTo
	quiet := time.Since(j.ingest.lastLocal) > j.c.t.FeedQuietAfter()
	j.mu.Unlock()
	if !quiet || !j.backupLive() {
		return false
	}
	// Announced while this node still holds the lease: the announcement
	// names the successor, so the term it begins announces nothing more.
	if own, ok := k.Leading(); ok {
		j.announce(func(ctx context.Context, a Announcer) { a.InputSwitched(ctx, j.name, sb, own) })
	}
	tok, err := k.Handover(ctx, sb)
	if err != nil {
		j.log.Warn("cannot hand over to the backup feed", "err", err)
		return false
	}
	_ = out.Control(relay.Control{Token: tok, Handover: sb})
	j.log.Info("input switched: own feed quiet, standby has the backup feed", "to", sb, "token", tok)
	return true
}

// ensureStandby opens the relay to a standby chosen by the failover policy
// when there is none, or when the standby is in this node's zone and the
// twin zone accepts again, and records it (fenced) in the lease.
func (j *job) ensureStandby(ctx context.Context, token uint64) {
	j.mu.Lock()
	out, ingest, standbyZone := j.ingest.out, j.ingest.live, j.ingest.outZone
	j.mu.Unlock()
	self := j.c.cfg.Self
	if out != nil {
		select {
		case <-out.Done():
			j.log.Info("relay to standby lost", "standby", j.ingest.outTo, "err", out.Err())
			out = nil
		default:
			if standbyZone != self.Zone {
				return
			}
		}
	}
	if !ingest {
		return // only the ingesting node relays
	}
	sctx, cancel := context.WithTimeout(ctx, j.c.t.LeaseRenew)
	defer cancel()
	sb, ok := j.c.chooseStandby(sctx)
	if !ok {
		if out == nil {
			j.setProtection(ProtectionNone, "", "no other node of the region accepts a standby")
		}
		return
	}
	if out != nil && sb.Zone == self.Zone {
		return // the twin zone still has no node: keep the same-zone standby
	}
	o, err := j.openRelay(sctx, sb, token)
	if err != nil {
		if out == nil {
			j.setProtection(ProtectionNone, "", err.Error())
		}
		return
	}
	j.mu.Lock()
	old := j.ingest.out
	j.ingest.out, j.ingest.outTo, j.ingest.outZone, j.lastStandby = o, sb.ID, sb.Zone, sb.ID
	j.mu.Unlock()
	if err := j.c.ledger.SetStandby(sctx, j.name, self.ID, token, sb.ID); err != nil {
		j.log.Warn("cannot record the standby", "err", err)
	}
	if old != nil {
		// The same-zone standby keeps its feed until the new one has cut
		// and aligned a segment, then is dismissed.
		go func() {
			time.Sleep(2 * j.c.t.SegmentDuration)
			_ = old.Control(relay.Control{Token: token, Leading: true, Dismiss: true})
			time.Sleep(j.c.t.PartDuration) // Close drops what is still queued
			old.Close()
		}()
	}
	p := ProtectionTwinZone
	if sb.Zone == self.Zone {
		p = ProtectionSameZone
	}
	j.setProtection(p, sb.ID, "")
	j.log.Info("relaying to standby", "standby", sb.ID, "zone", sb.Zone, "addr", sb.QUIC)
}

// openRelay dials a standby and opens the stream's relay to it.
func (j *job) openRelay(ctx context.Context, sb NodeInfo, token uint64) (*relay.Out, error) {
	p, err := j.c.peer(ctx, sb.QUIC)
	if err != nil {
		return nil, fmt.Errorf("cannot reach standby %s: %w", sb.ID, err)
	}
	o, err := p.Open(ctx, relay.Hello{Stream: j.name, Leader: j.c.cfg.Self.ID, Token: token})
	if err != nil {
		return nil, fmt.Errorf("cannot open the relay to standby %s: %w", sb.ID, err)
	}
	return o, nil
}

// handover (drain): move the lease to the standby and wait until it leads.
func (j *job) handover(ctx context.Context) error {
	j.mu.Lock()
	k, out, sb := j.leader.keeper, j.ingest.out, j.ingest.outTo
	j.mu.Unlock()
	if k == nil {
		return nil
	}
	if out == nil || out.Err() != nil || sb == "" {
		j.log.Info("no standby: releasing the lease")
		if tok, ok := k.Leading(); ok {
			j.announce(func(ctx context.Context, a Announcer) { a.Idle(ctx, j.name, tok, "drain") })
		}
		return k.Release(ctx)
	}
	tok, err := k.Handover(ctx, sb)
	if err != nil {
		return err
	}
	j.log.Info("handed over", "to", sb, "token", tok)
	_ = out.Control(relay.Control{Token: tok, Handover: sb})
	for {
		if st, at := out.PeerStatus(); st.Leading && !at.IsZero() {
			j.log.Info("handover confirmed", "to", sb)
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-out.Done():
			return out.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
}
