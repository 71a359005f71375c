package packager

// Stats are counters for metrics (read by the origin's collectors).
type Stats struct {
	SegmentsWritten uint64 // complete segments published (fMP4 and TS counted once)
	PartsWritten    uint64 // LL-HLS parts published
	BytesIn         uint64 // TS bytes given to WriteTS
	BytesOut        uint64 // bytes of media objects published (all formats)
	DecodeErrors    uint64 // garbage, truncated packets, undecodable PES
	Panics          uint64 // recovered panics on bad input (bugs; survived)
	Discontinuities uint64 // discontinuities marked in the playlists
	Slates          uint64 // times the input went quiet and the slate began
	FillerParts     uint64 // parts of slate filler published (in PartsWritten too)
}

func (s *Stats) add(o Stats) {
	s.SegmentsWritten += o.SegmentsWritten
	s.PartsWritten += o.PartsWritten
	s.BytesIn += o.BytesIn
	s.BytesOut += o.BytesOut
	s.DecodeErrors += o.DecodeErrors
	s.Panics += o.Panics
	s.Discontinuities += o.Discontinuities
	s.Slates += o.Slates
	s.FillerParts += o.FillerParts
}
