package origin

import (
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakePackager answers like a packager: known objects 200, others 404.
type fakePackager struct{ lastPath string }

func (f *fakePackager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.lastPath = r.URL.Path
	switch r.URL.Path {
	case "index.m3u8", "source/index.m3u8", "source/init7.mp4", "source/classic.m3u8", "source/init.mp4", "source/seg3.m4s", "source/part3.1.m4s", "source/seg3.ts":
		w.Header().Set("Cache-Control", "whatever the packager thinks")
		io.WriteString(w, "body")
	default:
		http.NotFound(w, r)
	}
}

type counter map[string]int

func (c counter) ObserveRequest(kind string, code int) { c[kind+" "+http.StatusText(code)]++ }

func newTestServer(t *testing.T, ready func() error) (*Server, *fakePackager, counter) {
	t.Helper()
	web := t.TempDir()
	dist := filepath.Join(web, "node_modules", "hls.js", "dist")
	os.MkdirAll(dist, 0o755)
	os.WriteFile(filepath.Join(dist, "hls.min.js"), []byte("/* hls */"), 0o644)
	fp := &fakePackager{}
	reqs := counter{}
	s, err := Listen(Options{
		Listen:     "127.0.0.1:0",
		CORSOrigin: "*",
		WebDir:     web,
		Packagers: func(name string) http.Handler {
			if name == "cam1" {
				return fp
			}
			return nil
		},
		Streams:  func() any { return []map[string]string{{"name": "cam1", "state": "idle"}} },
		Ready:    ready,
		Requests: reqs,
		Log:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.ln.Close() })
	return s, fp, reqs
}

func TestLiveHeaders(t *testing.T) {
	s, fp, reqs := newTestServer(t, nil)
	h := s.routes()
	tests := []struct {
		path, cache, ctype string
		code               int
	}{
		{"/live/cam1/index.m3u8", cachePlaylist, "application/vnd.apple.mpegurl", 200},
		{"/live/cam1/source/index.m3u8", cachePlaylist, "application/vnd.apple.mpegurl", 200},
		{"/live/cam1/source/index.m3u8?_HLS_msn=3&_HLS_part=1", cacheBlocking, "application/vnd.apple.mpegurl", 200},
		{"/live/cam1/source/classic.m3u8", cachePlaylist, "application/vnd.apple.mpegurl", 200},
		{"/live/cam1/source/init.mp4", cacheInit, "video/mp4", 200},
		{"/live/cam1/source/init7.mp4", cacheImmutable, "video/mp4", 200},
		{"/live/cam1/source/seg3.m4s", cacheImmutable, "video/iso.segment", 200},
		{"/live/cam1/source/part3.1.m4s", cacheImmutable, "video/iso.segment", 200},
		{"/live/cam1/source/seg3.ts", cacheImmutable, "video/mp2t", 200},
		{"/live/cam1/source/part9.9.m4s", cacheError, "", 404},
		{"/live/nope/index.m3u8", cacheError, "", 404},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", tt.path, nil))
			if rec.Code != tt.code {
				t.Fatalf("code %d", rec.Code)
			}
			if got := rec.Header().Get("Cache-Control"); got != tt.cache {
				t.Fatalf("Cache-Control %q, want %q", got, tt.cache)
			}
			if tt.ctype != "" && rec.Header().Get("Content-Type") != tt.ctype {
				t.Fatalf("Content-Type %q", rec.Header().Get("Content-Type"))
			}
			if rec.Header().Get("Access-Control-Allow-Origin") != "*" {
				t.Fatal("no CORS header")
			}
		})
	}
	if fp.lastPath != "source/part9.9.m4s" {
		t.Fatalf("packager saw %q (the /live/<stream>/ prefix must be stripped)", fp.lastPath)
	}
	if reqs["part OK"] != 1 || reqs["init OK"] != 2 || reqs["playlist OK"] != 3 || reqs["part Not Found"] != 1 {
		t.Fatalf("request counters %v", reqs)
	}
}

func TestPreflight(t *testing.T) {
	s, _, _ := newTestServer(t, nil)
	req := httptest.NewRequest("OPTIONS", "/live/cam1/source/seg3.m4s", nil)
	req.Header.Set("Origin", "https://player.example")
	req.Header.Set("Access-Control-Request-Method", "GET")
	req.Header.Set("Access-Control-Request-Headers", "range")
	rec := httptest.NewRecorder()
	s.routes().ServeHTTP(rec, req)
	if rec.Code != http.StatusNoContent || rec.Header().Get("Access-Control-Allow-Headers") != "range" ||
		!strings.Contains(rec.Header().Get("Access-Control-Allow-Methods"), "GET") {
		t.Fatalf("preflight: %d %v", rec.Code, rec.Header())
	}
}

func TestOperationalEndpoints(t *testing.T) {
	notReady := errors.New("draining")
	var readyErr error
	s, _, _ := newTestServer(t, func() error { return readyErr })
	h := s.routes()
	get := func(path string) *httptest.ResponseRecorder {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", path, nil))
		return rec
	}
	if rec := get("/healthz"); rec.Code != 200 {
		t.Fatalf("healthz %d", rec.Code)
	}
	if rec := get("/readyz"); rec.Code != 200 {
		t.Fatalf("readyz %d", rec.Code)
	}
	readyErr = notReady
	if rec := get("/readyz"); rec.Code != 503 || !strings.Contains(rec.Body.String(), "draining") {
		t.Fatalf("readyz when draining: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/api/v1/streams"); rec.Code != 200 || !strings.Contains(rec.Body.String(), `"name": "cam1"`) || rec.Header().Get("Content-Type") != "application/json" {
		t.Fatalf("api: %d %s", rec.Code, rec.Body)
	}
	if rec := get("/"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "/hls.js/hls.min.js") {
		t.Fatalf("page: %d", rec.Code)
	}
	if rec := get("/hls.js/hls.min.js"); rec.Code != 200 || rec.Body.String() != "/* hls */" {
		t.Fatalf("hls.js: %d", rec.Code)
	}
	s.Close()
	if rec := get("/readyz"); rec.Code != 503 {
		t.Fatalf("readyz while closing: %d", rec.Code)
	}
}
