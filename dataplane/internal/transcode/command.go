package transcode

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/zonecast/zonecast/dataplane/internal/config"
)

// Output is one ladder rendition as ffmpeg will produce it.
type Output struct {
	Name    string // "720p"
	Width   int
	Height  int
	Bitrate int // video, bits per second
}

// Plan is everything one ffmpeg run needs.
type Plan struct {
	Candidate   Candidate
	Scaler      string // NVENC: scale_cuda or scale_npp
	Preset      string
	VAAPIDevice string
	Source      SourceInfo
	Outputs     []Output
	// AudioCopy copies the source's AAC; otherwise audio is encoded to AAC
	// once and the same encoded stream is muxed into every rendition (tee).
	AudioCopy    bool
	AudioBitrate int
	Grid         gridParams // where keyframes are forced

	// InputArgs and OutputURLs replace the pipes (calibration, benchmarks).
	InputArgs  []string
	OutputURLs []string
}

// SelectOutputs keeps the rungs that do not upscale the source, each with
// the source's aspect ratio (square pixels assumed) and even dimensions.
func SelectOutputs(ladder config.Ladder, src SourceInfo) []Output {
	var out []Output
	for _, r := range ladder {
		if r.Height > src.Height || src.Height <= 0 {
			continue
		}
		w := int(float64(src.Width)*float64(r.Height)/float64(src.Height)/2+0.5) * 2
		out = append(out, Output{Name: r.Name(), Width: w, Height: r.Height, Bitrate: r.Bitrate})
	}
	return out
}

// Args is ffmpeg's command line (without the program name). Output i is
// written to pipe:(3+i), i.e. exec.Cmd.ExtraFiles[i].
func (p Plan) Args() []string {
	c := p.Candidate
	args := []string{"-hide_banner", "-nostdin", "-nostats", "-loglevel", "error"}
	args = append(args, c.deviceArgs(p.VAAPIDevice)...)
	args = append(args, c.decodeArgs(p.Source.Codec)...)
	// The input starts at a keyframe with its PAT/PMT: little probing needed.
	if p.InputArgs != nil {
		args = append(args, p.InputArgs...)
	} else {
		args = append(args, "-analyzeduration", "1000000", "-probesize", "1000000",
			"-copyts", "-f", "mpegts", "-i", "pipe:0")
	}

	n := len(p.Outputs)
	var g strings.Builder
	g.WriteString("[0:v:0]")
	if c.Family == FamilySoftware {
		g.WriteString("format=yuv420p,")
	}
	fmt.Fprintf(&g, "split=%d", n)
	for i := range p.Outputs {
		fmt.Fprintf(&g, "[s%d]", i)
	}
	for i, o := range p.Outputs {
		fmt.Fprintf(&g, ";[s%d]%s[v%d]", i, c.scaleFilter(o.Width, o.Height, p.Scaler), i)
	}
	args = append(args, "-filter_complex", g.String())
	for i := range p.Outputs {
		args = append(args, "-map", fmt.Sprintf("[v%d]", i))
	}
	if p.Source.HasAudio {
		args = append(args, "-map", "0:a:0?")
	}
	// passthrough: one output frame per input frame, timestamps untouched;
	// enc_time_base -1: the encoder keeps the input's 90 kHz time base, so
	// -copyts is exact even for variable frame rates.
	args = append(args, "-fps_mode", "passthrough", "-enc_time_base:v", "-1")
	args = append(args, c.encoderArgs(p.Preset)...)
	fps := p.Source.FPS
	if fps <= 0 || fps > 120 {
		fps = 60
	}
	// Only forced keyframes: the encoder's own GOP limit is set well past
	// the segment so it never adds one.
	gop := int(4*p.Grid.Segment.Seconds()*fps + 0.5)
	if p.Grid.GOP > 0 {
		gop += int(float64(p.Grid.GOP) / 90000 * fps) // cuts wait for a source keyframe
	}
	args = append(args, "-g", strconv.Itoa(gop), "-force_key_frames", keyframeExpr(p.Grid))
	for i, o := range p.Outputs {
		b := strconv.Itoa(o.Bitrate)
		// A one-second VBV: steady enough for HLS, small enough for low latency.
		args = append(args, fmt.Sprintf("-b:v:%d", i), b, fmt.Sprintf("-maxrate:v:%d", i), b, fmt.Sprintf("-bufsize:v:%d", i), b)
	}
	if p.Source.HasAudio {
		if p.AudioCopy {
			args = append(args, "-c:a", "copy")
		} else {
			args = append(args, "-c:a", "aac", "-b:a", strconv.Itoa(p.AudioBitrate), "-ac", "2")
		}
	}
	args = append(args, "-muxdelay", "0", "-muxpreload", "0", "-f", "tee", p.teeTargets())
	return args
}

// teeTargets gives each rendition its own MPEG-TS muxer on its own pipe,
// with the one audio stream shared (encoded once).
func (p Plan) teeTargets() string {
	targets := make([]string, len(p.Outputs))
	for i := range p.Outputs {
		sel := fmt.Sprintf("v:%d", i)
		if p.Source.HasAudio {
			sel += ",a"
		}
		url := fmt.Sprintf("pipe:%d", 3+i)
		if p.OutputURLs != nil {
			url = p.OutputURLs[i]
		}
		// avoid_negative_ts=disabled: a source that starts just before the
		// 33-bit wrap has negative timestamps inside ffmpeg; written as they
		// are, they are the source's raw values again (not shifted).
		targets[i] = fmt.Sprintf(`[select=\'%s\':f=mpegts:flush_packets=1:avoid_negative_ts=disabled]%s`, sel, url)
	}
	return strings.Join(targets, "|")
}
