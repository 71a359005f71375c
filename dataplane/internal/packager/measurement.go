package packager

import (
	"math"
	"strconv"

	"github.com/bluenviron/gohlslib/v2/pkg/codecparams"
	hlscodecs "github.com/bluenviron/gohlslib/v2/pkg/codecs"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"

	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// measurement is what the multivariant playlist says about a rendition,
// measured from its real output (the transcoder's ladder relies on it).
type measurement struct {
	bytesPerSecond float64 // of the last segment, to size the next one's buffer
	width, height  int
	frameRate      float64 // frames per second over the last segment
	codecs         []string
}

func (m *measurement) add(seg *segment, s *session) {
	if sec := seg.duration.Seconds(); sec > 0 {
		m.bytesPerSecond = float64(len(seg.fmp4)) / sec
	}
	if s == nil {
		return
	}
	m.codecs = m.codecs[:0]
	if v := s.video; v != nil {
		if v.src.Codec == mpegts.CodecH265 {
			var sps h265.SPS
			if sps.Unmarshal(s.sps) == nil {
				m.width, m.height = sps.Width(), sps.Height()
			}
			m.codecs = append(m.codecs, codecparams.Marshal(&hlscodecs.H265{VPS: s.vps, SPS: s.sps, PPS: s.pps}))
		} else {
			var sps h264.SPS
			if sps.Unmarshal(s.sps) == nil {
				m.width, m.height = sps.Width(), sps.Height()
			}
			m.codecs = append(m.codecs, codecparams.Marshal(&hlscodecs.H264{SPS: s.sps, PPS: s.pps}))
		}
		if sec := seg.duration.Seconds(); sec > 0 && seg.frames > 0 {
			m.frameRate = math.Round(float64(seg.frames)/sec*1000) / 1000
		}
	}
	if a := s.audio; a != nil {
		if a.src.Codec == mpegts.CodecOpus {
			m.codecs = append(m.codecs, "opus")
		} else {
			m.codecs = append(m.codecs, codecparams.Marshal(&hlscodecs.MPEG4Audio{Config: *a.src.AAC}))
		}
	}
}

func (m *measurement) resolution() string {
	if m.width == 0 {
		return ""
	}
	return strconv.Itoa(m.width) + "x" + strconv.Itoa(m.height)
}

// bandwidth returns the peak and average bit rates of the segments in the
// window: fmp4 selects the LL-HLS bodies, otherwise the classic TS ones.
func bandwidth(segs []*segment, fmp4 bool) (peak, avg int) {
	var bits, secs float64
	for _, s := range segs {
		if s.gap || s.filler {
			continue // no media, or the slate's: not the rendition's bit rate
		}
		n := len(s.ts)
		if fmp4 {
			n = len(s.fmp4)
		} else if n == 0 {
			continue // not converted (nobody asked for it yet)
		}
		d := s.duration.Seconds()
		if d <= 0 {
			continue
		}
		if b := int(float64(n) * 8 / d); b > peak {
			peak = b
		}
		bits += float64(n) * 8
		secs += d
	}
	if secs > 0 {
		avg = int(bits / secs)
	}
	return peak, avg
}
