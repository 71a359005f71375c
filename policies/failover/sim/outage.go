package sim

import (
	"math"
	"time"
)

// beginOutage starts (or extends) a stream's stall. servedUntil is how
// long a surviving node keeps serving the stream's playlists meanwhile (the
// standby's copy, or the new leader's), which with the slate it keeps
// advancing: 0 when none does, servedThroughout when it serves until the
// stream resumes.
func (e *engine) beginOutage(id int32, fault int32, resumeAt, lostUntil, servedUntil time.Duration) {
	s := &e.streams[id]
	if !e.c.Routing.Slate {
		servedUntil = 0
	}
	if !s.down {
		s.down, s.downSince, s.fault = true, e.now, fault
		s.resumeAt, s.lostUntil = resumeAt, lostUntil
		s.servedUntil = servedUntil
		e.downNow++
	} else {
		s.resumeAt, s.lostUntil = max(s.resumeAt, resumeAt), max(s.lostUntil, lostUntil)
		if s.servedUntil > e.now { // still served: as long as both say
			s.servedUntil = min(s.servedUntil, servedUntil)
		}
	}
	s.epoch++
	if !s.waiting {
		e.q.push(event{at: s.resumeAt, kind: evResume, a: id, epoch: s.epoch})
	}
}

// closeOutage ends a stall at the given time and books it.
func (e *engine) closeOutage(s *stream, at time.Duration) {
	t := e.c.Timings
	stall := at - s.downSince
	lost := min(s.lostUntil, at) - s.downSince
	// What waited longer than the playlist window is gone too.
	lost = max(lost, stall-time.Duration(e.c.WindowSegments)*t.SegmentDuration)
	if s.servedUntil > 0 {
		// Filler keeps the playlists advancing while a node serves them:
		// the media lost stays lost, the players do not freeze. A standby
		// that can neither lead nor get the ingest back stops serving its
		// copy after StandbyServesFor; the players freeze from then on.
		stall = min(stall, t.SlateAfter()+t.PartDuration+max(0, at-s.servedUntil))
	}
	s.stall += stall
	s.black += lost
	s.down = false
	e.downNow--
	e.res.BlackViewerHours += lost.Hours() * float64(s.viewers)
	if s.fault >= 0 {
		f := &e.res.Faults[s.fault]
		f.Affected++
		f.SumStall += stall
		f.SumLost += lost
		f.MaxStall = max(f.MaxStall, stall)
		f.MaxLost = max(f.MaxLost, lost)
	}
}

// failure describes how a leader was lost, for failLeader.
type failure struct {
	fault     int32
	noticed   time.Duration // the broadcaster notices its connection is gone
	healthyAt time.Duration // from then on new flows reach only healthy targets
	moved     time.Duration // the dead target is fenced: flows caught on it move (0: never)
	pDead     float64       // chance an earlier reconnection lands on a dead target
	coordAt   time.Duration // the stream's Redis can hand out the lease again
	lapse     time.Duration // when the old lease lapses (0: draw it)
	newRegion bool          // the region is gone: start afresh elsewhere
	planned   bool          // a drain: the leader hands over on purpose
}

// failLeader moves a stream whose leader is gone (or going) to its standby
// or a new node and books the stall the timings imply.
func (e *engine) failLeader(id int32, f failure) {
	t := e.c.Timings
	s := &e.streams[id]
	e.detachLeader(s)
	standbyOK := !f.newRegion && e.standbyUsable(s)
	keyframe := time.Duration(e.phases.Int64N(int64(t.SegmentDuration)))

	var resume, lost time.Duration
	led := e.now // when the standby leads (a drain hands over at once)
	switch {
	case f.planned && s.redundant && standbyOK:
		resume, lost = e.now+t.PartDuration, e.now
	case f.planned:
		back := e.now + t.BroadcasterRetry
		resume, lost = max(e.now+t.PartDuration, back+keyframe), back
	default:
		lapse := f.lapse
		if lapse == 0 {
			lapse = e.now + t.LeaseTTL - time.Duration(e.phases.Int64N(int64(t.LeaseRenew)))
		}
		lapse = max(lapse, f.coordAt)
		led = lapse
		atOnce := e.c.Routing.ReconnectReachesStandby && standbyOK // viewers read the standby's own copy
		if s.redundant && standbyOK {
			if atOnce {
				resume, lost = e.now+t.PartDuration, e.now
			} else {
				resume, lost = lapse+t.PartDuration, e.now
			}
			break
		}
		back := t.ReconnectMovedAt(f.noticed, f.healthyAt, f.moved, func(time.Duration) bool { return e.phases.Float64() < f.pDead })
		switch {
		case f.newRegion:
			resume = back + keyframe // a fresh lease in the new region: nothing to wait for
		case atOnce:
			// The standby's copy continues with the TS; a forward first asks
			// Redis which node stands by.
			at := back
			if !e.c.Routing.ReconnectLandsOnStandby {
				// Redis names the standby; the standby adopts the forward once
				// the dead leader's relay has been silent half a relay timeout.
				at = max(back, f.coordAt, e.now+t.FeedQuietAfter())
			}
			resume = at + keyframe
		default:
			// The new leader packages the reconnected ingest from its first
			// keyframe and publishes within a part of getting the lease.
			resume = max(back+keyframe, lapse+t.PartDuration)
		}
		lost = back
	}

	if standbyOK {
		z := e.w.zones[s.standby.region][s.standby.zone]
		slot := int(s.standby.slot)
		e.detachStandby(s)
		e.attachLeader(id, z, slot)
		e.setUnprotected(id)
		restore := t.StandbyRestore()
		if f.planned {
			restore = t.SegmentDuration
		}
		e.q.push(event{at: e.now + restore, kind: evStandbyRestore, a: id, epoch: s.epoch + 1})
	} else {
		e.detachStandby(s)
		if !e.place(id) {
			s.waiting, s.waitSince = true, e.now
			e.waiting = append(e.waiting, id)
		}
	}
	servedUntil := time.Duration(0)
	if standbyOK {
		servedUntil = e.servedUntil(min(resume, led))
	}
	e.beginOutage(id, f.fault, resume, lost, servedUntil)
}

// servedThroughout is servedUntil for a node that serves until the stream
// resumes.
const servedThroughout = time.Duration(math.MaxInt64)

// servedUntil is how long the standby serves its copy of a stream whose
// leader fell silent now and which it leads, or gets the ingest back, at
// led: throughout when that is within StandbyServesFor, else until then.
func (e *engine) servedUntil(led time.Duration) time.Duration {
	if until := e.now + e.c.Timings.StandbyServesFor(); led > until {
		return until
	}
	return servedThroughout
}

// standbyUsable reports whether the stream's standby can take over: its
// node is up and not draining, in a zone that is up.
func (e *engine) standbyUsable(s *stream) bool {
	if !s.hasStandby() {
		return false
	}
	z := &e.w.topo.Regions[s.standby.region].Zones[s.standby.zone]
	n := &z.Nodes[s.standby.slot]
	return z.Up && n.Up && !n.Draining
}

// retryWaiting places the streams that found no room, now that some may
// have appeared.
func (e *engine) retryWaiting() {
	kept := e.waiting[:0]
	for _, id := range e.waiting {
		s := &e.streams[id]
		if s.ended || !s.waiting {
			continue
		}
		if !e.place(id) {
			kept = append(kept, id)
			continue
		}
		s.waiting = false
		wait := e.now - s.waitSince
		e.res.CapacityWaits++
		e.res.CapacityWaitMax = max(e.res.CapacityWaitMax, wait)
		keyframe := time.Duration(e.phases.Int64N(int64(e.c.Timings.SegmentDuration)))
		e.beginOutage(id, s.fault, e.now+keyframe, e.now, 0)
	}
	e.waiting = kept
}

func (e *engine) retryUnprotected() {
	kept := e.unprot[:0]
	// A twin zone that refused one stream refuses the rest of this pass:
	// remember it rather than ask again for each of thousands of streams.
	full := map[[2]int32]bool{}
	for _, id := range e.unprot {
		s := &e.streams[id]
		if s.ended || (!s.unprotected && !s.sameZone) {
			s.retrying = false
			continue
		}
		key := [2]int32{s.leader.region, s.leader.zone}
		if !s.hasLeader() || full[key] {
			kept = append(kept, id)
			continue
		}
		if e.restoreStandby(id) {
			s.retrying = false
		} else {
			full[key] = true
			kept = append(kept, id)
		}
	}
	e.unprot = kept
}
