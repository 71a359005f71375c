package packager

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// Media playlists are written by hand: gohlslib's playlist.Media carries a
// single EXT-X-MAP, and zonecast must announce a new init segment after a
// discontinuity (a publisher reconnecting with other parameters). The
// multivariant playlist uses gohlslib's marshaller.

// partsListedSegments is how many complete segments keep their EXT-X-PART
// lines (RFC 8216bis: parts older than three target durations from the live
// edge should go).
const partsListedSegments = 2

func secs(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 5, 64)
}

// secsUp prints a target rounded up, so that no duration printed with
// secs exceeds it.
func secsUp(d time.Duration) string {
	return strconv.FormatFloat(math.Ceil(d.Seconds()*1e5)/1e5, 'f', 5, 64)
}

func pdt(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z07:00")
}

// mediaPlaylistLocked writes the rendition's LL-HLS (fmp4) or classic
// playlist. r.mu must be held; ok is false while nothing is published.
func (r *Rendition) mediaPlaylistLocked(fmp4 bool) ([]byte, bool) {
	k := 0
	if fmp4 {
		k = 1
	}
	if c := r.playlistCache[k]; c != nil {
		return c, true
	}
	b, ok := r.renderPlaylistLocked(fmp4)
	if ok {
		r.playlistCache[k] = b
	}
	return b, ok
}

func (r *Rendition) renderPlaylistLocked(fmp4 bool) ([]byte, bool) {
	if len(r.segs) == 0 && (!fmp4 || r.cur == nil || len(r.cur.parts) == 0) {
		return nil, false
	}
	var b strings.Builder
	b.Grow(2048)
	if fmp4 {
		b.WriteString("#EXTM3U\n#EXT-X-VERSION:9\n")
	} else {
		b.WriteString("#EXTM3U\n#EXT-X-VERSION:6\n")
	}
	b.WriteString("#EXT-X-TARGETDURATION:" + strconv.Itoa(r.targetDur) + "\n")
	if fmp4 {
		b.WriteString("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES,PART-HOLD-BACK=" + secs(3*r.partTarget) +
			",HOLD-BACK=" + secs(3*time.Duration(r.targetDur)*time.Second) + "\n")
		b.WriteString("#EXT-X-PART-INF:PART-TARGET=" + secsUp(r.partTarget) + "\n")
	}
	first := r.nextMSN
	if len(r.segs) > 0 {
		first = r.segs[0].msn
	} else if r.cur != nil {
		first = r.cur.msn
	}
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(first, 10) + "\n")
	b.WriteString("#EXT-X-DISCONTINUITY-SEQUENCE:" + strconv.FormatUint(r.discSeq, 10) + "\n")
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")

	mapName := ""
	head := func(s *segment) {
		if s.disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if fmp4 && s.initName != mapName {
			mapName = s.initName
			b.WriteString("#EXT-X-MAP:URI=\"" + mapName + "\"\n")
		}
	}
	parts := func(s *segment) {
		for _, p := range s.parts {
			b.WriteString("#EXT-X-PART:DURATION=" + secs(p.duration) + ",URI=\"" + partName(s.msn, p.index) + "\"")
			if p.independent {
				b.WriteString(",INDEPENDENT=YES")
			}
			b.WriteByte('\n')
		}
	}
	for i, s := range r.segs {
		head(s)
		b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + pdt(s.pdt) + "\n")
		if s.gap {
			b.WriteString("#EXT-X-GAP\n")
		}
		if fmp4 && i >= len(r.segs)-partsListedSegments {
			parts(s)
		}
		b.WriteString("#EXTINF:" + secs(s.duration) + ",\n")
		if fmp4 {
			b.WriteString(segName(s.msn) + "\n")
		} else {
			b.WriteString(tsName(s.msn) + "\n")
		}
	}
	if fmp4 && r.cur != nil {
		head(r.cur)
		if len(r.cur.parts) > 0 {
			b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + pdt(r.cur.pdt) + "\n")
		}
		parts(r.cur)
		b.WriteString("#EXT-X-PRELOAD-HINT:TYPE=PART,URI=\"" + r.hintLocked() + "\"\n")
	}
	return []byte(b.String()), true
}

// variant describes one rendition for the multivariant playlist.
func (r *Rendition) variant(fmp4 bool) (*playlist.MultivariantVariant, bool) {
	if !fmp4 {
		// The classic bit rate is measured on real TS: make sure the
		// latest segment has been converted.
		r.mu.Lock()
		var last uint64
		have := len(r.segs) > 0
		if have {
			last = r.segs[len(r.segs)-1].msn
		}
		r.mu.Unlock()
		if have {
			r.classicSegment(last)
		}
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.segs) == 0 || len(r.measure.codecs) == 0 {
		return nil, false
	}
	peak, avg := bandwidth(r.segs, fmp4)
	v := &playlist.MultivariantVariant{
		Bandwidth:        peak,
		AverageBandwidth: &avg,
		Codecs:           append([]string(nil), r.measure.codecs...),
		Resolution:       r.measure.resolution(),
	}
	if r.measure.frameRate > 0 {
		fr := r.measure.frameRate
		v.FrameRate = &fr
	}
	if fmp4 {
		v.URI = r.name + "/index.m3u8"
	} else {
		v.URI = r.name + "/classic.m3u8"
	}
	return v, true
}

// multivariant is the stream's multivariant playlist (LL-HLS or classic);
// ok is false while no rendition has a complete segment.
func (s *Muxer) multivariant(fmp4 bool) ([]byte, bool) {
	m := playlist.Multivariant{Version: 9, IndependentSegments: true}
	if !fmp4 {
		m.Version = 6
	}
	for _, r := range s.renditionList() {
		if !s.listed(r) {
			continue
		}
		if v, ok := r.variant(fmp4); ok {
			m.Variants = append(m.Variants, v)
		}
	}
	if len(m.Variants) == 0 {
		return nil, false
	}
	out, err := m.Marshal()
	return out, err == nil
}
