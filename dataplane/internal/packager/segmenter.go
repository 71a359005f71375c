package packager

import (
	"bytes"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// onTracks starts a new input session (demuxer callback).
func (r *Rendition) onTracks(tracks []*mpegts.Track) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.endSession()
	r.tracks = tracks
}

// endSession publishes what the current input session produced and makes the
// next keyframe start a new segment after a discontinuity.
func (r *Rendition) endSession() {
	if r.sess != nil {
		r.endSessionAt(r.sess.lastEnd())
	}
}

// endSessionAt is endSession with the open segment ending at end (90 kHz).
func (r *Rendition) endSessionAt(end int64) {
	if r.sess != nil {
		published := r.cur != nil
		r.finishSegment(end)
		if published {
			r.slate.capture(r.sess, end)
		}
		r.sess = nil
		r.needDisc = true
		r.havePrevKey = false
	}
}

// onAccessUnit is the segmenter (demuxer callback).
func (r *Rendition) onAccessUnit(au *mpegts.AccessUnit) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	r.lastInput = now()
	au.PTS += r.shift
	au.DTS += r.shift
	if au.Discontinuity && r.sess != nil {
		r.endSession()
	}
	if r.sess == nil {
		if au.Track.Codec.IsVideo() && validNALUs(au.NALUs) {
			r.seenParams.remember(au)
		}
		if !r.startSession(au) {
			return
		}
	}
	s := r.sess
	switch {
	case s.video != nil && au.Track == s.video.src:
		r.onVideo(au)
	case s.audio != nil && au.Track == s.audio.src:
		if s.video != nil && r.cur == nil {
			return // audio before the first keyframe: nothing to attach it to
		}
		if s.video == nil {
			r.onDriverAudio(au)
			return
		}
		if err := s.addAudio(au); err != nil {
			r.onDecodeError(err)
		}
	}
}

// startSession begins a session at the first keyframe that carries its
// parameter sets (or the first audio frame of an audio-only input).
func (r *Rendition) startSession(au *mpegts.AccessUnit) bool {
	s, err := newSession(r.tracks, au, &r.seenParams)
	if err != nil {
		r.onDecodeError(err)
		return false
	}
	if s == nil {
		return false // not a usable starting point yet
	}
	init, err := s.initSegment()
	if err != nil {
		r.onDecodeError(err)
		return false
	}
	r.pendingInit = init // named and stored with the session's first segment
	r.sess = s
	r.endSlate()      // real media resumes here
	r.slate.key = nil // the slate shows this session's keyframes from now on
	return true
}

func (r *Rendition) onVideo(au *mpegts.AccessUnit) {
	s := r.sess
	key := s.isKeyframe(au)
	if key {
		if s.paramsChanged(au) {
			// New resolution or profile without a reconnect: needs a new
			// init segment, so treat it as a discontinuity.
			r.endSession()
			if !r.startSession(au) {
				return
			}
			s = r.sess
		}
		if r.cutHere(au.RawDTS) {
			r.finishSegment(au.DTS)
			r.startSegment(au)
		}
		r.keyframeAt(au.RawDTS, au.DTS)
	}
	if r.cur == nil {
		return // waiting for the first keyframe (or the first aligned one)
	}
	if s.partOpen && s.partStart < 0 {
		s.partStart = au.DTS
	}
	dur, err := s.addVideo(au, r.partTicks)
	if err != nil {
		r.onDecodeError(err)
		return
	}
	r.cur.frames++
	if key {
		r.keepKeyframe(s.video.samples[len(s.video.samples)-1])
	}
	if partDue(s.partStart, au.DTS, dur, r.partTicks) {
		r.partEnd = au.DTS + dur
		r.finishPart()
	}
}

// onDriverAudio segments an audio-only input: every frame is a keyframe,
// and a PES holding several frames is split across parts as needed.
func (r *Rendition) onDriverAudio(au *mpegts.AccessUnit) {
	s := r.sess
	var off int64 // 90 kHz ticks from the PES timestamp
	for _, frame := range au.Frames {
		f := &mpegts.AccessUnit{
			Track: au.Track, PTS: au.PTS + off, DTS: au.DTS + off,
			RawDTS: (au.RawDTS + off) & (1<<33 - 1), Frames: [][]byte{frame},
		}
		dur := s.audioTicks(f)
		off += dur
		if r.cutHere(f.RawDTS) {
			r.finishSegment(f.DTS)
			r.startSegment(f)
		}
		r.keyframeAt(f.RawDTS, f.DTS)
		if r.cur == nil {
			continue // waiting for the first aligned frame
		}
		if s.partStart < 0 {
			s.partStart = f.DTS
		}
		if err := s.addAudio(f); err != nil {
			r.onDecodeError(err)
			return
		}
		if partDue(s.partStart, f.DTS, dur, r.partTicks) {
			r.partEnd = f.DTS + dur
			r.finishPart()
		}
	}
}

// keyframeAt remembers a keyframe (raw and monotonic DTS) for the cut rule
// and for predicting the next one: encoders keep a fixed GOP, so the next
// keyframe comes one interval after this one. The interval outlives a
// reconnect (the same encoder, most likely the same GOP); before a
// stream's second keyframe it is unknown, and the hint cannot foresee
// the first cut.
func (r *Rendition) keyframeAt(raw, dts int64) {
	if r.havePrevKey && raw > r.prevKeyRaw {
		r.keyInterval = raw - r.prevKeyRaw
	}
	r.prevKeyRaw, r.havePrevKey, r.lastKeyDTS = raw, true, dts
}

// hintLocked names the part EXT-X-PRELOAD-HINT announces: the open
// segment's next part, unless the next keyframe is due where that part
// would begin (within half a frame) and the cut rule makes it start a
// segment. Then the part would still be empty at the cut and never exist
// (a 404 for every player and CDN edge following hints, once a segment),
// and the next part to exist is the first of the next segment.
func (r *Rendition) hintLocked() string {
	seg := r.cur
	if r.sess != nil && r.havePrevKey && r.keyInterval > 0 && len(seg.parts) > 0 {
		next := r.lastKeyDTS + r.keyInterval
		half := r.sess.frameInterval() / 2
		if next >= r.partEnd-half && next <= r.partEnd+half && startsSegment(r.prevKeyRaw, r.prevKeyRaw+r.keyInterval, r.segTicks) {
			return partName(seg.msn+1, 0)
		}
	}
	return partName(seg.msn, len(seg.parts))
}

// cutHere applies the cut rule to a keyframe with raw DTS raw. A session's
// first keyframe starts a segment, except while sibling renditions are
// cutting the same timeline (a ladder rendition starting or restarting
// beside the source): then it waits for a keyframe that the rule (or a
// sibling's cut) makes a boundary, so that it joins the ladder aligned.
func (r *Rendition) cutHere(raw int64) bool {
	if r.cur != nil && r.havePrevKey {
		return startsSegment(r.prevKeyRaw, raw, r.segTicks)
	}
	if !r.muxer.cuts.othersNear(r.name, raw) {
		return true
	}
	if m, ok := r.muxer.cuts.at(raw); ok && m.raw == raw {
		return true // exactly where a sibling cut
	}
	return r.havePrevKey && startsSegment(r.prevKeyRaw, raw, r.segTicks)
}

// startSegment opens segment r.nextMSN at au.
func (r *Rendition) startSegment(au *mpegts.AccessUnit) {
	s := r.sess
	mark, marked := r.muxer.cuts.at(au.RawDTS)
	marked = marked && mark.by != r.name
	if marked && mark.msn > r.nextMSN {
		if !r.everCut {
			r.nextMSN = mark.msn // join the ladder with its numbering
		} else if r.cur == nil && mark.msn-r.nextMSN <= maxGapSegments {
			// Back after a restart: the numbers this rendition missed
			// become EXT-X-GAP segments, so it stays aligned with its
			// siblings (a player switching renditions lands on the same
			// segment numbers).
			r.fillGap(mark)
		}
	}
	r.everCut = true
	if r.pendingInit != nil {
		if !bytes.Equal(r.pendingInit, r.curInitData) {
			// Named from the first segment that uses it, so every node
			// names it the same and it can be cached forever.
			r.curInit = initName(r.nextMSN)
			r.curInitData = r.pendingInit
			if err := r.muxer.store.Put(r.name+"/"+r.curInit, r.curInitData); err != nil {
				r.log.Warn("disk copy failed", "err", err)
			}
			r.stats.BytesOut += uint64(len(r.curInitData))
		}
		r.pendingInit = nil
	}
	seg := &segment{
		msn:         r.nextMSN,
		startDTS:    au.DTS,
		rawStartDTS: au.RawDTS,
		disc:        r.needDisc && (len(r.segs) > 0 || r.nextMSN > 0),
		initName:    r.curInit,
	}
	r.nextMSN++
	r.needDisc = false
	if seg.disc || s.anchorPDT.IsZero() {
		// PDT follows the media clock inside a session and the wall clock
		// at its start, never going back.
		start := now().UTC()
		if start.Before(r.lastPDTEnd) {
			start = r.lastPDTEnd
		}
		// Playlists print milliseconds: round up so that the printed PDT
		// never goes back either.
		if tr := start.Truncate(time.Millisecond); !tr.Equal(start) {
			start = tr.Add(time.Millisecond)
		}
		if marked {
			// A sibling cut at this boundary: the same media time gets the
			// same PDT in every rendition.
			if p := mark.pdt.Add(ticksToDuration(signed33(au.RawDTS - mark.raw))); !p.Before(r.lastPDTEnd) {
				start = p
			}
		}
		s.anchorPDT, s.anchorDTS = start, au.DTS
	}
	seg.pdt = s.anchorPDT.Add(ticksToDuration(au.DTS - s.anchorDTS))
	if bps := r.measure.bytesPerSecond; bps > 0 {
		// Sized from the previous segment's bit rate so that parts
		// (sub-slices of it) rarely force a reallocation.
		sz := int(bps * r.muxer.cfg.SegmentDuration.Seconds())
		seg.fmp4 = make([]byte, 0, sz+sz/8)
	}
	r.cur = seg
	s.partOpen, s.partStart = true, au.DTS
	r.muxer.cuts.record(cutMark{raw: au.RawDTS, msn: seg.msn, pdt: seg.pdt, by: r.name})
	if r.name == sourceRendition {
		r.muxer.sourceCut()
	}
}

// finishPart publishes the open part.
func (r *Rendition) finishPart() {
	s, seg := r.sess, r.cur
	if s == nil || seg == nil || !s.partOpen || s.empty() {
		return
	}
	if s.video != nil && !s.partHasVideo() {
		// Only audio arrived since the last part closed: it rides with the
		// next part, so that every part's duration is its video's.
		return
	}
	if !s.partTargetSet {
		// PART-TARGET is set by each session's first part: the configured
		// part duration rounded up to whole frames of the input. It never
		// decreases (a new publisher at 24 fps after one at 30 fps raises
		// it; one at 30 after 24 keeps it).
		f := s.frameInterval()
		if t := (r.partTicks + f - 1) / f * f; t > r.partTargetTicks {
			r.partTargetTicks = t
			r.partTarget = ticksToDuration(t)
		}
		s.partTargetSet = true
	}
	off := len(seg.fmp4)
	oldCap := cap(seg.fmp4)
	body, ticks, independent, err := s.marshalPart(uint32(seg.msn*1000+uint64(len(seg.parts))), r.partTargetTicks, seg.fmp4)
	if cap(body) != oldCap && len(seg.parts) > 0 {
		seg.grew = true
	}
	s.partOpen, s.partStart = true, -1
	if err != nil {
		r.onDecodeError(err)
		return
	}
	seg.fmp4 = body
	data := body[off:]
	p := &part{index: len(seg.parts), duration: ticksToDuration(ticks), independent: independent, from: off, to: len(body)}
	seg.parts = append(seg.parts, p)
	// The part shares the segment's bytes: both are immutable.
	if err := r.muxer.store.Put(r.name+"/"+partName(seg.msn, p.index), seg.fmp4[off:len(seg.fmp4):len(seg.fmp4)]); err != nil {
		r.log.Warn("disk copy failed", "err", err)
	}
	r.stats.PartsWritten++
	r.stats.BytesOut += uint64(len(data))
	r.notifyLocked()
	if r.onPart != nil {
		r.onPart()
	}
}

// finishSegment closes the open segment; end is the DTS where the next one
// starts (or the end of the last sample).
func (r *Rendition) finishSegment(end int64) {
	seg := r.cur
	if seg == nil {
		return
	}
	r.finishPart()
	r.cur = nil
	if len(seg.parts) == 0 {
		r.nextMSN-- // nothing was published under this number
		if seg.disc {
			r.needDisc = true
		}
		return
	}
	seg.duration = ticksToDuration(end - seg.startDTS)
	if seg.duration <= 0 {
		var d time.Duration
		for _, p := range seg.parts {
			d += p.duration
		}
		seg.duration = d
	}
	seg.complete = true
	r.compact(seg)
	st := r.muxer.store
	if err := st.Put(r.name+"/"+segName(seg.msn), seg.fmp4); err != nil {
		r.log.Warn("disk copy failed", "err", err)
	}
	r.stats.SegmentsWritten++
	r.stats.BytesOut += uint64(len(seg.fmp4))
	if seg.disc {
		r.stats.Discontinuities++
	}
	if td := int((seg.duration + time.Second/2) / time.Second); td > r.targetDur {
		r.targetDur = td // TARGETDURATION ≥ every rounded EXTINF
	}
	if !seg.filler {
		r.measure.add(seg, r.sess)
	}
	r.lastPDTEnd = seg.pdt.Add(seg.duration)
	r.segs = append(r.segs, seg)
	r.slideWindow()
	r.notifyLocked()
}

// compact gives a completed segment one exact-size array when its buffer
// grew (earlier parts would keep the old arrays alive) or has much unused
// room: the window then holds the media once, at its size.
func (r *Rendition) compact(seg *segment) {
	if !seg.grew && cap(seg.fmp4)-len(seg.fmp4) <= len(seg.fmp4)/16 {
		return
	}
	body := make([]byte, len(seg.fmp4))
	copy(body, seg.fmp4)
	seg.fmp4 = body
	for _, p := range seg.parts {
		_ = r.muxer.store.Put(r.name+"/"+partName(seg.msn, p.index), body[p.from:p.to:p.to])
	}
	seg.grew = false
}

// maxGapSegments bounds the EXT-X-GAP filling after a restart.
const maxGapSegments = 32

// fillGap publishes gap segments from r.nextMSN up to (not including)
// mark.msn with the sibling's program date-times and durations where it
// knows them (else spread evenly over the time since this rendition's last
// segment). The first is marked as a discontinuity: the media before it
// stopped short.
func (r *Rendition) fillGap(mark cutMark) {
	n := mark.msn - r.nextMSN
	pdts, ok := r.muxer.cuts.by(mark.by, r.nextMSN, mark.msn)
	if !ok || pdts[0].Before(r.lastPDTEnd) {
		start := r.lastPDTEnd
		span := mark.pdt.Sub(start)
		if start.IsZero() || span <= 0 {
			span = time.Duration(n) * r.muxer.cfg.SegmentDuration
			start = mark.pdt.Add(-span)
		}
		pdts = pdts[:0]
		for i := uint64(0); i <= n; i++ {
			pdts = append(pdts, start.Add(span*time.Duration(i)/time.Duration(n)))
		}
	}
	for i := uint64(0); i < n; i++ {
		d := pdts[i+1].Sub(pdts[i])
		seg := &segment{
			msn:      r.nextMSN,
			pdt:      pdts[i],
			duration: d,
			gap:      true,
			complete: true,
			initName: r.curInit,
			disc:     i == 0 && len(r.segs) > 0 && !pdts[0].Equal(r.lastPDTEnd),
		}
		r.nextMSN++
		if seg.disc {
			r.stats.Discontinuities++
		}
		if td := int((d + time.Second/2) / time.Second); td > r.targetDur {
			r.targetDur = td
		}
		r.lastPDTEnd = seg.pdt.Add(d)
		r.segs = append(r.segs, seg)
		r.slideWindow()
	}
	r.notifyLocked()
}
