package chaos

import (
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/viewerproxy"
)

// TestViewerProxy: with cluster.viewers.proxy, a node that neither leads
// nor stands by (as most nodes behind an NLB are, for a given stream)
// answers from the leader, then from the standby once the leader is dead;
// a request another node forwarded is never forwarded again.
func TestViewerProxy(t *testing.T) {
	h := NewHarness(t, edgeBin, "a1", "b1", "b2")
	b2 := h.Node("b2")
	b2.Kill()
	b2.Env = []string{"ZONECAST_CLUSTER_VIEWERS_PROXY=true"}
	if err := b2.Start(); err != nil {
		t.Fatal(err)
	}
	h.Start(200*time.Millisecond, segment)
	h.WaitRoles("a1", "b1", 30*time.Second)
	time.Sleep(4 * time.Second)

	common := func(a, b string) int {
		_, la := segmentLines(a)
		_, lb := segmentLines(b)
		in := map[string]bool{}
		for _, s := range la {
			in[s] = true
		}
		n := 0
		for _, s := range lb {
			if in[s] {
				n++
			}
		}
		return n
	}
	viaB2 := playlist(t, b2)
	if c := common(playlist(t, h.Node("a1")), viaB2); c < 3 {
		t.Fatalf("b2 (no role) lists %d of the leader's segments:\n%s", c, viaB2)
	}
	// A segment fetched through b2 is the leader's, byte for byte.
	_, segs := segmentLines(viaB2)
	get := func(n *Node, seg string) []byte {
		r, err := http.Get("http://" + n.HTTP + "/live/" + StreamName + "/source/" + seg)
		if err != nil {
			t.Fatal(err)
		}
		defer r.Body.Close()
		b, _ := io.ReadAll(r.Body)
		if r.StatusCode != http.StatusOK {
			t.Fatalf("%s %s: %s", n.ID, seg, r.Status)
		}
		return b
	}
	seg := segs[len(segs)-2]
	if a, b := get(h.Node("a1"), seg), get(b2, seg); len(b) == 0 || string(a) != string(b) {
		t.Fatalf("%s through b2: %d bytes, from a1: %d bytes, different", seg, len(b), len(a))
	}
	// One hop only.
	req, _ := http.NewRequest(http.MethodGet, "http://"+b2.HTTP+"/live/"+StreamName+"/source/index.m3u8", nil)
	req.Header.Set(viewerproxy.HopHeader, "b9")
	r, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	r.Body.Close()
	if r.StatusCode != http.StatusNotFound {
		t.Fatalf("a forwarded request got %s from a node without a role, want 404", r.Status)
	}

	// The leader dies: b2 answers from the standby, and the playlist goes on.
	h.Node("a1").Kill()
	time.Sleep(500 * time.Millisecond)
	seq := func() int {
		line, _ := segmentLines(playlist(t, b2))
		n, err := strconv.Atoi(strings.TrimPrefix(line, "#EXT-X-MEDIA-SEQUENCE:"))
		if err != nil {
			t.Fatalf("media sequence %q: %v", line, err)
		}
		return n
	}
	msnBefore := seq()
	deadline := time.Now().Add(10 * time.Second)
	for {
		if seq() > msnBefore {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the playlist through b2 stopped at media sequence %d after the leader died", msnBefore)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if rep := h.Reader.Report(); len(rep.MSNBack) > 0 || len(rep.Mismatches) > 0 {
		t.Fatalf("reader: %+v", rep)
	}
}
