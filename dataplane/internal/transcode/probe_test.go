package transcode

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Real ffmpeg 5.1 stderr for the failures the fakes reproduce (captured on
// a machine without GPU, see docs/transcoding.md).
const (
	stderrNoCUDA = `[AVHWDeviceContext @ 0x563b9217b980] Cannot load libcuda.so.1
[AVHWDeviceContext @ 0x563b9217b980] Could not dynamically load CUDA
Device creation failed: -1.
Failed to set value 'cuda=cu:0' for option 'init_hw_device': Operation not permitted
Error parsing global options: Operation not permitted`
	stderrNoVA = `[AVHWDeviceContext @ 0x55cabbcce980] No VA display found for device /dev/dri/renderD128.
Device creation failed: -22.
Failed to set value 'vaapi=va:/dev/dri/renderD128' for option 'init_hw_device': Invalid argument
Error parsing global options: Invalid argument`
	stderrMFX = `[h264_qsv @ 0x562f9a943680] Error initializing an internal MFX session: unsupported (-3)
Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height`
	stderrNoNVENCDevice = `[h264_nvenc @ 0x55f0] OpenEncodeSessionEx failed: unsupported device (2): (no details)
[h264_nvenc @ 0x55f0] No capable devices found
Error initializing output stream 0:0 -- Error while opening encoder for output stream #0:0 - maybe incorrect parameters such as bit_rate, rate, width or height`
)

// rule is one behaviour of a fake ffmpeg: when every needle is among its
// arguments, it writes stderr and exits with code (or sleeps).
type rule struct {
	needles []string
	stderr  string
	code    int
	sleep   int
}

// fakeFFmpeg writes an executable `ffmpeg` into a fresh directory, puts
// that directory alone on PATH and returns the file where each call's
// arguments are logged. Rules are tried in order; no match exits 0 (and
// writes a few bytes to stdout, standing in for the libx264 sample).
func fakeFFmpeg(t *testing.T, rules []rule) string {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "calls.log")
	var b strings.Builder
	b.WriteString("#!/bin/sh\n")
	b.WriteString(`echo "$*" >> ` + log + "\n")
	b.WriteString(`args=" $* "` + "\n")
	for _, r := range rules {
		b.WriteString("if true")
		for _, n := range r.needles {
			b.WriteString(` && case "$args" in *"` + n + `"*) true;; *) false;; esac`)
		}
		b.WriteString("; then\n")
		if r.sleep > 0 {
			b.WriteString("  sleep " + strconv.Itoa(r.sleep) + "\n")
		}
		b.WriteString("  cat >&2 <<'EOF'\n" + r.stderr + "\nEOF\n")
		b.WriteString("  exit " + strconv.Itoa(r.code) + "\nfi\n")
	}
	b.WriteString("cat >/dev/null 2>&1 || true\n")
	b.WriteString("printf '\\000\\000\\000\\001fake-h264-sample-bytes'\nexit 0\n")
	if err := os.WriteFile(filepath.Join(dir, "ffmpeg"), []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	// The fake needs sh, cat, sleep and printf: keep /bin and /usr/bin
	// after it, but make sure no real ffmpeg is found there first.
	t.Setenv("PATH", dir+":/usr/bin:/bin")
	return log
}

func TestProbeWithFakeFFmpeg(t *testing.T) {
	all := []string{"h264_nvenc", "hevc_nvenc", "h264_qsv", "h264_vaapi", "libx264"}
	tests := []struct {
		name       string
		rules      []rule
		devices    []string // device nodes present under DevRoot
		timeout    time.Duration
		wantChoice string // "" = none opens
		wantScaler string
		// wantReasons: encoder → substrings its reason must contain.
		wantReasons map[string][]string
	}{
		{
			name: "no GPU: libx264, each refusal explained like the real ffmpeg",
			rules: []rule{
				{needles: []string{"cuda=cu"}, stderr: stderrNoCUDA, code: 1},
				{needles: []string{"vaapi=va:"}, stderr: stderrNoVA, code: 1},
			},
			wantChoice: "libx264",
			wantReasons: map[string][]string{
				"h264_nvenc": {"no /dev/nvidia0", "Cannot load libcuda.so.1"},
				"hevc_nvenc": {"no /dev/nvidia0", "Cannot load libcuda.so.1"},
				"h264_qsv":   {"no /dev/dri/renderD128", "No VA display found"},
				"h264_vaapi": {"no /dev/dri/renderD128", "No VA display found"},
				"libx264":    {"one-frame test encode ok"},
			},
		},
		{
			name: "hardware encoders not compiled in",
			rules: []rule{
				{needles: []string{"h264_nvenc"}, stderr: "Unknown encoder 'h264_nvenc'", code: 1},
				{needles: []string{"hevc_nvenc"}, stderr: "Unknown encoder 'hevc_nvenc'", code: 1},
				{needles: []string{"h264_qsv"}, stderr: "Unknown encoder 'h264_qsv'", code: 1},
				{needles: []string{"h264_vaapi"}, stderr: "Unknown encoder 'h264_vaapi'", code: 1},
			},
			devices:    []string{"dev/nvidia0", "dev/dri/renderD128"},
			wantChoice: "libx264",
			wantReasons: map[string][]string{
				"h264_nvenc": {"encoder h264_nvenc not compiled into this ffmpeg"},
				"h264_qsv":   {"encoder h264_qsv not compiled"},
				"h264_vaapi": {"encoder h264_vaapi not compiled"},
			},
		},
		{
			name:       "NVIDIA GPU present: h264_nvenc with CUDA decode and scale_cuda",
			devices:    []string{"dev/nvidia0"},
			wantChoice: "h264_nvenc",
			wantScaler: "scale_cuda",
			wantReasons: map[string][]string{
				"h264_nvenc": {"CUDA decode", "scale_cuda"},
			},
		},
		{
			name: "NVIDIA without scale_cuda falls back to scale_npp",
			rules: []rule{
				{needles: []string{"scale_cuda"}, stderr: "[AVFilterGraph @ 0x55] No such filter: 'scale_cuda'\nError reinitializing filters!", code: 1},
			},
			devices:    []string{"dev/nvidia0"},
			wantChoice: "h264_nvenc",
			wantScaler: "scale_npp",
		},
		{
			name: "device node present but the driver refuses the session",
			rules: []rule{
				{needles: []string{"_nvenc"}, stderr: stderrNoNVENCDevice, code: 1},
				{needles: []string{"h264_qsv"}, stderr: stderrMFX, code: 1},
			},
			devices:    []string{"dev/nvidia0", "dev/dri/renderD128"},
			wantChoice: "h264_vaapi",
			wantReasons: map[string][]string{
				"h264_nvenc": {"OpenEncodeSessionEx failed"},
				"h264_qsv":   {"Error initializing an internal MFX session"},
			},
		},
		{
			name: "nothing opens, not even libx264",
			rules: []rule{
				{needles: []string{"libx264"}, stderr: "Unknown encoder 'libx264'", code: 1},
				{needles: []string{"cuda=cu"}, stderr: stderrNoCUDA, code: 1},
				{needles: []string{"vaapi=va:"}, stderr: stderrNoVA, code: 1},
			},
			wantChoice: "",
			wantReasons: map[string][]string{
				"libx264":    {"encoder libx264 not compiled"},
				"h264_nvenc": {"Cannot load libcuda.so.1"},
			},
		},
		{
			name: "a hanging test encode is refused after the timeout",
			rules: []rule{
				{needles: []string{"cuda=cu"}, sleep: 5, code: 0},
			},
			timeout:    700 * time.Millisecond,
			wantChoice: "h264_qsv",
			wantReasons: map[string][]string{
				"h264_nvenc": {"did not finish within"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			calls := fakeFFmpeg(t, tc.rules)
			root := t.TempDir()
			for _, d := range tc.devices {
				p := filepath.Join(root, d)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			timeout := tc.timeout
			if timeout == 0 {
				timeout = 10 * time.Second
			}
			p := Prober{FFmpeg: "ffmpeg", Timeout: timeout, DevRoot: root}
			results := p.Probe(context.Background(), all)
			if len(results) != len(all) {
				t.Fatalf("%d results for %d candidates", len(results), len(all))
			}
			var out bytes.Buffer
			WriteEncoders(&out, results)
			t.Logf("edge -encoders would print:\n%s", out.String())
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != len(all) {
				t.Fatalf("want one line per candidate, got %d", len(lines))
			}
			for i, l := range lines {
				f := strings.Fields(l)
				if len(f) < 3 || f[0] != all[i] || (f[1] != "ok" && f[1] != "refused") {
					t.Errorf("line %q: want `name ok|refused reason`", l)
				}
			}
			choice, err := Choose(results)
			if tc.wantChoice == "" {
				if err == nil {
					t.Fatalf("chose %s, want none", choice.Encoder)
				}
			} else {
				if err != nil || choice.Encoder != tc.wantChoice {
					t.Fatalf("chose %q (%v), want %s", choice.Encoder, err, tc.wantChoice)
				}
				if tc.wantScaler != "" && choice.Scaler != tc.wantScaler {
					t.Errorf("scaler %q, want %q", choice.Scaler, tc.wantScaler)
				}
			}
			for _, r := range results {
				for _, want := range tc.wantReasons[r.Encoder] {
					if !strings.Contains(r.Reason, want) {
						t.Errorf("%s reason %q lacks %q", r.Encoder, r.Reason, want)
					}
				}
				if !r.OK && strings.Contains(r.Reason, "Error parsing global options") {
					t.Errorf("%s reason %q is ffmpeg's generic line, not the cause", r.Encoder, r.Reason)
				}
			}
			// Each candidate really got a one-frame test encode.
			log, err := os.ReadFile(calls)
			if err != nil {
				t.Fatal(err)
			}
			for _, e := range all {
				if !strings.Contains(string(log), "-frames:v 1 ") || !strings.Contains(string(log), "-c:v "+e+" ") {
					t.Errorf("no one-frame test encode with %s in calls:\n%s", e, log)
				}
			}
		})
	}
}

func TestProbeWithoutFFmpeg(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	results := Prober{FFmpeg: "ffmpeg"}.Probe(context.Background(), []string{"h264_nvenc", "libx264"})
	for _, r := range results {
		if r.OK || !strings.Contains(r.Reason, "ffmpeg not found") || !strings.Contains(r.Reason, "make deps") {
			t.Errorf("%s: %+v", r.Encoder, r)
		}
	}
	if _, err := Choose(results); err == nil {
		t.Fatal("chose an encoder without ffmpeg")
	}
}

// The real Debian ffmpeg on this machine: libx264 opens; a hardware
// candidate is either refused with a reason or (on a GPU host) opens.
func TestProbeRealFFmpeg(t *testing.T) {
	testkit.RequireTools(t, "ffmpeg")
	results := Prober{FFmpeg: "ffmpeg", Timeout: 30 * time.Second}.Probe(context.Background(),
		[]string{"h264_nvenc", "h264_qsv", "h264_vaapi", "libx264"})
	var out bytes.Buffer
	WriteEncoders(&out, results)
	t.Logf("\n%s", out.String())
	for _, r := range results {
		if r.Reason == "" {
			t.Errorf("%s: empty reason", r.Encoder)
		}
		if r.Encoder == "libx264" && !r.OK {
			t.Errorf("libx264 refused on Debian's ffmpeg: %s", r.Reason)
		}
		if r.Family == FamilyNVENC && !r.OK {
			if _, err := os.Stat("/dev/nvidia0"); err != nil && !strings.Contains(r.Reason, "no /dev/nvidia0") {
				t.Errorf("nvenc refusal does not mention the missing device: %s", r.Reason)
			}
		}
	}
}
