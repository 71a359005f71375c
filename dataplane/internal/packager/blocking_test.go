package packager

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

func TestBlockingReload(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 8}))
	// A hold long enough for a loaded machine to feed the media in: the
	// semantics, not the bound, are under test here.
	s, srv := newTestStream(t, Config{Hold: 10 * time.Second})
	r := s.Rendition("source")
	half := len(data) / 2 / 188 * 188
	feed(t, r, data[:half])
	waitUntil(t, "parts", func() bool { return s.Stats().PartsWritten > 3 })
	settle(t, s)

	m := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	if m.PreloadHint == nil {
		t.Fatal("no preload hint on a live playlist")
	}
	openMSN := m.MediaSequence + len(m.Segments)
	nextPart := len(m.Parts)
	hint := m.PreloadHint.URI
	if want := partName(uint64(openMSN), nextPart); hint != want {
		t.Fatalf("preload hint %s, want %s", hint, want)
	}

	// Requests for the future: the next part (playlist and the hinted part
	// itself) and the next segment's completion.
	type result struct {
		what string
		res  response
		at   time.Time
	}
	done := make(chan result, 3)
	for _, q := range []string{
		fmt.Sprintf("source/index.m3u8?_HLS_msn=%d&_HLS_part=%d", openMSN, nextPart),
		"source/" + hint,
		fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", openMSN),
	} {
		go func() { done <- result{q, get(t, srv, q), time.Now()} }()
	}
	select {
	case res := <-done:
		t.Fatalf("%s answered (%d) before the media existed", res.what, res.res.status)
	case <-time.After(300 * time.Millisecond):
	}
	fedAt := time.Now()
	feed(t, r, data[half:])
	for i := 0; i < 3; i++ {
		res := <-done
		if res.res.status != 200 {
			t.Fatalf("%s: status %d: %s", res.what, res.res.status, res.res.body)
		}
		if res.at.Before(fedAt) {
			t.Errorf("%s answered before the media was fed", res.what)
		}
		switch {
		case strings.Contains(res.what, "_HLS_part"):
			if !strings.Contains(string(res.res.body), hint) {
				t.Errorf("blocking reload answer lacks %s:\n%s", hint, res.res.body)
			}
			if cc := res.res.header.Get("Cache-Control"); !strings.Contains(cc, "max-age") {
				t.Errorf("blocking answer Cache-Control %q", cc)
			}
		case strings.Contains(res.what, "_HLS_msn"):
			if !strings.Contains(string(res.res.body), segName(uint64(openMSN))) {
				t.Errorf("segment %d not complete in the answer:\n%s", openMSN, res.res.body)
			}
		default:
			if ct := res.res.header.Get("Content-Type"); ct != "video/mp4" {
				t.Errorf("part content type %q", ct)
			}
			if cc := res.res.header.Get("Cache-Control"); cc != cacheImmutable {
				t.Errorf("part Cache-Control %q", cc)
			}
		}
	}

	// A request already satisfied answers at once; nonsense gets 400.
	for _, tc := range []struct {
		query  string
		status int
	}{
		{fmt.Sprintf("_HLS_msn=%d", m.MediaSequence), 200},
		{fmt.Sprintf("_HLS_msn=%d&_HLS_part=0", m.MediaSequence), 200},
		{"_HLS_part=1", 400},
		{"_HLS_msn=abc", 400},
		{"_HLS_msn=-1", 400},
		{"_HLS_msn=1&_HLS_part=x", 400},
		{"_HLS_msn=1&_HLS_msn=2", 400},
		{"_HLS_msn=999999", 400},
		{fmt.Sprintf("_HLS_msn=%d&_HLS_part=500", openMSN+1), 400},
	} {
		res := get(t, srv, "source/index.m3u8?"+tc.query)
		if res.status != tc.status {
			t.Errorf("?%s: status %d, want %d (%s)", tc.query, res.status, tc.status, res.body)
		}
	}
	if res := get(t, srv, "source/classic.m3u8?_HLS_msn=1"); res.status != 400 {
		t.Errorf("blocking reload on the classic playlist: %d", res.status)
	}
}

// A request that cannot be satisfied in time is answered when the hold
// ends, never later than the CDN's origin response timeout would allow and
// never hanging: 503 for a blocking reload, 404 for a hinted part and for
// the multivariant playlist of a stream that has not started. The default
// hold is the policy's for the cadence.
func TestHoldBound(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 3, NoAudio: true}))
	cfg := Config{SegmentDuration: time.Second, PartDuration: 200 * time.Millisecond}
	hold := failover.DefaultTimings.ForCadence(cfg.SegmentDuration, cfg.PartDuration).OriginHold
	if err := failover.DefaultTimings.ForCadence(cfg.SegmentDuration, cfg.PartDuration).Validate(); err != nil {
		t.Fatalf("the policy's timings for this cadence: %v", err)
	}
	s, srv := newTestStream(t, cfg)
	idle, empty := newTestStream(t, cfg)
	idle.Rendition("source").WriteTS(data[:188*20]) // fed (so waited for), nothing cut
	r := s.Rendition("source")
	feed(t, r, data)
	waitUntil(t, "a segment", func() bool { return s.Stats().SegmentsWritten > 0 })
	m := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	open := m.MediaSequence + len(m.Segments)
	cases := []struct {
		name   string
		srv    *httptest.Server
		path   string
		status int
	}{
		{"blocking reload of the segment after the open one", srv, fmt.Sprintf("source/index.m3u8?_HLS_msn=%d", open+1), 503},
		{"hinted part that never comes", srv, "source/" + m.PreloadHint.URI, 404},
		{"multivariant before the first segment", empty, "index.m3u8", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			res := get(t, c.srv, c.path)
			if res.status != c.status {
				t.Fatalf("status %d, want %d: %s", res.status, c.status, res.body)
			}
			if waited := time.Since(start); waited < hold {
				t.Errorf("gave up after %v, before the hold of %v", waited, hold)
			}
		})
	}
}
