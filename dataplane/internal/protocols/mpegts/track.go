// Package mpegts demuxes MPEG-TS bytes, in any chunking, into access units of
// H.264, H.265, AAC and Opus on one monotonic 90 kHz timeline. It wraps
// mediacommon's pull-based mpegts.Reader behind a push API (Write), tolerates
// garbage and truncated packets (counted), and survives decoder panics.
package mpegts

import (
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"
)

// Codec is the kind of an elementary stream.
type Codec int

// The codecs zonecast packages.
const (
	CodecH264 Codec = iota + 1
	CodecH265
	CodecAAC
	CodecOpus
)

func (c Codec) String() string {
	switch c {
	case CodecH264:
		return "H.264"
	case CodecH265:
		return "H.265"
	case CodecAAC:
		return "AAC"
	case CodecOpus:
		return "Opus"
	}
	return "unknown"
}

// IsVideo tells video codecs from audio ones.
func (c Codec) IsVideo() bool { return c == CodecH264 || c == CodecH265 }

// Track is one supported elementary stream of the program.
type Track struct {
	PID   uint16
	Codec Codec
	// AAC is the audio configuration (CodecAAC).
	AAC *mpeg4audio.AudioSpecificConfig
	// OpusChannels is the channel count (CodecOpus).
	OpusChannels int
}

// ClockRate is the track's natural time scale (sample rate for audio).
func (t *Track) ClockRate() int {
	switch t.Codec {
	case CodecAAC:
		return t.AAC.SampleRate
	case CodecOpus:
		return 48000
	}
	return 90000
}
