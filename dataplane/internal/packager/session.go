package packager

import (
	"bytes"
	"fmt"
	"slices"
	"time"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4"
	"github.com/bluenviron/mediacommon/v2/pkg/formats/fmp4/seekablebuffer"
	mp4codecs "github.com/bluenviron/mediacommon/v2/pkg/formats/mp4/codecs"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// session is one input session of a rendition (from a publisher's first
// keyframe to its disconnection): the tracks, their parameter sets, the
// samples of the open part.
type session struct {
	video *trackOut // nil for audio-only input
	audio *trackOut // nil without audio

	vps, sps, pps []byte

	partTargetSet bool // this session's frame rate has been taken into PART-TARGET
	anchorPDT     time.Time
	anchorDTS     int64
	partOpen      bool
	partStart     int64 // -1 until the part's first driving sample
}

// newSession returns nil (and no error) while au is not a place to start.
//
// seen holds parameter sets met earlier in the input (some encoders send
// them once, or apart from the keyframe): used when the keyframe has none.
func newSession(tracks []*mpegts.Track, au *mpegts.AccessUnit, seen *paramSets) (*session, error) {
	s := &session{partStart: -1}
	for _, t := range tracks {
		switch {
		case t.Codec.IsVideo() && s.video == nil:
			s.video = &trackOut{src: t, id: 1, timescale: 90000}
		case !t.Codec.IsVideo() && s.audio == nil:
			s.audio = &trackOut{src: t, timescale: int64(t.ClockRate())}
		}
	}
	if s.video == nil && s.audio == nil {
		return nil, nil
	}
	if s.audio != nil {
		s.audio.id = 1
		if s.video != nil {
			s.audio.id = 2
		}
	}
	if s.video != nil {
		if au.Track != s.video.src || !s.isKeyframe(au) {
			return nil, nil
		}
		s.takeParams(au)
		if s.sps == nil && seen != nil && seen.codec == au.Track.Codec {
			s.vps, s.sps, s.pps = seen.vps, seen.sps, seen.pps
		}
		if s.sps == nil || s.pps == nil || (s.video.src.Codec == mpegts.CodecH265 && s.vps == nil) {
			return nil, fmt.Errorf("keyframe without parameter sets: waiting for the next one")
		}
	} else if au.Track != s.audio.src {
		return nil, nil
	}
	return s, nil
}

func validNALUs(au [][]byte) bool {
	for _, n := range au {
		if len(n) == 0 {
			return false
		}
	}
	return len(au) > 0
}

func (s *session) isKeyframe(au *mpegts.AccessUnit) bool {
	if !validNALUs(au.NALUs) {
		return false
	}
	if au.Track.Codec == mpegts.CodecH265 {
		return h265.IsRandomAccess(au.NALUs)
	}
	return h264.IsRandomAccess(au.NALUs)
}

// params extracts the parameter sets carried by au (nil when absent).
func params(au *mpegts.AccessUnit) (vps, sps, pps []byte) {
	for _, n := range au.NALUs {
		if len(n) == 0 {
			continue
		}
		if au.Track.Codec == mpegts.CodecH265 {
			switch h265.NALUType((n[0] >> 1) & 0x3f) {
			case h265.NALUType_VPS_NUT:
				vps = n
			case h265.NALUType_SPS_NUT:
				sps = n
			case h265.NALUType_PPS_NUT:
				pps = n
			}
			continue
		}
		switch h264.NALUType(n[0] & 0x1f) {
		case h264.NALUTypeSPS:
			sps = n
		case h264.NALUTypePPS:
			pps = n
		}
	}
	return
}

func (s *session) takeParams(au *mpegts.AccessUnit) {
	vps, sps, pps := params(au)
	clone := func(b []byte) []byte { return append([]byte(nil), b...) }
	if vps != nil {
		s.vps = clone(vps)
	}
	if sps != nil {
		s.sps = clone(sps)
	}
	if pps != nil {
		s.pps = clone(pps)
	}
}

// paramsChanged reports a keyframe whose parameter sets differ from the
// session's (a new resolution or profile mid-session).
func (s *session) paramsChanged(au *mpegts.AccessUnit) bool {
	vps, sps, pps := params(au)
	return (vps != nil && !bytes.Equal(vps, s.vps)) ||
		(sps != nil && !bytes.Equal(sps, s.sps)) ||
		(pps != nil && !bytes.Equal(pps, s.pps))
}

// initSegment is the session's fMP4 initialization segment.
func (s *session) initSegment() ([]byte, error) {
	var init fmp4.Init
	if v := s.video; v != nil {
		var c mp4codecs.Codec
		if v.src.Codec == mpegts.CodecH265 {
			c = &mp4codecs.H265{VPS: s.vps, SPS: s.sps, PPS: s.pps}
		} else {
			c = &mp4codecs.H264{SPS: s.sps, PPS: s.pps}
		}
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{ID: v.id, TimeScale: 90000, Codec: c})
	}
	if a := s.audio; a != nil {
		var c mp4codecs.Codec
		if a.src.Codec == mpegts.CodecOpus {
			c = &mp4codecs.Opus{ChannelCount: a.src.OpusChannels}
		} else {
			c = &mp4codecs.MPEG4Audio{Config: *a.src.AAC}
		}
		init.Tracks = append(init.Tracks, &fmp4.InitTrack{ID: a.id, TimeScale: uint32(a.timescale), Codec: c})
	}
	var buf seekablebuffer.Buffer
	if err := init.Marshal(&buf); err != nil {
		return nil, fmt.Errorf("init segment: %w", err)
	}
	return buf.Bytes(), nil
}

// frameInterval is the input's nominal frame interval (90 kHz): the median
// of the intervals seen so far, so that a lost or corrupt frame at the start
// does not skew it; 10–120 fps, else 30 fps is assumed.
func (s *session) frameInterval() int64 {
	if s.video == nil {
		return 1024 * 90000 / max(s.audio.timescale, 1)
	}
	d := slices.Clone(s.video.deltas)
	if len(d) == 0 {
		return 3000
	}
	slices.Sort(d)
	f := d[len(d)/2]
	if f < 750 || f > 9000 {
		return 3000
	}
	return f
}

// shiftTime moves the session's output timeline by delta (90 kHz ticks).
func (s *session) shiftTime(delta int64) {
	s.anchorDTS += delta
	if s.partStart >= 0 {
		s.partStart += delta
	}
	if v := s.video; v != nil {
		v.base += delta
		v.lastDTS += delta
		v.ended += delta
	}
	if a := s.audio; a != nil {
		da := delta * a.timescale / 90000
		a.base += da
		a.next += da
		a.ended += delta
	}
}

// paramSets are the last parameter sets seen in a video track.
type paramSets struct {
	codec         mpegts.Codec
	vps, sps, pps []byte
}

// remember keeps the parameter sets au carries.
func (p *paramSets) remember(au *mpegts.AccessUnit) {
	vps, sps, pps := params(au)
	if vps == nil && sps == nil && pps == nil {
		return
	}
	if p.codec != au.Track.Codec {
		*p = paramSets{codec: au.Track.Codec}
	}
	if vps != nil {
		p.vps = append([]byte(nil), vps...)
	}
	if sps != nil {
		p.sps = append([]byte(nil), sps...)
	}
	if pps != nil {
		p.pps = append([]byte(nil), pps...)
	}
}
