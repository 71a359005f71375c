// Package edge_test runs the edge daemon as a process against real
// publishers (ffmpeg and srt-live-transmit over libsrt) and real readers
// (ffmpeg, a playlist follower, headless Chromium with hls.js).
package edge_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

var (
	edgeBin string // the daemon under test
	fixture string // a pre-encoded 640x360 30 fps TS, 1 s GOP, with AAC
	webDir  string // holds node_modules/hls.js
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	webDir = filepath.Join(testkit.RepoRoot(), "web")
	tmp, err := os.MkdirTemp("", "zonecast-e2e-")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(tmp)

	if edgeBin, err = testkit.EdgeBinary(tmp); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if _, err := exec.LookPath("ffmpeg"); err == nil {
		fixture = filepath.Join(tmp, "fixture.ts")
		if err := encodeFixture(fixture, 20); err != nil {
			fmt.Fprintf(os.Stderr, "encoding the fixture: %v\n", err)
			return 1
		}
	}
	return m.Run()
}

// encodeFixture writes seconds of test pattern + tone as MPEG-TS (H.264 with
// a keyframe every second, AAC).
func encodeFixture(path string, seconds int) error {
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", "testsrc2=size=640x360:rate=30",
		"-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-t", fmt.Sprint(seconds),
		"-c:v", "libx264", "-preset", "ultrafast", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-b:v", "800k", "-pix_fmt", "yuv420p",
		"-c:a", "aac", "-b:a", "64k",
		"-f", "mpegts", path)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, out)
	}
	return nil
}

// requireTools fails (never skips) when a tool the test needs, or hls.js
// for the player page, is missing.
func requireTools(t *testing.T, tools ...string) {
	t.Helper()
	testkit.RequireTools(t, tools...)
	if _, err := os.Stat(filepath.Join(webDir, "node_modules", "hls.js", "dist", "hls.min.js")); err != nil {
		t.Fatalf("hls.js is missing in %s: install it with `make deps`", webDir)
	}
}
