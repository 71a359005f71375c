package testkit

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
)

// TS describes a test input made by the real ffmpeg: a test pattern and a
// tone as MPEG-TS. The zero value of a field takes its default.
type TS struct {
	Video    string  // encoder: "libx264" (default) or "libx265"
	Size     string  // WxH (default 320x240)
	Seconds  float64 // duration
	Offset   float64 // -output_ts_offset in seconds (0 = ffmpeg's default start)
	GOP      int     // keyframe interval in frames (default one second)
	FPS      int     // default 30
	NoAudio  bool
	NoVideo  bool
	BFrames  bool   // let libx264 use B-frames (off by default)
	Audio    string // encoder: "aac" (default) or "libopus"
	GridKeys int    // > 0: keyframes forced every GridKeys seconds instead of a fixed GOP
	Channels int    // audio channels (default 1)
}

// MakeTS runs ffmpeg to produce an MPEG-TS file in dir and returns its path.
// A missing ffmpeg fails the test.
func MakeTS(t testing.TB, dir string, s TS) string {
	t.Helper()
	RequireTools(t, "ffmpeg")
	if s.FPS == 0 {
		s.FPS = 30
	}
	if s.GOP == 0 {
		s.GOP = s.FPS
	}
	if s.Size == "" {
		s.Size = "320x240"
	}
	if s.Video == "" {
		s.Video = "libx264"
	}
	if s.Audio == "" {
		s.Audio = "aac"
	}
	if s.Channels == 0 {
		s.Channels = 1
	}
	out := filepath.Join(dir, fmt.Sprintf("%s-%s-%.0f-%v-%v-%s-%d-%d.ts", s.Video, s.Size, s.Offset, s.NoVideo, s.NoAudio, s.Audio, s.GridKeys, s.Channels))
	args := []string{"-hide_banner", "-loglevel", "error", "-y"}
	if !s.NoVideo {
		args = append(args, "-f", "lavfi", "-i", "testsrc2=size="+s.Size+":rate="+strconv.Itoa(s.FPS))
	}
	if !s.NoAudio {
		args = append(args, "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000")
	}
	args = append(args, "-t", strconv.FormatFloat(s.Seconds, 'f', 3, 64))
	if !s.NoVideo {
		args = append(args, "-c:v", s.Video, "-pix_fmt", "yuv420p", "-sc_threshold", "0")
		if s.GridKeys > 0 {
			args = append(args, "-g", "1000", "-force_key_frames", fmt.Sprintf("expr:gte(t,n_forced*%d)", s.GridKeys))
		} else {
			args = append(args, "-g", strconv.Itoa(s.GOP), "-keyint_min", strconv.Itoa(s.GOP))
		}
	}
	switch {
	case s.NoVideo:
	case s.Video == "libx264":
		args = append(args, "-preset", "veryfast")
		if !s.BFrames {
			args = append(args, "-bf", "0")
		}
	case s.Video == "libx265":
		args = append(args, "-preset", "ultrafast", "-x265-params", "log-level=error:scenecut=0:open-gop=0")
	}
	if !s.NoAudio {
		args = append(args, "-c:a", s.Audio, "-b:a", "64k", "-ac", strconv.Itoa(s.Channels))
	}
	if s.Offset != 0 {
		args = append(args, "-output_ts_offset", strconv.FormatFloat(s.Offset, 'f', 6, 64))
	}
	args = append(args, "-f", "mpegts", out)
	if b, err := exec.Command("ffmpeg", args...).CombinedOutput(); err != nil {
		t.Fatalf("ffmpeg %v: %v\n%s", args, err, b)
	}
	return out
}
