package packager

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// A publisher reconnecting with new timestamps (and here a new resolution)
// continues the playlists with EXT-X-DISCONTINUITY and a new EXT-X-MAP; the
// media sequence never goes back.
func TestReconnectContinuesPlaylist(t *testing.T) {
	dir := t.TempDir()
	first := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7}))
	second := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7, Size: "640x360", Offset: 5000}))
	same := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, Offset: 20}))
	s, srv := newTestStream(t, Config{WindowSegments: 20})
	r := s.Rendition("source")

	var lastMSN int
	seen := map[int]string{}
	check := func(stage string) *mediaView {
		t.Helper()
		m := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
		if m.MediaSequence < lastMSN {
			t.Fatalf("%s: media sequence went back from %d to %d", stage, lastMSN, m.MediaSequence)
		}
		lastMSN = m.MediaSequence
		for i, seg := range m.Segments {
			msn := m.MediaSequence + i
			if old, ok := seen[msn]; ok && old != seg.URI {
				t.Fatalf("%s: MSN %d renamed from %s to %s", stage, msn, old, seg.URI)
			}
			seen[msn] = seg.URI
		}
		return &mediaView{text: string(mustGet(t, srv, "source/index.m3u8")), segs: len(m.Segments)}
	}

	feed(t, r, first)
	r.Discontinuity()
	v1 := check("first publisher")
	feed(t, r, second)
	r.Discontinuity()
	v2 := check("second publisher")
	feed(t, r, same)
	r.Discontinuity()
	v3 := check("third publisher")

	if strings.Contains(v1.text, "#EXT-X-DISCONTINUITY\n") {
		t.Errorf("discontinuity before any reconnect:\n%s", v1.text)
	}
	if n := strings.Count(v2.text, "#EXT-X-DISCONTINUITY\n"); n != 1 {
		t.Errorf("want 1 discontinuity after one reconnect, got %d:\n%s", n, v2.text)
	}
	if n := strings.Count(v2.text, "#EXT-X-MAP:"); n != 2 {
		t.Errorf("a new resolution needs a new EXT-X-MAP after the discontinuity; got %d maps:\n%s", n, v2.text)
	}
	// The discontinuity tag comes before the new map.
	if i, j := strings.Index(v2.text, "#EXT-X-DISCONTINUITY\n"), strings.LastIndex(v2.text, "#EXT-X-MAP:"); i < 0 || j < i {
		t.Errorf("EXT-X-MAP must follow EXT-X-DISCONTINUITY:\n%s", v2.text)
	}
	if n := strings.Count(v3.text, "#EXT-X-DISCONTINUITY\n"); n != 2 {
		t.Errorf("want 2 discontinuities after two reconnects, got %d", n)
	}
	if v3.segs <= v2.segs || v2.segs <= v1.segs {
		t.Errorf("segments did not accumulate: %d, %d, %d", v1.segs, v2.segs, v3.segs)
	}
	// The init of each part of the playlist decodes with its segments.
	m := testkit.ParseMedia(t, []byte(v2.text))
	last := m.Segments[len(m.Segments)-1]
	mapURI := lastMap(v2.text)
	pr := probe(t, writeTemp(t, dir, "after.mp4", mustGet(t, srv, "source/"+mapURI), mustGet(t, srv, "source/"+last.URI)))
	if pr.Streams[0].Width != 640 && (len(pr.Streams) < 2 || pr.Streams[1].Width != 640) {
		t.Errorf("segment after the reconnect does not decode at 640 wide with %s: %+v", mapURI, pr.Streams)
	}
	if st := s.Stats(); st.Discontinuities != 2 {
		t.Errorf("stats count %d discontinuities, want 2", st.Discontinuities)
	}
}

type mediaView struct {
	text string
	segs int
}

func lastMap(text string) string {
	i := strings.LastIndex(text, `#EXT-X-MAP:URI="`)
	rest := text[i+len(`#EXT-X-MAP:URI="`):]
	return rest[:strings.IndexByte(rest, '"')]
}

// The sliding window drops old segments and their objects; the
// discontinuity sequence counts the discontinuity tags that left.
func TestSlidingWindowAndDiscontinuitySequence(t *testing.T) {
	dir := t.TempDir()
	a := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, NoAudio: true}))
	s, srv := newTestStream(t, Config{WindowSegments: 3})
	r := s.Rendition("source")
	for i := 0; i < 4; i++ {
		feed(t, r, a)
		r.Discontinuity()
	}
	m := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
	if len(m.Segments) != 3 {
		t.Fatalf("window holds %d segments, want 3", len(m.Segments))
	}
	// 4 sessions × 3 segments (1 s + 2 s + 2 s) = 12; 3 discontinuities.
	if m.MediaSequence != 9 {
		t.Errorf("media sequence %d, want 9", m.MediaSequence)
	}
	listed := strings.Count(string(mustGet(t, srv, "source/index.m3u8")), "#EXT-X-DISCONTINUITY\n")
	if got := *m.DiscontinuitySequence + listed; got != 3 {
		t.Errorf("discontinuity sequence %d + listed %d = %d, want 3", *m.DiscontinuitySequence, listed, got)
	}
	// Old objects are gone (window + grace), recent ones are served.
	if res := get(t, srv, "source/seg0.m4s"); res.status != 404 {
		t.Errorf("seg0.m4s still served after leaving the window: %d", res.status)
	}
	if res := get(t, srv, "source/seg0.ts"); res.status != 404 {
		t.Errorf("seg0.ts still served: %d", res.status)
	}
	want := (3 + graceSegments) * 1 // segments kept
	objs := s.store.Len()
	// segment + ts + parts (≤ 10 each) + inits: bounded, not growing.
	if objs > want*(2+12)+2 {
		t.Errorf("store holds %d objects for a %d-segment window: leak", objs, 3)
	}
	if math.Abs(float64(s.store.Bytes())) == 0 {
		t.Error("store is empty")
	}
}

// A new publisher with another frame rate: parts stay whole frames and
// within PART-TARGET (raised for 24 fps after 30 fps, never lowered).
func TestReconnectOtherFrameRate(t *testing.T) {
	dir := t.TempDir()
	a := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, FPS: 30}))
	b := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, FPS: 24, Offset: 100}))
	s, srv := newTestStream(t, Config{WindowSegments: 10})
	r := s.Rendition("source")
	feed(t, r, a)
	r.Discontinuity()
	feed(t, r, b)
	r.Discontinuity()
	m := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
	if got, want := m.PartInf.PartTarget, 208330*time.Microsecond; got < want || got > want+time.Millisecond {
		t.Errorf("PART-TARGET %v, want 5 frames at 24 fps (%v)", got, want)
	}
	last := m.Segments[len(m.Segments)-2]
	pr := probe(t, writeTemp(t, dir, "24.mp4", mustGet(t, srv, "source/"+lastMap(string(mustGet(t, srv, "source/index.m3u8")))), mustGet(t, srv, "source/"+last.URI)))
	_, dur, frames := videoSpan(t, pr)
	if frames != 48 || dur < 1.99 || dur > 2.01 {
		t.Errorf("%s: %d frames over %.3f s, want 48 over 2 s (no holes)", last.URI, frames, dur)
	}
}
