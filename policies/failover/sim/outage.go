package sim

import "time"

// beginOutage starts (or extends) a stream's stall.
func (e *engine) beginOutage(id int32, fault int32, resumeAt, lostUntil time.Duration) {
	s := &e.streams[id]
	if !s.down {
		s.down, s.downSince, s.fault = true, e.now, fault
		s.resumeAt, s.lostUntil = resumeAt, lostUntil
		e.downNow++
	} else {
		s.resumeAt, s.lostUntil = max(s.resumeAt, resumeAt), max(s.lostUntil, lostUntil)
	}
	s.epoch++
	if !s.waiting {
		e.q.push(event{at: s.resumeAt, kind: evResume, a: id, epoch: s.epoch})
	}
}

// closeOutage ends a stall at the given time and books it.
func (e *engine) closeOutage(s *stream, at time.Duration) {
	stall := at - s.downSince
	lost := min(s.lostUntil, at) - s.downSince
	// What waited longer than the playlist window is gone too.
	lost = max(lost, stall-time.Duration(e.c.WindowSegments)*e.c.Timings.SegmentDuration)
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
	standbyOK := s.hasStandby() && !f.newRegion && e.w.topo.Regions[s.standby.region].Zones[s.standby.zone].Up &&
		e.w.topo.Regions[s.standby.region].Zones[s.standby.zone].Nodes[s.standby.slot].Up && !e.w.topo.Regions[s.standby.region].Zones[s.standby.zone].Nodes[s.standby.slot].Draining
	keyframe := time.Duration(e.rng.Int64N(int64(t.SegmentDuration)))

	var resume, lost time.Duration
	switch {
	case f.planned && s.redundant && standbyOK:
		resume, lost = e.now+t.PartDuration, e.now
	case f.planned:
		back := e.now + t.BroadcasterRetry
		resume, lost = max(e.now+t.PartDuration, back+keyframe), back
	default:
		lapse := f.lapse
		if lapse == 0 {
			lapse = e.now + t.LeaseTTL - time.Duration(e.rng.Int64N(int64(t.LeaseRenew)))
		}
		lapse = max(lapse, f.coordAt)
		atOnce := e.c.Routing.ReconnectReachesStandby && standbyOK // viewers read the standby's own copy
		if s.redundant && standbyOK {
			if atOnce {
				resume, lost = e.now+t.PartDuration, e.now
			} else {
				resume, lost = lapse+t.PartDuration, e.now
			}
			break
		}
		back := t.ReconnectAt(f.noticed, f.healthyAt, func(time.Duration) bool { return e.rng.Float64() < f.pDead })
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
	e.beginOutage(id, f.fault, resume, lost)
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
		keyframe := time.Duration(e.rng.Int64N(int64(e.c.Timings.SegmentDuration)))
		e.beginOutage(id, s.fault, e.now+keyframe, e.now)
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
