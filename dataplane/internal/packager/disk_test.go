package packager

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// The optional on-disk copy follows the window: objects appear as they are
// published and go when they leave it.
func TestDiskCopy(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 5, NoAudio: true}))
	out := filepath.Join(dir, "hls")
	s, srv := newTestStream(t, Config{Dir: out, WindowSegments: 2})
	r := s.Rendition("source")
	for i := 0; i < 3; i++ {
		feed(t, r, data)
		r.Discontinuity()
	}
	m := testkit.ParseMedia(t, mustGet(t, srv, "source/index.m3u8"))
	last := m.Segments[len(m.Segments)-1].URI
	b, err := os.ReadFile(filepath.Join(out, "cam1", "source", last))
	if err != nil {
		t.Fatalf("newest segment not on disk: %v", err)
	}
	if string(b) != string(mustGet(t, srv, "source/"+last)) {
		t.Error("disk copy differs from what is served")
	}
	if _, err := os.Stat(filepath.Join(out, "cam1", "source", "seg0.m4s")); !os.IsNotExist(err) {
		t.Errorf("seg0.m4s still on disk after leaving the window: %v", err)
	}
	s.Close()
	left, _ := filepath.Glob(filepath.Join(out, "cam1", "source", "*"))
	if len(left) != 0 {
		t.Errorf("Close left %d files: %v", len(left), left)
	}
	if err := r.WriteTS(data[:188]); err == nil {
		t.Error("WriteTS after Close accepted")
	}
	if err := s.Rendition("late").WriteTS(data[:188]); err == nil {
		t.Error("a rendition created after Close accepted input")
	}
}
