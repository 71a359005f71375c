package cluster

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
)

// inbound is the standby's end of a leader's relay for one stream: it
// feeds the local media, aligns it with the leader's state, and reports
// back whether this node reaches Redis and whether it leads.
type inbound struct {
	j      *job
	leader string
	// forward: the sender ingests without leading (relay.Hello.Forward).
	forward bool
	held    []heldTS // a forward's TS not yet fed (hold), under j.mu
	bytes   atomic.Uint64
}

// acceptRelay is the relay server's handler.
func (c *Coordinator) acceptRelay(peer string, h relay.Hello) (relay.Sink, error) {
	j := c.job(h.Stream)
	if j == nil && c.cfg.Wire != nil {
		if err := c.cfg.Wire(h.Stream); err != nil {
			return nil, fmt.Errorf("stream %q is not known here: %w", h.Stream, err)
		}
		j = c.job(h.Stream)
	}
	if j == nil {
		return nil, fmt.Errorf("stream %q is not configured here", h.Stream)
	}
	if c.cfg.Media(h.Stream) == nil {
		return nil, errors.New("no media for the stream here")
	}
	if h.Forward {
		return c.acceptForward(j, h), nil
	}
	return j.standBy(h), nil
}

// acceptForward is the standby's side: the forward is kept aside while the
// leader's relay still delivers, and adopted by its first TS after that.
func (c *Coordinator) acceptForward(j *job, h relay.Hello) *inbound {
	j.log.Info("ingest forwarded by a node that does not lead", "from", h.Leader)
	go j.startAwait()
	return &inbound{j: j, leader: h.Leader, forward: true}
}

func (in *inbound) current() bool {
	in.j.mu.Lock()
	defer in.j.mu.Unlock()
	return in.j.standby.relay == in
}

func (in *inbound) WriteTS(b []byte) error {
	j := in.j
	in.bytes.Add(uint64(len(b)))
	j.mu.Lock()
	var backlog [][]byte
	switched := false
	if in.forward && j.standby.relay != in {
		if !j.adoptForwardLocked(in) {
			in.hold(b, j.c.t.RelayTimeout)
			j.mu.Unlock()
			return nil
		}
		switched, backlog = true, in.heldSince(j.standby.lastRelay)
	}
	cur, ingest := j.standby.relay == in, j.ingest.live
	if cur {
		j.standby.lastRelay = time.Now()
	}
	if !in.forward {
		j.standby.relayFrom, j.standby.relayFromAt = in.leader, time.Now()
	}
	j.mu.Unlock()
	if !cur || ingest {
		return nil
	}
	m := j.c.cfg.Media(j.name)
	if m == nil {
		return nil // the stream was removed here; its relay ends with the job
	}
	if switched {
		// No cut: the forward carries the same broadcaster's TS with the same
		// timestamps, so the session goes on across the hole of the
		// reconnection, as when the broadcaster reconnects to this node.
		for _, h := range backlog {
			if err := m.WriteTS(h); err != nil {
				return err
			}
		}
	}
	return m.WriteTS(b)
}

// Discontinuity mirrors the sender's cut: a standby cuts where its leader
// cut, so that both close the same segment. A node that leads does not: the
// sender (the old leader after a drain, a node forwarding its ingest) no
// longer decides the segments, and its publisher leaving is only a hole in
// the same broadcaster's TS, which goes on here when it reconnects (a real
// jump in the timestamps is still found by the demuxer).
func (in *inbound) Discontinuity() {
	if in.current() && !in.j.leading() {
		if m := in.j.c.cfg.Media(in.j.name); m != nil {
			m.Discontinuity()
		}
	}
}

func (in *inbound) Control(c relay.Control) {
	j := in.j
	j.seeToken(c.Token)
	if in.current() {
		j.mu.Lock()
		if c.Leading {
			j.standby.leaderLeadingAt = time.Now()
		} else {
			j.standby.leaderLeadingAt = time.Time{}
		}
		j.mu.Unlock()
	}
	if m := j.c.cfg.Media(j.name); m != nil && len(c.State) > 0 && in.current() && !j.leading() {
		if err := m.Resume(c.State, false); err != nil {
			j.log.Warn("cannot align with the leader's state", "err", err)
		} else {
			j.mu.Lock()
			j.aligned = true
			j.alignedTo = in.leader
			j.mu.Unlock()
		}
	}
	if c.Dismiss && in.current() {
		// The leader moved its standby: this copy is no longer kept
		// aligned, so it stops serving.
		j.log.Info("no longer standing by: the leader moved its standby", "leader", in.leader)
		j.mu.Lock()
		j.aligned = false
		j.mu.Unlock()
	}
	if c.Handover == j.c.cfg.Self.ID {
		j.log.Info("lease handed over to this node", "token", c.Token)
		j.mu.Lock()
		j.handedOver = true
		j.mu.Unlock()
		j.startAwait()
		j.poke()
	}
}

func (in *inbound) Status() relay.Status {
	return relay.Status{Node: in.j.c.cfg.Self.ID, RedisOK: in.j.c.redisOK.Load(), Bytes: in.bytes.Load(), Leading: in.j.leading(),
		Ingest: in.j.localFresh(), Ladder: in.j.ladderProducing()}
}

func (in *inbound) Close(err error) {
	j := in.j
	j.relayEnded(in)
	j.log.Info("relay from leader ended", "leader", in.leader, "err", err)
	j.poke()
}

// heldTS is forwarded TS kept while the leader's relay still delivers.
type heldTS struct {
	at time.Time
	b  []byte
}

// hold keeps a copy of a forward's TS for up to keep (the relay reuses its
// buffer), so that adopting the forward loses none of what arrived after the
// leader's relay went quiet.
func (in *inbound) hold(b []byte, keep time.Duration) {
	now := time.Now()
	in.held = append(in.held, heldTS{at: now, b: append([]byte(nil), b...)})
	drop := 0
	for drop < len(in.held) && now.Sub(in.held[drop].at) > keep {
		drop++
	}
	in.held = in.held[drop:]
}

// heldSince hands over (and forgets) the TS that arrived after t: what the
// leader's relay, silent since t, no longer delivered. Arrival order stands
// for media order (both senders relay the broadcaster in real time); a few
// milliseconds of overlap fall before the keyframe the packager waits for
// after the cut.
func (in *inbound) heldSince(t time.Time) [][]byte {
	var out [][]byte
	for _, h := range in.held {
		if h.at.After(t) {
			out = append(out, h.b)
		}
	}
	in.held = nil
	return out
}
