package transcode

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Helpers shared by the tests that drive the real Debian ffmpeg.

var (
	sourceMu    sync.Mutex
	sourceCache = map[string]string{}
	sourceDir   string
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "zonecast-transcode-test-")
	if err != nil {
		panic(err)
	}
	sourceDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// sourceTS makes (once per parameters) a live-like source: H.264 with a
// one-second GOP and B-frames, AAC audio, and timestamps starting at
// offset seconds.
func sourceTS(t testing.TB, w, h int, seconds int, offset float64) string {
	t.Helper()
	return sourceTSCodec(t, "libx264", w, h, seconds, offset)
}

// sourceTSCodec is sourceTS with the video encoder named (libx264, libx265).
func sourceTSCodec(t testing.TB, encoder string, w, h int, seconds int, offset float64) string {
	t.Helper()
	testkit.RequireTools(t, "ffmpeg", "ffprobe")
	key := fmt.Sprintf("src-%s-%dx%d-%ds-%g.ts", encoder, w, h, seconds, offset)
	sourceMu.Lock()
	defer sourceMu.Unlock()
	if p, ok := sourceCache[key]; ok {
		return p
	}
	p := filepath.Join(sourceDir, key)
	noSceneCut := []string{"-sc_threshold", "0"}
	if encoder == "libx265" {
		noSceneCut = []string{"-x265-params", "scenecut=0:log-level=error"}
	}
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-y",
		"-f", "lavfi", "-i", fmt.Sprintf("testsrc2=s=%dx%d:r=30", w, h),
		"-f", "lavfi", "-i", "sine=f=440:r=48000",
		"-t", strconv.Itoa(seconds), "-c:v", encoder, "-preset", "ultrafast", "-bf", "2", "-g", "30", "-keyint_min", "30",
		"-b:v", "1500k", "-c:a", "aac", "-b:a", "96k", noSceneCut[0], noSceneCut[1],
		"-output_ts_offset", fmt.Sprint(offset), "-muxdelay", "0", "-muxpreload", "0", "-f", "mpegts", p)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the source: %v\n%s", err, out)
	}
	sourceCache[key] = p
	return p
}

// collector is a Sink that keeps everything it is given.
type collector struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	discs  int
	writes int
	// marks are the byte offsets at which Discontinuity was called.
	marks []int
}

func (c *collector) WriteTS(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.buf.Write(p)
	c.writes++
	return nil
}

func (c *collector) Discontinuity() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.discs++
	c.marks = append(c.marks, c.buf.Len())
}

func (c *collector) snapshot() ([]byte, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]byte(nil), c.buf.Bytes()...), c.discs
}

func (c *collector) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.Len()
}

// outputs hands out one collector per rendition name.
type outputs struct {
	mu   sync.Mutex
	sink map[string]*collector
}

func newOutputs() *outputs { return &outputs{sink: map[string]*collector{}} }

func (o *outputs) Rendition(name string) Sink {
	o.mu.Lock()
	defer o.mu.Unlock()
	c, ok := o.sink[name]
	if !ok {
		c = &collector{}
		o.sink[name] = c
	}
	return c
}

func (o *outputs) get(name string) *collector {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.sink[name]
}

func (o *outputs) names() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	var n []string
	for k := range o.sink {
		n = append(n, k)
	}
	sort.Strings(n)
	return n
}

// publish feeds a TS file in 1316-byte chunks at real time (paced by the
// video PTS, like a live SRT publisher) to every consumer. It returns the
// longest time one WriteTS call took.
func publish(ctx context.Context, data []byte, consumers ...Sink) time.Duration {
	sc := newTSScanner()
	start := time.Now()
	var first int64 = -1
	var longest time.Duration
	for off := 0; off < len(data); off += 1316 {
		end := min(off+1316, len(data))
		chunk := data[off:end]
		sc.scan(chunk, nil, false)
		if sc.havePTS {
			if first < 0 {
				first = sc.videoPTS
			}
			due := start.Add(time.Duration(ptsDiff(sc.videoPTS, first)) * time.Second / 90000)
			if d := time.Until(due); d > 0 {
				select {
				case <-ctx.Done():
					return longest
				case <-time.After(d):
				}
			}
		}
		for _, c := range consumers {
			t0 := time.Now()
			_ = c.WriteTS(chunk)
			longest = max(longest, time.Since(t0))
		}
		if ctx.Err() != nil {
			return longest
		}
	}
	return longest
}

func readFile(t testing.TB, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// probeStreams runs ffprobe on TS bytes.
type probedStream struct {
	CodecType string `json:"codec_type"`
	CodecName string `json:"codec_name"`
	Width     int    `json:"width"`
	Height    int    `json:"height"`
}

type probedPacket struct {
	Pts   int64
	Dts   int64
	Key   bool
	Video bool
}

func ffprobe(t testing.TB, ts []byte) ([]probedStream, []probedPacket) {
	t.Helper()
	f := filepath.Join(t.TempDir(), "r.ts")
	if err := os.WriteFile(f, ts, 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("ffprobe", "-v", "error", "-of", "json", "-show_streams", f).Output()
	if err != nil {
		t.Fatalf("ffprobe streams: %v", err)
	}
	var s struct {
		Streams []probedStream `json:"streams"`
	}
	if err := json.Unmarshal(out, &s); err != nil {
		t.Fatal(err)
	}
	out, err = exec.Command("ffprobe", "-v", "error", "-select_streams", "v:0", "-show_entries", "packet=pts,dts,flags", "-of", "csv=p=0", f).Output()
	if err != nil {
		t.Fatalf("ffprobe packets: %v", err)
	}
	var pkts []probedPacket
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fs := strings.Split(line, ",")
		if len(fs) < 3 {
			continue
		}
		pts, err1 := strconv.ParseInt(fs[0], 10, 64)
		dts, err2 := strconv.ParseInt(fs[1], 10, 64)
		if err1 != nil || err2 != nil {
			continue
		}
		pkts = append(pkts, probedPacket{Pts: pts, Dts: dts, Key: strings.Contains(fs[2], "K"), Video: true})
	}
	return s.Streams, pkts
}

// cuts applies the packager's cut rule (packager/cutrule.go) to frames:
// a keyframe starts a segment iff its DTS is in another bucket of the
// segment grid than the previous keyframe's (or the clock wrapped); the
// first frame of a run (after a gap of more than 100 ms) always does. It
// returns the raw PTS of the cuts.
func cuts(pkts []probedPacket, seg time.Duration) []int64 {
	const wrap = int64(1) << 33
	norm := func(x int64) int64 { return (x%wrap + wrap) % wrap }
	var out []int64
	prevKey := int64(-1)
	for i, p := range pkts {
		runStart := i == 0 || p.Dts-pkts[i-1].Dts > 9000
		if runStart {
			prevKey = -1
		}
		if !p.Key {
			continue
		}
		dts := norm(p.Dts)
		if prevKey < 0 || dts < prevKey || gridBucket(dts, seg) != gridBucket(prevKey, seg) {
			out = append(out, norm(p.Pts))
		}
		prevKey = dts
	}
	return out
}

// checkLadderFrames verifies a ladder rendition's frames: DTS = PTS (no
// B-frames), a keyframe at the first frame of every run, and no keyframe
// that does not start a segment (forced keyframes only). It returns the
// cut points and the number of runs.
func checkLadderFrames(t *testing.T, name string, pkts []probedPacket, seg time.Duration) (segCuts []int64, runs int) {
	t.Helper()
	for i, p := range pkts {
		if p.Dts != p.Pts {
			t.Errorf("%s: frame %d DTS %d ≠ PTS %d (B-frames in the ladder)", name, i, p.Dts, p.Pts)
			return nil, 0
		}
		if i == 0 || p.Dts-pkts[i-1].Dts > 9000 {
			runs++
			if !p.Key {
				t.Errorf("%s: a run starts at PTS %d without a keyframe", name, p.Pts)
			}
		}
	}
	segCuts = cuts(pkts, seg)
	keys := 0
	for _, p := range pkts {
		if p.Key {
			keys++
		}
	}
	if keys != len(segCuts) {
		t.Errorf("%s: %d keyframes but %d segment starts: keyframes that start no segment", name, keys, len(segCuts))
	}
	return segCuts, runs
}

func testSettings(t testing.TB) Settings {
	testkit.RequireTools(t, "ffmpeg", "ffprobe")
	bin, _ := exec.LookPath("ffmpeg")
	var ladder config.Ladder
	if err := ladder.UnmarshalText([]byte("1080p:6000k,720p:3000k,360p:600k,240p:300k,144p:150k")); err != nil {
		t.Fatal(err)
	}
	return Settings{
		FFmpeg:       bin,
		Encoder:      ProbeResult{Encoder: "libx264", Family: FamilySoftware, OK: true},
		Ladder:       ladder,
		AudioBitrate: 96000,
		Segment:      2 * time.Second,
		StallTimeout: 2 * time.Second,
		StartTimeout: 15 * time.Second,
		MaxLag:       20 * time.Second, // the machine is shared: only the lag test uses a tight value
		RestartMin:   200 * time.Millisecond,
		RestartMax:   2 * time.Second,
		QueueBytes:   4 << 20,
	}
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelInfo}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// waitFor polls cond until it holds or d passes.
func waitFor(t testing.TB, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
