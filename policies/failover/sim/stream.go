package sim

import "time"

// stream is one simulated stream: where it leads and stands by, and its
// failover bookkeeping.
type stream struct {
	session
	leader, standby seat

	started, ended bool
	waiting        bool // no zone had room: waits for capacity
	waitSince      time.Duration

	down                bool
	downSince, resumeAt time.Duration
	lostUntil           time.Duration
	fault               int32         // index in the fault results, −1: capacity
	servedUntil         time.Duration // a node slates this stall until then (0: none)
	epoch               uint32

	unprotected      bool
	sameZone         bool // the standby is in the leader's zone (the twin accepted none)
	retrying         bool // in the engine's list of standby placements to retry
	unprotectedSince time.Duration

	stall, black time.Duration
	home         int32 // region of the first placement (−1: never placed)
}

// seat is where a stream holds one role: a node (region, zone, node slot)
// and the stream's position in that node's list for the role (leaders or
// standbys), which makes detaching O(1).
type seat struct {
	region, zone, slot int32 // slot −1: the role is vacant
	pos                int32
}

// vacant is the seat of a role nobody holds.
var vacant = seat{region: -1, zone: -1, slot: -1}

func (s *stream) hasLeader() bool  { return s.leader.slot >= 0 }
func (s *stream) hasStandby() bool { return s.standby.slot >= 0 }
