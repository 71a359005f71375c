package sim

import (
	"errors"

	"github.com/zonecast/zonecast/policies/failover"
)

// Where streams lead and stand by: placement, and the bookkeeping of roles
// on nodes.

func (e *engine) start(id int32) {
	s := &e.streams[id]
	s.started = true
	e.q.push(event{at: s.end, kind: evStreamEnd, a: id})
	e.live++
	e.viewers += int64(s.viewers)
	e.res.PeakConcurrent = max(e.res.PeakConcurrent, e.live)
	if !e.place(id) {
		// Nobody has room: the broadcaster is refused and retries while
		// the groups scale out. Viewers see nothing: black screen.
		s.waiting, s.waitSince = true, e.now
		e.waiting = append(e.waiting, id)
		e.beginOutage(id, -1, e.now, e.now, 0)
	}
}

func (e *engine) end(id int32) {
	s := &e.streams[id]
	if s.down {
		e.closeOutage(s, e.now)
	}
	e.detachLeader(s)
	e.detachStandby(s)
	e.setProtected(s)
	s.ended, s.waiting = true, false
	e.live--
	e.viewers -= int64(s.viewers)
}

// place puts a stream without a leader where the policy says.
func (e *engine) place(id int32) bool {
	s := &e.streams[id]
	p, err := failover.Place(e.w.topo, failover.Broadcaster{Location: s.loc})
	if errors.Is(err, failover.ErrNoCapacity) {
		return false
	}
	e.attachLeader(id, e.w.zones[p.RegionIndex][p.ZoneIndex], p.NodeIndex)
	if s.home < 0 {
		s.home = int32(p.RegionIndex)
	}
	if p.StandbyNodeIndex >= 0 {
		e.attachStandby(id, e.w.zones[p.RegionIndex][p.StandbyZoneIndex], p.StandbyNodeIndex)
		if p.StandbySameZone {
			e.retryLater(id) // moved to the twin zone once it accepts
		}
	} else {
		e.setUnprotected(id)
		e.retryLater(id)
	}
	return true
}

func (e *engine) attachLeader(id int32, z *zone, slot int) {
	s := &e.streams[id]
	n := &z.nodes[slot]
	s.leader = seat{region: int32(z.region), zone: int32(z.index), slot: int32(slot), pos: int32(len(n.leaders))}
	n.leaders = append(n.leaders, id)
	e.w.policyZone(z).Nodes[slot].Load += unit
}

func (e *engine) detachLeader(s *stream) {
	if !s.hasLeader() {
		return
	}
	z := e.w.zones[s.leader.region][s.leader.zone]
	n := &z.nodes[s.leader.slot]
	last := n.leaders[len(n.leaders)-1]
	n.leaders[s.leader.pos] = last
	e.streams[last].leader.pos = s.leader.pos
	n.leaders = n.leaders[:len(n.leaders)-1]
	e.w.policyZone(z).Nodes[s.leader.slot].Load -= unit
	s.leader.slot = -1
}

func (e *engine) attachStandby(id int32, z *zone, slot int) {
	s := &e.streams[id]
	n := &z.nodes[slot]
	s.standby = seat{region: int32(z.region), zone: int32(z.index), slot: int32(slot), pos: int32(len(n.standbys))}
	s.sameZone = s.standby.region == s.leader.region && s.standby.zone == s.leader.zone
	n.standbys = append(n.standbys, id)
	e.w.policyZone(z).Nodes[slot].Load += e.standby
	e.setProtected(s)
}

func (e *engine) detachStandby(s *stream) {
	if !s.hasStandby() {
		return
	}
	z := e.w.zones[s.standby.region][s.standby.zone]
	n := &z.nodes[s.standby.slot]
	last := n.standbys[len(n.standbys)-1]
	n.standbys[s.standby.pos] = last
	e.streams[last].standby.pos = s.standby.pos
	n.standbys = n.standbys[:len(n.standbys)-1]
	e.w.policyZone(z).Nodes[s.standby.slot].Load -= e.standby
	s.standby.slot, s.sameZone = -1, false
}

// setUnprotected books the start of a time without standby. The stream is
// retried by the periodic passes only once an attempt has failed (retry):
// a lost standby is first re-placed when the leader can know it is lost.
func (e *engine) setUnprotected(id int32) {
	s := &e.streams[id]
	if !s.unprotected {
		s.unprotected, s.unprotectedSince = true, e.now
	}
}

func (e *engine) retryLater(id int32) {
	s := &e.streams[id]
	if !s.retrying {
		s.retrying = true
		e.unprot = append(e.unprot, id)
	}
}

func (e *engine) setProtected(s *stream) {
	if s.unprotected {
		s.unprotected = false
		e.res.UnprotectedStreamHours += (e.now - s.unprotectedSince).Hours()
	}
}

// restoreStandby gives a leading stream a new standby in its twin zone, or
// (the policy's fallback) in its own zone, which is moved to the twin zone
// by a later pass once the twin accepts again. True when the stream has a
// twin-zone standby.
func (e *engine) restoreStandby(id int32) bool {
	s := &e.streams[id]
	if s.hasStandby() && !s.sameZone {
		return true
	}
	if !s.hasLeader() {
		// Waiting for room: place() gives it a standby with its leader.
		return false
	}
	r := e.w.topo.Regions[s.leader.region]
	zi, ni, same, ok := failover.Standby(r, int(s.leader.zone), int(s.leader.slot))
	if !ok || (same && s.hasStandby()) {
		if !s.hasStandby() {
			e.setUnprotected(id)
		}
		e.retryLater(id)
		return false
	}
	e.detachStandby(s)
	e.attachStandby(id, e.w.zones[s.leader.region][zi], ni)
	if same {
		e.retryLater(id)
		return false
	}
	return true
}
