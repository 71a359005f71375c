package cluster

import (
	"context"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
)

// ingestState is the job's local publisher and the relay that carries its
// TS on to another node: to the standby this node chose while it leads
// (leader.go), or forwarded while another node leads (forward.go). The
// relay stays after a term ends: a node that still ingests then feeds
// whoever leads after it (a handover, a partition).
type ingestState struct {
	live      bool      // a local publisher is live
	lastLocal time.Time // its last sign of life: connected, or TS
	// lastTS is when it last delivered TS: only TS makes a backup feed
	// "live".
	lastTS time.Time

	out   *relay.Out // the relay of the local ingest, nil when there is none
	outTo string     // the node at its other end
	// outZone is that node's zone when it is this node's standby: this
	// node's own zone when the twin zone had no node (a fallback the leader
	// undoes; protection.go).
	outZone string
	// forwarding: out is a forward, this node ingests but does not lead.
	forwarding bool
	// stopAlign ends the forward's alignment with its target.
	stopAlign context.CancelFunc
}

func (j *job) ingestStarted() {
	j.mu.Lock()
	j.ingest.live = true
	j.ingest.lastLocal = time.Now()
	j.lineage = j.c.cfg.Self.ID
	j.mu.Unlock()
	if j.leading() {
		return
	}
	// Try at once (the publisher's first bytes wait for this round trip, so
	// that a resumed state is applied before the first segment).
	k := j.newKeeper()
	ctx, cancel := context.WithTimeout(j.c.ctx, j.c.t.LeaseRenew)
	g, err := k.Acquire(ctx, j.floor())
	cancel()
	if err == nil && g.Held {
		j.becomeLeader(k, g)
		return
	}
	if err == nil {
		j.seeToken(g.Current.Token)
		j.log.Info("ingest while another node leads: waiting for the lease", "leader", g.Current.Holder)
		go j.forwardToStandby()
	}
	j.startAwait()
}

func (j *job) ingestStopped() {
	j.mu.Lock()
	j.ingest.live = false
	j.mu.Unlock()
	j.cutOut()
	j.stopForward()
}

func (j *job) ingestTS(b []byte) {
	j.mu.Lock()
	j.ingest.lastLocal = time.Now()
	j.ingest.lastTS = j.ingest.lastLocal
	out := j.ingest.out
	j.mu.Unlock()
	if out != nil {
		_ = out.WriteTS(b)
	}
}

func (j *job) ingestCut() { j.cutOut() }

// cutOut relays a cut of the local ingest.
func (j *job) cutOut() {
	if j.backupLive() {
		return // the standby's backup feed goes on with the open segment
	}
	j.mu.Lock()
	out := j.ingest.out
	j.mu.Unlock()
	if out != nil {
		_ = out.Discontinuity()
	}
}

// localFresh reports whether the local publisher delivered TS within the
// relay timeout (a publisher that connected but sends nothing yet is not
// a live backup feed: both feeds are quiet at a stream's start).
func (j *job) localFresh() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.ingest.live && time.Since(j.ingest.lastTS) < j.c.t.RelayTimeout
}
