package sim

import "time"

// stream is one simulated stream: where it leads and stands by, and its
// failover bookkeeping.
type stream struct {
	session
	// leader and standby: region, zone, node slot (−1: none).
	lr, lz, ln int32
	sr, sz, sn int32
	lpos, spos int32 // positions in the node's leaders / standbys lists

	started, ended bool
	waiting        bool // no zone had room: waits for capacity
	waitSince      time.Duration

	down                bool
	downSince, resumeAt time.Duration
	lostUntil           time.Duration
	fault               int32 // index in the fault results, −1: capacity
	epoch               uint32

	unprotected      bool
	sameZone         bool // the standby is in the leader's zone (the twin accepted none)
	retrying         bool // in the engine's list of standby placements to retry
	unprotectedSince time.Duration

	stall, black time.Duration
	home         int32 // region of the first placement (−1: never placed)
}

func (s *stream) hasLeader() bool  { return s.ln >= 0 }
func (s *stream) hasStandby() bool { return s.sn >= 0 }
