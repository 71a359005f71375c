package chaos

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func playlist(t *testing.T, n *Node) string {
	t.Helper()
	r, err := http.Get("http://" + n.HTTP + "/live/" + StreamName + "/source/index.m3u8")
	if err != nil {
		t.Fatalf("%s: %v", n.ID, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	if r.StatusCode != http.StatusOK {
		t.Fatalf("%s: %s %s", n.ID, r.Status, b)
	}
	return string(b)
}

// segmentLines keeps the media sequence and the segment URIs.
func segmentLines(pl string) (msn string, segs []string) {
	for _, l := range strings.Split(pl, "\n") {
		switch {
		case strings.HasPrefix(l, "#EXT-X-MEDIA-SEQUENCE:"):
			msn = l
		case l != "" && !strings.HasPrefix(l, "#"):
			segs = append(segs, l)
		}
	}
	return
}

// TestSteadyTwin: the ingesting node leads, the twin-zone node stands by
// and serves the same segment names with the same media sequence numbers;
// a third node with no role answers 404 at once.
func TestSteadyTwin(t *testing.T) {
	t.Parallel() // light and independent: overlaps the other parallel tests
	h := NewHarness(t, edgeBin, Local, "a1", "b1", "b2")
	h.Start()
	h.WaitRoles("a1", "b1", 30*time.Second)
	time.Sleep(6 * time.Second)

	// Same names and numbers: compare the segments both list.
	var common int
	for try := 0; try < 20 && common < 3; try++ {
		_, la := segmentLines(playlist(t, h.Node("a1")))
		_, lb := segmentLines(playlist(t, h.Node("b1")))
		in := map[string]bool{}
		for _, s := range la {
			in[s] = true
		}
		common = 0
		for _, s := range lb {
			if in[s] {
				common++
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if common < 3 {
		t.Fatalf("leader and standby list fewer than 3 common segment names:\na1:\n%s\nb1:\n%s", playlist(t, h.Node("a1")), playlist(t, h.Node("b1")))
	}
	start := time.Now()
	r, err := http.Get("http://" + h.Node("b2").HTTP + "/live/" + StreamName + "/source/index.m3u8")
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound || time.Since(start) > 500*time.Millisecond {
		t.Fatalf("node without a role answered %s after %v, want a quick 404", r.Status, time.Since(start))
	}
	rep := h.Reader.Report()
	if len(rep.MSNBack) > 0 || len(rep.Mismatches) > 0 || len(h.Mon.Overlaps()) > 0 {
		t.Fatalf("steady state: %+v overlaps %v", rep, h.Mon.Overlaps())
	}
	t.Logf("steady: %d segments, longest stall %v, %d common segment names", rep.Segments, rep.MaxStall.Round(time.Millisecond), common)
}
