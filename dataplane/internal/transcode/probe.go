package transcode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ProbeResult is what a one-frame test encode said about one candidate.
type ProbeResult struct {
	Encoder string
	Family  Family
	OK      bool
	// Reason says why the candidate was refused, taken from ffmpeg's stderr
	// (plus a missing device node), or what the successful test exercised.
	Reason string
	// Scaler is the NVENC scaler that opened: scale_cuda or scale_npp.
	Scaler string
	Took   time.Duration
}

// The probe's defaults when a Prober leaves them zero (the edge's
// configuration defaults are these: config's tests check it).
const (
	DefaultProbeTimeout = 20 * time.Second
	DefaultVAAPIDevice  = "/dev/dri/renderD128"
)

// Prober opens candidate encoders with a real one-frame test encode.
type Prober struct {
	FFmpeg      string        // executable name or path (looked up in PATH)
	Timeout     time.Duration // per test encode
	VAAPIDevice string        // DRM render node for QSV and VAAPI
	Preset      string        // the configured preset, so that the probe opens what will run
	// DevRoot prefixes device paths when explaining refusals ("" in
	// production; tests point it at a directory of their own).
	DevRoot string
}

// Probe tests every encoder named, in order, and returns one result each.
func (p Prober) Probe(ctx context.Context, encoders []string) []ProbeResult {
	if p.Timeout <= 0 {
		p.Timeout = DefaultProbeTimeout
	}
	if p.VAAPIDevice == "" {
		p.VAAPIDevice = DefaultVAAPIDevice
	}
	results := make([]ProbeResult, 0, len(encoders))
	bin, err := exec.LookPath(p.FFmpeg)
	if err != nil {
		for _, e := range encoders {
			c, _ := LookupCandidate(e)
			results = append(results, ProbeResult{Encoder: e, Family: c.Family,
				Reason: fmt.Sprintf("ffmpeg not found (%v): install Debian's ffmpeg with `make deps`", err)})
		}
		return results
	}
	// A one-frame H.264 sample lets the hardware candidates prove their
	// decoder too; without libx264 they are tested from a test pattern.
	sample := p.sample(ctx, bin)
	for _, e := range encoders {
		c, ok := LookupCandidate(e)
		if !ok {
			results = append(results, ProbeResult{Encoder: e, Reason: "not an encoder zonecast can drive"})
			continue
		}
		results = append(results, p.test(ctx, bin, c, sample))
	}
	return results
}

// sample encodes one black frame to an H.264 elementary stream.
func (p Prober) sample(ctx context.Context, bin string) []byte {
	out, _, err := p.run(ctx, bin, nil,
		"-f", "lavfi", "-i", "color=c=black:s=320x180:r=30", "-frames:v", "1",
		"-c:v", "libx264", "-preset", "ultrafast", "-f", "h264", "pipe:1")
	if err != nil || len(out) < 16 {
		return nil
	}
	return out
}

func (p Prober) test(ctx context.Context, bin string, c Candidate, sample []byte) ProbeResult {
	start := time.Now()
	res := ProbeResult{Encoder: c.Encoder, Family: c.Family}
	scalers := []string{""}
	if c.Family == FamilyNVENC {
		scalers = []string{"scale_cuda", "scale_npp"}
	}
	var stderr []byte
	var err error
	for _, scaler := range scalers {
		res.Scaler = scaler
		args, stdin, what := p.testArgs(c, scaler, sample)
		_, stderr, err = p.run(ctx, bin, stdin, args...)
		if err == nil {
			res.OK = true
			res.Reason = "one-frame test encode ok (" + what + ")"
			break
		}
		// Only a missing scaler is worth the other scaler's attempt.
		if !bytes.Contains(stderr, []byte("No such filter: '"+scaler+"'")) {
			break
		}
	}
	res.Took = time.Since(start)
	if res.OK {
		return res
	}
	if c.Family != FamilyNVENC {
		res.Scaler = ""
	}
	reason := refusalReason(stderr, err)
	if dev := c.deviceFile(p.VAAPIDevice); dev != "" {
		if _, statErr := os.Stat(filepath.Join(p.DevRoot, dev)); statErr != nil {
			reason = "no " + dev + "; " + reason
		}
	}
	res.Reason = reason
	return res
}

// testArgs builds the one-frame test: device decode of the sample (or
// upload of a test pattern), scale on the device, encode with the
// configured preset, discard.
func (p Prober) testArgs(c Candidate, scaler string, sample []byte) (args []string, stdin []byte, what string) {
	scale := c.scaleFilter(256, 144, scaler)
	args = append(args, c.deviceArgs(p.VAAPIDevice)...)
	var parts []string
	switch {
	case c.Family == FamilySoftware:
		args = append(args, "-f", "lavfi", "-i", "color=c=black:s=320x180:r=30")
		parts = []string{"software scale"}
		scale = "format=yuv420p," + scale
	case sample != nil:
		args = append(args, c.decodeArgs("h264")...)
		args = append(args, "-f", "h264", "-i", "pipe:0")
		stdin = sample
		parts = []string{decodeName[c.Family] + " decode"}
	default:
		args = append(args, "-f", "lavfi", "-i", "color=c=black:s=320x180:r=30")
		scale = c.uploadFilter() + "," + scale
		parts = []string{"upload (decode not tested: libx264 sample unavailable)"}
	}
	if scaler != "" {
		parts = append(parts, scaler)
	}
	args = append(args, "-frames:v", "1", "-vf", scale)
	args = append(args, c.encoderArgs(p.Preset)...)
	args = append(args, "-f", "null", "-")
	return args, stdin, strings.Join(append(parts, c.Encoder), ", ")
}

var decodeName = map[Family]string{FamilyNVENC: "CUDA", FamilyQSV: "QSV", FamilyVAAPI: "VAAPI"}

// run executes one short ffmpeg and returns its stdout and stderr.
func (p Prober) run(ctx context.Context, bin string, stdin []byte, args ...string) ([]byte, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, p.Timeout)
	defer cancel()
	full := append([]string{"-hide_banner", "-nostats", "-loglevel", "error", "-y"}, args...)
	cmd := exec.CommandContext(ctx, bin, full...)
	// A killed test encode's children (a wrapper script's) may hold its
	// pipes: do not wait for them.
	cmd.WaitDelay = time.Second
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Stderr = &limitedBuffer{buf: &stderr, max: 64 << 10}
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("test encode did not finish within %v", p.Timeout)
	}
	return stdout.Bytes(), stderr.Bytes(), err
}

// limitedBuffer keeps the first max bytes of a stream and discards the rest.
type limitedBuffer struct {
	buf *bytes.Buffer
	max int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.max - l.buf.Len(); room > 0 {
		if len(p) > room {
			l.buf.Write(p[:room])
		} else {
			l.buf.Write(p)
		}
	}
	return len(p), nil
}

// Choose returns the first result that opened, in the order probed.
func Choose(results []ProbeResult) (ProbeResult, error) {
	var refused []string
	for _, r := range results {
		if r.OK {
			return r, nil
		}
		refused = append(refused, r.Encoder+": "+r.Reason)
	}
	return ProbeResult{}, errors.New("no encoder opened: " + strings.Join(refused, "; "))
}
