package recording

import (
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/core"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// Recording switched off mid-event (the configuration or the catalog says
// so) stops at the next segment boundary: the segment being cut then is
// the recording's last, the recording is closed at once, and the live
// stream goes on unrecorded. A single edge in process, fed by a real-time
// ffmpeg; the switch is the node's, as the catalog calls it.
func TestRecordingSwitchedOffStopsAtBoundary(t *testing.T) {
	testkit.RequireTools(t, "ffmpeg", "ffprobe")
	s3 := s3server.StartT(t, "recordings")
	for k, v := range s3.Env() {
		t.Setenv(k, v)
	}
	cfg, err := config.Load([]string{"-srt.listen", "127.0.0.1:0", "-http.listen", "127.0.0.1:0",
		"-streams", "cam1+record:correct-horse-battery",
		"-hls.segment_duration", "1s", "-hls.part_duration", "200ms",
		"-recording.bucket", s3.Bucket, "-recording.region", s3server.Region, "-recording.endpoint", s3.Endpoint,
		"-recording.spool_dir", t.TempDir(), "-recording.idle_close", "2m"},
		func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	n, err := core.New(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), "")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	publish(t, n.Streams.Get("cam1"))
	base := "http://" + n.Origin.Addr().String()

	// Recording, for a while.
	time.Sleep(6 * time.Second)
	if l, err := recordings(base, "cam1"); err != nil || len(l) != 1 || l[0].State != "recording" {
		t.Fatalf("before the switch: recordings %+v (err %v), want one being recorded", l, err)
	}
	st := n.Packager("cam1").State().Renditions["source"]
	last := st.NextMSN - 1
	if st.Open != nil {
		last = st.Open.MSN
	}
	if !n.SetRecord("cam1", false) {
		t.Fatal("SetRecord: no stream cam1")
	}
	switched := time.Now()
	list := waitReady(t, base, "cam1", 15*time.Second, func() string { return "" })
	t.Logf("switched off with segment %d being cut; recording ready %v later", last, time.Since(switched).Round(time.Millisecond))
	if len(list) != 1 {
		t.Fatalf("recordings %+v, want one", list)
	}
	vod := readVOD(t, base, list[0])
	if got := vod[0].msns[len(vod[0].msns)-1]; got != last {
		t.Fatalf("the recording ends with segment %d, want %d (the one being cut at the switch)", got, last)
	}
	// The live stream goes on, unrecorded.
	time.Sleep(3 * time.Second)
	if next := n.Packager("cam1").State().Renditions["source"].NextMSN; next <= last+2 {
		t.Fatalf("the live stream stopped at %d", next)
	}
	after, err := recordings(base, "cam1")
	if err != nil || len(after) != 1 || after[0].State != "ready" {
		t.Fatalf("after the switch: recordings %+v (err %v), want the one ready recording only", after, err)
	}
	ffprobeVOD(t, base+renditionURL(list[0].URL, vod[0].name))
}

// publish feeds s a real-time ffmpeg test pattern (1 s GOP) until the test
// ends.
func publish(t *testing.T, s *stream.Stream) {
	t.Helper()
	pub, err := s.Publish(stream.PublisherInfo{Addr: "ffmpeg", Protocol: "test"}, false)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, "ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=25", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "ultrafast", "-tune", "zerolatency", "-g", "25", "-keyint_min", "25", "-sc_threshold", "0",
		"-pix_fmt", "yuv420p", "-c:a", "aac", "-f", "mpegts", "pipe:1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		buf := make([]byte, 7*188)
		for {
			if _, err := io.ReadFull(out, buf); err != nil {
				return
			}
			_ = pub.Write(append([]byte(nil), buf...))
		}
	}()
	t.Cleanup(func() { cancel(); _ = cmd.Wait(); <-fed; pub.Close(nil) })
}
