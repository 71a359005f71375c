package recording

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/zonecast/zonecast/dataplane/e2e/browser"
	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// rewindPage plays the rewind playlist with hls.js in low-latency mode and
// keeps what the test reads: errors, and every fragment buffered.
const rewindPage = `<!doctype html><html><body>
<video id="video" muted autoplay playsinline></video>
<script src="/hls.js/hls.min.js"></script>
<script>
"use strict";
window.player = { errors: [], fatal: null, url: "/live/cam1/rewind.m3u8", frags: [] };
const video = document.getElementById("video");
const hls = new Hls({ lowLatencyMode: true, backBufferLength: 30 });
window.hlsInstance = hls;
hls.on(Hls.Events.ERROR, (ev, d) => { window.player.errors.push(d.type + ":" + d.details); if (d.fatal) window.player.fatal = d.details; });
hls.on(Hls.Events.FRAG_BUFFERED, (ev, d) => { window.player.frags.push(d.frag.url); });
hls.loadSource(window.player.url);
hls.attachMedia(video);
video.play().catch(() => {});
</script></body></html>`

// liveFFmpeg publishes a test pattern and a tone in real time (-re) into
// the rendition until the test ends.
func liveFFmpeg(t *testing.T, r *packager.Rendition) {
	t.Helper()
	testkit.RequireTools(t, "ffmpeg")
	cmd := exec.Command("ffmpeg", "-hide_banner", "-loglevel", "error", "-re",
		"-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30", "-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000",
		"-c:v", "libx264", "-preset", "veryfast", "-pix_fmt", "yuv420p", "-g", "30", "-keyint_min", "30", "-sc_threshold", "0", "-bf", "0",
		"-c:a", "aac", "-b:a", "64k", "-f", "mpegts", "-flush_packets", "1", "pipe:1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	var stderr testkit.Output
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		buf := make([]byte, 188*64)
		for {
			n, err := out.Read(buf)
			if n > 0 {
				if werr := r.WriteTS(buf[:n]); werr != nil {
					return
				}
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		cmd.Wait()
		<-done
		if s := stderr.String(); s != "" {
			t.Logf("ffmpeg: %s", s)
		}
	})
}

// vodFromBucket stands in for the edge's /vod/ route: the recording
// bucket's objects under the recorder's prefix, read with the S3 API.
func vodFromBucket(client *s3.Client, bucket, prefix string, log func(string, int)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		key := prefix + "/" + strings.TrimPrefix(req.URL.Path, "/vod/")
		out, err := client.GetObject(req.Context(), &s3.GetObjectInput{Bucket: aws.String(bucket), Key: aws.String(key)})
		if err != nil {
			log(req.URL.Path, http.StatusNotFound)
			http.Error(w, err.Error(), http.StatusNotFound)
			return
		}
		defer out.Body.Close()
		w.Header().Set("Content-Type", aws.ToString(out.ContentType))
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		io.Copy(w, out.Body)
		log(req.URL.Path, http.StatusOK)
	})
}

// requests counts what the player asked the node for.
type requests struct {
	mu                   sync.Mutex
	full, delta, blocked int // rewind playlist fetches
	vodOK, vodMissing    int
	failed               []string
}

func (r *requests) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		sw := &codeWriter{ResponseWriter: w, code: http.StatusOK}
		h.ServeHTTP(sw, req)
		if !strings.HasSuffix(req.URL.Path, "/"+rewindName) {
			return
		}
		r.mu.Lock()
		defer r.mu.Unlock()
		q := req.URL.Query()
		switch {
		case sw.code != http.StatusOK:
			r.failed = append(r.failed, req.URL.String()+" "+http.StatusText(sw.code))
		case q.Get("_HLS_skip") != "":
			r.delta++
		case strings.Count(req.URL.Path, "/") == 4: // a media playlist, not the multivariant
			r.full++
		}
		if q.Get("_HLS_msn") != "" {
			r.blocked++
		}
	})
}

func (r *requests) vod(path string, code int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if code == http.StatusOK {
		r.vodOK++
	} else {
		r.vodMissing++
		r.failed = append(r.failed, path+" "+http.StatusText(code))
	}
}

type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

// seekState is what the test reads of the player around a seek.
type seekState struct {
	T       float64  `json:"t"`
	Live    float64  `json:"live"`    // hls.js's live sync position
	Latency float64  `json:"latency"` // hls.js: live edge minus playhead
	Start   float64  `json:"start"`   // the seekable range
	End     float64  `json:"end"`
	Paused  bool     `json:"paused"`
	Fatal   *string  `json:"fatal"`
	Errors  []string `json:"errors"`
	VOD     int      `json:"vod"` // fragments buffered from the bucket
	Frags   int      `json:"frags"`
}

const seekStateJS = `(() => { const v = document.getElementById("video"); const h = window.hlsInstance;
 const s = v.seekable; return { t: v.currentTime, live: h.liveSyncPosition || 0, latency: h.latency || 0,
  start: s.length ? s.start(0) : -1, end: s.length ? s.end(s.length - 1) : -1, paused: v.paused,
  fatal: window.player.fatal, errors: window.player.errors,
  vod: window.player.frags.filter(u => u.includes("/vod/")).length, frags: window.player.frags.length }; })()`

func (st seekState) String() string {
	return fmt.Sprintf("t=%.2f live=%.2f latency=%.2f seekable=[%.2f,%.2f] paused=%v fragments=%d (%d from the bucket)",
		st.T, st.Live, st.Latency, st.Start, st.End, st.Paused, st.Frags, st.VOD)
}

// Seek into the rewind window while live, and come back to live: a real
// ffmpeg publishes in real time into the packager, the recorder writes it
// to a real S3-API server (versitygw), and hls.js in Chromium plays the
// rewind playlist. It starts at the live edge; it can seek 25 s back, into
// segments served from the bucket, and plays on from there; it returns to
// the live edge and plays near it. Its reloads are blocking delta updates.
func TestRewindInChromium(t *testing.T) {
	testkit.RequireTools(t, "ffmpeg", "chromium")
	hlsDir := filepath.Join(testkit.RepoRoot(), "web", "node_modules", "hls.js", "dist")
	if _, err := os.Stat(filepath.Join(hlsDir, "hls.min.js")); err != nil {
		t.Fatalf("hls.js not installed (%v): run `make deps` (npm install in web/)", err)
	}
	g := newRig(t, func(c *config.Recording, o *Options) {
		c.Rewind = 2 * time.Minute
		o.CheckpointInterval = 5 * time.Second
	})
	rw := NewRewind(g.rec)
	if rw == nil {
		t.Fatal("no rewind with a window configured")
	}
	ps := packager.NewMuxer("cam1", packager.Config{}, nil)
	t.Cleanup(ps.Close)
	liveFFmpeg(t, ps.Rendition("source"))

	ctx, cancel := context.WithCancel(context.Background())
	followed := make(chan struct{})
	go func() {
		defer close(followed)
		g.rec.Follow(ctx, "cam1", ps, func() uint64 { return 1 }, 100*time.Millisecond)
	}()
	t.Cleanup(func() { cancel(); <-followed })

	var reqs requests
	mux := http.NewServeMux()
	mux.Handle("/live/cam1/", rw.Wrap("cam1", ps, ps))
	mux.Handle("/vod/", vodFromBucket(clientFor(g.srv.Endpoint), testBucket, g.cfg.Prefix, reqs.vod))
	mux.Handle("/hls.js/", http.StripPrefix("/hls.js/", http.FileServer(http.Dir(hlsDir))))
	mux.HandleFunc("/{$}", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, rewindPage)
	})
	srv := httptest.NewServer(reqs.wrap(mux))
	t.Cleanup(srv.Close)

	// 40 s recorded: the window then holds more than the seek needs.
	waitForLong(t, "40 s of the stream in the bucket", 120*time.Second, func() bool {
		v, ok := g.rec.ledger.view("cam1", "source")
		return ok && len(v.segs) >= 20
	})

	b := browser.Start(t)
	b.Navigate(t, srv.URL+"/")
	b.WaitPlaying(t, 1, 45*time.Second)
	read := func() seekState {
		t.Helper()
		var st seekState
		if err := b.Eval(seekStateJS, &st); err != nil {
			t.Fatal(err)
		}
		if st.Fatal != nil {
			t.Fatalf("hls.js fatal error %s (errors %v)", *st.Fatal, st.Errors)
		}
		return st
	}
	// waitState polls the player until cond holds (a bound for a loaded
	// machine, not a speed requirement).
	waitState := func(what string, cond func(seekState) bool) seekState {
		t.Helper()
		deadline := time.Now().Add(45 * time.Second)
		for {
			st := read()
			if cond(st) {
				return st
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: never; player %v (errors %v)", what, st, st.Errors)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
	// plays checks that the playhead moves on by three seconds (after a
	// rebuffer, if the seek needs one).
	plays := func(what string) seekState {
		t.Helper()
		from := read().T
		return waitState(what, func(s seekState) bool { return !s.Paused && s.T >= from+3 })
	}

	// Tuned in at the live edge, with the recorded past seekable.
	st := waitState("playing near the live edge with the past seekable", func(s seekState) bool {
		return !s.Paused && s.Live > 0 && s.Latency < 10 && s.Live-s.Start >= 35
	})
	t.Logf("tuned in: %v", st)

	// Seek 25 s back: into segments the live playlist no longer lists,
	// which come from the bucket.
	target := st.Live - 25
	var ignored any
	if err := b.Eval("(() => { document.getElementById('video').currentTime = "+strconv.FormatFloat(target, 'f', 3, 64)+"; return true; })()", &ignored); err != nil {
		t.Fatal(err)
	}
	st = waitState("playing 25 s back", func(s seekState) bool {
		return !s.Paused && s.T >= target+1 && s.T < target+10
	})
	st = plays("in the rewind window")
	if st.Latency < 18 {
		t.Fatalf("after seeking 25 s back the player is %.1f s from live: %v", st.Latency, st)
	}
	if st.VOD == 0 {
		t.Fatalf("no fragment came from the bucket: %v", st)
	}
	t.Logf("rewound: %v, %d fragments from the bucket", st, st.VOD)

	// And back to live, as a player's "live" button does.
	if err := b.Eval("(() => { document.getElementById('video').currentTime = window.hlsInstance.liveSyncPosition; return true; })()", &ignored); err != nil {
		t.Fatal(err)
	}
	st = waitState("back at the live edge", func(s seekState) bool { return !s.Paused && s.Latency < 8 })
	st = plays("back at the live edge")
	if st.Latency >= 8 {
		t.Fatalf("back to live, yet %.1f s behind: %v", st.Latency, st)
	}
	t.Logf("back to live: %v; non-fatal hls.js errors %v", st, st.Errors)

	reqs.mu.Lock()
	defer reqs.mu.Unlock()
	t.Logf("rewind playlist: %d full fetches, %d delta updates, %d blocking; %d segments from the bucket", reqs.full, reqs.delta, reqs.blocked, reqs.vodOK)
	if len(reqs.failed) > 0 {
		t.Fatalf("failed requests: %v", reqs.failed)
	}
	if reqs.delta == 0 || reqs.blocked == 0 || reqs.delta < 4*reqs.full {
		t.Fatalf("reloads were not mostly blocking delta updates: %d full, %d delta, %d blocking", reqs.full, reqs.delta, reqs.blocked)
	}
}

// waitForLong polls cond every 250 ms for up to d.
func waitForLong(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, d)
		}
		time.Sleep(250 * time.Millisecond)
	}
}
