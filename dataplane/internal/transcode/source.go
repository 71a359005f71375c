package transcode

import (
	"fmt"

	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h264"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/h265"
)

// SourceInfo is what the transcoder knows of a stream's source, read from
// the TS (PMT) and the SPS of its keyframes before ffmpeg starts.
type SourceInfo struct {
	Codec    string // "h264" or "hevc"
	Width    int
	Height   int
	FPS      float64 // from the SPS timing info; 0 when absent
	HasAudio bool
	AudioAAC bool // ADTS AAC: copied rather than re-encoded
}

func (s SourceInfo) String() string {
	return fmt.Sprintf("%s %dx%d@%.3g", s.Codec, s.Width, s.Height, s.FPS)
}

// parseKeyHead finds the SPS in the head of a keyframe PES and decodes it
// with mediacommon.
func parseKeyHead(head []byte, streamType byte) (SourceInfo, bool) {
	for _, nalu := range splitAnnexB(head) {
		if len(nalu) < 2 {
			continue
		}
		if streamType == streamTypeH265 {
			if h265.NALUType(nalu[0]>>1&0x3f) != h265.NALUType_SPS_NUT {
				continue
			}
			var sps h265.SPS
			if err := sps.Unmarshal(nalu); err != nil {
				continue
			}
			return SourceInfo{Codec: "hevc", Width: sps.Width(), Height: sps.Height(), FPS: sps.FPS()}, true
		}
		if h264.NALUType(nalu[0]&0x1f) != h264.NALUTypeSPS {
			continue
		}
		var sps h264.SPS
		if err := sps.Unmarshal(nalu); err != nil {
			continue
		}
		return SourceInfo{Codec: "h264", Width: sps.Width(), Height: sps.Height(), FPS: sps.FPS()}, true
	}
	return SourceInfo{}, false
}

// splitAnnexB splits a (possibly truncated) Annex-B byte stream into NAL
// units. mediacommon's AnnexB.Unmarshal rejects a stream that does not
// begin with a start code and empty units; a PES head cut at 2 KiB may
// hold both, hence this tolerant splitter.
func splitAnnexB(b []byte) [][]byte {
	var out [][]byte
	start := -1
	for i := 0; i+2 < len(b); i++ {
		if b[i] == 0 && b[i+1] == 0 && b[i+2] == 1 {
			if start >= 0 {
				end := i
				if end > start && b[end-1] == 0 {
					end--
				}
				out = append(out, b[start:end])
			}
			start = i + 3
			i += 2
		}
	}
	if start >= 0 && start < len(b) {
		out = append(out, b[start:])
	}
	return out
}
