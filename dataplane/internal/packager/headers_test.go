package packager

import (
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/store"
)

// TestResponseHeaders pins what every kind of answer says to players and
// CDNs: status, Content-Type, Cache-Control and ETag. The stream is live
// (2 s segments, 200 ms parts, a window of two segments), so that expired,
// present and future objects all exist side by side.
func TestResponseHeaders(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12}))
	s, srv := newTestStream(t, Config{WindowSegments: 2})
	_, empty := newTestStream(t, Config{}) // a stream nobody publishes yet
	r := s.Rendition("source")
	feed(t, r, data[:len(data)*3/4/188*188])
	waitUntil(t, "four segments", func() bool { return s.Stats().SegmentsWritten >= 4 })
	settle(t, s)

	m := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	open := uint64(m.MediaSequence + len(m.Segments)) // the segment being cut
	parts := len(m.Parts)                             // its published parts
	if m.MediaSequence < 2 || parts == 0 || m.PreloadHint == nil || m.Map == nil {
		t.Fatalf("the stream is not where the table needs it (sequence %d, %d open parts, hint %v, map %v)",
			m.MediaSequence, parts, m.PreloadHint, m.Map)
	}
	expired := uint64(m.MediaSequence - 2) // out of the window and of the grace
	last := open - 1                       // the newest complete segment

	const (
		playlist  = "application/vnd.apple.mpegurl"
		fmp4      = "video/mp4"
		ts        = "video/mp2t"
		errorType = "text/plain; charset=utf-8"
		// Half a target duration (2 s) for plain reloads, six for blocking
		// ones, a year for media, nothing for errors.
		plain     = "public, max-age=1"
		blocking  = "public, max-age=12"
		immutable = "public, max-age=31536000, immutable"
		never     = "no-store"
	)
	cases := []struct {
		name, path string
		method     string // GET unless set
		notStarted bool   // ask the stream nobody publishes
		status     int
		ctype      string
		cache      string
		etag       bool
	}{
		{name: "multivariant", path: "index.m3u8", status: 200, ctype: playlist, cache: plain},
		{name: "classic multivariant", path: "classic.m3u8", status: 200, ctype: playlist, cache: plain},
		{name: "media playlist", path: "source/index.m3u8", status: 200, ctype: playlist, cache: plain},
		{name: "blocking reload, segment", path: fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", last), status: 200, ctype: playlist, cache: blocking},
		{name: "blocking reload, part", path: fmt.Sprintf("source/index.m3u8?_HLS_msn=%d&_HLS_part=%d", open, parts-1), status: 200, ctype: playlist, cache: blocking},
		{name: "classic playlist", path: "source/classic.m3u8", status: 200, ctype: playlist, cache: plain},
		{name: "part", path: "source/" + partName(open, 0), status: 200, ctype: fmp4, cache: immutable, etag: true},
		{name: "segment", path: "source/" + segName(last), status: 200, ctype: fmp4, cache: immutable, etag: true},
		{name: "init", path: "source/" + m.Map.URI, status: 200, ctype: fmp4, cache: immutable, etag: true},
		{name: "current init alias", path: "source/init.mp4", status: 200, ctype: fmp4, cache: plain, etag: true},
		{name: "classic segment", path: "source/" + tsName(last), status: 200, ctype: ts, cache: immutable, etag: true},

		{name: "400 part without msn", path: "source/index.m3u8?_HLS_part=1", status: 400, ctype: errorType, cache: never},
		{name: "400 beyond the live edge", path: fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", open+2), status: 400, ctype: errorType, cache: never},
		{name: "400 blocking classic playlist", path: "source/classic.m3u8?_HLS_msn=1", status: 400, ctype: errorType, cache: never},
		{name: "404 unknown rendition", path: "nosuch/index.m3u8", status: 404, ctype: errorType, cache: never},
		{name: "404 outside the stream", path: "source/../../etc/passwd", status: 404, ctype: errorType, cache: never},
		{name: "404 expired segment", path: "source/" + segName(expired), status: 404, ctype: errorType, cache: never},
		{name: "404 expired classic segment", path: "source/" + tsName(expired), status: 404, ctype: errorType, cache: never},
		{name: "404 future segment", path: "source/" + segName(open+1), status: 404, ctype: errorType, cache: never},
		{name: "404 future part beyond the hint", path: "source/" + partName(open, parts+1), status: 404, ctype: errorType, cache: never},
		// The hinted part is waited for (the hold, Config.Hold), then
		// refused: a CDN must not keep that 404 once the part exists.
		{name: "404 hinted part that never came", path: "source/" + m.PreloadHint.URI, status: 404, ctype: errorType, cache: never},
		{name: "404 stream not started", path: "index.m3u8", notStarted: true, status: 404, ctype: errorType, cache: never},
		{name: "405", path: "source/" + segName(last), method: http.MethodPost, status: 405, ctype: errorType, cache: never},
		// The next segment's completion, waited for the hold.
		{name: "503 blocking reload not satisfied in time", path: fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", open+1), status: 503, ctype: errorType, cache: never},
	}
	// In parallel: the two answers that wait do so at the same time.
	t.Run("kinds", func(t *testing.T) {
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				target := srv
				if tc.notStarted {
					target = empty
				}
				hdr := map[string]string{}
				if tc.method != "" {
					hdr["X-Method"] = tc.method
				}
				res := mustRequest(t, target, tc.path, hdr)
				if res.status != tc.status {
					t.Fatalf("status %d, want %d: %s", res.status, tc.status, res.body)
				}
				if got := res.header.Get("Content-Type"); got != tc.ctype {
					t.Errorf("Content-Type %q, want %q", got, tc.ctype)
				}
				if got := res.header.Get("Cache-Control"); got != tc.cache {
					t.Errorf("Cache-Control %q, want %q", got, tc.cache)
				}
				if etag := res.header.Get("ETag"); (etag != "") != tc.etag {
					t.Errorf("ETag %q, want one: %v", etag, tc.etag)
				}
			})
		}
	})
}

// Range and conditional requests (players and CDNs use both) keep the
// object's headers.
func TestRangeAndConditional(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5}))
	s, srv := newTestStream(t, Config{})
	feed(t, s.Rendition("source"), data)
	full := mustGet(t, srv, "source/seg1.m4s")
	res := mustRequest(t, srv, "source/seg1.m4s", map[string]string{"Range": "bytes=10-19"})
	if res.status != 206 || string(res.body) != string(full[10:20]) {
		t.Errorf("Range: status %d, %d bytes", res.status, len(res.body))
	}
	if cc := res.header.Get("Cache-Control"); cc != cacheImmutable {
		t.Errorf("Range: Cache-Control %q", cc)
	}
	etag := get(t, srv, "source/seg1.m4s").header.Get("ETag")
	res = mustRequest(t, srv, "source/seg1.m4s", map[string]string{"If-None-Match": etag})
	if res.status != 304 || res.header.Get("ETag") != etag || res.header.Get("Cache-Control") != cacheImmutable {
		t.Errorf("If-None-Match: status %d, headers %v", res.status, res.header)
	}
}

// A plain reload is never cached longer than half a target duration, a
// blocking one for six (Apple's recommendation), whatever the segment length.
func TestPlaylistCacheLifetimes(t *testing.T) {
	for _, tc := range []struct {
		segment         time.Duration
		plain, blocking string
	}{
		{500 * time.Millisecond, "no-cache", "public, max-age=6"},
		{time.Second, "no-cache", "public, max-age=6"},
		{2 * time.Second, "public, max-age=1", "public, max-age=12"},
		{4 * time.Second, "public, max-age=2", "public, max-age=24"},
		{6 * time.Second, "public, max-age=3", "public, max-age=36"},
	} {
		td := targetDuration(tc.segment)
		if got := playlistCache(td); got != tc.plain {
			t.Errorf("%v segments: plain reload %q, want %q", tc.segment, got, tc.plain)
		}
		if got := blockingCache(td); got != tc.blocking {
			t.Errorf("%v segments: blocking reload %q, want %q", tc.segment, got, tc.blocking)
		}
	}
}

// A whole object is written at once instead of through http.ServeContent;
// the answer must be the one ServeContent gives, and every other request
// (ranges, conditions) still goes through ServeContent.
func TestWholeObjectAsServeContent(t *testing.T) {
	o := &store.Object{Name: "part3.1.m4s", Data: bytes.Repeat([]byte("moof"), 20000), ModTime: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ETag: `"50000-abcd"`}
	for _, tc := range []struct {
		method  string
		headers map[string]string
		whole   bool
	}{
		{"GET", nil, true},
		{"HEAD", nil, true},
		{"GET", map[string]string{"Range": "bytes=0-9"}, false},
		{"GET", map[string]string{"If-None-Match": o.ETag}, false},
		{"GET", map[string]string{"If-Modified-Since": o.ModTime.Format(http.TimeFormat)}, false},
		{"GET", map[string]string{"If-Match": `"other"`}, false},
	} {
		req := httptest.NewRequest(tc.method, "/source/"+o.Name, nil)
		for k, v := range tc.headers {
			req.Header.Set(k, v)
		}
		if got := wholeObject(req); got != tc.whole {
			t.Errorf("%s %v: whole object %v, want %v", tc.method, tc.headers, got, tc.whole)
		}
		got := httptest.NewRecorder()
		serveObject(got, req, o, cacheImmutable)
		want := httptest.NewRecorder()
		want.Header().Set("Content-Type", mediaType(o.Name))
		want.Header().Set("Cache-Control", cacheImmutable)
		want.Header().Set("ETag", o.ETag)
		http.ServeContent(want, req, "", o.ModTime, bytes.NewReader(o.Data))
		if got.Code != want.Code || !bytes.Equal(got.Body.Bytes(), want.Body.Bytes()) {
			t.Errorf("%s %v: %d with %d bytes, ServeContent gives %d with %d", tc.method, tc.headers, got.Code, got.Body.Len(), want.Code, want.Body.Len())
		}
		if !reflect.DeepEqual(got.Header(), want.Header()) {
			t.Errorf("%s %v: headers %v, ServeContent gives %v", tc.method, tc.headers, got.Header(), want.Header())
		}
	}
}
