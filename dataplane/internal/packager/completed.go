package packager

import "time"

// Completed is one complete segment with its bytes, for a consumer that
// keeps segments beyond the sliding window (the recorder). Its byte slices
// are the stored objects: immutable, never to be modified.
type Completed struct {
	Rendition       string
	MSN             uint64
	Duration        time.Duration
	ProgramDateTime time.Time
	Discontinuity   bool
	// Gap marks a number this rendition has no media for (Data is nil):
	// an EXT-X-GAP segment, or the slate's filler (slate.go), which a
	// recording must not keep as if it were the stream.
	Gap bool
	// Init names the segment's init section (its EXT-X-MAP); InitData is
	// its body.
	Init     string
	InitData []byte
	Data     []byte // the fMP4 segment
	// What the multivariant playlist says about the rendition, measured on
	// its latest segments.
	Codecs     []string
	Resolution string
	FrameRate  float64
}

// RenditionNames lists the stream's renditions, source first.
func (s *Muxer) RenditionNames() []string {
	rs := s.renditionList()
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.name
	}
	return out
}

// Completed returns the named rendition's complete segments numbered from
// msn on that it still holds (the window and its grace), oldest first; nil
// when there is no such rendition. A caller polls it with the number after
// the last one it got: one that polls at least once per window loses
// nothing.
func (s *Muxer) Completed(rendition string, msn uint64) []Completed {
	s.mu.RLock()
	r := s.renditions[rendition]
	s.mu.RUnlock()
	if r == nil {
		return nil
	}
	r.mu.Lock()
	var out []Completed
	for _, list := range [][]*segment{r.evicted, r.segs} {
		for _, seg := range list {
			if seg.msn < msn || !seg.complete {
				continue
			}
			c := Completed{
				Rendition: r.name, MSN: seg.msn, Duration: seg.duration, ProgramDateTime: seg.pdt,
				Discontinuity: seg.disc, Gap: seg.gap || seg.filler, Init: seg.initName,
				Codecs: append([]string(nil), r.measure.codecs...), Resolution: r.measure.resolution(), FrameRate: r.measure.frameRate,
			}
			if !c.Gap {
				c.Data = seg.fmp4
				// Read under r.mu (the segmenter stores under it too):
				// the window cannot evict the init meanwhile.
				if o, ok := s.store.Get(r.name + "/" + seg.initName); ok {
					c.InitData = o.Data
				}
			}
			out = append(out, c)
		}
	}
	r.mu.Unlock()
	return out
}
