package cluster

import (
	"log/slog"
	"sync"
	"time"
)

// job is one stream's cluster state on this node. What the node does for
// the stream is kept in one part per role, each changed only in its own
// file: the leadership term (leaderState, leader.go), the relay a standby
// receives (standbyState, standby.go and inbound.go) and the local ingest
// with the relay that carries it on (ingestState, ingest.go and
// forward.go). The Role the node reports is decided from them in one place
// (role.go). Every part is guarded by mu.
type job struct {
	c     *Coordinator
	name  string
	log   *slog.Logger
	nudge chan struct{} // makes the takeover loop look at the lease again

	mu      sync.Mutex
	leader  leaderState
	standby standbyState
	ingest  ingestState

	// What this node knows of the stream's lease, kept for when Redis
	// cannot be asked.
	maxToken    uint64
	lastLeader  string
	lastStandby string

	// The local copy of the segments.
	//
	// lineage is whose playlists the local segments continue: this node's
	// own id after it led or ingested, else the leader it stood by for.
	lineage string
	// alignedTo is the leader whose state this node's segments were last
	// aligned with (as its standby).
	alignedTo string
	aligned   bool // the copy applied its leader's state in this relay session
	// handedOver: the leader said it handed the lease to this node; the
	// term that follows announces a failover by handover.
	handedOver bool

	counters jobCounters // for /metrics (metrics.go)
}

func newJob(c *Coordinator, name string) *job {
	return &job{c: c, name: name, log: c.log.With("stream", name), nudge: make(chan struct{}, 1)}
}

// listed is the number of complete segments the local playlists list.
func (j *job) listed() int {
	if m := j.c.cfg.Media(j.name); m != nil {
		return m.Listed()
	}
	return 0
}

// hasMedia: the local media is fed, by a live local publisher or by a
// relay that delivered within the relay timeout.
func (j *job) hasMedia() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return (j.ingest.live && time.Since(j.ingest.lastLocal) < j.c.t.MediaFreshFor()) ||
		(j.standby.relay != nil && time.Since(j.standby.lastRelay) < j.c.t.RelayTimeout)
}

func (j *job) lastKnown() (leader, standby string, token uint64) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.lastLeader, j.lastStandby, j.maxToken
}

func (j *job) seeToken(t uint64) {
	j.mu.Lock()
	if t > j.maxToken {
		j.maxToken = t
	}
	j.mu.Unlock()
}

func (j *job) poke() {
	select {
	case j.nudge <- struct{}{}:
	default:
	}
}

func (j *job) stop() {
	j.mu.Lock()
	if j.leader.cancel != nil {
		j.leader.cancel()
	}
	if j.leader.await != nil {
		j.leader.await()
	}
	k, out := j.leader.keeper, j.ingest.out
	j.ingest.out = nil
	j.mu.Unlock()
	if k != nil {
		k.Stop()
	}
	if out != nil {
		out.Close()
	}
}
