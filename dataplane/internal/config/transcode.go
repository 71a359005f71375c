package config

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Transcode configures the ladder encoder (owned by the transcode area,
// docs/transcoding.md). `transcode: {enabled: true}` alone gives the default
// ladder on the best encoder the node can open.
type Transcode struct {
	Enabled      bool          `yaml:"enabled" usage:"transcode each stream into an adaptive-bitrate ladder"`
	Encoders     []string      `yaml:"encoders" default:"h264_nvenc,hevc_nvenc,h264_qsv,h264_vaapi,libx264" usage:"candidate encoders in order of preference; the first that opens a one-frame test encode at start-up is used"`
	Ladder       Ladder        `yaml:"ladder" default:"1080p:6000k,720p:3000k,480p:1500k,360p:800k" usage:"ladder rungs HEIGHTp:BITRATE (rungs above the source's height are skipped: never upscaled)"`
	Source       bool          `yaml:"source" default:"true" usage:"also publish the untouched source rendition"`
	Preset       string        `yaml:"preset" usage:"encoder preset (empty: veryfast for libx264 and QSV, p3 for NVENC)"`
	Audio        string        `yaml:"audio" default:"auto" usage:"auto: copy AAC audio, encode anything else to AAC once; aac: always re-encode"`
	AudioBitrate string        `yaml:"audio_bitrate" default:"128k" usage:"AAC bitrate when audio is encoded"`
	FFmpeg       string        `yaml:"ffmpeg" default:"ffmpeg" usage:"ffmpeg executable (Debian's; looked up in PATH)"`
	VAAPIDevice  string        `yaml:"vaapi_device" default:"/dev/dri/renderD128" usage:"DRM render node used by VAAPI and QSV"`
	StallTimeout time.Duration `yaml:"stall_timeout" default:"3s" usage:"restart ffmpeg when it gives no output this long while input flows"`
	StartTimeout time.Duration `yaml:"start_timeout" default:"10s" usage:"restart ffmpeg when its first output takes longer than this"`
	MaxLag       time.Duration `yaml:"max_lag" default:"4s" usage:"restart ffmpeg when its output falls this far behind its input (slower than real time)"`
	RestartMin   time.Duration `yaml:"restart_min" default:"500ms" usage:"first back-off before restarting a failed ffmpeg (doubles up to restart_max)"`
	RestartMax   time.Duration `yaml:"restart_max" default:"10s" usage:"longest back-off between ffmpeg restarts"`
	BehindLimit  int           `yaml:"behind_limit" default:"3" usage:"after this many restarts in a row for falling behind real time, the stream goes source-only for demote_for (the node cannot carry its ladder)"`
	DemoteFor    time.Duration `yaml:"demote_for" default:"1m" usage:"how long a stream whose ladder cannot keep real time stays source-only before the ladder is tried again"`
	Capacity     int           `yaml:"capacity" usage:"ladders this node carries (0: from the encoder: NVENC by GPU model, libx264 by calibration)"`
	Calibrate    time.Duration `yaml:"calibrate" default:"4s" usage:"libx264: measure one ladder's real-time factor for this long at start-up (0: assume one ladder per two cores)"`
	QueueBytes   int           `yaml:"queue_bytes" default:"4194304" usage:"TS bytes buffered toward each ffmpeg; beyond, input is dropped and counted (ingest never waits)"`
	ProbeTimeout time.Duration `yaml:"probe_timeout" default:"20s" usage:"time allowed to each one-frame test encode at start-up"`
}

// Audio modes.
const (
	TranscodeAudioAuto = "auto"
	TranscodeAudioAAC  = "aac"
)

// KnownEncoders are the encoders zonecast knows how to drive.
var KnownEncoders = []string{"h264_nvenc", "hevc_nvenc", "h264_qsv", "hevc_qsv", "h264_vaapi", "hevc_vaapi", "libx264"}

// Validate reports every problem of the transcode section.
func (t Transcode) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("transcode."+format, args...)) }
	if len(t.Encoders) == 0 {
		bad("encoders: at least one candidate")
	}
	for _, e := range t.Encoders {
		known := false
		for _, k := range KnownEncoders {
			known = known || e == k
		}
		if !known {
			bad("encoders: %q is not one of %s", e, strings.Join(KnownEncoders, ", "))
		}
	}
	if t.Enabled && len(t.Ladder) == 0 {
		bad("ladder: at least one rung when enabled")
	}
	if err := t.Ladder.check(); err != nil {
		bad("ladder: %v", err)
	}
	if t.Audio != TranscodeAudioAuto && t.Audio != TranscodeAudioAAC {
		bad("audio %q must be %q or %q", t.Audio, TranscodeAudioAuto, TranscodeAudioAAC)
	}
	if _, err := ParseBitrate(t.AudioBitrate); err != nil {
		bad("audio_bitrate: %v", err)
	}
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"stall_timeout", t.StallTimeout}, {"start_timeout", t.StartTimeout}, {"max_lag", t.MaxLag}, {"restart_min", t.RestartMin}, {"restart_max", t.RestartMax}, {"probe_timeout", t.ProbeTimeout}} {
		if d.v <= 0 {
			bad("%s %v must be positive", d.name, d.v)
		}
	}
	if t.RestartMax < t.RestartMin {
		bad("restart_max %v must be at least restart_min %v", t.RestartMax, t.RestartMin)
	}
	if t.Capacity < 0 {
		bad("capacity %d must not be negative", t.Capacity)
	}
	if t.Calibrate < 0 {
		bad("calibrate %v must not be negative", t.Calibrate)
	}
	if t.QueueBytes < 64*1024 {
		bad("queue_bytes %d must be at least 65536", t.QueueBytes)
	}
	return errors.Join(errs...)
}

// Rung is one rendition of the ladder.
type Rung struct {
	Height  int `yaml:"height"`
	Bitrate int `yaml:"bitrate"` // video bits per second
}

// Name is the rendition's name in URLs: the height, e.g. "720p".
func (r Rung) Name() string { return strconv.Itoa(r.Height) + "p" }

// Ladder is the list of rungs, highest first. In YAML it is either the
// flag form "1080p:6000k,720p:3M" or a list of such strings or of
// {height, bitrate} maps.
type Ladder []Rung

// UnmarshalText parses "1080p:6000k,720p:3M,...".
func (l *Ladder) UnmarshalText(b []byte) error {
	var out Ladder
	for _, item := range strings.Split(string(b), ",") {
		if item = strings.TrimSpace(item); item == "" {
			continue
		}
		r, err := parseRung(item)
		if err != nil {
			return err
		}
		out = append(out, r)
	}
	out.sort()
	*l = out
	return out.check()
}

// MarshalText writes the flag form.
func (l Ladder) MarshalText() ([]byte, error) {
	parts := make([]string, len(l))
	for i, r := range l {
		parts[i] = fmt.Sprintf("%s:%dk", r.Name(), r.Bitrate/1000)
	}
	return []byte(strings.Join(parts, ",")), nil
}

// UnmarshalYAML accepts the flag form, a list of strings or a list of maps.
func (l *Ladder) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		return l.UnmarshalText([]byte(n.Value))
	case yaml.SequenceNode:
		var out Ladder
		for _, item := range n.Content {
			var r Rung
			switch item.Kind {
			case yaml.ScalarNode:
				var err error
				if r, err = parseRung(item.Value); err != nil {
					return fmt.Errorf("line %d: %w", item.Line, err)
				}
			case yaml.MappingNode:
				var raw struct {
					Height  int    `yaml:"height"`
					Bitrate string `yaml:"bitrate"`
				}
				if err := item.Decode(&raw); err != nil {
					return err
				}
				br, err := ParseBitrate(raw.Bitrate)
				if err != nil {
					return fmt.Errorf("line %d: %w", item.Line, err)
				}
				r = Rung{Height: raw.Height, Bitrate: br}
			default:
				return fmt.Errorf("line %d: a rung is \"720p:3M\" or {height: 720, bitrate: 3M}", item.Line)
			}
			out = append(out, r)
		}
		out.sort()
		*l = out
		return out.check()
	default:
		return fmt.Errorf("line %d: ladder must be a list or \"1080p:6M,720p:3M\"", n.Line)
	}
}

func (l Ladder) sort() {
	sort.SliceStable(l, func(i, j int) bool { return l[i].Height > l[j].Height })
}

func (l Ladder) check() error {
	seen := map[int]bool{}
	for _, r := range l {
		if r.Height < 64 || r.Height > 4320 || r.Height%2 != 0 {
			return fmt.Errorf("rung height %d must be even and within 64–4320", r.Height)
		}
		if r.Bitrate < 50_000 || r.Bitrate > 100_000_000 {
			return fmt.Errorf("rung %s bitrate %d b/s must be within 50k–100M", r.Name(), r.Bitrate)
		}
		if seen[r.Height] {
			return fmt.Errorf("two rungs of height %d", r.Height)
		}
		seen[r.Height] = true
	}
	return nil
}

func parseRung(s string) (Rung, error) {
	h, br, ok := strings.Cut(strings.TrimSpace(s), ":")
	if !ok {
		return Rung{}, fmt.Errorf("rung %q: want HEIGHTp:BITRATE, e.g. 720p:3M", s)
	}
	height, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(h), "p"))
	if err != nil {
		return Rung{}, fmt.Errorf("rung %q: height: %v", s, err)
	}
	bitrate, err := ParseBitrate(br)
	if err != nil {
		return Rung{}, fmt.Errorf("rung %q: %v", s, err)
	}
	return Rung{Height: height, Bitrate: bitrate}, nil
}

// ParseBitrate reads "800k", "1.5M", "3000000" as bits per second.
func ParseBitrate(s string) (int, error) {
	s = strings.TrimSpace(s)
	mult := 1.0
	switch {
	case strings.HasSuffix(s, "k"), strings.HasSuffix(s, "K"):
		mult, s = 1e3, s[:len(s)-1]
	case strings.HasSuffix(s, "M"), strings.HasSuffix(s, "m"):
		mult, s = 1e6, s[:len(s)-1]
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 {
		return 0, fmt.Errorf("bitrate %q: want e.g. 800k, 1.5M or 3000000", s)
	}
	return int(f * mult), nil
}
