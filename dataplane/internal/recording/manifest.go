package recording

import (
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// manifest is the recorder's account of one rendition of a recording: every
// segment put in the bucket, by media sequence number. It is kept in the
// bucket beside the playlist so that a node taking over the recording (or
// closing one whose node died) continues it exactly.
type manifest struct {
	Rendition string        `json:"rendition"`
	Segments  []manifestSeg `json:"segments"` // by MSN, each number once
	// What the multivariant playlist says about the rendition.
	Codecs     []string `json:"codecs,omitempty"`
	Resolution string   `json:"resolution,omitempty"`
	FrameRate  float64  `json:"frame_rate,omitempty"`
	PeakBPS    int      `json:"peak_bps,omitempty"`
	// checkpointed is the number of segments the bucket's copy holds.
	checkpointed int
}

type manifestSeg struct {
	MSN      uint64        `json:"msn"`
	Duration time.Duration `json:"duration"`
	PDT      time.Time     `json:"pdt"`
	Disc     bool          `json:"disc,omitempty"`
	Init     string        `json:"init"`
	Size     int64         `json:"size"`
}

func (s manifestSeg) end() time.Time { return s.PDT.Add(s.Duration) }

// add records a segment; a number already there is replaced (the same
// segment uploaded again, by this node or its twin).
func (m *manifest) add(s manifestSeg) {
	i := sort.Search(len(m.Segments), func(i int) bool { return m.Segments[i].MSN >= s.MSN })
	if i < len(m.Segments) && m.Segments[i].MSN == s.MSN {
		m.Segments[i] = s
		return
	}
	m.Segments = append(m.Segments, manifestSeg{})
	copy(m.Segments[i+1:], m.Segments[i:])
	m.Segments[i] = s
	if sec := s.Duration.Seconds(); sec > 0 {
		if bps := int(float64(s.Size) * 8 / sec); bps > m.PeakBPS {
			m.PeakBPS = bps
		}
	}
}

func (m *manifest) has(msn uint64) bool {
	i := sort.Search(len(m.Segments), func(i int) bool { return m.Segments[i].MSN >= msn })
	return i < len(m.Segments) && m.Segments[i].MSN == msn
}

// jumpTolerance is how far a segment may start from where the previous one
// ended before the playlist marks a discontinuity: inside one publisher
// session the packager's times follow the media clock exactly, so anything
// beyond rounding is a real jump.
const jumpTolerance = 250 * time.Millisecond

// discontinuous reports whether segment i starts a new timeline.
func (m *manifest) discontinuous(i int) bool {
	if i == 0 {
		return false
	}
	s, prev := m.Segments[i], m.Segments[i-1]
	d := s.PDT.Sub(prev.end())
	return s.Disc || s.MSN != prev.MSN+1 || d > jumpTolerance || d < -jumpTolerance
}

// playlist writes the media playlist: EVENT while recording, VOD once
// closed. It is written by hand, as the packager's are, because gohlslib's
// playlist.Media carries a single EXT-X-MAP and a reconnect may bring a new
// init section.
func (m *manifest) playlist(vod bool) []byte {
	target := 1
	for _, s := range m.Segments {
		target = max(target, int((s.Duration+time.Second/2)/time.Second))
	}
	var b strings.Builder
	b.Grow(64 + 48*len(m.Segments))
	b.WriteString("#EXTM3U\n#EXT-X-VERSION:7\n")
	b.WriteString("#EXT-X-TARGETDURATION:" + strconv.Itoa(target) + "\n")
	if vod {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:VOD\n")
	} else {
		b.WriteString("#EXT-X-PLAYLIST-TYPE:EVENT\n")
	}
	first := uint64(0)
	if len(m.Segments) > 0 {
		first = m.Segments[0].MSN
	}
	b.WriteString("#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(first, 10) + "\n")
	b.WriteString("#EXT-X-INDEPENDENT-SEGMENTS\n")
	mapName := ""
	for i, s := range m.Segments {
		disc := m.discontinuous(i)
		if disc {
			b.WriteString("#EXT-X-DISCONTINUITY\n")
		}
		if s.Init != mapName {
			mapName = s.Init
			b.WriteString("#EXT-X-MAP:URI=\"" + mapName + "\"\n")
		}
		if i == 0 || disc {
			b.WriteString("#EXT-X-PROGRAM-DATE-TIME:" + s.PDT.UTC().Format("2006-01-02T15:04:05.000Z07:00") + "\n")
		}
		b.WriteString("#EXTINF:" + strconv.FormatFloat(s.Duration.Seconds(), 'f', 5, 64) + ",\n")
		b.WriteString(SegmentName(s.MSN) + "\n")
	}
	if vod {
		b.WriteString("#EXT-X-ENDLIST\n")
	}
	return []byte(b.String())
}

// Gap is media missing from a recording: segment numbers that never
// reached the bucket.
type Gap struct {
	At      time.Time `json:"at"`      // where the media stops
	Seconds float64   `json:"seconds"` // how long it is missing
}

// gaps lists the holes in the rendition's numbering. A hole's length is the
// time between the segments around it or, when the clock jumped there too,
// the missing numbers times the average segment duration.
func (m *manifest) gaps() []interval {
	var out []interval
	var total time.Duration
	for _, s := range m.Segments {
		total += s.Duration
	}
	for i := 1; i < len(m.Segments); i++ {
		s, prev := m.Segments[i], m.Segments[i-1]
		missing := s.MSN - prev.MSN - 1
		if missing == 0 {
			continue
		}
		d := s.PDT.Sub(prev.end())
		if est := total / time.Duration(len(m.Segments)) * time.Duration(missing); d <= 0 || d > 2*est {
			d = est
		}
		out = append(out, interval{from: prev.end(), to: prev.end().Add(d)})
	}
	return out
}

type interval struct{ from, to time.Time }

// mergeGaps joins the renditions' holes into one list: media is missing
// where any rendition misses it.
func mergeGaps(in []interval) []Gap {
	sort.Slice(in, func(i, j int) bool { return in[i].from.Before(in[j].from) })
	var merged []interval
	for _, iv := range in {
		if n := len(merged); n > 0 && !iv.from.After(merged[n-1].to) {
			if iv.to.After(merged[n-1].to) {
				merged[n-1].to = iv.to
			}
			continue
		}
		merged = append(merged, iv)
	}
	out := make([]Gap, 0, len(merged))
	for _, iv := range merged {
		out = append(out, Gap{At: iv.from.UTC(), Seconds: math.Round(iv.to.Sub(iv.from).Seconds()*1000) / 1000})
	}
	return out
}

// span is the rendition's first and last instants and its media duration.
func (m *manifest) span() (start, end time.Time, media time.Duration) {
	for i, s := range m.Segments {
		if i == 0 || s.PDT.Before(start) {
			start = s.PDT
		}
		if s.end().After(end) {
			end = s.end()
		}
		media += s.Duration
	}
	return start, end, media
}

// multivariant writes the recording's multivariant playlist over the
// renditions that hold segments, source first.
func multivariant(ms []*manifest) ([]byte, bool) {
	mv := playlist.Multivariant{Version: 7, IndependentSegments: true}
	for _, m := range ms {
		if len(m.Segments) == 0 || len(m.Codecs) == 0 {
			continue
		}
		var bytes int64
		var secs float64
		for _, s := range m.Segments {
			bytes += s.Size
			secs += s.Duration.Seconds()
		}
		avg := 0
		if secs > 0 {
			avg = int(float64(bytes) * 8 / secs)
		}
		v := &playlist.MultivariantVariant{
			Bandwidth:        max(m.PeakBPS, avg, 1),
			AverageBandwidth: &avg,
			Codecs:           m.Codecs,
			Resolution:       m.Resolution,
			URI:              m.Rendition + "/index.m3u8",
		}
		if m.FrameRate > 0 {
			fr := m.FrameRate
			v.FrameRate = &fr
		}
		mv.Variants = append(mv.Variants, v)
	}
	if len(mv.Variants) == 0 {
		return nil, false
	}
	b, err := mv.Marshal()
	return b, err == nil
}

// sortRenditions puts the source first, then the others by name (the order
// of the live multivariant playlist).
func sortRenditions(ms []*manifest) {
	sort.Slice(ms, func(i, j int) bool {
		if (ms[i].Rendition == "source") != (ms[j].Rendition == "source") {
			return ms[i].Rendition == "source"
		}
		return ms[i].Rendition < ms[j].Rendition
	})
}
