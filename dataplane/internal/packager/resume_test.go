package packager

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// A hot standby fed the same TS from a later point cuts the same segments
// (the cut rule depends only on timestamps) and, once it resumes the
// leader's state, names them exactly as the leader does.
func TestStandbyResumeMatchesLeader(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12}))
	leader, lsrv := newTestStream(t, Config{WindowSegments: 10})
	standby, ssrv := newTestStream(t, Config{WindowSegments: 10})

	// The leader had an earlier publisher: its timeline was rebased, so
	// the standby's own timestamps differ until it resumes.
	earlier := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 3, Offset: 7000}))
	feed(t, leader.Rendition("source"), earlier)
	leader.Rendition("source").Discontinuity()
	// Join about 45 % in, at a packet boundary: the standby's first
	// keyframe is not a cut point of the leader. Resume at 75 %, then both
	// carry on with the same input.
	join := len(data) * 45 / 100 / 188 * 188
	cut := len(data) * 75 / 100 / 188 * 188
	feed(t, leader.Rendition("source"), data[:cut])
	feed(t, standby.Rendition("source"), data[join:cut])
	settle(t, leader)
	settle(t, standby)

	st := leader.State()
	// The state is a plain value that survives JSON (it is kept in Redis).
	raw, err := json.Marshal(st)
	if err != nil {
		t.Fatal(err)
	}
	var back State
	if err := json.Unmarshal(raw, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(normalize(st), normalize(back)) {
		t.Fatalf("state does not round-trip through JSON:\n%+v\n%+v", st, back)
	}
	standby.Resume(back)
	feed(t, leader.Rendition("source"), data[cut:])
	feed(t, standby.Rendition("source"), data[cut:])
	leader.Rendition("source").Discontinuity()
	standby.Rendition("source").Discontinuity()

	lm := testkit.ParseMedia(t, mustGet(t, lsrv, "source/index.m3u8"))
	sm := checkMediaPlaylist(t, mustGet(t, ssrv, "source/index.m3u8"), true)
	leaderSegs := map[string]time.Duration{}
	leaderPDT := map[string]time.Time{}
	for _, s := range lm.Segments {
		leaderSegs[s.URI] = s.Duration
		leaderPDT[s.URI] = *s.DateTime
	}
	if lm.Map.URI != sm.Map.URI {
		t.Errorf("init names differ: leader %s, standby %s", lm.Map.URI, sm.Map.URI)
	}
	common, differs := 0, 0
	for _, s := range sm.Segments {
		d, ok := leaderSegs[s.URI]
		if !ok {
			t.Errorf("standby lists %s, which the leader does not have", s.URI)
			continue
		}
		common++
		if d != s.Duration {
			t.Errorf("%s: leader %v, standby %v (cuts differ)", s.URI, d, s.Duration)
		}
		if !leaderPDT[s.URI].Equal(*s.DateTime) {
			t.Errorf("%s: PDT leader %v, standby %v", s.URI, leaderPDT[s.URI], *s.DateTime)
		}
		// Same media: same video frames in the same segment.
		lp := probe(t, writeTemp(t, dir, "l.ts", mustGet(t, lsrv, "source/"+strings.TrimSuffix(s.URI, ".m4s")+".ts")))
		sp := probe(t, writeTemp(t, dir, "s.ts", mustGet(t, ssrv, "source/"+strings.TrimSuffix(s.URI, ".m4s")+".ts")))
		_, ld, lf := videoSpan(t, lp)
		_, sd, sf := videoSpan(t, sp)
		if lf != sf || ld != sd {
			t.Errorf("%s: leader %d frames / %.3f s, standby %d / %.3f s", s.URI, lf, ld, sf, sd)
		}
		// Same timestamps and init: the fMP4 media decodes identically.
		lb := mustGet(t, lsrv, "source/"+s.URI)
		sb := mustGet(t, ssrv, "source/"+s.URI)
		if !bytes.Equal(lb, sb) {
			lv := probe(t, writeTemp(t, dir, "l.mp4", mustGet(t, lsrv, "source/"+lm.Map.URI), lb))
			sv := probe(t, writeTemp(t, dir, "s.mp4", mustGet(t, ssrv, "source/"+sm.Map.URI), sb))
			if firstVideoDTS(lv) != firstVideoDTS(sv) {
				t.Errorf("%s: first video DTS leader %s, standby %s", s.URI, firstVideoDTS(lv), firstVideoDTS(sv))
			}
			differs++
			t.Errorf("%s: leader's and standby's fMP4 bytes differ", s.URI)
		}
	}
	if common < 3 {
		t.Fatalf("only %d segments in common:\nleader:\n%s\nstandby:\n%s", common,
			mustGet(t, lsrv, "source/index.m3u8"), mustGet(t, ssrv, "source/index.m3u8"))
	}
	t.Logf("%d segments in common, %d not byte-identical", common, differs)
	// Both continue identically.
	if ls, ss := leader.State().Renditions["source"].NextMSN, standby.State().Renditions["source"].NextMSN; ls != ss {
		t.Errorf("next MSN: leader %d, standby %d", ls, ss)
	}
}

// normalize drops the monotonic clock readings JSON cannot carry.
func normalize(s State) State {
	out := State{Stream: s.Stream, Renditions: map[string]RenditionState{}}
	for k, r := range s.Renditions {
		r.LastProgramDateTime = r.LastProgramDateTime.Round(0)
		segs := append([]SegmentRef(nil), r.Segments...)
		for i := range segs {
			segs[i].ProgramDateTime = segs[i].ProgramDateTime.Round(0)
		}
		r.Segments = segs
		out.Renditions[k] = r
	}
	return out
}

// A cold successor (a new node the publisher reconnected to) continues
// after the leader: higher media sequence, a discontinuity, the
// discontinuity sequence carried over, PDT not going back.
func TestColdSuccessorResume(t *testing.T) {
	dir := t.TempDir()
	a := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7}))
	b := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7, Offset: 3000}))
	leader, _ := newTestStream(t, Config{WindowSegments: 3})
	lr := leader.Rendition("source")
	feed(t, lr, a)
	lr.Discontinuity()
	feed(t, lr, a) // a reconnect on the leader: one discontinuity
	lr.Discontinuity()
	st := leader.State()
	rs := st.Renditions["source"]

	succ, srv := newTestStream(t, Config{WindowSegments: 10})
	succ.Resume(st)
	r := succ.Rendition("source")
	feed(t, r, b)
	r.Discontinuity()
	body := mustGet(t, srv, "source/index.m3u8")
	m := checkMediaPlaylist(t, body, true)
	first := m.Segments[0]
	if uint64(m.MediaSequence) != rs.NextMSN {
		t.Errorf("successor starts at MSN %d, leader's next was %d", m.MediaSequence, rs.NextMSN)
	}
	if !first.Discontinuity {
		t.Errorf("successor's first segment not marked discontinuous:\n%s", body)
	}
	var leaderDiscs uint64 = rs.DiscontinuitySequence
	for _, x := range rs.Segments {
		if x.Discontinuity {
			leaderDiscs++
		}
	}
	// The first segment's discontinuity sequence = playlist's + 1 (its tag).
	if got := uint64(*m.DiscontinuitySequence) + 1; got != leaderDiscs+1 {
		t.Errorf("successor's first segment has discontinuity sequence %d, want %d", got, leaderDiscs+1)
	}
	if first.DateTime.Before(rs.LastProgramDateTime) {
		t.Errorf("PDT went back: %v < %v", first.DateTime, rs.LastProgramDateTime)
	}
}

func firstVideoDTS(pr probeResult) string {
	for _, p := range pr.Packets {
		if p.CodecType == "video" {
			return p.DTSTime
		}
	}
	return ""
}

// An encoder that restarts counts its timestamps from its own start again,
// so a new encoder's segments can carry the raw DTS of old segments that
// the leader still lists. A standby that was aligned with the leader and
// then takes the restarted encoder's feed (the leader and the encoder died
// together) must go on with the leader's next number: never renumber back
// to the old segment the new one's DTS happens to share.
func TestResumeAfterEncoderRestart(t *testing.T) {
	var clock atomic.Int64 // wall-clock offset: the restart comes later
	now = func() time.Time { return time.Now().Add(time.Duration(clock.Load())) }
	t.Cleanup(func() { now = time.Now })

	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 12, GOP: 60}))
	leader, _ := newTestStream(t, Config{SegmentDuration: 2 * time.Second})
	standby, ssrv := newTestStream(t, Config{SegmentDuration: 2 * time.Second})
	cut := len(data) * 80 / 100 / 188 * 188
	feed(t, leader.Rendition("source"), data[:cut])
	feed(t, standby.Rendition("source"), data[:cut])
	settle(t, leader)
	settle(t, standby)
	st := leader.State()
	standby.Resume(st) // aligned, as the relay's controls keep it
	before := testkit.ParseMedia(t, mustGet(t, ssrv, "source/index.m3u8"))
	lastBefore := uint64(before.MediaSequence + len(before.Segments) - 1)

	// The leader and the encoder die; a new encoder connects 20 s later.
	clock.Add(int64(20 * time.Second))
	standby.Rendition("source").Discontinuity()
	restart := len(data) * 50 / 100 / 188 * 188
	feed(t, standby.Rendition("source"), data[:restart])
	settle(t, standby)
	standby.Resume(st) // the takeover: the stored state is the dead leader's

	after := checkMediaPlaylist(t, mustGet(t, ssrv, "source/index.m3u8"), true)
	if after.MediaSequence < before.MediaSequence || uint64(after.MediaSequence) > lastBefore+1 {
		t.Fatalf("media sequence %d after the takeover, was %d (last segment %d)", after.MediaSequence, before.MediaSequence, lastBefore)
	}
	seen := map[string]bool{}
	for _, s := range before.Segments {
		seen[s.URI] = true
	}
	var newer int
	for i, s := range after.Segments {
		msn := uint64(after.MediaSequence + i)
		if msn > lastBefore {
			newer++
			if seen[s.URI] {
				t.Errorf("%s names a segment the standby already served", s.URI)
			}
		}
	}
	if newer == 0 {
		t.Fatalf("no segment of the new encoder listed after %d", lastBefore)
	}
	if next := standby.State().Renditions["source"].NextMSN; next <= lastBefore {
		t.Fatalf("next media sequence %d is not after %d", next, lastBefore)
	}
}
