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
	"sync"
	"testing"
)

// fakePackager answers like a packager: known objects 200, others 404,
// with headers no origin would make up, so that a test sees whether the
// origin passed them through.
type fakePackager struct{ lastPath string }

const (
	fakeCache = "whatever the packager thinks"
	fakeType  = "application/x-packager-decides"
)

func (f *fakePackager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.lastPath = r.URL.Path
	switch r.URL.Path {
	case "index.m3u8", "source/index.m3u8", "source/init7.mp4", "source/classic.m3u8", "source/init.mp4", "source/seg3.m4s", "source/part3.1.m4s", "source/seg3.ts":
		w.Header().Set("Cache-Control", fakeCache)
		w.Header().Set("Content-Type", fakeType)
		io.WriteString(w, "body")
	default:
		w.Header().Set("Cache-Control", fakeCache)
		http.NotFound(w, r)
	}
}

type counter map[string]int

func (c counter) ObserveRequest(kind string, code int) { c[kind+" "+http.StatusText(code)]++ }

// lockedCounter is a counter for concurrent requests.
type lockedCounter struct {
	mu sync.Mutex
	c  counter
}

func (l *lockedCounter) ObserveRequest(kind string, code int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.c.ObserveRequest(kind, code)
}

func newTestServer(t *testing.T, ready func() error, tweak ...func(*Options)) (*Server, *fakePackager, counter) {
	t.Helper()
	web := t.TempDir()
	dist := filepath.Join(web, "node_modules", "hls.js", "dist")
	os.MkdirAll(dist, 0o755)
	os.WriteFile(filepath.Join(dist, "hls.min.js"), []byte("/* hls */"), 0o644)
	fp := &fakePackager{}
	reqs := counter{}
	opts := Options{
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
	}
	for _, f := range tweak {
		f(&opts)
	}
	s, err := Listen(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	t.Cleanup(func() { s.ln.Close() })
	return s, fp, reqs
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
