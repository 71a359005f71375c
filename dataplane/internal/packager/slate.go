package packager

import (
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// The slate. When a rendition's input goes quiet (the publisher died, the
// leader's relay went silent) players would stall at the live edge and,
// after a while, give up. Instead the rendition keeps its playlist
// advancing with filler: its last good keyframe shown still, with silent
// audio, cut into parts and segments at the playlist's own cadence and
// marked EXT-X-DISCONTINUITY before it and again where real media resumes
// (its timestamps jump). The filler is real media, not EXT-X-GAP: players
// that honour the gap tag would skip it and stall all the same, and some
// players do not know the tag at all (docs/packaging.md, "The slate").
//
// The filler is a pure function of the last session's keyframe, track
// configuration and media end, and of the cadence, so a leader and its
// standby slating the same input from the same point make the same bytes.

// slate is what a rendition needs to make filler, and where it is.
type slate struct {
	// Captured from the input while it flows.
	key       []byte // the last keyframe's sample (AVCC), shown in every filler part
	keyOffset int32  // its composition offset, so that PTS never goes back
	// Captured when an input session ends (its tracks, where its media ended).
	ready      bool
	video      bool
	videoID    int
	audio      []byte // one silent audio frame, nil without audio (or for an unknown config)
	audioID    int
	audioScale int64 // the audio track's time scale
	audioFrame int64 // one audio frame's duration, in audioScale
	end        int64 // where the filler's next part starts (90 kHz, output timeline)
	audioNext  int64 // where its next audio frame starts (audioScale)

	// While filling.
	active   bool
	start    time.Time // wall clock at which the filler's media begins
	produced int64     // 90 kHz of filler published
}

// capture remembers the ending session's tracks and where its media ended
// (end, 90 kHz).
func (sl *slate) capture(s *session, end int64) {
	sl.ready = false
	sl.video = s.video != nil
	if sl.video && sl.key == nil {
		return // no keyframe of this session was kept: nothing to show
	}
	sl.audio = nil
	if a := s.audio; a != nil {
		sl.audioID, sl.audioScale = a.id, a.timescale
		sl.audio, sl.audioFrame = silentFrame(a.src)
		sl.audioNext = a.next
		if !a.haveNext {
			sl.audioNext = end * a.timescale / 90000
		}
	}
	if sl.video {
		sl.videoID = s.video.id
	} else if sl.audio == nil {
		return // audio only, in a configuration whose silence is unknown
	}
	sl.end = end
	sl.ready = true
}

// shiftTime moves the filler's timeline by delta (90 kHz), as Resume moves
// the rendition's.
func (sl *slate) shiftTime(delta int64) {
	sl.end += delta
	sl.audioNext += delta * sl.audioScale / 90000
}

// silentFrame is one raw AAC-LC (1024 samples) or Opus (20 ms) frame of
// silence for the track, and its duration in the track's time scale.
// Written by hand: no Go library makes them and encoding silence needs an
// encoder; these are the frames hls.js inserts for missing AAC audio (its
// aac-helper) and Opus's smallest CELT frame. nil: unknown configuration.
func silentFrame(t *mpegts.Track) ([]byte, int64) {
	if t.Codec == mpegts.CodecOpus {
		return []byte{0xf8, 0xff, 0xfe}, 960 // TOC: CELT fullband 20 ms, one frame, no data
	}
	if t.Codec != mpegts.CodecAAC || t.AAC == nil || t.AAC.Type != mpeg4audio.ObjectTypeAACLC {
		return nil, 0
	}
	if f, ok := silentAAC[t.AAC.ChannelConfig]; ok {
		return f, 1024
	}
	return nil, 0
}

// silentAAC are raw AAC-LC frames of silence by channel configuration
// (1–6: mono to 5.1; the sample rate does not enter an all-zero frame).
var silentAAC = map[uint8][]byte{
	1: {0x00, 0xc8, 0x00, 0x80, 0x23, 0x80},
	2: {0x21, 0x00, 0x49, 0x90, 0x02, 0x19, 0x00, 0x23, 0x80},
	3: {0x00, 0xc8, 0x00, 0x80, 0x20, 0x84, 0x01, 0x26, 0x40, 0x08, 0x64, 0x00, 0x8e},
	4: {0x00, 0xc8, 0x00, 0x80, 0x20, 0x84, 0x01, 0x26, 0x40, 0x08, 0x64, 0x00, 0x80, 0x2c, 0x80, 0x08, 0x02, 0x38},
	5: {0x00, 0xc8, 0x00, 0x80, 0x20, 0x84, 0x01, 0x26, 0x40, 0x08, 0x64, 0x00, 0x82, 0x30, 0x04, 0x99, 0x00, 0x21, 0x90, 0x02, 0x38},
	6: {0x00, 0xc8, 0x00, 0x80, 0x20, 0x84, 0x01, 0x26, 0x40, 0x08, 0x64, 0x00, 0x82, 0x30, 0x04, 0x99, 0x00, 0x21, 0x90, 0x02, 0x00, 0xb2, 0x00, 0x20, 0x08, 0xe0},
}

// keepKeyframe remembers the sample of a keyframe the open segment holds.
func (r *Rendition) keepKeyframe(smp *fmp4.Sample) {
	r.slate.key, r.slate.keyOffset = smp.Payload, smp.PTSOffset
}

// slateTick runs the slate at wall-clock time at: it starts filling once
// the input has been quiet for Config.SlateAfter, and publishes every
// filler part whose time has come.
func (r *Rendition) slateTick(at time.Time) {
	after := r.muxer.cfg.SlateAfter
	if after <= 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	sl := &r.slate
	if !sl.active {
		if r.lastInput.IsZero() || at.Sub(r.lastInput) < after {
			return
		}
		r.beginSlate(at)
		if !sl.active {
			return
		}
	}
	for sl.active && !at.Before(sl.start.Add(ticksToDuration(sl.produced+r.fillerPartTicks()))) {
		r.fillerPart()
	}
}

// beginSlate closes what the input published and opens the first filler
// segment. The filler's media starts where the input's stopped, in wall
// clock too: the parts the player missed while the input was quiet are
// published at once, so that the playlist's live edge is where it would be.
func (r *Rendition) beginSlate(at time.Time) {
	sl := &r.slate
	sl.produced = 0
	if s := r.sess; s != nil {
		end := s.lastEnd()
		pending := s.partHasVideo() || (s.video == nil && !s.empty())
		if r.cur != nil && len(r.cur.parts) > 0 && !pending {
			// The playlist hints at the open segment's next part, which
			// players already wait for, and no input will make it (some,
			// Shaka Player among them, give up on a hinted part that never
			// comes): the slate makes it, continuous with the media.
			sl.capture(s, end)
			if sl.ready {
				r.appendFillerPart(r.cur)
				end = sl.end
			}
		}
		next := sl.audioNext
		r.endSessionAt(end) // captures the slate's starting point
		if sl.produced > 0 {
			sl.audioNext = next // the hinted part's audio is out already
		}
	}
	if !sl.ready || r.curInit == "" || r.lastPDTEnd.IsZero() {
		r.lastInput = time.Time{} // nothing to show: do not ask again until input comes
		return
	}
	sl.active = true
	sl.start = r.lastInput
	if limit := r.muxer.cfg.SlateAfter + r.muxer.cfg.SegmentDuration; at.Sub(sl.start) > limit {
		sl.start = at.Add(-r.muxer.cfg.SlateAfter) // late (a stalled node): not a burst of old filler
	}
	r.stats.Slates++
	r.log.Info("input quiet: filling with the slate", "quiet_for", at.Sub(r.lastInput).Round(time.Millisecond))
	r.openFillerSegment(len(r.segs) > 0 || r.nextMSN > 0)
}

// endSlate closes the filler where real media resumes; the next segment
// is marked as a discontinuity (its timestamps are the input's). The part
// the playlist hints at is published first: players may be waiting for it.
func (r *Rendition) endSlate() {
	if !r.slate.active {
		return
	}
	r.slate.active = false
	if seg := r.cur; seg != nil && len(seg.parts) > 0 {
		r.appendFillerPart(seg)
	}
	r.finishSegment(r.slate.end)
	r.needDisc = true
	r.log.Info("input back: slate ended", "filled", ticksToDuration(r.slate.produced).Round(time.Millisecond))
}

// fillerPartTicks is a filler part's duration: the playlist's PART-TARGET.
func (r *Rendition) fillerPartTicks() int64 {
	if r.partTargetTicks > 0 {
		return r.partTargetTicks
	}
	return max(r.partTicks, 1)
}

// fillerParts is how many parts a filler segment holds: as many as make
// the segment duration, never so many that its EXTINF would round above
// TARGETDURATION.
func (r *Rendition) fillerParts() int {
	pt := r.fillerPartTicks()
	n := int((r.segTicks + pt/2) / pt)
	for n > 1 && int((ticksToDuration(int64(n)*pt)+time.Second/2)/time.Second) > r.targetDur {
		n--
	}
	return max(n, 1)
}

// openFillerSegment opens the next filler segment (no parts yet: the
// playlist hints at its first).
func (r *Rendition) openFillerSegment(disc bool) {
	seg := &segment{
		msn:         r.nextMSN,
		startDTS:    r.slate.end,
		rawStartDTS: -1, // no input keyframe: never matched by Resume
		disc:        disc,
		initName:    r.curInit,
		filler:      true,
		pdt:         r.lastPDTEnd,
	}
	if r.muxer.cfg.SegmentDuration > 0 {
		seg.fmp4 = make([]byte, 0, len(r.slate.key)*r.fillerParts()+4096)
	}
	r.nextMSN++
	r.needDisc = false
	r.cur = seg
	r.notifyLocked()
}

// fillerPart publishes the open filler segment's next part, and closes the
// segment once it has all its parts.
func (r *Rendition) fillerPart() {
	if !r.appendFillerPart(r.cur) {
		r.slate.active = false // cannot make filler: leave the playlist as it is
		return
	}
	if len(r.cur.parts) >= r.fillerParts() {
		r.finishSegment(r.slate.end)
		r.openFillerSegment(false)
	}
}

// appendFillerPart publishes one part of filler as seg's next part.
func (r *Rendition) appendFillerPart(seg *segment) bool {
	sl := &r.slate
	if sl.video && len(sl.key) == 0 {
		return false // no frame to show
	}
	ticks := r.fillerPartTicks()
	p := fmp4.Part{SequenceNumber: uint32(seg.msn*1000 + uint64(len(seg.parts)))}
	if sl.video {
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{ID: sl.videoID, BaseTime: uint64(sl.end), Samples: []*fmp4.Sample{{
			Duration: uint32(ticks), PTSOffset: sl.keyOffset, Payload: sl.key,
		}}})
	}
	end := sl.end + ticks
	if sl.audio != nil {
		t := &fmp4.PartTrack{ID: sl.audioID, BaseTime: uint64(sl.audioNext)}
		for stop := end * sl.audioScale / 90000; sl.audioNext < stop; sl.audioNext += sl.audioFrame {
			t.Samples = append(t.Samples, &fmp4.Sample{Duration: uint32(sl.audioFrame), Payload: sl.audio})
		}
		if len(t.Samples) > 0 {
			p.Tracks = append(p.Tracks, t)
		}
	}
	var buf seekablebuffer.Buffer
	if err := p.Marshal(&buf); err != nil {
		r.onDecodeError(err)
		return false
	}
	off, oldCap := len(seg.fmp4), cap(seg.fmp4)
	seg.fmp4 = append(seg.fmp4, buf.Bytes()...)
	if cap(seg.fmp4) != oldCap && len(seg.parts) > 0 {
		seg.grew = true
	}
	sl.end, sl.produced = end, sl.produced+ticks
	pt := &part{index: len(seg.parts), duration: ticksToDuration(ticks), independent: true, from: off, to: len(seg.fmp4)}
	seg.parts = append(seg.parts, pt)
	if err := r.muxer.store.Put(r.name+"/"+partName(seg.msn, pt.index), seg.fmp4[off:len(seg.fmp4):len(seg.fmp4)]); err != nil {
		r.log.Warn("disk copy failed", "err", err)
	}
	r.stats.PartsWritten++
	r.stats.FillerParts++
	r.stats.BytesOut += uint64(pt.to - pt.from)
	r.notifyLocked()
	return true
}
