package transcode

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// Calibration is one measurement of a ladder's speed on this node.
type Calibration struct {
	RealTimeFactor float64       // media seconds encoded per wall second, one ladder alone
	Measured       time.Duration // wall time measured (after a warm-up second)
}

// Calibrate runs the ladder of plan (Outputs, Candidate, Preset) on a
// synthetic 1080p30 clip looped for d and measures its real-time factor,
// with the same command line a stream gets except input and outputs.
func Calibrate(ctx context.Context, ffmpeg string, plan Plan, d time.Duration) (Calibration, error) {
	dir, err := os.MkdirTemp("", "zonecast-calibrate-")
	if err != nil {
		return Calibration{}, err
	}
	defer os.RemoveAll(dir)
	clip := filepath.Join(dir, "clip.ts")
	gen := exec.CommandContext(ctx, ffmpeg, "-hide_banner", "-nostdin", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=s=1920x1080:r=30", "-t", "2",
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-f", "mpegts", clip)
	if out, err := gen.CombinedOutput(); err != nil {
		return Calibration{}, fmt.Errorf("calibration clip: %v: %s", err, strings.TrimSpace(string(out)))
	}
	plan.Source = SourceInfo{Codec: "h264", Width: 1920, Height: 1080, FPS: 30}
	plan.InputArgs = []string{"-stream_loop", "-1", "-f", "mpegts", "-i", clip}
	plan.OutputURLs = make([]string, len(plan.Outputs))
	for i := range plan.OutputURLs {
		plan.OutputURLs[i] = "/dev/null"
	}
	args := append(plan.Args(), "-progress", "pipe:1", "-stats_period", "0.25")
	ctx, cancel := context.WithTimeout(ctx, d+time.Second+5*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, ffmpeg, args...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return Calibration{}, err
	}
	if err := cmd.Start(); err != nil {
		return Calibration{}, err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	start := time.Now()
	var t0, t1 time.Time
	var o0, o1 float64
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		v, ok := strings.CutPrefix(sc.Text(), "out_time_us=")
		if !ok {
			continue
		}
		us, err := strconv.ParseFloat(v, 64)
		if err != nil || us <= 0 {
			continue
		}
		now := time.Now()
		// The first second is warm-up (process start, filter graph, lookahead).
		if t0.IsZero() {
			if now.Sub(start) >= time.Second {
				t0, o0 = now, us/1e6
			}
			continue
		}
		t1, o1 = now, us/1e6
		if now.Sub(t0) >= d {
			break
		}
	}
	if t1.IsZero() || !t1.After(t0) {
		return Calibration{}, fmt.Errorf("calibration: ffmpeg reported no progress")
	}
	return Calibration{RealTimeFactor: (o1 - o0) / t1.Sub(t0).Seconds(), Measured: t1.Sub(t0)}, nil
}

// softwareCapacity turns a calibration into ladders: one ladder alone uses
// every core, so n ladders each run at RTF/n; 10 % is kept in reserve. A
// node always tries at least one ladder (the watchdog restarts it if it
// cannot keep up).
func softwareCapacity(c Calibration, preset string) (int, string) {
	n := int(c.RealTimeFactor / 1.1)
	basis := fmt.Sprintf("libx264 %s: one ladder at %.2f× real time on %d cores (calibrated %v at start-up)",
		presetOr(preset, "veryfast"), c.RealTimeFactor, runtime.NumCPU(), c.Measured.Round(100*time.Millisecond))
	if n < 1 {
		n = 1
		basis += "; below real time, one ladder kept"
	}
	return n, basis
}

func presetOr(p, def string) string {
	if p == "" {
		return def
	}
	return p
}
