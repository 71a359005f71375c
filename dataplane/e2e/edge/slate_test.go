package edge_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
)

// slatePlayers are the players the slate must carry through a gap, each a
// script from npm (web/package.json, `make deps`) and the code that plays
// $URL into the <video> element $VIDEO, reporting errors into $REPORT.
var slatePlayers = []struct {
	name, script, playlist, play string
}{
	{"hls.js", "hls.js/dist/hls.min.js", "index.m3u8", `
	  const h = new Hls({ lowLatencyMode: true });
	  h.on(Hls.Events.ERROR, (ev, d) => { $REPORT.errors.push(d.details); if (d.fatal) $REPORT.fatal = d.details; });
	  h.loadSource($URL); h.attachMedia($VIDEO);`},
	{"shaka", "shaka-player/dist/shaka-player.compiled.js", "index.m3u8", `
	  shaka.polyfill.installAll();
	  const p = new shaka.Player();
	  p.configure({ streaming: { lowLatencyMode: true } });
	  p.addEventListener("error", (e) => { const d = e.detail; const m = d.code + " " + JSON.stringify((d.data || []).slice(0, 2));
	    $REPORT.errors.push(m); if (d.severity === 2) $REPORT.fatal = m; });
	  p.attach($VIDEO).then(() => p.load($URL)).catch((e) => { $REPORT.fatal = "load " + (e.code || e); });`},
	// video.js's LL-HLS support is experimental (its http-streaming asks
	// for parts it then ignores, and decodes a few frames a second even
	// without a gap): it plays the classic playlist, as its users do.
	{"video.js", "video.js/dist/video.min.js", "classic.m3u8", `
	  const p = videojs($VIDEO, { muted: true, autoplay: true, liveui: true });
	  p.on("error", () => { const e = p.error(); $REPORT.errors.push(String(e && e.code)); $REPORT.fatal = String(e && e.message); });
	  p.src({ src: $URL, type: "application/x-mpegURL" });`},
}

// slatePage plays the stream at url (its directory) with every slate player side by side; window.players
// reports each one's errors, and the video elements what plays.
func slatePage(url string) string {
	var b strings.Builder
	// Every XHR the page makes, for a failure's report.
	b.WriteString(`<!doctype html><html><body><script>window.players = {}; window.requests = [];
const open = XMLHttpRequest.prototype.open;
XMLHttpRequest.prototype.open = function (m, u) { const x = this, t0 = Date.now();
  x.addEventListener("loadend", () => window.requests.push(new Date(t0).toISOString().slice(14, 23) + " +" + (Date.now() - t0) + "ms " + x.status + " " + u));
  return open.apply(this, arguments); };
</script>
`)
	for i, p := range slatePlayers {
		fmt.Fprintf(&b, "<video id=\"v%d\" muted autoplay playsinline width=\"320\" height=\"180\"></video>\n", i)
		fmt.Fprintf(&b, "<script src=\"/lib/%s\"></script>\n", p.script)
	}
	b.WriteString("<script>\n")
	for i, p := range slatePlayers {
		code := strings.NewReplacer("$REPORT", "r", "$VIDEO", fmt.Sprintf(`document.getElementById("v%d")`, i), "$URL", fmt.Sprintf("%q", url+p.playlist)).Replace(p.play)
		fmt.Fprintf(&b, "(() => { const r = window.players[%q] = { errors: [], fatal: null, video: %d };\n try {%s\n } catch (e) { r.fatal = String(e); } })();\n", p.name, i, code)
	}
	b.WriteString("</script></body></html>\n")
	return b.String()
}

// slateSample is one look at every player.
type slateSample struct {
	At      time.Time
	Players map[string]struct {
		T      float64  `json:"t"`
		Frames int      `json:"frames"`
		Fatal  *string  `json:"fatal"`
		Errors []string `json:"errors"`
		Behind float64  `json:"behind"` // seconds behind the end of what is seekable (the live edge)
	}
}

const slateSampleJS = `(() => { const out = {}; if (!window.players) return out; for (const [name, r] of Object.entries(window.players)) {
  const v = document.querySelectorAll("video")[r.video]; const s = v.seekable;
  out[name] = { t: v.currentTime, frames: v.getVideoPlaybackQuality().totalVideoFrames, fatal: r.fatal, errors: r.errors,
    behind: s.length ? s.end(s.length - 1) - v.currentTime : -1 };
  } return out; })()`

// TestPlayersThroughSlate: the publisher vanishes for about 4 s and comes
// back. hls.js, Shaka Player and video.js, side by side in headless
// Chromium, play through the slate (the last frame, silent audio) without a
// fatal error or a reload, and then play the publisher's media again at
// the live edge.
func TestPlayersThroughSlate(t *testing.T) {
	requireTools(t, "ffmpeg", "chromium")
	libs := filepath.Join(webDir, "node_modules")
	for _, p := range slatePlayers {
		if _, err := os.Stat(filepath.Join(libs, p.script)); err != nil {
			t.Fatalf("%s is missing in %s: install it with `make deps`", p.name, libs)
		}
	}
	e := startEdge(t, contractStreams, "hls: {slate: true}\n") // it ships off (failover.SlateShips)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	url := e.srtURL("#!::r=cam1,m=publish", "correct-horse-battery", 16)
	pub := publishFile(t, ctx, url)
	e.waitPlaylist("/live/cam1/source/index.m3u8", 3, 30*time.Second)

	mux := http.NewServeMux()
	mux.Handle("GET /lib/", http.StripPrefix("/lib/", http.FileServer(http.Dir(libs))))
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, slatePage(e.httpURL+"/live/cam1/"))
	})
	page := httptest.NewServer(mux)
	defer page.Close()
	b := browser.Start(t)
	b.Navigate(t, page.URL+"/")

	var samples []slateSample
	sample := func() slateSample {
		t.Helper()
		s := slateSample{At: time.Now()}
		if err := b.Eval(slateSampleJS, &s.Players); err != nil {
			t.Fatal(err)
		}
		for name, p := range s.Players {
			if p.Fatal != nil {
				t.Fatalf("%s: fatal error %s (errors %v); samples:\n%s", name, *p.Fatal, p.Errors, summarizeSlate(samples))
			}
		}
		samples = append(samples, s)
		return s
	}
	watch := func(d time.Duration) {
		for end := time.Now().Add(d); time.Now().Before(end); time.Sleep(250 * time.Millisecond) {
			sample()
		}
	}
	// Every player plays before the gap.
	deadline := time.Now().Add(40 * time.Second)
	for {
		s := sample()
		playing := 0
		for _, p := range s.Players {
			if p.T > 1 {
				playing++
			}
		}
		if playing == len(slatePlayers) {
			break
		}
		if time.Now().After(deadline) {
			var doc string
			_ = b.Eval(`location.href + " " + document.documentElement.outerHTML.slice(0, 3000)`, &doc)
			t.Fatalf("not every player plays: %+v\n%s", s.Players, doc)
		}
		time.Sleep(250 * time.Millisecond)
	}
	watch(3 * time.Second)
	// A reload (a new player, or the page again) would reset this.
	if err := b.Eval(`(window.notReloaded = true)`, new(bool)); err != nil {
		t.Fatal(err)
	}

	pub.kill()
	gapStart := sample()
	watch(4 * time.Second)
	publishFile(t, ctx, url)
	gapEnd := sample()
	gap := gapEnd.At.Sub(gapStart.At).Seconds()
	if _, pl := e.get("/live/cam1/source/index.m3u8"); !strings.Contains(pl, "#EXT-X-DISCONTINUITY") {
		t.Errorf("no EXT-X-DISCONTINUITY in the playlist around the slate")
	}
	// Back at the live edge, playing the publisher's media (30 fps; the
	// slate shows one frame per part, 5 fps).
	resumed := len(samples)
	watch(12 * time.Second)
	last := samples[len(samples)-1]
	before := samples[len(samples)-1-12] // 3 s earlier
	var notReloaded bool
	if err := b.Eval(`window.notReloaded === true`, &notReloaded); err != nil || !notReloaded {
		t.Errorf("the page was reloaded (%v)", err)
	}
	for _, p := range slatePlayers {
		name := p.name
		through := gapEnd.Players[name].T - gapStart.Players[name].T
		// The best frame rate over 3 s after the gap: a loaded machine's
		// Chromium may drop a while, the slate never shows more than 5.
		var best float64
		for i := resumed; i+12 < len(samples); i++ {
			a, z := samples[i], samples[i+12]
			best = max(best, float64(z.Players[name].Frames-a.Players[name].Frames)/z.At.Sub(a.At).Seconds())
		}
		t.Logf("%s: currentTime +%.2f s over the %.1f s gap; after it up to %.1f frames/s, %.2f s behind the live edge; non-fatal errors %v",
			name, through, gap, best, last.Players[name].Behind, last.Players[name].Errors)
		// Without the slate the player stops within its hold-back (under
		// a second here) and waits out the gap.
		if through < gap/2 {
			t.Errorf("%s: currentTime advanced %.2f s during a %.1f s gap: it did not play through the slate", name, through, gap)
		}
		if last.Players[name].T-before.Players[name].T < 1.5 {
			t.Errorf("%s: currentTime %.2f → %.2f in the last 3 s: not playing after the gap", name, before.Players[name].T, last.Players[name].T)
		}
		// Past the filler: when the publisher came back, the filler ended
		// within a second of the live edge the player then trailed.
		if end := gapEnd.Players[name].T + gapEnd.Players[name].Behind + 1; last.Players[name].T < end+1 {
			t.Errorf("%s: at currentTime %.2f, not past the filler (it ends near %.2f)", name, last.Players[name].T, end)
		}
		if best < 12 {
			t.Errorf("%s: %.1f frames/s at most after the gap: still the slate, not the publisher's media", name, best)
		}
		if b := last.Players[name].Behind; b < 0 || b > 10 {
			t.Errorf("%s: %.2f s behind the live edge after the gap", name, b)
		}
	}
	if t.Failed() {
		var reqs []string
		_ = b.Eval(`window.requests`, &reqs)
		t.Logf("samples:\n%s\nrequests:\n%s", summarizeSlate(samples), strings.Join(reqs, "\n"))
	}
}

func summarizeSlate(samples []slateSample) string {
	var b strings.Builder
	for _, s := range samples {
		fmt.Fprintf(&b, "%s", s.At.Format("15:04:05.0"))
		for _, p := range slatePlayers {
			v := s.Players[p.name]
			fmt.Fprintf(&b, "  %s t=%.2f f=%d behind=%.2f", p.name, v.T, v.Frames, v.Behind)
		}
		b.WriteByte('\n')
	}
	return b.String()
}
