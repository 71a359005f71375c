package packager

import (
	"net/http"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// Reset drops a lineage in place: the old segments and their stored
// objects go, the stream object and its handler stay, and the next writes
// start a fresh rendition that serves again.
func TestResetInPlace(t *testing.T) {
	data := readFile(t, testkit.MakeTS(t, t.TempDir(), testkit.TS{Seconds: 4}))
	s, srv := newTestStream(t, Config{SegmentDuration: time.Second, PartDuration: 200 * time.Millisecond})
	feed(t, s.Rendition("source"), data)
	settle(t, s)
	before := s.Rendition("source")
	if before.Listed() == 0 || s.store.Len() == 0 {
		t.Fatalf("before reset: %d segments listed, %d objects stored", before.Listed(), s.store.Len())
	}
	pl := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	old := "source/" + pl.Segments[0].URI
	mustGet(t, srv, old)

	s.Reset()
	if n := s.store.Len(); n != 0 {
		t.Fatalf("after reset: %d objects still stored", n)
	}
	if err := before.WriteTS(data[:188]); err == nil {
		t.Fatal("the reset rendition still takes writes")
	}
	after := s.Rendition("source")
	if after == before || after.Listed() != 0 {
		t.Fatalf("after reset: same rendition %v, %d segments listed", after == before, after.Listed())
	}
	if r := get(t, srv, old); r.status == http.StatusOK {
		t.Fatal("a segment of the dropped lineage is still served")
	}

	feed(t, after, data)
	settle(t, s)
	if after.Listed() == 0 {
		t.Fatal("no segments after the reset")
	}
	mustGet(t, srv, "source/index.m3u8")
}
