package packager

import (
	"fmt"
	"regexp"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/policies/failover"
)

var hintLine = regexp.MustCompile(`#EXT-X-PRELOAD-HINT:TYPE=PART,URI="([^"]+)"`)

// Every part a playlist hints at comes to exist: at a segment boundary the
// hint names the next segment's first part, not a part the keyframe's cut
// leaves empty. A long run at the shipped timings (2 s segments, 200 ms
// parts) with a 2 s GOP, where every keyframe cuts a segment one frame
// after the segment's last part, and with a 1 s GOP, where only every
// other keyframe cuts one. (The stream's first segment is left out: its
// GOP is not known before its second keyframe.)
func TestPreloadHintsExist(t *testing.T) {
	timings := failover.DefaultTimings
	for _, tc := range []struct {
		name string
		gop  int // frames at 30 fps
	}{
		{"2 s GOP", 60},
		{"1 s GOP", 30},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := readFile(t, testkit.MakeTS(t, t.TempDir(), testkit.TS{Seconds: 60, GOP: tc.gop, Size: "160x120"}))
			// A window holding the whole run, so that every hinted part is
			// still there to be asked for at the end.
			s, srv := newTestStream(t, Config{SegmentDuration: timings.SegmentDuration, PartDuration: timings.PartDuration, WindowSegments: 40})
			r := s.Rendition("source")
			var hints []string
			r.onPart = func() { // under r.mu, after each part: what a reload sees then
				body, ok := r.renderPlaylistLocked(true)
				if m := hintLine.FindSubmatch(body); ok && m != nil {
					hints = append(hints, string(m[1]))
				}
			}
			feed(t, r, data)
			waitUntil(t, "the run packaged", func() bool { return s.Stats().SegmentsWritten >= 28 })
			settle(t, s)

			r.mu.Lock()
			seen := append([]string(nil), hints...)
			r.mu.Unlock()
			if len(seen) < 250 {
				t.Fatalf("%d hints recorded over 60 s of 200 ms parts", len(seen))
			}
			boundaries := 0
			for i, uri := range seen[:len(seen)-1] { // the last one is still to come
				msn := parsePartMSN(t, uri)
				if msn == 0 {
					// Before the stream's second keyframe its GOP is
					// unknown: the first cut cannot be foreseen.
					continue
				}
				if uri == partName(msn, 0) {
					boundaries++
				}
				if i > 0 && uri == seen[i-1] {
					continue
				}
				res := get(t, srv, "source/"+uri)
				if res.status != 200 {
					t.Errorf("hint %d %s: status %d, want 200 (%s)", i, uri, res.status, res.body)
				}
			}
			if boundaries < 25 {
				t.Errorf("only %d hints named a segment's first part over about 30 segment boundaries", boundaries)
			}
		})
	}
}

func parsePartMSN(t *testing.T, uri string) uint64 {
	t.Helper()
	var msn uint64
	var idx int
	if _, err := fmt.Sscanf(uri, "part%d.%d.m4s", &msn, &idx); err != nil {
		t.Fatalf("hint %q is not a part name: %v", uri, err)
	}
	return msn
}
