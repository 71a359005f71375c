package recording

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// fixedLive is a packager's live edge that stays put.
type fixedLive struct{ edge packager.Edge }

func (f fixedLive) RenditionNames() []string { return []string{"source"} }
func (f fixedLive) Edge(r string) (packager.Edge, bool) {
	return f.edge, r == "source"
}
func (f fixedLive) WaitEdge(http.ResponseWriter, *http.Request, string) bool { return true }
func (f fixedLive) MultivariantFor(string) ([]byte, bool)                    { return nil, false }

// A node that serves a stream another node records (the standby of a twin
// pair) lists the same recorded past in its rewind playlist, read from the
// bucket (real versitygw): the open recording on the first request, the
// segments uploaded since on later ones, and nothing once the recording is
// closed.
func TestRewindOfAStreamAnotherNodeRecords(t *testing.T) {
	withRewind := func(c *config.Recording, o *Options) {
		c.Rewind = time.Hour
		o.CheckpointInterval = time.Second
	}
	leader := newRig(t, withRewind)
	leader.writeRun("cam1", 1, 0, 19, "source")
	leader.drain(t)
	standby := newRigOn(t, leader.srv, t.TempDir(), withRewind)
	live := fixedLive{edge: liveEdgeAt(t0, 25, 6)}
	h := NewRewind(standby.rec).Wrap("cam1", live, http.NotFoundHandler())
	get := func() parsed {
		t.Helper()
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("GET", "/live/cam1/source/rewind.m3u8", nil))
		if w.Code != http.StatusOK {
			t.Fatalf("%d %s", w.Code, w.Body)
		}
		return parseRewind(t, w.Body.Bytes())
	}
	id := leader.recordings(t, "cam1")[0].ID
	count := func(p parsed) (vod, gaps int) {
		for _, s := range p.segs {
			if strings.HasPrefix(s.uri, "../../../vod/cam1/"+id+"/source/seg") {
				if s.gap {
					gaps++
				} else {
					vod++
				}
			}
		}
		return vod, gaps
	}

	// The first request reads the open recording (20 segments) and lists
	// the numbers not uploaded yet as gaps up to the live edge.
	p := get()
	if vod, gaps := count(p); p.mediaSequence != 0 || vod != 20 || gaps != 5 {
		t.Fatalf("first request: sequence %d, %d from the bucket, %d gaps", p.mediaSequence, vod, gaps)
	}
	// The leader uploads the rest; later requests list it.
	leader.writeRun("cam1", 1, 20, 24, "source")
	leader.drain(t)
	waitForLong(t, "the standby to list the new segments", 30*time.Second, func() bool {
		vod, gaps := count(get())
		return vod == 25 && gaps == 0
	})
	// Closed: its window goes with it.
	leader.rec.End("cam1")
	leader.drain(t)
	waitForLong(t, "the standby to drop the closed recording", 30*time.Second, func() bool {
		p := get()
		vod, _ := count(p)
		return vod == 0 && p.mediaSequence == 25
	})
	if n := metric(t, standby.rec, "zonecast_recording_segments_uploaded_total"); n != 0 {
		t.Fatalf("the standby uploaded %v segments", n)
	}
}
