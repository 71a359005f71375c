package packager

import "time"

// State is what a successor node needs to continue a stream's playlists:
// a plain, JSON-serialisable value (the cluster stores it in Redis).
type State struct {
	Stream     string                    `json:"stream"`
	Renditions map[string]RenditionState `json:"renditions"`
}

// RenditionState is one rendition's playlist position.
type RenditionState struct {
	// NextMSN is the media sequence number the next segment will carry.
	NextMSN uint64 `json:"next_msn"`
	// DiscontinuitySequence is the EXT-X-DISCONTINUITY-SEQUENCE of the
	// oldest segment in Segments (or of the next one when Segments is empty).
	DiscontinuitySequence uint64 `json:"discontinuity_sequence"`
	// LastProgramDateTime is the PDT at which the last segment ended.
	LastProgramDateTime time.Time `json:"last_program_date_time"`
	// Segments is the recent window, oldest first.
	Segments []SegmentRef `json:"segments"`
	// Open is the segment being cut (parts published, not complete; its
	// Duration is zero): a standby can match it too.
	Open *SegmentRef `json:"open,omitempty"`
}

// SegmentRef names one published segment.
type SegmentRef struct {
	MSN             uint64        `json:"msn"`
	Duration        time.Duration `json:"duration"`
	ProgramDateTime time.Time     `json:"program_date_time"`
	Discontinuity   bool          `json:"discontinuity,omitempty"`
	// StartDTS is the raw 33-bit MPEG-TS DTS (90 kHz) of the segment's first
	// keyframe as it arrived in the input: a standby fed the same TS finds
	// the same segment by it.
	StartDTS int64 `json:"start_dts"`
	// Parts is the number of LL-HLS parts the segment had.
	Parts int `json:"parts"`
	// StartTime is the segment's first decode time on the leader's output
	// timeline (90 kHz, the fMP4 tfdt of its video): a standby adopts it so
	// that both nodes' media carry the same timestamps.
	StartTime int64 `json:"start_time"`
	// Init is the name of the segment's init segment (its EXT-X-MAP).
	Init string `json:"init,omitempty"`
	// Gap marks an EXT-X-GAP segment (a number with no media).
	Gap bool `json:"gap,omitempty"`
	// Filler marks the slate's filler (no input keyframe starts it: a
	// standby never matches it with its own).
	Filler bool `json:"filler,omitempty"`
}
