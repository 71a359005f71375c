package cluster

import (
	"context"
	"maps"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
)

// Forwarding covers the death of the ingesting leader when the broadcaster's
// reconnection lands on a node that is not the standby (the load balancer
// picks any node). That node may not publish until the dead leader's lease
// expires, but the standby, whose segments viewers are already reading, may
// keep cutting: so the node relays its ingest to the standby recorded in the
// lease, the standby goes on from it without renumbering, and takes the
// lease over when it expires. The forwarding node stays out of the way
// meanwhile (mayTakeOver) and becomes the source of the new leader's relay.
// This file is the forwarding node's side; the standby's (keeping the
// forward aside, then adopting it as its feed) is in inbound.go and
// standby.go.

// forwardToStandby opens the forward relay to the lease's standby (or, with
// none recorded, to its holder), unless this node is that node, holds the
// lease, or relays already.
func (j *job) forwardToStandby() {
	j.mu.Lock()
	busy := j.ingest.out != nil || !j.ingest.live
	j.mu.Unlock()
	if busy {
		return
	}
	ctx, cancel := context.WithTimeout(j.c.ctx, j.c.t.LeaseRenew)
	defer cancel()
	l, err := j.c.ledger.Lease(ctx, j.name)
	self := j.c.cfg.Self.ID
	if err != nil || l.Holder == self || l.Holder == "" {
		return
	}
	// The standby when one is recorded (the holder is likely dead); else
	// the holder itself: after a drain's handover the new leader has no
	// standby yet and no ingest either, and takes the forward as its feed.
	target := l.Standby
	if target == "" {
		target = l.Holder
	}
	if target == self {
		return
	}
	nodes, err := j.c.registry(ctx, time.Now())
	if err != nil {
		return
	}
	n, ok := nodes[target]
	if !ok || n.QUIC == "" {
		return // gone too: wait for the lease as before
	}
	p, err := j.c.peer(ctx, n.QUIC)
	if err != nil {
		j.log.Warn("cannot reach the node to forward the ingest to", "to", target, "err", err)
		return
	}
	o, err := p.Open(ctx, relay.Hello{Stream: j.name, Leader: self, Forward: true})
	if err != nil {
		j.log.Warn("cannot open the forward relay", "to", target, "err", err)
		return
	}
	leading := j.leading()
	j.mu.Lock()
	if j.ingest.out != nil || !j.ingest.live || leading {
		j.mu.Unlock()
		o.Close()
		return
	}
	actx, stopAlign := context.WithCancel(j.c.ctx)
	j.ingest.out, j.ingest.outTo, j.ingest.forwarding, j.ingest.stopAlign = o, target, true, stopAlign
	j.mu.Unlock()
	go j.alignWithTarget(actx, target)
	j.counters.add(func(c *jobCounters) { c.forwardSent++ })
	j.log.Info("forwarding the ingest (this node does not lead)", "to", target, "holder", l.Holder, "standby", l.Standby)
}

// forwardHealthyLocked: the forward relay is up and the standby at its end
// answers and reaches Redis, so it (not this node) should take the lease.
func (j *job) forwardHealthyLocked() bool {
	if !j.ingest.forwarding || j.ingest.out == nil || j.ingest.out.Err() != nil {
		return false
	}
	st, at := j.ingest.out.PeerStatus()
	return !at.IsZero() && time.Since(at) < j.c.t.RelayTimeout && st.RedisOK
}

// stopForward closes the forward relay (this node leads now, or no longer
// ingests). A new leader opens an ordinary relay to its standby, which
// aligns it with the new lineage.
func (j *job) stopForward() {
	j.mu.Lock()
	var out *relay.Out
	if j.ingest.forwarding {
		out = j.ingest.out
		j.ingest.stopAlign()
		j.ingest.out, j.ingest.outTo, j.ingest.forwarding, j.ingest.stopAlign = nil, "", false, nil
	}
	j.mu.Unlock()
	if out != nil {
		out.Close()
	}
}

// alignWithTarget keeps this node's copy aligned with the segments of the
// node it forwards to, once that node leads: the relay carries controls
// only toward the receiver, so the leader's successor state is read where
// the leader writes it, in Redis, and applied as a standby applies its
// leader's. The same TS cuts the same segments here, so this node then
// serves the same playlists as a standby, and if the leader dies it goes on
// with its own ingest, warm, instead of waiting for the lease and resuming
// cold.
func (j *job) alignWithTarget(ctx context.Context, target string) {
	media := j.c.cfg.Media(j.name)
	if media == nil {
		return
	}
	tick := time.NewTicker(j.c.t.LeaseRenew / 2)
	defer tick.Stop()
	var lastToken uint64
	var lastMSN map[string]uint64
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		rctx, cancel := context.WithTimeout(ctx, j.c.t.LeaseRenew)
		st, ok, err := j.c.ledger.State(rctx, j.name)
		cancel()
		if err != nil || !ok || st.Holder != target || (st.Token == lastToken && maps.Equal(st.MSN, lastMSN)) {
			continue
		}
		if err := media.Resume(st.Blob, false); err != nil {
			j.log.Warn("cannot align with the leader this node forwards to", "leader", target, "err", err)
			continue
		}
		lastToken, lastMSN = st.Token, st.MSN
		j.mu.Lock()
		first := j.alignedTo != target
		j.aligned, j.alignedTo, j.lineage = true, target, target
		j.mu.Unlock()
		if first {
			j.log.Info("aligned with the leader this node forwards to: serving as its standby", "leader", target)
		}
	}
}
