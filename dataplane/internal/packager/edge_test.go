package packager

import (
	"fmt"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Edge is the live playlist as data: the same segments, parts, dates,
// init sections and preload hint, at every point of a stream that
// reconnects with a discontinuity.
func TestEdgeIsTheLivePlaylist(t *testing.T) {
	dir := t.TempDir()
	first := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 9}))
	second := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, Size: "640x360", Offset: 5000}))
	s, srv := newTestStream(t, Config{WindowSegments: 3})
	r := s.Rendition("source")
	if _, ok := s.Edge("source"); ok {
		t.Fatal("an edge before any media")
	}
	check := func(when string) {
		t.Helper()
		e, ok := s.Edge("source")
		if !ok {
			t.Fatalf("%s: no edge", when)
		}
		m := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
		if m.TargetDuration != e.TargetDuration || m.MediaSequence != int(e.Segments[0].MSN) || len(m.Segments) != len(e.Segments) {
			t.Fatalf("%s: playlist target %d sequence %d with %d segments; edge %+v", when, m.TargetDuration, m.MediaSequence, len(m.Segments), e)
		}
		for i, ms := range m.Segments {
			es := e.Segments[i]
			if ms.URI != es.URI || ms.Duration != es.Duration || !ms.DateTime.Equal(es.PDT) || ms.Discontinuity != es.Disc || len(ms.Parts) != len(es.Parts) {
				t.Fatalf("%s: segment %d: playlist %+v, edge %+v", when, i, ms, es)
			}
			for j, p := range ms.Parts {
				if p.URI != es.Parts[j].URI || p.Duration != es.Parts[j].Duration || p.Independent != es.Parts[j].Independent {
					t.Fatalf("%s: part %d.%d: playlist %+v, edge %+v", when, i, j, p, es.Parts[j])
				}
			}
		}
		if e.Current == nil || len(m.Parts) != len(e.Current.Parts) || m.PreloadHint == nil || m.PreloadHint.URI != e.Hint {
			t.Fatalf("%s: the segment being cut differs: playlist %d parts hint %+v, edge %+v", when, len(m.Parts), m.PreloadHint, e.Current)
		}
		msn, part, _ := e.Last()
		if want := fmt.Sprintf("part%d.%d.m4s", msn, part); !strings.Contains(string(mustGet(t, srv, "source/index.m3u8")), want) {
			t.Fatalf("%s: Last names %s, not in the playlist", when, want)
		}
	}
	feed(t, r, first)
	check("first session")
	r.Discontinuity()
	feed(t, r, second)
	check("after a reconnect")
	e, _ := s.Edge("source")
	discs := 0
	for _, sg := range e.Segments {
		if sg.Disc {
			discs++
		}
	}
	inits := map[string]bool{}
	for _, sg := range e.Segments {
		inits[sg.Init] = true
	}
	if discs != 1 || len(inits) != 2 {
		t.Fatalf("the window across the reconnect: %d discontinuities, init sections %v", discs, inits)
	}
	mv, ok := s.MultivariantFor("rewind.m3u8")
	if !ok || !strings.Contains(string(mv), "\nsource/rewind.m3u8\n") {
		t.Fatalf("multivariant:\n%s", mv)
	}
}
