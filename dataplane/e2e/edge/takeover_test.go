package edge_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestTakeover: with srt.on_conflict: takeover, a second publisher replaces
// the first (a restarted encoder need not wait for the old session to time
// out); the playlist continues past a discontinuity.
func TestTakeover(t *testing.T) {
	t.Parallel() // an edge of its own on free ports, light: overlaps the others
	requireTools(t, "ffmpeg")
	e := startEdge(t, contractStreams, "", "-srt.on_conflict", "takeover")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first := publishFile(t, ctx, e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16))
	firstAddr := e.waitState("cam1", "live", 15*time.Second).Publisher
	e.waitPlaylist("/live/cam1/source/index.m3u8", 2, 30*time.Second)
	watch := follow(ctx, e.httpURL+"/live/cam1/source/index.m3u8")
	time.Sleep(time.Second)
	before := watch.report().newest

	mark := e.logMark()
	publishFile(t, ctx, e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16))
	line := e.waitLogAfter(mark, 15*time.Second, "publisher taken over", "stream=cam1")
	t.Logf("edge: %s", line)
	select {
	case <-first.done:
	case <-time.After(10 * time.Second):
		t.Fatal("the first publisher was not disconnected")
	}
	if st := e.streams()["cam1"]; st.State != "live" || st.Publisher == firstAddr {
		t.Fatalf("after takeover: %+v (first was %s)", st, firstAddr)
	}
	deadline := time.Now().Add(30 * time.Second)
	for watch.report().newest < before+3 {
		if time.Now().After(deadline) {
			t.Fatalf("playlist did not continue after the takeover: %+v", watch.report())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r := watch.report(); len(r.problems) > 0 || r.discontinuity == 0 {
		t.Fatalf("after takeover: problems %v, discontinuities %d (want ≥ 1)", r.problems, r.discontinuity)
	}
}

// TestHelpDocumentsEveryKey: `edge -h` exits 0 and names every key's flag and
// variable (the list comes from the config package's struct tags).
func TestHelpDocumentsEveryKey(t *testing.T) {
	out, err := exec.Command(edgeBin, "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("edge -h: %v\n%s", err, out)
	}
	for _, want := range []string{"-config FILE", "-srt.listen", "ZONECAST_SRT_LISTEN", "-srt.latency", "-srt.on_conflict",
		"-http.listen", "-http.tls_cert", "-hls.part_duration", "-streams", "ZONECAST_STREAMS", "-cluster.quic.listen", "-transcode.enabled"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("edge -h lacks %q", want)
		}
	}
}
