package packager

import (
	"bytes"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
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
	if c := r.cur; c != nil {
		st.NextMSN = c.msn // the open segment is not published whole yet
		st.Open = &SegmentRef{
			MSN: c.msn, ProgramDateTime: c.pdt, Discontinuity: c.disc, StartDTS: c.rawStartDTS,
			Parts: len(c.parts), StartTime: c.startDTS, Init: c.initName, Filler: c.filler,
		}
	}
	for _, s := range r.segs {
		st.Segments = append(st.Segments, SegmentRef{
			MSN: s.msn, Duration: s.duration, ProgramDateTime: s.pdt,
			Discontinuity: s.disc, StartDTS: s.rawStartDTS, Parts: len(s.parts),
			StartTime: s.startDTS, Init: s.initName, Gap: s.gap, Filler: s.filler,
		})
	}
	return st
}

// Resume continues the playlist described by st (the previous leader's).
// It never makes a media sequence number go back or name two segments.
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
	refs := st.Segments
	if st.Open != nil {
		refs = append(append([]SegmentRef(nil), refs...), *st.Open)
	}
	if i, j, ok := r.match(local, refs); ok {
		ref := refs[j]
		msnDelta := int64(ref.MSN) - int64(local[i].msn)
		r.renumber(msnDelta)
		r.dropUnmatched(refs)
		r.adoptInitNames(refs)
		var timeDelta int64
		if ref.StartTime != 0 {
			timeDelta = ref.StartTime - local[i].startDTS
		}
		if msnDelta != 0 || timeDelta != 0 {
			r.rewriteMedia(timeDelta)
		}
		// Discontinuity sequence of the matched segment, as the leader counts it.
		leaderSeq := st.DiscontinuitySequence
		for _, x := range refs[:j+1] {
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
	// No common segment: continue after the leader (never before this
	// node's own numbers).
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
	for _, x := range refs { // the open one too: players may have seen its tag
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

// match finds the local segment local[i] that is the leader's refs[j], and
// whether there is one. A segment is identified by the raw DTS of its first
// keyframe, but raw timestamps recur when the encoder restarts (a new
// encoder counts from its own start again), so that a segment cut from a
// new encoder can carry the DTS of an old segment the leader still lists.
// Among the pairs with equal DTS, the one whose program date-times agree
// best is the same media (PDT follows the wall clock at a session's start);
// it fixes the numbering, and the latest local segment numbered that way
// is the match. Once the rendition has been aligned (its numbers are the
// playlist's, which viewers may have seen), a numbering that would move
// them back is refused; before that (a standby's ladder rendition numbered
// on its own until its first alignment) it is the alignment itself. No
// numbering ever goes below zero.
func (r *Rendition) match(local []*segment, refs []SegmentRef) (int, int, bool) {
	type pair struct {
		i, j  int
		delta int64
		skew  time.Duration
	}
	var best *pair
	for i, l := range local {
		if l.gap || l.filler {
			continue // gap segments have no media to match, filler no input's
		}
		for j, ref := range refs {
			if ref.Gap || ref.Filler || ref.StartDTS != l.rawStartDTS {
				continue
			}
			p := pair{i, j, int64(ref.MSN) - int64(l.msn), (ref.ProgramDateTime.Sub(l.pdt)).Abs()}
			if best == nil || p.skew < best.skew {
				best = &p
			}
		}
	}
	if best == nil {
		return 0, 0, false
	}
	// The latest local segment under the same numbering that the leader lists.
latest:
	for i := len(local) - 1; i > best.i; i-- {
		for j, ref := range refs {
			if !ref.Gap && !ref.Filler && !local[i].gap && !local[i].filler && ref.StartDTS == local[i].rawStartDTS && int64(ref.MSN)-int64(local[i].msn) == best.delta {
				best.i, best.j = i, j
				break latest
			}
		}
	}
	lowest := local[0].msn
	if len(r.evicted) > 0 {
		lowest = min(lowest, r.evicted[0].msn)
	}
	wraps := int64(lowest)+best.delta < 0
	if best.delta < 0 && (r.aligned || wraps) {
		r.log.Error("refusing to resume: the leader's numbers are behind this node's for the same media; continuing after both",
			"local_msn", local[best.i].msn, "leader_msn", refs[best.j].MSN)
		return 0, 0, false
	}
	r.aligned = true
	return best.i, best.j, true
}

// renumber adds delta to every segment's media sequence number and moves
// its stored objects to the new names (names come from the numbers).
func (r *Rendition) renumber(delta int64) {
	if delta == 0 {
		return
	}
	st := r.muxer.store
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
		if !ref.Gap && !ref.Filler {
			known[ref.StartDTS] = true
		}
	}
	for len(r.segs) > 0 && !known[r.segs[0].rawStartDTS] {
		old := r.segs[0]
		r.segs = r.segs[1:]
		r.muxer.store.Delete(r.segmentObjects(old)...)
	}
	// Evicted segments were numbered before the leader's window: drop them.
	for _, old := range r.evicted {
		r.muxer.store.Delete(r.segmentObjects(old)...)
	}
	r.evicted = nil
}

// adoptInitNames gives local init segments the leader's names (same session,
// same parameter sets: same bytes), so that EXT-X-MAP URIs are
// interchangeable between the nodes.
func (r *Rendition) adoptInitNames(refs []SegmentRef) {
	byStart := make(map[int64]string, len(refs))
	for _, ref := range refs {
		if ref.Init != "" && !ref.Filler {
			byStart[ref.StartDTS] = ref.Init
		}
	}
	rename := map[string]string{}
	all := r.allSegmentsLocked()
	for _, s := range all {
		if to, ok := byStart[s.rawStartDTS]; ok && to != s.initName {
			rename[s.initName] = to
		}
	}
	if len(rename) == 0 {
		return
	}
	st := r.muxer.store
	for from, to := range rename {
		if o, ok := st.Get(r.name + "/" + from); ok {
			_ = st.Put(r.name+"/"+to, o.Data)
		}
	}
	for _, s := range all {
		if to, ok := rename[s.initName]; ok {
			s.initName = to
		}
	}
	if to, ok := rename[r.curInit]; ok {
		r.curInit = to
	}
	for from := range rename {
		if !r.initInUse(from) {
			st.Delete(r.name + "/" + from)
		}
	}
}

func (r *Rendition) allSegmentsLocked() []*segment {
	all := append(append([]*segment(nil), r.evicted...), r.segs...)
	if r.cur != nil {
		all = append(all, r.cur)
	}
	return all
}

// rewriteMedia moves the rendition's output timeline by delta (90 kHz) and
// re-encodes the stored parts and segments with the shifted decode times and
// the fragment sequence numbers of their (new) names: a standby's media then
// matches the leader's, not only its names.
func (r *Rendition) rewriteMedia(delta int64) {
	r.shift += delta
	if r.sess != nil {
		r.sess.shiftTime(delta)
	}
	r.slate.shiftTime(delta)
	scales := map[int]int64{}
	if o, ok := r.muxer.store.Get(r.name + "/" + r.curInit); ok {
		var init fmp4.Init
		if init.Unmarshal(bytes.NewReader(o.Data)) == nil {
			for _, t := range init.Tracks {
				scales[t.ID] = int64(t.TimeScale)
			}
		}
	}
	st := r.muxer.store
	for _, seg := range r.allSegmentsLocked() {
		if seg.gap {
			continue // no media
		}
		seg.startDTS += delta
		body := make([]byte, 0, len(seg.fmp4))
		type put struct {
			name     string
			from, to int
		}
		var puts []put
		ok := true
		for _, p := range seg.parts {
			name := r.name + "/" + partName(seg.msn, p.index)
			o, found := st.Get(name)
			if !found {
				ok = false
				break
			}
			var parts fmp4.Parts
			if err := parts.Unmarshal(o.Data); err != nil || len(parts) != 1 {
				ok = false
				break
			}
			parts[0].SequenceNumber = uint32(seg.msn*1000 + uint64(p.index))
			for _, t := range parts[0].Tracks {
				sc := scales[t.ID]
				if sc == 0 {
					sc = 90000
				}
				t.BaseTime = uint64(int64(t.BaseTime) + delta*sc/90000)
			}
			var buf seekablebuffer.Buffer
			if err := parts[0].Marshal(&buf); err != nil {
				ok = false
				break
			}
			off := len(body)
			body = append(body, buf.Bytes()...)
			puts = append(puts, put{name, off, len(body)})
		}
		if !ok {
			r.log.Warn("could not re-encode a segment for the leader's timeline", "msn", seg.msn)
			continue
		}
		for _, p := range puts {
			_ = st.Put(p.name, body[p.from:p.to:p.to])
		}
		seg.fmp4 = body
		if seg.complete {
			_ = st.Put(r.name+"/"+segName(seg.msn), body)
		}
		seg.ts = nil // made again from the new bytes when asked for
		st.Delete(r.name + "/" + tsName(seg.msn))
	}
}
