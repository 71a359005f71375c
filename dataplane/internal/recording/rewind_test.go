package recording

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

var rewindBase = time.Date(2026, 6, 11, 19, 0, 0, 0, time.UTC)

// segAt is recorded segment msn of a two-second cadence.
func segAt(msn uint64) manifestSeg {
	return manifestSeg{MSN: msn, Duration: 2 * time.Second, PDT: rewindBase.Add(time.Duration(msn) * 2 * time.Second), Init: "init0.mp4", Size: 1000}
}

// recordedRange is msn from..to-1, without the numbers in missing.
func recordedRange(from, to uint64, missing ...uint64) []manifestSeg {
	var out []manifestSeg
	for msn := from; msn < to; msn++ {
		skip := false
		for _, m := range missing {
			skip = skip || m == msn
		}
		if !skip {
			out = append(out, segAt(msn))
		}
	}
	return out
}

// liveEdge is a packager's edge of n complete segments from first, the
// last two with their ten parts, and a segment being cut with three parts.
func liveEdge(first uint64, n int) packager.Edge { return liveEdgeAt(rewindBase, first, n) }

// liveEdgeAt is liveEdge with segment 0 starting at base.
func liveEdgeAt(base time.Time, first uint64, n int) packager.Edge {
	at := func(msn uint64) time.Time { return base.Add(time.Duration(msn) * 2 * time.Second) }
	e := packager.Edge{TargetDuration: 2, PartTarget: 200 * time.Millisecond}
	parts := func(msn uint64, k int) []packager.EdgePart {
		var ps []packager.EdgePart
		for i := range k {
			ps = append(ps, packager.EdgePart{URI: fmt.Sprintf("part%d.%d.m4s", msn, i), Duration: 200 * time.Millisecond, Independent: i%5 == 0})
		}
		return ps
	}
	for i := range n {
		msn := first + uint64(i)
		es := packager.EdgeSegment{MSN: msn, Duration: 2 * time.Second, PDT: at(msn), Init: "init0.mp4", URI: fmt.Sprintf("seg%d.m4s", msn)}
		if i >= n-2 {
			es.Parts = parts(msn, 10)
		}
		e.Segments = append(e.Segments, es)
	}
	cur := first + uint64(n)
	e.Current = &packager.EdgeSegment{MSN: cur, PDT: at(cur), Init: "init0.mp4", Parts: parts(cur, 3)}
	e.Hint = fmt.Sprintf("part%d.3.m4s", cur)
	return e
}

// parsedSeg is a media segment as a playlist lists it.
type parsedSeg struct {
	msn              uint64
	uri, mapURI      string
	duration         float64
	disc, gap, dated bool
	pdt              time.Time
}

type parsed struct {
	mediaSequence, discSequence uint64
	skipped                     int
	canSkipUntil                float64
	segs                        []parsedSeg
	parts                       int // EXT-X-PART lines
	hint                        string
	reports                     []string
}

// parseRewind reads the tags this test checks; gohlslib reads the whole
// playlist first, so that it is also well-formed for a real parser.
func parseRewind(t *testing.T, body []byte) parsed {
	t.Helper()
	testkit.ParseMedia(t, body)
	var p parsed
	var cur parsedSeg
	attr := func(line, key string) string {
		for _, kv := range strings.Split(line[strings.Index(line, ":")+1:], ",") {
			if k, v, ok := strings.Cut(kv, "="); ok && k == key {
				return strings.Trim(v, `"`)
			}
		}
		return ""
	}
	sc := bufio.NewScanner(bytes.NewReader(body))
	for sc.Scan() {
		line := sc.Text()
		tag, val, _ := strings.Cut(line, ":")
		switch tag {
		case "#EXT-X-MEDIA-SEQUENCE":
			p.mediaSequence, _ = strconv.ParseUint(val, 10, 64)
		case "#EXT-X-DISCONTINUITY-SEQUENCE":
			p.discSequence, _ = strconv.ParseUint(val, 10, 64)
		case "#EXT-X-SERVER-CONTROL":
			p.canSkipUntil, _ = strconv.ParseFloat(attr(line, "CAN-SKIP-UNTIL"), 64)
		case "#EXT-X-SKIP":
			p.skipped, _ = strconv.Atoi(attr(line, "SKIPPED-SEGMENTS"))
		case "#EXT-X-DISCONTINUITY":
			cur.disc = true
		case "#EXT-X-GAP":
			cur.gap = true
		case "#EXT-X-MAP":
			cur.mapURI = attr(line, "URI")
		case "#EXT-X-PROGRAM-DATE-TIME":
			ts, err := time.Parse(time.RFC3339Nano, val)
			if err != nil {
				t.Fatalf("date %q: %v", val, err)
			}
			cur.pdt, cur.dated = ts, true
		case "#EXTINF":
			cur.duration, _ = strconv.ParseFloat(strings.TrimSuffix(val, ","), 64)
		case "#EXT-X-PART":
			p.parts++
		case "#EXT-X-PRELOAD-HINT":
			p.hint = attr(line, "URI")
		case "#EXT-X-RENDITION-REPORT":
			p.reports = append(p.reports, line)
		default:
			if line != "" && !strings.HasPrefix(line, "#") {
				cur.uri = line
				cur.msn = p.mediaSequence + uint64(p.skipped+len(p.segs))
				p.segs = append(p.segs, cur)
				// EXT-X-MAP stays in force until the next one.
				cur = parsedSeg{mapURI: cur.mapURI}
			}
		}
	}
	return p
}

const vodCam1 = "../../../vod/cam1/20260611T190000Z/source/"

func TestRewindPlaylist(t *testing.T) {
	withDisc := func(segs []manifestSeg, msns ...uint64) []manifestSeg {
		for i := range segs {
			for _, m := range msns {
				if segs[i].MSN == m {
					segs[i].Disc = true
				}
			}
		}
		return segs
	}
	cases := []struct {
		name     string
		recorded []manifestSeg
		trimmed  uint64 // discontinuities the ledger trimmed already
		edge     packager.Edge
		window   time.Duration
		// want
		first    uint64
		discSeq  uint64
		vod      int      // segments from the bucket
		gaps     []uint64 // numbers listed as EXT-X-GAP
		discs    []uint64 // numbers with EXT-X-DISCONTINUITY
		liveOnly bool
	}{
		{name: "live edge only, nothing recorded yet", edge: liveEdge(100, 6), window: time.Hour,
			first: 100, liveOnly: true},
		{name: "the window trims the recorded past", recorded: recordedRange(0, 106), edge: liveEdge(100, 6), window: time.Minute,
			// The edge's last complete segment ends at 212 s; the window
			// keeps what ends after 152 s: segments 76 on.
			first: 76, vod: 24},
		{name: "a window longer than the recording lists all of it", recorded: recordedRange(0, 106), edge: liveEdge(100, 6), window: 2 * time.Hour,
			first: 0, vod: 100},
		{name: "segments the bucket lacks are gaps, numbering continues", recorded: recordedRange(60, 98, 80, 81), edge: liveEdge(100, 6), window: 2 * time.Hour,
			first: 60, vod: 36, gaps: []uint64{80, 81, 98, 99}},
		{name: "discontinuities: trimmed ones count in the sequence, kept ones are tagged", recorded: withDisc(recordedRange(0, 100), 50, 90),
			trimmed: 2, edge: liveEdge(100, 6), window: time.Minute,
			first: 76, discSeq: 3, vod: 24, discs: []uint64{90}},
		{name: "a recording numbered far from the live edge is left out", recorded: recordedRange(0, 50), edge: liveEdge(5000, 6), window: time.Hour,
			first: 5000, liveOnly: true},
		{name: "segments the live edge holds are served live, not from the bucket", recorded: recordedRange(90, 106), edge: liveEdge(100, 6), window: time.Hour,
			first: 90, vod: 10},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := rewindPlaylist{stream: "cam1", rendition: "source", edge: tc.edge, window: tc.window,
				recorded: ledgerView{id: "20260611T190000Z", segs: tc.recorded, discTrimmed: tc.trimmed},
				reports:  []renditionReport{{rendition: "low", msn: 106, part: 2}}}
			body := pl.render()
			p := parseRewind(t, body)
			if p.mediaSequence != tc.first || p.discSequence != tc.discSeq {
				t.Fatalf("MEDIA-SEQUENCE %d DISCONTINUITY-SEQUENCE %d, want %d %d:\n%s", p.mediaSequence, p.discSequence, tc.first, tc.discSeq, body)
			}
			if p.canSkipUntil != 12 {
				t.Fatalf("CAN-SKIP-UNTIL %v, want six target durations:\n%s", p.canSkipUntil, body)
			}
			last := tc.edge.Segments[len(tc.edge.Segments)-1].MSN
			if got := p.segs[len(p.segs)-1].msn; got != last {
				t.Fatalf("last segment %d, want the edge's %d", got, last)
			}
			vod, gaps, discs := 0, []uint64(nil), []uint64(nil)
			for _, s := range p.segs {
				if wantURI := "seg" + strconv.FormatUint(s.msn, 10) + ".m4s"; s.msn >= tc.edge.Segments[0].MSN && s.uri != wantURI {
					t.Fatalf("segment %d of the live window at %q, want the packager's %q", s.msn, s.uri, wantURI)
				}
				if strings.HasPrefix(s.uri, "../../../vod/") {
					if s.uri != vodCam1+SegmentName(s.msn) {
						t.Fatalf("segment %d from the bucket at %q", s.msn, s.uri)
					}
					if s.gap {
						gaps = append(gaps, s.msn)
					} else {
						vod++
					}
				}
				if s.disc {
					discs = append(discs, s.msn)
					if !s.dated {
						t.Fatalf("discontinuity at %d without a date", s.msn)
					}
				}
				if s.dated && !s.pdt.Equal(segAt(s.msn).PDT) {
					t.Fatalf("segment %d dated %v, want %v", s.msn, s.pdt, segAt(s.msn).PDT)
				}
				// One init section under one name: the bucket's, once it
				// is recorded, or the packager's.
				if tc.liveOnly && s.mapURI != "init0.mp4" || !tc.liveOnly && s.mapURI != vodCam1+"init0.mp4" {
					t.Fatalf("segment %d maps %q", s.msn, s.mapURI)
				}
			}
			if !p.segs[0].dated {
				t.Fatalf("first segment without a date:\n%s", body)
			}
			if vod != tc.vod || fmt.Sprint(gaps) != fmt.Sprint(tc.gaps) || fmt.Sprint(discs) != fmt.Sprint(tc.discs) {
				t.Fatalf("from the bucket %d (want %d), gaps %v (want %v), discontinuities %v (want %v):\n%s",
					vod, tc.vod, gaps, tc.gaps, discs, tc.discs, body)
			}
			if p.parts != 23 || p.hint != tc.edge.Hint || len(p.reports) != 1 || !strings.Contains(p.reports[0], `URI="../low/rewind.m3u8",LAST-MSN=106,LAST-PART=2`) {
				t.Fatalf("live edge: %d parts, hint %q, reports %v:\n%s", p.parts, p.hint, p.reports, body)
			}
		})
	}
}

// The delta update (_HLS_skip=YES) of every case above's playlist is the
// full playlist with its oldest segments replaced by EXT-X-SKIP, as
// RFC 8216bis §6.2.5.1 says: the same MEDIA-SEQUENCE and
// DISCONTINUITY-SEQUENCE, SKIPPED-SEGMENTS that many segments, none
// skipped that ends within the skip boundary of the playlist's end, and the
// rest exactly as in the full playlist (tags and URIs), each segment's
// EXT-X-MAP in force.
func TestRewindDeltaUpdate(t *testing.T) {
	cases := []struct {
		name     string
		recorded []manifestSeg
		edge     packager.Edge
		skipped  int
	}{
		// 106 segments end at 212 s; the boundary is 12 s: what ends by
		// 200 s, segments 0 to 99.
		{"the recorded past", recordedRange(0, 106), liveEdge(100, 6), 100},
		{"with gaps and a discontinuity", withDiscAt(recordedRange(0, 98, 40, 41), 60), liveEdge(100, 6), 100},
		// Only the live window: six segments are exactly the boundary.
		{"nothing recorded", nil, liveEdge(100, 6), 0},
		{"a short recording", recordedRange(95, 100), liveEdge(100, 6), 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pl := rewindPlaylist{stream: "cam1", rendition: "source", edge: tc.edge, window: 2 * time.Hour,
				recorded: ledgerView{id: "20260611T190000Z", segs: tc.recorded}}
			fullBody := pl.render()
			pl.skip = true
			deltaBody := pl.render()
			full, delta := parseRewind(t, fullBody), parseRewind(t, deltaBody)
			if delta.skipped != tc.skipped {
				t.Fatalf("SKIPPED-SEGMENTS=%d, want %d:\n%s", delta.skipped, tc.skipped, deltaBody)
			}
			if !bytes.Contains(deltaBody, []byte("#EXT-X-SKIP:SKIPPED-SEGMENTS="+strconv.Itoa(tc.skipped)+"\n")) {
				t.Fatalf("no EXT-X-SKIP:\n%s", deltaBody)
			}
			if delta.mediaSequence != full.mediaSequence || delta.discSequence != full.discSequence {
				t.Fatalf("delta sequences %d/%d, full %d/%d", delta.mediaSequence, delta.discSequence, full.mediaSequence, full.discSequence)
			}
			if len(delta.segs) != len(full.segs)-tc.skipped {
				t.Fatalf("delta lists %d segments, full %d minus %d skipped", len(delta.segs), len(full.segs), tc.skipped)
			}
			lastEnd := segAt(full.segs[len(full.segs)-1].msn).PDT.Add(2 * time.Second)
			for i, s := range full.segs {
				end := segAt(s.msn).PDT.Add(2 * time.Second)
				if i < tc.skipped {
					if lastEnd.Sub(end) < 12*time.Second {
						t.Fatalf("segment %d skipped though it ends %v before the end", s.msn, lastEnd.Sub(end))
					}
					continue
				}
				d := delta.segs[i-tc.skipped]
				if d.msn != s.msn || d.uri != s.uri || d.mapURI != s.mapURI || d.gap != s.gap || d.disc != s.disc || d.duration != s.duration {
					t.Fatalf("delta's segment %+v, full playlist's %+v:\n%s", d, s, deltaBody)
				}
			}
			if tc.skipped < len(full.segs) && lastEnd.Sub(segAt(full.segs[tc.skipped].msn).PDT.Add(2*time.Second)) >= 12*time.Second {
				t.Fatalf("segment %d could have been skipped too", full.segs[tc.skipped].msn)
			}
			if !delta.segs[0].dated {
				t.Fatalf("the delta's first segment has no date:\n%s", deltaBody)
			}
			if full.parts != delta.parts || full.hint != delta.hint {
				t.Fatal("the delta's live edge differs")
			}
			t.Logf("full playlist %d bytes, delta update %d bytes", len(fullBody), len(deltaBody))
		})
	}
}

func withDiscAt(segs []manifestSeg, msn uint64) []manifestSeg {
	for i := range segs {
		if segs[i].MSN == msn {
			segs[i].Disc = true
		}
	}
	return segs
}

func TestLedger(t *testing.T) {
	l := newLedger(10 * time.Second) // five segments
	for _, msn := range []uint64{0, 1, 2, 3, 4, 5, 6} {
		s := segAt(msn)
		s.Disc = msn == 1
		l.put("cam1", "r1", "source", s)
	}
	v, ok := l.view("cam1", "source")
	if !ok || v.id != "r1" || v.segs[0].MSN != 2 || len(v.segs) != 5 || v.discTrimmed != 1 {
		t.Fatalf("after seven segments: %+v", v)
	}
	held := v.segs
	l.put("cam1", "r1", "source", segAt(5)) // again: ignored
	l.put("cam1", "r1", "source", segAt(8))
	l.put("cam1", "r1", "source", segAt(7)) // late, within the window
	l.put("cam1", "r1", "source", segAt(0)) // late, out of the window
	v, _ = l.view("cam1", "source")
	var got []uint64
	for _, s := range v.segs {
		got = append(got, s.MSN)
	}
	if fmt.Sprint(got) != "[4 5 6 7 8]" {
		t.Fatalf("segments %v", got)
	}
	if held[0].MSN != 2 || len(held) != 5 || held[4].MSN != 6 {
		t.Fatalf("a view handed out changed: %+v", held)
	}
	l.put("cam1", "r2", "source", segAt(100)) // a new recording starts afresh
	if v, _ = l.view("cam1", "source"); v.id != "r2" || len(v.segs) != 1 {
		t.Fatalf("new recording: %+v", v)
	}
	l.end("cam1", "r1") // not the current one: kept
	if _, ok := l.view("cam1", "source"); !ok {
		t.Fatal("ending an older recording dropped the current one")
	}
	l.end("cam1", "r2")
	if _, ok := l.view("cam1", "source"); ok {
		t.Fatal("a closed recording is still served")
	}
	var nilLedger *ledger // rewind off
	nilLedger.put("cam1", "r", "source", segAt(1))
	if _, ok := nilLedger.view("cam1", "source"); ok {
		t.Fatal("a nil ledger has a view")
	}
}
