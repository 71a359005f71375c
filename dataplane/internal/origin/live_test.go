package origin

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// liveStream is a real packager stream fed with 5 s of real media (1 s
// segments) and left live: its open segment has parts and a preload hint.
func liveStream(t *testing.T) *packager.Muxer {
	t.Helper()
	data, err := os.ReadFile(testkit.MakeTS(t, t.TempDir(), testkit.TS{Seconds: 5}))
	if err != nil {
		t.Fatal(err)
	}
	s := packager.NewMuxer("cam1", packager.Config{SegmentDuration: time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	t.Cleanup(s.Close)
	if err := s.Rendition("source").WriteTS(data); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for s.Stats().SegmentsWritten < 3 || s.Stats().PartsWritten < 20 {
		if time.Now().After(deadline) {
			t.Fatalf("the packager did not cut the media: %+v", s.Stats())
		}
		time.Sleep(10 * time.Millisecond)
	}
	return s
}

type answer struct {
	status int
	header http.Header
	err    error
}

func fetch(method, url string) answer {
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		return answer{err: err}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return answer{err: err}
	}
	defer res.Body.Close()
	_, err = io.Copy(io.Discard, res.Body)
	return answer{res.StatusCode, res.Header, err}
}

// Every kind of answer reaches the viewer through the origin's server with
// the packager's status, Content-Type, Cache-Control and ETag untouched;
// the origin adds CORS and nothing else.
func TestLiveHeadersComeFromThePackager(t *testing.T) {
	ps := liveStream(t)
	direct := httptest.NewServer(ps) // the packager alone
	t.Cleanup(direct.Close)
	o, err := Listen(Options{
		Listen:     "127.0.0.1:0",
		CORSOrigin: "*",
		Packagers: func(name string) http.Handler {
			if name == "cam1" {
				return ps
			}
			return nil
		},
		Requests: &lockedCounter{c: counter{}}, // the subtests run in parallel
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	go o.Serve()
	t.Cleanup(o.Close)
	origin := "http://" + o.Addr().String()

	pl, err := playlist.Unmarshal(mustBody(t, direct.URL+"/live/cam1/source/index.m3u8"))
	if err != nil {
		t.Fatal(err)
	}
	m, ok := pl.(*playlist.Media)
	if !ok || m.PreloadHint == nil || m.Map == nil || len(m.Parts) == 0 || m.MediaSequence+len(m.Segments) < 2 {
		t.Fatalf("the stream is not live with parts: %+v", pl)
	}
	open := m.MediaSequence + len(m.Segments)
	last := open - 1

	for _, tc := range []struct{ name, method, path string }{
		{"multivariant", "GET", "index.m3u8"},
		{"media playlist", "GET", "source/index.m3u8"},
		{"blocking reload", "GET", fmt.Sprintf("source/index.m3u8?_HLS_msn=%d&_HLS_part=0", open)},
		{"classic playlist", "GET", "source/classic.m3u8"},
		{"part", "GET", "source/" + m.Parts[0].URI},
		{"segment", "GET", fmt.Sprintf("source/seg%d.m4s", last)},
		{"init", "GET", "source/" + m.Map.URI},
		{"init alias", "GET", "source/init.mp4"},
		{"classic segment", "GET", fmt.Sprintf("source/seg%d.ts", last)},
		{"head", "HEAD", fmt.Sprintf("source/seg%d.m4s", last)},
		{"400", "GET", "source/index.m3u8?_HLS_part=1"},
		{"404 unknown rendition", "GET", "nosuch/index.m3u8"},
		{"404 future part", "GET", fmt.Sprintf("source/part%d.%d.m4s", open, len(m.Parts)+1)},
		{"503", "GET", fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", open+1)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // the 503 waits for the packager's hold
			fromPackager := make(chan answer, 1)
			go func() { fromPackager <- fetch(tc.method, direct.URL+"/live/cam1/"+tc.path) }()
			got := fetch(tc.method, origin+"/live/cam1/"+tc.path)
			want := <-fromPackager
			if got.err != nil || want.err != nil {
				t.Fatalf("through the origin: %v; from the packager: %v", got.err, want.err)
			}
			if got.status != want.status {
				t.Fatalf("status %d through the origin, %d from the packager", got.status, want.status)
			}
			for _, h := range []string{"Content-Type", "Cache-Control", "ETag"} {
				if got.header.Get(h) != want.header.Get(h) {
					t.Errorf("%s %q through the origin, %q from the packager", h, got.header.Get(h), want.header.Get(h))
				}
			}
			if want.header.Get("Cache-Control") == "" {
				t.Error("the packager sent no Cache-Control")
			}
			if got.header.Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header through the origin")
			}
		})
	}
}

func mustBody(t *testing.T, url string) []byte {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", url, res.StatusCode, err)
	}
	return b
}

// The origin passes whatever the packager says, answers what it refuses
// itself (no such stream, a method other than GET/HEAD) as the packager
// answers errors, and counts every request by kind and status.
func TestLivePassThroughAndMetrics(t *testing.T) {
	s, fp, reqs := newTestServer(t, nil)
	h := s.routes()
	tests := []struct {
		method, path, cache, ctype string
		code                       int
	}{
		{"GET", "/live/cam1/index.m3u8", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/index.m3u8", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/index.m3u8?_HLS_msn=3&_HLS_part=1", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/classic.m3u8", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/init.mp4", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/init7.mp4", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/seg3.m4s", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/part3.1.m4s", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/seg3.ts", fakeCache, fakeType, 200},
		{"GET", "/live/cam1/source/part9.9.m4s", fakeCache, "text/plain; charset=utf-8", 404},
		// The origin's own refusals.
		{"GET", "/live/nope/index.m3u8", "no-store", "text/plain; charset=utf-8", 404},
		{"POST", "/live/cam1/source/seg3.m4s", "no-store", "text/plain; charset=utf-8", 405},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.code {
				t.Fatalf("code %d", rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.cache {
				t.Errorf("Cache-Control %q, want %q", got, tt.cache)
			}
			if got := rec.Header().Get("Content-Type"); got != tt.ctype {
				t.Errorf("Content-Type %q, want %q", got, tt.ctype)
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Error("no CORS header")
			}
		})
	}
	if fp.lastPath != "source/part9.9.m4s" {
		t.Fatalf("packager saw %q (the /live/<stream>/ prefix must be stripped)", fp.lastPath)
	}
	want := counter{
		"multivariant OK": 1, "playlist OK": 3, "init OK": 2, "segment OK": 2, "part OK": 1,
		"part Not Found": 1, "multivariant Not Found": 1, "segment Method Not Allowed": 1,
	}
	if fmt.Sprint(reqs) != fmt.Sprint(want) {
		t.Fatalf("request counters %v, want %v", reqs, want)
	}
}
