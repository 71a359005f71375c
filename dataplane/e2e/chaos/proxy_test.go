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
	t.Parallel() // light and independent: overlaps the other parallel tests
	h := NewHarness(t, edgeBin, Local, "a1", "b1", "b2")
	b2 := h.Node("b2")
	b2.Kill()
	b2.Env = []string{"ZONECAST_CLUSTER_VIEWERS_PROXY=true"}
	if err := b2.Start(); err != nil {
		t.Fatal(err)
	}
	h.Start()
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

	// /metrics: b2 counts what it fetched, a1 says it leads.
	if v := metricLine(t, b2, `zonecast_viewer_proxy_requests_total{result="ok"}`); v < 2 {
		t.Fatalf("b2 counted %v proxied requests, want at least the playlist and the segment fetched above", v)
	}
	if v := metricLine(t, h.Node("a1"), `zonecast_cluster_role{role="leader",stream="cam1"}`); v != 1 {
		t.Fatalf("a1's /metrics: leader role %v", v)
	}
	if v := metricLine(t, b2, `zonecast_viewer_proxy_requests_total{result="hop"}`); v != 1 {
		t.Fatalf("b2 counted %v refused second hops, want 1", v)
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
	if v := metricLine(t, b2, `zonecast_viewer_proxy_requests_total{result="failover"}`); v < 1 {
		t.Fatalf("b2 counted no failover to the standby after the leader died (%v)", v)
	}
	if rep := h.Reader.Report(); len(rep.MSNBack) > 0 || len(rep.Mismatches) > 0 {
		t.Fatalf("reader: %+v", rep)
	}
}

// metricLine reads one series from a node's /metrics (0 when absent).
func metricLine(t *testing.T, n *Node, series string) float64 {
	t.Helper()
	r, err := http.Get("http://" + n.HTTP + "/metrics")
	if err != nil {
		t.Fatalf("%s /metrics: %v", n.ID, err)
	}
	defer r.Body.Close()
	b, _ := io.ReadAll(r.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			if err != nil {
				t.Fatalf("%s: %q: %v", n.ID, line, err)
			}
			return f
		}
	}
	return 0
}
