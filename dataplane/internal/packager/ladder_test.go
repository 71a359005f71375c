package packager

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Several renditions of one stream (a ladder from the transcoder): the
// multivariant playlist describes each from its real output, the media
// playlists carry rendition reports, and renditions cut from the same
// timestamps have the same segment numbering.
func TestLadderRenditions(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7, Size: "640x360"}))
	low := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7, Size: "320x180", Video: "libx264"}))
	s, srv := newTestStream(t, Config{})
	feed(t, s.Rendition("180p"), low)
	feed(t, s.Rendition("source"), src)
	settle(t, s)

	mv := string(mustGet(t, srv, "index.m3u8"))
	lines := strings.Split(strings.TrimSpace(mv), "\n")
	var uris []string
	for _, l := range lines {
		if !strings.HasPrefix(l, "#") && l != "" {
			uris = append(uris, l)
		}
	}
	if len(uris) != 2 || uris[0] != "source/index.m3u8" || uris[1] != "180p/index.m3u8" {
		t.Fatalf("variants %v, want source then 180p:\n%s", uris, mv)
	}
	for _, re := range []string{`RESOLUTION=640x360[^\n]*\nsource/`, `RESOLUTION=320x180[^\n]*\n180p/`} {
		if !regexp.MustCompile(re).MatchString(mv) {
			t.Errorf("multivariant lacks %s:\n%s", re, mv)
		}
	}
	bw := regexp.MustCompile(`STREAM-INF:BANDWIDTH=(\d+),`).FindAllStringSubmatch(mv, -1)
	if len(bw) != 2 {
		t.Fatalf("bandwidths %v", bw)
	}
	if hi, lo := atoi(t, bw[0][1]), atoi(t, bw[1][1]); hi <= lo {
		t.Errorf("source (%d b/s) should need more bandwidth than 180p (%d b/s)", hi, lo)
	}
	cl := string(mustGet(t, srv, "classic.m3u8"))
	if !strings.Contains(cl, "source/classic.m3u8") || !strings.Contains(cl, "180p/classic.m3u8") {
		t.Errorf("classic multivariant:\n%s", cl)
	}

	a := string(mustGet(t, srv, "source/index.m3u8"))
	b := string(mustGet(t, srv, "180p/index.m3u8"))
	if !strings.Contains(a, `#EXT-X-RENDITION-REPORT:URI="../180p/index.m3u8",LAST-MSN=`) {
		t.Errorf("source playlist has no report for 180p:\n%s", a)
	}
	if !strings.Contains(b, `#EXT-X-RENDITION-REPORT:URI="../source/index.m3u8",LAST-MSN=`) {
		t.Errorf("180p playlist has no report for source:\n%s", b)
	}
	ma, mb := testkit.ParseMedia(t, []byte(a)), testkit.ParseMedia(t, []byte(b))
	if ma.MediaSequence != mb.MediaSequence || len(ma.Segments) != len(mb.Segments) {
		t.Fatalf("renditions not aligned: %d+%d vs %d+%d", ma.MediaSequence, len(ma.Segments), mb.MediaSequence, len(mb.Segments))
	}
	for i := range ma.Segments {
		if ma.Segments[i].Duration != mb.Segments[i].Duration {
			t.Errorf("segment %d: %v vs %v", i, ma.Segments[i].Duration, mb.Segments[i].Duration)
		}
	}
}

func atoi(t *testing.T, s string) int {
	t.Helper()
	n, err := strconv.Atoi(s)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// A rendition that starts late (the transcoder's output arrives after the
// source's) joins aligned: it waits for a keyframe on the cut grid and takes
// the source's segment number and program date-time there.
func TestLateRenditionJoinsAligned(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 10, Size: "640x360"}))
	low := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 10, Size: "320x180"}))
	s, srv := newTestStream(t, Config{WindowSegments: 10})
	join := len(low) * 35 / 100 / 188 * 188
	half := len(src) / 2 / 188 * 188
	feed(t, s.Rendition("source"), src[:half])
	settle(t, s)
	feed(t, s.Rendition("180p"), low[join:len(low)/2/188*188])
	feed(t, s.Rendition("source"), src[half:])
	feed(t, s.Rendition("180p"), low[len(low)/2/188*188:])
	s.Rendition("source").Discontinuity()
	s.Rendition("180p").Discontinuity()

	a := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	b := checkMediaPlaylist(t, mustGet(t, srv, "180p/index.m3u8"), true)
	if b.MediaSequence <= a.MediaSequence {
		t.Fatalf("late rendition starts at MSN %d, source at %d", b.MediaSequence, a.MediaSequence)
	}
	for i, seg := range b.Segments {
		j := b.MediaSequence + i - a.MediaSequence
		if j >= len(a.Segments) {
			t.Fatalf("late rendition has MSN %d beyond the source's", b.MediaSequence+i)
		}
		ref := a.Segments[j]
		if seg.Duration != ref.Duration || !seg.DateTime.Equal(*ref.DateTime) {
			t.Errorf("MSN %d: 180p %v at %v, source %v at %v", b.MediaSequence+i, seg.Duration, seg.DateTime, ref.Duration, ref.DateTime)
		}
	}
	if len(b.Segments) < 2 {
		t.Errorf("late rendition has %d segments", len(b.Segments))
	}
}

// A ladder rendition whose encoder restarts comes back aligned: the numbers
// it missed are EXT-X-GAP segments, the media after them is marked
// discontinuous, and its numbering matches the source's again.
func TestRestartedRenditionRealigns(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12, Size: "640x360"}))
	low := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12, Size: "320x180"}))
	at := func(b []byte, pct int) int { return len(b) * pct / 100 / 188 * 188 }
	s, srv := newTestStream(t, Config{WindowSegments: 20})
	source, ladder := s.Rendition("source"), s.Rendition("180p")
	feed(t, source, src[:at(src, 30)])
	feed(t, ladder, low[:at(low, 30)])
	ladder.Discontinuity() // the transcoder died
	// The source goes on; the restarted encoder's output comes back later
	// (and, as always, a little behind the source).
	feed(t, source, src[at(src, 30):])
	settle(t, s)
	feed(t, ladder, low[at(low, 60):])
	source.Discontinuity()
	ladder.Discontinuity()

	body := string(mustGet(t, srv, "180p/index.m3u8"))
	b := checkMediaPlaylist(t, []byte(body), true)
	a := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	if !strings.Contains(body, "#EXT-X-GAP") {
		t.Fatalf("no EXT-X-GAP after the restart:\n%s", body)
	}
	if !strings.Contains(body, "#EXT-X-DISCONTINUITY") {
		t.Errorf("media after the restart not marked discontinuous:\n%s", body)
	}
	// After the gap, the same numbers carry the same media times.
	last := b.Segments[len(b.Segments)-1]
	lastMSN := b.MediaSequence + len(b.Segments) - 1
	if lastMSN != a.MediaSequence+len(a.Segments)-1 {
		t.Fatalf("last MSN: 180p %d, source %d", lastMSN, a.MediaSequence+len(a.Segments)-1)
	}
	ref := a.Segments[lastMSN-a.MediaSequence]
	if !last.DateTime.Equal(*ref.DateTime) || last.Duration != ref.Duration {
		t.Errorf("MSN %d: 180p %v/%v, source %v/%v", lastMSN, last.DateTime, last.Duration, ref.DateTime, ref.Duration)
	}
	if res := get(t, srv, "180p/"+b.Segments[len(b.Segments)-2].URI); res.status != 200 {
		t.Errorf("the segment before the last is not served: %d", res.status)
	}
	for i, seg := range b.Segments {
		msn := b.MediaSequence + i
		if ref := a.Segments[msn-a.MediaSequence]; seg.Gap && (!seg.DateTime.Equal(*ref.DateTime) || seg.Duration != ref.Duration) {
			t.Errorf("gap segment %d: %v/%v, the source's %v/%v", msn, seg.DateTime, seg.Duration, ref.DateTime, ref.Duration)
		}
		if seg.Gap {
			if res := get(t, srv, "180p/"+seg.URI); res.status != 404 {
				t.Errorf("gap segment %d served: %d", b.MediaSequence+i, res.status)
			}
		}
	}
}

// A ladder whose keyframes are on the 2 s grid while the source's are not
// (1 s GOP, offset by ffmpeg's 1.4 s start) still numbers its segments like
// the source: both cut at the first keyframe after the same grid boundary.
func TestGridKeyframeLadderNumbering(t *testing.T) {
	dir := t.TempDir()
	src := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12, Size: "640x360"}))
	low := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12, Size: "320x180", GridKeys: 2}))
	s, srv := newTestStream(t, Config{WindowSegments: 20})
	half := len(src) / 2 / 188 * 188
	feed(t, s.Rendition("source"), src[:half])
	settle(t, s)
	feed(t, s.Rendition("180p"), low)
	feed(t, s.Rendition("source"), src[half:])
	s.Rendition("source").Discontinuity()
	s.Rendition("180p").Discontinuity()
	a := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	b := checkMediaPlaylist(t, mustGet(t, srv, "180p/index.m3u8"), true)
	t.Logf("source from %d: %v", a.MediaSequence, durations(a))
	t.Logf("180p from %d: %v", b.MediaSequence, durations(b))
	if len(b.Segments) < 4 {
		t.Fatalf("180p has %d segments", len(b.Segments))
	}
	for i, seg := range b.Segments[:len(b.Segments)-1] {
		msn := b.MediaSequence + i
		ref := a.Segments[msn-a.MediaSequence]
		// Same grid boundary: starts within one source GOP of each other.
		if d := seg.DateTime.Sub(*ref.DateTime); d < -time.Second || d > time.Second {
			t.Errorf("MSN %d starts %v from the source's", msn, d)
		}
	}
}

func durations(m *playlist.Media) []string {
	var out []string
	for _, s := range m.Segments {
		out = append(out, s.DateTime.Format("05.000")+"+"+s.Duration.String())
	}
	return out
}
