package recording

import "time"

// Segment is one complete segment of one rendition, as the packager cut it.
// Its byte slices are never modified by the recorder.
type Segment struct {
	Rendition       string
	MSN             uint64
	Duration        time.Duration
	ProgramDateTime time.Time
	// Discontinuity: the media before it stopped short (a publisher
	// reconnected), so players must reset their decoders.
	Discontinuity bool
	// Init names the init section (EXT-X-MAP) the segment needs; InitData
	// is its body (the recorder uploads each init section once).
	Init     string
	InitData []byte
	Data     []byte // the fMP4 segment
	// What the multivariant playlist says about the rendition.
	Codecs     []string
	Resolution string
	FrameRate  float64
}

// End is when the segment's media ends on the wall clock.
func (s Segment) End() time.Time { return s.ProgramDateTime.Add(s.Duration) }
