package packager

import (
	"bytes"
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/opus"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// The samples of the open LL-HLS part, per output track, and their
// encoding into an fMP4 fragment.

// trackOut is one output track of the fMP4 parts.
type trackOut struct {
	src       *mpegts.Track
	id        int
	timescale int64
	samples   []*fmp4.Sample
	base      int64 // decode time of samples[0], in timescale
	lastDTS   int64 // video: last DTS (90 kHz)
	lastDelta int64 // video: last DTS step (90 kHz)
	haveLast  bool
	next      int64 // audio: where the next frame is expected, in timescale
	haveNext  bool
	ended     int64   // end of the last sample, in 90 kHz
	partTicks int64   // video: duration of the samples in the open part
	deltas    []int64 // video: frame intervals seen until PART-TARGET is fixed
}

func (s *session) partHasVideo() bool { return s.video != nil && len(s.video.samples) > 0 }

func (s *session) empty() bool {
	return (s.video == nil || len(s.video.samples) == 0) && (s.audio == nil || len(s.audio.samples) == 0)
}

// addVideo appends a video sample to the open part and returns its
// (estimated) duration in 90 kHz ticks: the previous sample's duration is
// corrected now that its successor's DTS is known; the last sample of a part
// keeps the estimate (the previous frame interval), so a part can be
// published as soon as its last frame has arrived.
func (s *session) addVideo(au *mpegts.AccessUnit, partTicks int64) (int64, error) {
	v := s.video
	if !validNALUs(au.NALUs) {
		return 0, fmt.Errorf("empty NAL unit in video access unit")
	}
	if v.haveLast {
		if d := au.DTS - v.lastDTS; d > 0 && d < 90000 {
			if v.lastDelta == 0 || d <= 2*v.lastDelta {
				v.lastDelta = d // frames were not lost: a real frame interval
			}
			if len(v.deltas) < 64 {
				v.deltas = append(v.deltas, d)
			}
			if n := len(v.samples); n > 0 {
				// Lost frames must not stretch the part beyond its target
				// (that would raise PART-TARGET for good): leave a hole in
				// the timeline instead; players step over it.
				prev := int64(v.samples[n-1].Duration)
				if v.partTicks-prev+d > partTicks && d > prev {
					d = max(prev, partTicks-(v.partTicks-prev))
				}
				v.samples[n-1].Duration = uint32(d)
				v.partTicks += d - prev
			}
		}
	}
	est := v.lastDelta
	if est <= 0 {
		est = 3000 // 30 fps until the second frame tells
	}
	smp := &fmp4.Sample{Duration: uint32(est)}
	var err error
	if v.src.Codec == mpegts.CodecH265 {
		err = smp.FillH265(int32(au.PTS-au.DTS), au.NALUs)
	} else {
		err = smp.FillH264(int32(au.PTS-au.DTS), au.NALUs)
	}
	if err != nil {
		return 0, err
	}
	if len(v.samples) == 0 {
		v.base = au.DTS
	}
	v.samples = append(v.samples, smp)
	v.partTicks += est
	v.lastDTS, v.haveLast = au.DTS, true
	v.ended = au.DTS + est
	return est, nil
}

// frameDuration is the duration of one audio frame in the track's timescale.
func (t *trackOut) frameDuration(frame []byte) int64 {
	if t.src.Codec == mpegts.CodecOpus {
		return opus.PacketDuration2(frame) // 48 kHz
	}
	return 1024 // AAC-LC frames
}

// audioTicks is the duration of au in 90 kHz ticks.
func (s *session) audioTicks(au *mpegts.AccessUnit) int64 {
	var d int64
	for _, f := range au.Frames {
		d += s.audio.frameDuration(f)
	}
	return d * 90000 / s.audio.timescale
}

// addAudio appends audio frames to the open part. Frames are laid end to
// end while their timestamps agree within 100 ms, so the audio track has no
// rounding gaps; a larger step restarts from the timestamp.
func (s *session) addAudio(au *mpegts.AccessUnit) error {
	a := s.audio
	t := au.PTS * a.timescale / 90000
	if a.haveNext {
		if diff := t - a.next; diff < a.timescale/10 && diff > -a.timescale/10 {
			t = a.next
		}
	}
	if len(a.samples) == 0 {
		a.base = t
	} else if t != a.next {
		// A jump inside the part: fMP4 cannot express a gap between
		// samples, so stretch the previous sample over it when it is
		// forward, and drop frames that would overlap.
		if t < a.next {
			return nil
		}
		last := a.samples[len(a.samples)-1]
		last.Duration += uint32(t - a.next)
	}
	for _, f := range au.Frames {
		d := a.frameDuration(f)
		a.samples = append(a.samples, &fmp4.Sample{Duration: uint32(d), Payload: f})
		t += d
	}
	a.next, a.haveNext = t, true
	a.ended = t * 90000 / a.timescale
	return nil
}

// lastEnd is where the session's media ends (90 kHz).
func (s *session) lastEnd() int64 {
	if s.video != nil {
		return s.video.ended
	}
	return s.audio.ended
}

// marshalPart encodes the open part and empties it. ticks is its duration
// (of the driving track) in 90 kHz.
func (s *session) marshalPart(seq uint32, capTicks int64, dst []byte) (out []byte, ticks int64, independent bool, err error) {
	if v := s.video; v != nil {
		v.partTicks = 0
		for _, smp := range v.samples {
			v.partTicks += int64(smp.Duration)
		}
	}
	if v := s.video; v != nil && capTicks > 0 && v.partTicks > capTicks && len(v.samples) > 0 {
		// Never longer than PART-TARGET: an over-long estimate (frames were
		// lost) shortens the last sample and leaves a hole instead.
		for i := len(v.samples) - 1; i >= 0 && v.partTicks > capTicks; i-- {
			smp := v.samples[i]
			cut := min(v.partTicks-capTicks, int64(smp.Duration)-1)
			if cut <= 0 {
				continue
			}
			smp.Duration -= uint32(cut)
			v.partTicks -= cut
			if i == len(v.samples)-1 {
				v.ended -= cut
			}
		}
	}
	var p fmp4.Part
	p.SequenceNumber = seq
	independent = true
	if v := s.video; v != nil && len(v.samples) > 0 {
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{ID: v.id, BaseTime: uint64(v.base), Samples: v.samples})
		for _, smp := range v.samples {
			ticks += int64(smp.Duration)
		}
		independent = !v.samples[0].IsNonSyncSample
	}
	if a := s.audio; a != nil && len(a.samples) > 0 {
		p.Tracks = append(p.Tracks, &fmp4.PartTrack{ID: a.id, BaseTime: uint64(a.base), Samples: a.samples})
		if s.video == nil {
			var d int64
			for _, smp := range a.samples {
				d += int64(smp.Duration)
			}
			ticks = d * 90000 / a.timescale
		}
	}
	// Marshal straight into the free capacity of dst (the segment's
	// buffer), so the part is written once and never copied.
	size := 1024
	for _, t := range p.Tracks {
		size += 64 + 16*len(t.Samples)
		for _, smp := range t.Samples {
			size += len(smp.Payload)
		}
	}
	buf := seekablebuffer.Buffer{Buffer: *bytes.NewBuffer(dst[len(dst):])}
	buf.Grow(size)
	err = p.Marshal(&buf)
	if s.video != nil {
		s.video.samples = nil
		s.video.partTicks = 0
	}
	if s.audio != nil {
		s.audio.samples = nil
	}
	data := buf.Bytes()
	if n := len(data); n > 0 && cap(dst)-len(dst) >= n && &dst[:len(dst)+1][len(dst)] == &data[0] {
		return dst[:len(dst)+n], ticks, independent, err
	}
	return append(dst, data...), ticks, independent, err
}
