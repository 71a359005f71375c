package mpegts

// AccessUnit is one decodable unit of a track.
type AccessUnit struct {
	Track *Track
	// PTS and DTS are on the demuxer's monotonic 90 kHz timeline.
	PTS, DTS int64
	// RawDTS is the DTS exactly as it was in the input (33 bits): identical
	// on every node fed the same TS, so cut decisions are taken on it.
	RawDTS int64
	// Discontinuity marks the first unit after the timeline was rebased
	// (an explicit Reset or a timestamp jump).
	Discontinuity bool
	// Video: the NAL units (without start codes, AUD removed).
	NALUs [][]byte
	// Audio: the frames of this PES (AAC raw frames or Opus packets); frame
	// i starts at PTS + i × FrameDuration (in 90 kHz).
	Frames [][]byte
}
