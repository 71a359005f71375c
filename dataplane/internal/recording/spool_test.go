package recording

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func spoolEntry(stream string, msn uint64, data []byte) *entry {
	return &entry{Kind: kindSegment, Stream: stream, Rendition: "source", MSN: msn, Spooled: time.Now(),
		InitLen: 4, DataLen: len(data), size: int64(4+len(data)) + entryOverhead}
}

// The spool keeps one FIFO per stream, bounded in bytes, on disk: a new
// spool over the same directory finds the same queues, and what an
// interrupted write left is cleared away.
func TestSpool(t *testing.T) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte{7}, 1000)
	per := int64(4+len(data)) + entryOverhead
	s, err := OpenSpool(dir, 5*per)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		stream string
		msn    uint64
		fits   bool
	}{
		{"a", 0, true}, {"b", 0, true}, {"a", 1, true}, {"a", 2, true}, {"b", 1, true},
		{"a", 3, false}, // the sixth entry is over the bound
	}
	for _, st := range steps {
		e := spoolEntry(st.stream, st.msn, data)
		if got := s.reserve(e.size); got != st.fits {
			t.Fatalf("%s/%d: reserve %v, want %v", st.stream, st.msn, got, st.fits)
		}
		if st.fits {
			if err := s.append(e, []byte("init"), data); err != nil {
				t.Fatal(err)
			}
		}
	}
	if s.Len() != 5 || s.Bytes() != 5*per {
		t.Fatalf("len %d bytes %d", s.Len(), s.Bytes())
	}
	// Leftovers of a crash: a temporary file and a torn entry.
	if err := os.WriteFile(filepath.Join(dir, "a", "00000000000000ff.entry.tmp"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "a", "00000000000000fe.entry"), []byte{0, 0}, 0o644); err != nil {
		t.Fatal(err)
	}

	re, err := OpenSpool(dir, 5*per)
	if err != nil {
		t.Fatal(err)
	}
	if got := re.Streams(); len(got) != 2 || got[0] != "a" || got[1] != "b" {
		t.Fatalf("streams %v", got)
	}
	for _, want := range []struct {
		stream string
		msns   []uint64
	}{{"a", []uint64{0, 1, 2}}, {"b", []uint64{0, 1}}} {
		for _, msn := range want.msns {
			e, _ := re.head(want.stream)
			if e == nil || e.MSN != msn {
				t.Fatalf("%s: head %+v, want msn %d", want.stream, e, msn)
			}
			init, body, err := re.body(e)
			if err != nil || string(init) != "init" || !bytes.Equal(body, data) {
				t.Fatalf("%s/%d: body %q %v", want.stream, msn, init, err)
			}
			re.remove(e)
		}
		if e, _ := re.head(want.stream); e != nil {
			t.Fatalf("%s: %+v left", want.stream, e)
		}
	}
	if re.Len() != 0 || re.Bytes() != 0 || !re.Oldest().IsZero() {
		t.Fatalf("after draining: len %d bytes %d oldest %v", re.Len(), re.Bytes(), re.Oldest())
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*", "*")); len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
}

// An entry whose file was damaged after spooling is dropped and counted,
// not uploaded, and the stream goes on.
func TestUnreadableEntry(t *testing.T) {
	g := newRig(t, nil)
	g.srv.Stop()
	g.writeRun("cam1", 1, 0, 2, "source")
	waitFor(t, "three spooled entries", func() bool { return g.rec.spool.Len() == 3 })
	e, _ := g.rec.spool.head("cam1")
	if err := os.Truncate(e.path, 10); err != nil {
		t.Fatal(err)
	}
	if err := g.srv.Restart(); err != nil {
		t.Fatal(err)
	}
	g.drain(t)
	if got := metric(t, g.rec, "zonecast_recording_dropped_segments_total", "reason", dropUnreadable); got != 1 {
		t.Fatalf("unreadable drops %v", got)
	}
	if got := metric(t, g.rec, "zonecast_recording_segments_uploaded_total"); got != 2 {
		t.Fatalf("uploaded %v, want 2", got)
	}
}
