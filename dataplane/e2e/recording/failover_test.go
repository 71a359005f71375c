package recording

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
	"github.com/zonecast/zonecast/dataplane/e2e/chaos"
	"github.com/zonecast/zonecast/dataplane/e2e/s3server"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	rec "github.com/zonecast/zonecast/dataplane/internal/recording"
)

// The event's timeline, from the broadcaster's start.
const (
	eventLength = 60 * time.Second
	outageAt    = 8 * time.Second
	outageFor   = 20 * time.Second
	killAt      = 40 * time.Second
	// idleClose is the recording's grace: longer than the broadcaster's
	// reconnection after the kill, so the takeover stays in one recording.
	idleClose = 6 * time.Second
	// ladderRung is the chaos suite's ladder (one 160p rung over a 320x180
	// source): two nodes each carrying the full ladder of the issue beside
	// the broadcaster, versitygw and Chromium do not fit two shared cores.
	ladderRung = "160p"
)

// recordingEnv turns recording on for every edge the test starts: the
// stream recorded, the bucket on s3, credentials as the AWS SDK reads them.
func recordingEnv(t *testing.T, s3 *s3server.Server) {
	for k, v := range s3.Env() {
		t.Setenv(k, v)
	}
	t.Setenv("ZONECAST_STREAMS", chaos.StreamName+"+record:"+chaos.Passphrase)
	t.Setenv("ZONECAST_RECORDING_BUCKET", s3.Bucket)
	t.Setenv("ZONECAST_RECORDING_REGION", s3server.Region)
	t.Setenv("ZONECAST_RECORDING_ENDPOINT", s3.Endpoint)
	t.Setenv("ZONECAST_RECORDING_IDLE_CLOSE", idleClose.String())
	// The player page's hls.js, wherever the edge binary was built.
	web := filepath.Join(testkit.RepoRoot(), "web")
	if _, err := os.Stat(filepath.Join(web, "node_modules", "hls.js", "dist", "hls.min.js")); err != nil {
		t.Fatalf("hls.js is missing from %s: run `make deps`", web)
	}
	t.Setenv("ZONECAST_HTTP_WEB_DIR", web)
}

// A 60 s event recorded by twin-zone nodes with the ladder on: S3 is taken
// away for 20 s (the leader spools and drains in order), then the leader is
// SIGKILLed (the standby takes over and uploads what it holds). The
// closed recording is one VOD, every rendition without a duplicated or
// missing number, that ffprobe reads and hls.js plays from start to end,
// and its media covers what live viewers saw, holes included only where
// the live stream had them (the chaos table's sigkill-leader: no media
// lost beyond the broadcaster's reconnection).
func TestRecordingThroughFailoverAndOutage(t *testing.T) {
	testkit.RequireTools(t, "ffmpeg", "ffprobe")
	s3 := s3server.StartT(t, "recordings")
	recordingEnv(t, s3)
	t.Setenv("ZONECAST_TRANSCODE_ENABLED", "true")
	t.Setenv("ZONECAST_TRANSCODE_ENCODERS", "libx264")
	t.Setenv("ZONECAST_TRANSCODE_LADDER", ladderRung+":200k")
	t.Setenv("ZONECAST_TRANSCODE_CAPACITY", "1")
	spools := t.TempDir()
	h := chaos.NewHarnessEnv(t, edgeBin, chaos.Local, func(id string) []string {
		return []string{"ZONECAST_RECORDING_SPOOL_DIR=" + filepath.Join(spools, id)}
	}, "a1", "b1")
	logs := func() string {
		var b strings.Builder
		for _, n := range h.Nodes {
			fmt.Fprintf(&b, "--- %s\n%s\n", n.ID, lines(n.Log(), "recording", 60))
		}
		return b.String()
	}
	start := time.Now()
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)
	at := func(d time.Duration) { time.Sleep(time.Until(start.Add(d))) }

	at(outageAt)
	s3.Stop()
	t.Logf("S3 away at %v", time.Since(start).Round(time.Millisecond))
	at(outageAt + outageFor)
	if err := s3.Restart(); err != nil {
		t.Fatal(err)
	}
	t.Logf("S3 back at %v", time.Since(start).Round(time.Millisecond))

	at(killAt)
	killed := time.Now()
	h.Node("a1").Kill()
	t.Logf("a1 (leader) SIGKILLed at %v", time.Since(start).Round(time.Millisecond))
	at(eventLength)
	h.Bcast.Stop()
	live := h.Reader.Report()
	reconnect := h.Bcast.ReconnectSince(killed)
	t.Logf("live: %d segments from %s to %s, media lost %v, broadcaster reconnected after %v",
		live.Segments, live.First.Format("15:04:05.000"), live.Last.Format("15:04:05.000"), live.MediaLost, reconnect)

	b1 := "http://" + h.Node("b1").HTTP
	list := waitReady(t, b1, chaos.StreamName, idleClose+90*time.Second, logs)
	if len(list) != 1 {
		t.Fatalf("the event made %d recordings, want one: %+v\n%s", len(list), list, logs())
	}
	e := list[0]
	t.Logf("recording %s: %s to %s, %.2f s, gaps %+v, %s", e.ID, e.Start.Format("15:04:05.000"), e.End.Format("15:04:05.000"),
		e.DurationSeconds, e.Gaps, e.URL)

	renditions := readVOD(t, b1, e)
	names := map[string]bool{}
	var reported time.Duration
	for _, g := range e.Gaps {
		reported += time.Duration(g.Seconds * float64(time.Second))
	}
	// Rounding of EXTINF and PDT in the playlists, per segment boundary.
	const slack = 250 * time.Millisecond
	for _, r := range renditions {
		names[r.name] = true
		t.Logf("%s: MSN %d..%d (%d segments), %s to %s, media %v, holes %v", r.name, r.msns[0], r.msns[len(r.msns)-1],
			len(r.msns), r.first.Format("15:04:05.000"), r.end.Format("15:04:05.000"), r.media, r.holes)
		// The recording covers what live viewers saw.
		if r.first.After(live.First.Add(slack)) || r.end.Before(live.Last.Add(-slack)) {
			t.Errorf("%s: recorded %s..%s does not cover the live stream's %s..%s", r.name,
				r.first.Format("15:04:05.000"), r.end.Format("15:04:05.000"), live.First.Format("15:04:05.000"), live.Last.Format("15:04:05.000"))
		}
		// Holes only where the live stream had them, each reported.
		if r.holes > live.MediaLost+slack {
			t.Errorf("%s: the recording has %v of holes, the live stream lost %v", r.name, r.holes, live.MediaLost)
		}
		if r.holes > reported+slack {
			t.Errorf("%s: %v of holes in the playlist, %v reported in the recording's gaps", r.name, r.holes, reported)
		}
		// The event, less the broadcaster's start and its reconnection.
		if want := eventLength - 5*time.Second - reconnect; r.media < want {
			t.Errorf("%s: %v of media recorded, want at least %v", r.name, r.media, want)
		}
		url := b1 + renditionURL(e.URL, r.name)
		if d := ffprobeVOD(t, url); d < r.media.Seconds()-1 {
			t.Errorf("%s: ffprobe reads %.2f s of %v", r.name, d, r.media)
		}
		// Inside the media too: the video's timestamps run on across the
		// S3 outage and the takeover except for the stall the chaos table
		// allows sigkill-leader (a segment plus the broadcaster's
		// reconnection: the encoder's output while disconnected, and what
		// the dead leader had not relayed, never reach the standby). The
		// numbering and the PDTs stay continuous there, so the jump shows
		// only in the media's own timestamps; players seek over it.
		stall := chaos.Local.Segment() + reconnect
		if jump, at := videoJump(t, url); jump > stall {
			t.Errorf("%s: the video's decode timestamps jump %v at %.3f s, more than the %v stall sigkill-leader allows", r.name, jump, at, stall)
		} else {
			t.Logf("%s: largest jump between consecutive video timestamps %v at %.3f s (allowed: %v)", r.name, jump, at, stall)
		}
	}
	if !names["source"] || !names[ladderRung] {
		t.Errorf("renditions recorded %v, want source and %s", names, ladderRung)
	}
	if t.Failed() {
		t.Log(logs())
	}

	playToEnd(t, b1, e, renditions)
}

func renditionURL(multivariant, rendition string) string {
	return strings.TrimSuffix(multivariant, "index.m3u8") + rendition + "/index.m3u8"
}

// playToEnd plays the recording with hls.js in Chromium (the node's player
// page) from start to end at 4x, and fails on a fatal error, a stall or an
// end short of the recording's duration.
func playToEnd(t *testing.T, base string, e rec.Entry, renditions []vodRendition) {
	t.Helper()
	testkit.RequireTools(t, "chromium")
	br := browser.Start(t)
	br.Navigate(t, base+"/?vod="+e.URL)
	br.WaitPlaying(t, 0.1, 30*time.Second)
	var rate float64
	if err := br.Eval(`document.getElementById("video").playbackRate = 4`, &rate); err != nil {
		t.Fatal(err)
	}
	type state struct {
		T, Duration float64
		Ended       bool
		Fatal       *string
		Errors      []string
	}
	const js = `(() => { const v = document.getElementById("video");
	  return { T: v.currentTime, Duration: v.duration, Ended: v.ended, Fatal: window.player.fatal, Errors: window.player.errors }; })()`
	var st state
	var lastT float64
	lastMove := time.Now()
	for {
		if err := br.Eval(js, &st); err != nil {
			t.Fatal(err)
		}
		if st.Fatal != nil {
			t.Fatalf("hls.js fatal error at %.2f s: %s (errors %v)", st.T, *st.Fatal, st.Errors)
		}
		if st.Ended {
			break
		}
		if st.T > lastT {
			lastT, lastMove = st.T, time.Now()
		}
		// The media's last frames may end a fraction of a segment before
		// the playlist's durations add up (audio and video end apart), and
		// the element then waits at the end of what is buffered instead of
		// ending: within one segment of the end counts as the end.
		if st.Duration > 0 && st.T >= st.Duration-chaos.Local.Segment().Seconds() && time.Since(lastMove) > 5*time.Second {
			t.Logf("playback rests %.2f s before the playlist's end", st.Duration-st.T)
			break
		}
		if time.Since(lastMove) > 20*time.Second {
			t.Fatalf("playback stuck at %.2f s of %.2f s (errors %v)", st.T, st.Duration, st.Errors)
		}
		time.Sleep(250 * time.Millisecond)
	}
	var shortest time.Duration
	for _, r := range renditions {
		if shortest == 0 || r.media < shortest {
			shortest = r.media
		}
	}
	if st.T < shortest.Seconds()-chaos.Local.Segment().Seconds() {
		t.Fatalf("playback ended at %.2f s, the recording holds %v", st.T, shortest)
	}
	t.Logf("hls.js played the VOD to its end: %.2f s (duration %.2f s), non-fatal errors %v", st.T, st.Duration, st.Errors)
}

// lines keeps a log's lines that mention word, the last n of them.
func lines(log, word string, n int) string {
	var out []string
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, word) || strings.Contains(l, "level=ERROR") {
			out = append(out, l)
		}
	}
	if len(out) > n {
		out = out[len(out)-n:]
	}
	return strings.Join(out, "\n")
}
