// Package recording is the recording suite end to end: recorded streams on
// real edges (the chaos suite's twin zones with Redis, or one node in
// process), a real S3-API server (versitygw), real ffmpeg, ffprobe and
// hls.js in Chromium.
package recording

import (
	"fmt"
	"os"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

var edgeBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zonecast-recording-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	if edgeBin, err = testkit.EdgeBinary(dir); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}
