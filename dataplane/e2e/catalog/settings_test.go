package catalog_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"

	policy "github.com/zonecast/zonecast/policies/catalog"
)

// get answers a GET of the node's media path: status and body.
func (e *edge) get(path string) (int, string) {
	e.t.Helper()
	resp, err := http.Get(e.httpURL + path)
	if err != nil {
		return 0, ""
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// llTags are what only an LL-HLS playlist carries.
var llTags = []string{"#EXT-X-PART:", "#EXT-X-PART-INF", "#EXT-X-PRELOAD-HINT", "#EXT-X-SERVER-CONTROL", "#EXT-X-MAP", "CAN-BLOCK-RELOAD"}

// TestSettingsApplied: the edge binary on dynalite, transcoding with
// libx264. A PATCH of a live stream's ladder replaces its renditions from a
// segment boundary: the multivariant playlist lists the new rung and not
// the old one, the new rung's first segment is the source's segment of
// the same number (same program date-time: players switching land on the
// same media), and the old rung answers 404 once its grace ran out. A
// stream created "standard" serves classic HLS only at its usual URLs; a
// latency change made while it is live waits for the next publish.
func TestSettingsApplied(t *testing.T) {
	tb := newTable(t)
	e := startEdgeWith(t, "s1", tb, nil,
		"transcode: {enabled: true, encoders: [libx264], ladder: \"180p:200k\", capacity: 2, calibrate: 0s, preset: ultrafast}\n")

	t.Run("a ladder change applies from a segment boundary", func(t *testing.T) {
		c := e.create("show-1")
		pub := publish(t, e.srtURL("show-1", c.Passphrase))
		defer pub.stop()
		listed := func(want ...string) func() bool {
			return func() bool {
				code, mv := e.get("/live/show-1/index.m3u8")
				if code != 200 {
					return false
				}
				for _, w := range want {
					if strings.HasPrefix(w, "!") == strings.Contains(mv, strings.TrimPrefix(w, "!")+"/index.m3u8") {
						return false
					}
				}
				return true
			}
		}
		e.waitFor("source and the node's 180p listed", 40*time.Second, listed("source", "180p"))
		// A player (hls.js in Chromium) watching the rung the change removes.
		if _, err := os.Stat(filepath.Join(testkit.RepoRoot(), "web", "node_modules", "hls.js", "dist", "hls.min.js")); err != nil {
			t.Fatal("hls.js is missing in web/: install it with `make deps`")
		}
		b := browser.Start(t)
		b.Navigate(t, e.httpURL+"/?stream=show-1")
		b.WaitPlaying(t, 0.5, 40*time.Second)
		var heights []int
		if err := b.Eval(`window.hlsInstance.levels.map(l => l.height)`, &heights); err != nil {
			t.Fatal(err)
		}
		pin := slices.Index(heights, 180)
		if pin < 0 {
			t.Fatalf("hls.js levels %v, no 180p", heights)
		}
		if err := b.Eval(fmt.Sprintf(`(window.hlsInstance.currentLevel = %d, true)`, pin), new(bool)); err != nil {
			t.Fatal(err)
		}
		onScreen := func(h int) func() bool {
			return func() bool {
				var got int
				return b.Eval(`document.getElementById("video").videoHeight`, &got) == nil && got == h
			}
		}
		e.waitFor("180p on screen", 30*time.Second, onScreen(180))
		var before browser.PlayerState
		if err := b.Eval(browser.PlayerStateJS, &before); err != nil {
			t.Fatal(err)
		}

		if code := e.api("PATCH", "/api/v1/streams/show-1", map[string]any{"ladder": "120p:100k"}, nil); code != 200 {
			t.Fatalf("PATCH ladder: %d", code)
		}
		patched := time.Now()
		e.waitFor("120p listed, 180p not", 40*time.Second, listed("source", "120p", "!180p"))
		t.Logf("new ladder listed %v after the PATCH (libx264 start included)", time.Since(patched).Round(time.Millisecond))

		// The new rung starts on a boundary of the source: its first
		// segment has the number and program date-time of the source's.
		media := func(path string) (*playlist.Media, string) {
			_, b := e.get(path)
			pl, err := playlist.Unmarshal([]byte(b))
			if err != nil {
				return nil, b
			}
			m, _ := pl.(*playlist.Media)
			return m, b
		}
		var low *playlist.Media
		e.waitFor("two complete 120p segments", 20*time.Second, func() bool {
			low, _ = media("/live/show-1/120p/index.m3u8")
			return low != nil && len(low.Segments) >= 2
		})
		src, body := media("/live/show-1/source/index.m3u8")
		if src == nil {
			t.Fatalf("source playlist:\n%s", body)
		}
		// The new rung's first segment (it may have left the window on a
		// loaded machine: then its oldest listed one, as well a boundary).
		msn := low.MediaSequence
		i := int(msn) - src.MediaSequence
		if i < 0 || i >= len(src.Segments) {
			t.Fatalf("120p segment %d not in the source's window (%d+%d):\n%s", msn, src.MediaSequence, len(src.Segments), body)
		}
		lp, sp := low.Segments[0].DateTime, src.Segments[i].DateTime
		if lp == nil || sp == nil {
			t.Fatalf("no program date-time on segment %d", msn)
		}
		if d := lp.Sub(*sp); d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("120p segment %d at %v, the source's at %v: not aligned", msn, lp, sp)
		}

		// The old rung: out of the multivariant playlist at once, gone
		// after its grace (players on it switch to a listed variant).
		grace := policy.RetiredSegments * time.Second
		e.waitFor("180p gone after its grace", grace+10*time.Second, func() bool {
			code, _ := e.get("/live/show-1/180p/index.m3u8")
			return code == 404
		})
		// The player on the removed rung went on with a rung still listed.
		states, err := b.WatchPlayback(context.Background(), 6*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		last := states[len(states)-1]
		if last.Fatal != nil {
			t.Fatalf("hls.js fatal error after its rung went away: %s (errors %v)", *last.Fatal, last.Errors)
		}
		var height int
		_ = b.Eval(`document.getElementById("video").videoHeight`, &height)
		if last.CurrentTime < before.CurrentTime+3 || last.Paused || height == 180 {
			t.Errorf("player on the removed rung: from %.2f to %.2f (paused %v, %dp on screen): %s; errors %v",
				before.CurrentTime, last.CurrentTime, last.Paused, height, browser.Summarize(states), last.Errors)
		}
		t.Logf("player on the removed rung went on at %dp: currentTime %.2f → %.2f, non-fatal errors %v",
			height, before.CurrentTime, last.CurrentTime, last.Errors)

		if !regexp.MustCompile(`msg="ladder changed" .*stream=show-1 from=node to=120p:100k`).MatchString(e.log()) {
			t.Errorf("no ladder change in the log:\n%s", e.log())
		}
		var report struct {
			Streams []struct {
				Stream     string   `json:"stream"`
				Renditions []string `json:"renditions"`
			} `json:"streams"`
		}
		e.api("GET", "/api/v1/transcode", nil, &report)
		if len(report.Streams) != 1 || strings.Join(report.Streams[0].Renditions, ",") != "120p" {
			t.Errorf("transcoders after the change: %+v, want show-1's 120p only", report.Streams)
		}
	})

	t.Run("a standard stream serves classic HLS only", func(t *testing.T) {
		var c created
		if code := e.api("POST", "/api/v1/streams", map[string]any{"name": "talk-1", "latency": "standard", "ladder": "source"}, &c); code != http.StatusCreated {
			t.Fatalf("create: %d", code)
		}
		pub := publish(t, e.srtURL("talk-1", c.Passphrase))
		e.waitFor("talk-1 playlist", 40*time.Second, func() bool {
			code, b := e.get("/live/talk-1/source/index.m3u8")
			return code == 200 && strings.Contains(b, "#EXTINF")
		})
		classicOnly := func(t *testing.T) {
			t.Helper()
			if _, mv := e.get("/live/talk-1/index.m3u8"); !strings.Contains(mv, "source/classic.m3u8") {
				t.Errorf("multivariant playlist does not list the classic playlist:\n%s", mv)
			}
			if _, b := e.get("/live/talk-1/source/index.m3u8"); !strings.Contains(b, ".ts\n") {
				t.Errorf("media playlist lists no MPEG-TS segment:\n%s", b)
			}
			for _, path := range []string{"/live/talk-1/index.m3u8", "/live/talk-1/source/index.m3u8",
				"/live/talk-1/source/index.m3u8?_HLS_msn=99999&_HLS_part=0", "/live/talk-1/source/classic.m3u8"} {
				code, b := e.get(path)
				if code != 200 {
					t.Errorf("GET %s: %d", path, code)
				}
				for _, tag := range llTags {
					if strings.Contains(b, tag) {
						t.Errorf("GET %s carries %s:\n%s", path, tag, b)
					}
				}
				if strings.Contains(b, ".m4s") {
					t.Errorf("GET %s lists fMP4 media:\n%s", path, b)
				}
			}
			if code, _ := e.get("/live/talk-1/source/part0.0.m4s"); code != 404 {
				t.Errorf("a part answered %d, want 404", code)
			}
		}
		classicOnly(t)

		// Made low while live: still classic until the next publish.
		if code := e.api("PATCH", "/api/v1/streams/talk-1", map[string]any{"latency": "low"}, nil); code != 200 {
			t.Fatalf("PATCH latency: %d", code)
		}
		time.Sleep(policy.Freshness + 2*policy.Recheck)
		classicOnly(t)
		pub.stop()
		publish(t, e.srtURL("talk-1", c.Passphrase))
		e.waitFor("LL-HLS after the next publish", 40*time.Second, func() bool {
			_, b := e.get("/live/talk-1/source/index.m3u8")
			return strings.Contains(b, "#EXT-X-PART:")
		})
	})
}

// TestSettingsInCluster: a leader and its standby in the twin zone, both
// transcoding. A PATCH through the standby changes the ladder on both:
// each node's transcoder (the standby's is the warm ladder, fed the relay)
// runs the new rung only, and each node's multivariant playlist lists it
// and no longer the old one, so a failover serves the same renditions.
func TestSettingsInCluster(t *testing.T) {
	testkit.RequireTools(t, "redis-server", "redis-sentinel", "openssl")
	tb := newTable(t)
	redis := redistest.StartT(t)
	certs := testkit.NodeCerts(t, "a1", "b1")
	const transcode = "transcode: {enabled: true, encoders: [libx264], ladder: \"180p:200k\", capacity: 2, calibrate: 0s, preset: ultrafast}\n"
	a := startEdgeWith(t, "a1", tb, &clusterOpts{zone: "a", sentinels: redis.SentinelAddrs(), certs: certs}, transcode)
	b := startEdgeWith(t, "b1", tb, &clusterOpts{zone: "b", sentinels: redis.SentinelAddrs(), certs: certs}, transcode)
	c := a.create("duo")
	publish(t, a.srtURL("duo", c.Passphrase))
	role := func(e *edge) string {
		var row map[string]any
		e.api("GET", "/api/v1/streams/duo", nil, &row)
		r, _ := row["role"].(string)
		return r
	}
	a.waitFor("a1 leads", 30*time.Second, func() bool { return role(a) == "leader" })
	b.waitFor("b1 stands by", 30*time.Second, func() bool { return role(b) == "standby" })
	renditions := func(e *edge) string {
		var report struct {
			Streams []struct {
				Stream     string   `json:"stream"`
				Renditions []string `json:"renditions"`
				Running    bool     `json:"running"`
			} `json:"streams"`
		}
		e.api("GET", "/api/v1/transcode", nil, &report)
		for _, s := range report.Streams {
			if s.Stream == "duo" && s.Running {
				return strings.Join(s.Renditions, ",")
			}
		}
		return ""
	}
	listed := func(e *edge, rung string) bool {
		code, mv := e.get("/live/duo/index.m3u8")
		return code == 200 && strings.Contains(mv, rung+"/index.m3u8")
	}
	for _, e := range []*edge{a, b} {
		e.waitFor(e.id+" runs and lists 180p", 40*time.Second, func() bool { return renditions(e) == "180p" && listed(e, "180p") })
	}

	if code := b.api("PATCH", "/api/v1/streams/duo", map[string]any{"ladder": "120p:100k"}, nil); code != 200 {
		t.Fatalf("PATCH through the standby: %d", code)
	}
	for _, e := range []*edge{a, b} {
		e.waitFor(e.id+" runs and lists 120p only", 40*time.Second, func() bool {
			return renditions(e) == "120p" && listed(e, "120p") && !listed(e, "180p")
		})
	}
	if role(a) != "leader" || role(b) != "standby" {
		t.Fatalf("roles after the change: a1 %q, b1 %q", role(a), role(b))
	}
}
