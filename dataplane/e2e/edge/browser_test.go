package edge_test

import (
	"context"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
)

// TestChromiumPlaysLLHLS: the edge's own page plays cam1 with hls.js in
// low-latency mode in headless Chromium; currentTime advances for 10 s
// without a fatal error.
func TestChromiumPlaysLLHLS(t *testing.T) {
	requireTools(t, "ffmpeg", "chromium")
	e := startEdge(t, contractStreams, "")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	publishFile(t, ctx, e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16))
	e.waitPlaylist("/live/cam1/source/index.m3u8", 2, 30*time.Second)

	b := browser.Start(t)
	b.Navigate(t, e.httpURL+"/?stream=cam1")

	// Playback starts.
	st := b.WaitPlaying(t, 0.5, 30*time.Second)
	if !st.LowLatency || st.URL != "/live/cam1/index.m3u8" {
		t.Fatalf("not playing LL-HLS from the multivariant playlist: %+v", st)
	}

	start := time.Now()
	states, err := b.WatchPlayback(ctx, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	first, last := states[0], states[len(states)-1]
	for i := 1; i < len(states); i++ {
		if states[i].CurrentTime < states[i-1].CurrentTime {
			t.Fatalf("currentTime went back: %s", browser.Summarize(states))
		}
	}
	advanced := last.CurrentTime - first.CurrentTime
	// Real time is ~10 s; allow for a loaded 2-core machine, but demand
	// steady progress, not a few stuttering frames.
	if advanced < 0.7*elapsed.Seconds() {
		t.Fatalf("currentTime advanced %.2f s in %.1f s: %s (errors %v)", advanced, elapsed.Seconds(), browser.Summarize(states), last.Errors)
	}
	if last.Fatal != nil {
		t.Fatalf("hls.js fatal error: %s", *last.Fatal)
	}
	t.Logf("currentTime samples: %s", browser.Summarize(states))
	t.Logf("currentTime %.2f → %.2f in %.1f s; hls.js latency %.2f s; non-fatal errors %v", first.CurrentTime, last.CurrentTime, elapsed.Seconds(), last.Latency, last.Errors)
}
