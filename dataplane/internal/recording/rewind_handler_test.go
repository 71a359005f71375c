package recording

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// The rewind handler in front of a real packager (ffmpeg-made media): what
// it serves itself, what it passes on, and the packager's headers and
// errors on both.
func TestRewindHandler(t *testing.T) {
	ps := packager.NewMuxer("cam1", packager.Config{WindowSegments: 3}, nil)
	defer ps.Close()
	if err := ps.Rendition("source").WriteTS(makeTS(t, t.TempDir(), "320x180", 12, 10)); err != nil {
		t.Fatal(err)
	}
	edge, ok := ps.Edge("source")
	if !ok || len(edge.Segments) != 3 {
		t.Fatalf("edge %+v", edge)
	}
	liveFirst := edge.Segments[0].MSN
	last := edge.Segments[2].MSN
	rw := &Rewind{ledger: newLedger(time.Hour), window: time.Hour}
	// The bucket holds what the window has left behind.
	completed := ps.Completed("source", 0)
	if len(completed) == 0 || completed[0].MSN >= liveFirst {
		t.Fatalf("nothing out of the live window to record: %d segments from %d", len(completed), liveFirst)
	}
	recFirst := "#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(completed[0].MSN, 10) + "\n"
	for _, c := range completed {
		rw.ledger.put("cam1", "rec1", "source", manifestSeg{MSN: c.MSN, Duration: c.Duration, PDT: c.ProgramDateTime, Init: c.Init})
	}
	h := rw.Wrap("cam1", ps, ps)
	lastS := strconv.FormatUint(last, 10)
	cases := []struct {
		name, method, path string
		code               int
		cache, typ         string
		has                []string
	}{
		{"multivariant", "GET", "/live/cam1/rewind.m3u8", 200, "public, max-age=1", "application/vnd.apple.mpegurl", []string{"source/rewind.m3u8"}},
		{"media playlist", "GET", "/live/cam1/source/rewind.m3u8", 200, "public, max-age=1", "application/vnd.apple.mpegurl",
			[]string{"CAN-SKIP-UNTIL=12.00000", recFirst, "../../../vod/cam1/rec1/source/" + SegmentName(completed[0].MSN), "\nseg" + strconv.FormatUint(liveFirst, 10) + ".m4s\n"}},
		{"paths without the prefix, as the origin passes them", "GET", "/source/rewind.m3u8", 200, "public, max-age=1", "application/vnd.apple.mpegurl", []string{recFirst}},
		{"delta update", "GET", "/live/cam1/source/rewind.m3u8?_HLS_skip=YES", 200, "public, max-age=1", "application/vnd.apple.mpegurl", []string{"#EXT-X-SKIP:SKIPPED-SEGMENTS="}},
		{"delta update with date ranges", "GET", "/live/cam1/source/rewind.m3u8?_HLS_skip=v2", 200, "public, max-age=1", "application/vnd.apple.mpegurl", []string{"#EXT-X-SKIP:"}},
		{"blocking reload, ready", "GET", "/live/cam1/source/rewind.m3u8?_HLS_msn=" + lastS + "&_HLS_skip=YES", 200, "public, max-age=12", "application/vnd.apple.mpegurl", []string{"#EXT-X-SKIP:"}},
		{"blocking reload too far ahead", "GET", "/live/cam1/source/rewind.m3u8?_HLS_msn=99999", 400, "no-store", "", nil},
		{"a part without its segment", "GET", "/live/cam1/source/rewind.m3u8?_HLS_part=1", 400, "no-store", "", nil},
		{"bad skip", "GET", "/live/cam1/source/rewind.m3u8?_HLS_skip=NO", 400, "no-store", "", nil},
		{"no such rendition", "GET", "/live/cam1/low/rewind.m3u8", 404, "no-store", "", nil},
		{"HEAD", "HEAD", "/live/cam1/source/rewind.m3u8", 200, "public, max-age=1", "application/vnd.apple.mpegurl", nil},
		{"live playlist passes through", "GET", "/live/cam1/source/index.m3u8", 200, "public, max-age=1", "application/vnd.apple.mpegurl", []string{"#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(liveFirst, 10)}},
		{"segment passes through", "GET", "/live/cam1/source/seg" + lastS + ".m4s", 200, "public, max-age=31536000, immutable", "video/mp4", nil},
		{"other methods pass through", "POST", "/live/cam1/source/rewind.m3u8", 405, "no-store", "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tc.method, tc.path, nil))
			body := w.Body.String()
			if w.Code != tc.code || w.Header().Get("Cache-Control") != tc.cache {
				t.Fatalf("%d %q, want %d %q: %s", w.Code, w.Header().Get("Cache-Control"), tc.code, tc.cache, body)
			}
			if tc.typ != "" && w.Header().Get("Content-Type") != tc.typ {
				t.Fatalf("Content-Type %q", w.Header().Get("Content-Type"))
			}
			for _, s := range tc.has {
				if !strings.Contains(body, s) {
					t.Fatalf("no %q in\n%s", s, body)
				}
			}
			if tc.method == "HEAD" && body != "" {
				t.Fatal("HEAD with a body")
			}
			if tc.method == "GET" && tc.code == http.StatusOK && strings.HasSuffix(strings.Split(tc.path, "?")[0], "/source/rewind.m3u8") {
				parseRewind(t, w.Body.Bytes())
			}
		})
	}
	// The rendered playlist is kept per state and rebuilt when the
	// bucket's account changes (here a late upload of an older number).
	get := func() string {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/live/cam1/source/rewind.m3u8", nil))
		return w.Body.String()
	}
	first, again := get(), get()
	if first != again {
		t.Fatal("the same state rendered twice differently")
	}
	older := completed[0]
	rw.ledger.put("cam1", "rec1", "source", manifestSeg{MSN: older.MSN - 1, Duration: older.Duration,
		PDT: older.ProgramDateTime.Add(-older.Duration), Init: older.Init})
	if want := "#EXT-X-MEDIA-SEQUENCE:" + strconv.FormatUint(older.MSN-1, 10) + "\n"; !strings.Contains(get(), want) {
		t.Fatalf("a stale playlist after the ledger changed: no %q", want)
	}

	var nilRewind *Rewind // rewind off
	if nilRewind.Wrap("cam1", ps, ps) != http.Handler(ps) {
		t.Fatal("a nil Rewind must leave the packager alone")
	}
}
