package cluster

import (
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
)

// standbyState is the relay this node receives for the stream: from the
// leader it stands by for, or a forward it adopted as its feed
// (forward.go). Its end of the relay is an inbound (inbound.go).
type standbyState struct {
	relay     *inbound // nil when no relay feeds this node
	lastRelay time.Time
	// leaderLeadingAt is when the relaying leader last said it leads (zero
	// once it said it no longer does).
	leaderLeadingAt time.Time
	// relayFrom is the leader whose relay last delivered TS here, at
	// relayFromAt (a forward does not count): the evidence of a leader's
	// silence that fencing needs besides Redis's.
	relayFrom   string
	relayFromAt time.Time
	// suspectedAt is when this node last asked the fencer about relayFrom.
	suspectedAt time.Time
}

// leaderRelaySilent reports whether node relayed TS to this node and has
// been silent for a relay timeout since: a partition that leaves the relay
// up (a leader cut off from Redis alone) never counts.
func (j *job) leaderRelaySilent(node string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.leaderRelaySilentLocked(node)
}

func (j *job) leaderRelaySilentLocked(node string) bool {
	s := &j.standby
	return node != "" && s.relayFrom == node && time.Since(s.relayFromAt) >= j.c.t.RelayTimeout
}

// suspect is the takeover loop's look at a lease held by another node:
// if it is the leader whose relay fell silent here, the fencer asks Redis
// whether it is dead (at most once per fencing retry).
func (j *job) suspect(l Lease) {
	f := j.c.cfg.Fencer
	if f == nil {
		return
	}
	j.mu.Lock()
	ask := j.leaderRelaySilentLocked(l.Holder) && time.Since(j.standby.suspectedAt) >= f.policy.Retry
	if ask {
		j.standby.suspectedAt = time.Now()
	}
	j.mu.Unlock()
	if ask {
		f.Suspect(j.name, l.Holder, l.Token)
	}
}

// standBy begins standing by for the leader that opened a relay (h): the
// relay becomes the job's, replacing any earlier one, and the takeover loop
// starts.
func (j *job) standBy(h relay.Hello) *inbound {
	leading := j.leading()
	j.mu.Lock()
	defer j.mu.Unlock()
	// With a local publisher (the backup feed of input redundancy) the relay
	// carries only control: the local feed wins, one input per stream.
	if !leading && !j.ingest.live && j.lineage != h.Leader {
		// Standing by for a new leader: segments of another lineage (this
		// node's own, from before it was deposed, or another leader's)
		// would be renumbered into the new leader's playlist. Start afresh.
		if m := j.c.cfg.Media(j.name); m != nil {
			m.Reset()
		}
		j.lineage = h.Leader
	}
	in := &inbound{j: j, leader: h.Leader}
	if j.standby.relay != nil {
		j.log.Info("relay replaced", "old_leader", j.standby.relay.leader, "leader", h.Leader)
	}
	j.standby.relay = in
	j.standby.lastRelay = time.Now()
	j.aligned = false
	j.standby.leaderLeadingAt = time.Time{}
	if h.Token > j.maxToken {
		j.maxToken = h.Token
	}
	j.lastLeader = h.Leader
	j.lastStandby = j.c.cfg.Self.ID
	go j.startAwait()
	return in
}

// relayFresh: a relay delivered within the relay timeout.
func (j *job) relayFresh() bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.standby.relay != nil && time.Since(j.standby.lastRelay) < j.c.t.RelayTimeout
}

// mayTakeOver: the takeover loop's eligibility. Only a node with the media
// takes a lease over, and not while the leader that relays to it says it
// still leads: after a total Redis outage the leases have expired and the
// leader, which kept leading autonomously, must get its lease back first.
func (j *job) mayTakeOver() bool {
	if !j.hasMedia() {
		return false
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.forwardHealthyLocked() {
		return false // the standby fed by this node's forward takes the lease
	}
	return j.standby.relay == nil || j.standby.leaderLeadingAt.IsZero() ||
		time.Since(j.standby.leaderLeadingAt) > j.c.t.LeaderSilentAfter()
}

// adoptForwardLocked makes a forward the feed when the leader's relay has
// been quiet for half the relay timeout (as a leader judges its own feed
// quiet before switching to a backup: the broadcaster has evidently moved,
// so a whole timeout is not needed). The lineage, the alignment and the role
// stay: the segments continue the same playlists.
func (j *job) adoptForwardLocked(in *inbound) bool {
	if j.standby.relay != nil && time.Since(j.standby.lastRelay) < j.c.t.FeedQuietAfter() {
		return false
	}
	j.counters.add(func(c *jobCounters) { c.adopted++ })
	j.log.Info("feeding from the forwarded ingest", "from", in.leader)
	j.standby.relay = in
	j.standby.leaderLeadingAt = time.Time{}
	return true
}

// relayEnded forgets in, unless another relay replaced it already.
func (j *job) relayEnded(in *inbound) {
	j.mu.Lock()
	if j.standby.relay == in {
		j.standby.relay = nil
	}
	j.mu.Unlock()
}
