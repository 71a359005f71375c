package packager

import (
	"strconv"
	"strings"
	"time"
)

// State returns what a successor needs to continue this rendition.
func (r *Rendition) State() RenditionState {
	r.mu.Lock()
	defer r.mu.Unlock()
	st := RenditionState{
		NextMSN:               r.nextMSN,
		DiscontinuitySequence: r.discSeq,
		LastProgramDateTime:   r.lastPDTEnd,
		Segments:              make([]SegmentRef, 0, len(r.segs)),
	}
	if r.cur != nil {
		st.NextMSN = r.cur.msn // the open segment is not published whole yet
	}
	for _, s := range r.segs {
		st.Segments = append(st.Segments, SegmentRef{
			MSN: s.msn, Duration: s.duration, ProgramDateTime: s.pdt,
			Discontinuity: s.disc, StartDTS: s.rawStartDTS, Parts: len(s.parts),
		})
	}
	return st
}

// Resume continues the playlist described by st (the previous leader's).
//
// A hot standby fed the same TS has cut the same segments: the local
// segment whose first keyframe has the same raw DTS as one in st takes that
// segment's number, program date-time and discontinuity sequence, and every
// local segment is renumbered alike. Otherwise (a cold successor) the local
// segments, if any, are numbered after st.NextMSN, and the next segment is
// marked as a discontinuity, since the media really is discontinuous.
func (r *Rendition) Resume(st RenditionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	local := append([]*segment(nil), r.segs...)
	if r.cur != nil {
		local = append(local, r.cur)
	}
	// Latest local segment that the leader also has.
	for i := len(local) - 1; i >= 0; i-- {
		for j := len(st.Segments) - 1; j >= 0; j-- {
			ref := st.Segments[j]
			if ref.StartDTS != local[i].rawStartDTS {
				continue
			}
			r.renumber(int64(ref.MSN) - int64(local[i].msn))
			r.dropUnmatched(st.Segments)
			// Discontinuity sequence of the matched segment, as the leader counts it.
			leaderSeq := st.DiscontinuitySequence
			for _, x := range st.Segments[:j+1] {
				if x.Discontinuity {
					leaderSeq++
				}
			}
			// Discontinuity tags listed up to the match (the sequence of a
			// segment is the playlist's plus the tags up to and including it).
			var listed uint64
			for _, x := range r.segs {
				if x.msn <= local[i].msn && x.disc {
					listed++
				}
			}
			if local[i] == r.cur && r.cur.disc {
				listed++
			}
			if leaderSeq >= listed {
				r.discSeq = leaderSeq - listed
			}
			// Program date-time: the leader's clock wins.
			shift := ref.ProgramDateTime.Sub(local[i].pdt)
			for _, x := range local {
				x.pdt = x.pdt.Add(shift)
			}
			if r.sess != nil {
				r.sess.anchorPDT = r.sess.anchorPDT.Add(shift)
			}
			if n := len(r.segs); n > 0 {
				r.lastPDTEnd = r.segs[n-1].pdt.Add(r.segs[n-1].duration)
			}
			r.notifyLocked()
			return
		}
	}
	// No common segment: continue after the leader.
	if len(local) > 0 {
		if first := local[0].msn; first < st.NextMSN {
			r.renumber(int64(st.NextMSN - first))
		}
		local[0].disc = true
	} else {
		if r.nextMSN < st.NextMSN {
			r.nextMSN = st.NextMSN
		}
		r.needDisc = r.needDisc || st.NextMSN > 0
	}
	seq := st.DiscontinuitySequence
	for _, x := range st.Segments {
		if x.Discontinuity {
			seq++
		}
	}
	// The first listed segment carries a discontinuity tag, which the
	// sequence does not count yet.
	if len(r.segs) > 0 && r.segs[0].disc && seq > 0 {
		seq--
	}
	if seq > r.discSeq {
		r.discSeq = seq
	}
	if r.lastPDTEnd.Before(st.LastProgramDateTime) {
		r.lastPDTEnd = st.LastProgramDateTime
		if r.sess != nil && len(local) == 0 {
			r.sess.anchorPDT = time.Time{}
		}
	}
	r.notifyLocked()
}

// renumber adds delta to every segment's media sequence number and moves
// its stored objects to the new names (names come from the numbers).
func (r *Rendition) renumber(delta int64) {
	if delta == 0 {
		return
	}
	st := r.stream.store
	type move struct {
		from, to string
	}
	var moves []move
	inits := map[string]string{}
	renameInit := func(name string) string {
		if to, ok := inits[name]; ok {
			return to
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(name, "init"), ".mp4"), 10, 64)
		to := name
		if err == nil && n+delta >= 0 {
			to = initName(uint64(n + delta))
		}
		inits[name] = to
		if to != name {
			moves = append(moves, move{r.name + "/" + name, r.name + "/" + to})
		}
		return to
	}
	all := append(append([]*segment(nil), r.evicted...), r.segs...)
	if r.cur != nil {
		all = append(all, r.cur)
	}
	for _, s := range all {
		msn := uint64(int64(s.msn) + delta)
		moves = append(moves, move{r.name + "/" + segName(s.msn), r.name + "/" + segName(msn)},
			move{r.name + "/" + tsName(s.msn), r.name + "/" + tsName(msn)})
		for _, p := range s.parts {
			moves = append(moves, move{r.name + "/" + partName(s.msn, p.index), r.name + "/" + partName(msn, p.index)})
		}
		s.msn = msn
		s.initName = renameInit(s.initName)
	}
	r.curInit = renameInit(r.curInit)
	r.nextMSN = uint64(int64(r.nextMSN) + delta)
	// Two phases so that overlapping old and new names do not clobber.
	type obj struct {
		to   string
		data []byte
	}
	var objs []obj
	for _, m := range moves {
		if o, ok := st.Get(m.from); ok {
			objs = append(objs, obj{m.to, o.Data})
			st.Delete(m.from)
		}
	}
	for _, o := range objs {
		_ = st.Put(o.to, o.data)
	}
}

// dropUnmatched removes the local segments before the first one the leader
// also has: a standby that joined mid-GOP cut its first segment elsewhere,
// and that media must not be published under the leader's numbers.
func (r *Rendition) dropUnmatched(refs []SegmentRef) {
	known := make(map[int64]bool, len(refs))
	for _, ref := range refs {
		known[ref.StartDTS] = true
	}
	for len(r.segs) > 0 && !known[r.segs[0].rawStartDTS] {
		old := r.segs[0]
		r.segs = r.segs[1:]
		r.stream.store.Delete(r.segmentObjects(old)...)
	}
	// Evicted segments were numbered before the leader's window: drop them.
	for _, old := range r.evicted {
		r.stream.store.Delete(r.segmentObjects(old)...)
	}
	r.evicted = nil
}
