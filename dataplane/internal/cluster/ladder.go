package cluster

import (
	"context"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
)

// Ladder failures (the transcoder) past the ingest. The standby keeps a
// warm copy of the ladder, its own transcoder fed by the relayed TS and cut
// at the same timestamps, so when only the leader's transcoder dies the
// standby's ladder is continuous: the leader hands the lease over at once
// (as a drain does) instead of leaving its ladder renditions with a hole
// while ffmpeg restarts.

// ladderMedia is a Media that transcodes (core's wiring).
type ladderMedia interface {
	// LadderProducing: every rendition of the ladder is produced now.
	LadderProducing() bool
}

// LadderFailed is told that the stream's ladder failed on this node
// (reason: what failed, for the log). If this node leads and its standby
// reported a producing ladder within the relay timeout, the lease moves to
// the standby at once and the call reports true; otherwise nothing changes
// (the transcoder restarts on its own). It returns once the lease has
// moved, before the caller cuts its renditions.
func (c *Coordinator) LadderFailed(stream, reason string) bool {
	j := c.job(stream)
	return j != nil && j.ladderFailed(reason)
}

// ladderProducing: this node's ladder of the stream produces every
// rendition (reported to the leader in the relay status).
func (j *job) ladderProducing() bool {
	m, ok := j.c.cfg.Media(j.name).(ladderMedia)
	return ok && m.LadderProducing()
}

// handoverRefusal says why a leader whose ladder failed keeps the lease
// ("" = hand over to the standby). ledFor is how long this term has lasted;
// a term younger than a lease does not hand over again, so that two nodes
// whose ladders both fail do not pass the stream back and forth.
func handoverRefusal(leading, relayUp bool, st relay.Status, statusAge, relayTimeout, ledFor, leaseTTL time.Duration) string {
	switch {
	case !leading:
		return "not leading"
	case !relayUp:
		return "no standby"
	case statusAge < 0 || statusAge > relayTimeout:
		return "standby status not fresh"
	case !st.Ladder:
		return "standby's ladder not producing"
	case ledFor < leaseTTL:
		return "leading for less than a lease"
	}
	return ""
}

func (j *job) ladderFailed(reason string) bool {
	j.mu.Lock()
	k, out, sb, since := j.leader.keeper, j.ingest.out, j.ingest.outTo, j.leader.since
	j.mu.Unlock()
	if k == nil {
		return false
	}
	_, leading := k.Leading()
	relayUp := out != nil && out.Err() == nil && sb != ""
	var st relay.Status
	age := time.Duration(-1)
	if relayUp {
		var at time.Time
		if st, at = out.PeerStatus(); !at.IsZero() {
			age = time.Since(at)
		}
	}
	if why := handoverRefusal(leading, relayUp, st, age, j.c.t.RelayTimeout, time.Since(since), j.c.t.LeaseTTL); why != "" {
		if leading {
			j.log.Info("ladder failed: keeping the lease, restarting locally", "reason", reason, "why", why)
		}
		return false
	}
	ctx, cancel := context.WithTimeout(j.c.ctx, j.c.t.LeaseRenew)
	defer cancel()
	tok, err := k.Handover(ctx, sb)
	if err != nil {
		// The keeper has stopped leading either way; the takeover loop (the
		// standby's, or this node's if it still ingests) settles the lease.
		j.log.Warn("ladder failed: handover to the standby failed", "reason", reason, "to", sb, "err", err)
		return false
	}
	_ = out.Control(relay.Control{Token: tok, Handover: sb})
	j.log.Info("ladder failed: handed over to the standby, whose ladder runs", "reason", reason, "to", sb, "token", tok)
	return true
}
