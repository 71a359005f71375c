package cluster

import (
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Role is what this node does for one stream, as it reports it: in the
// streams API, in /metrics, and as load in the registry. Serving answers
// the stream's playlists only in a role other than RoleNone.
type Role int

// Roles.
const (
	RoleNone Role = iota
	RoleStandby
	RoleLeader
)

func (r Role) String() string {
	switch r {
	case RoleLeader:
		return "leader"
	case RoleStandby:
		return "standby"
	}
	return "none"
}

// role decides the Role, and is the only place that does:
//
//	RoleLeader   the leadership term's keeper says this node leads, on its
//	             own clock (leader.go)
//	RoleStandby  otherwise, the local copy is aligned with a leader's
//	             segments, was fed recently (by the leader's relay,
//	             standby.go, or by this node's own ingest while it forwards
//	             it to the leader it is aligned with, forward.go), and lists
//	             as many segments as players hold back
//	RoleNone     otherwise
//
// It is decided when asked rather than kept, because what ends a role is
// the clock as much as an event: a lease deadline passes (a leader frozen
// by SIGSTOP must not lead the instant it wakes), a relay goes quiet.
func (j *job) role() Role {
	if j.leading() {
		return RoleLeader
	}
	j.mu.Lock()
	// A standby serves while its copy is aligned and the relay was alive
	// recently: through a leader's death it keeps the (frozen) playlist up
	// until a successor leads.
	fed := time.Since(j.standby.lastRelay) < j.c.t.StandbyServesFor()
	// A node forwarding its ingest to the leader, aligned with that
	// leader's segments, serves its own copy like a standby (forward.go).
	fed = fed || (j.ingest.forwarding && j.alignedTo == j.ingest.outTo && j.ingest.live &&
		time.Since(j.ingest.lastLocal) < j.c.t.MediaFreshFor())
	aligned := j.aligned
	j.mu.Unlock()
	// A copy that just joined lists only the newest segments: a player
	// held back behind them by the CDN's choice of this origin would skip
	// media, so it serves once it lists as many as players hold back.
	if aligned && fed && j.listed() >= failover.HoldBackSegments {
		return RoleStandby
	}
	return RoleNone
}
