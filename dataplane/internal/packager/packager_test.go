package packager

import (
	"bytes"
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// checkMediaPlaylist checks the rules Apple's validator and RFC 8216bis
// apply to a live LL-HLS or classic playlist.
func checkMediaPlaylist(t *testing.T, body []byte, ll bool) *playlist.Media {
	t.Helper()
	return checkPlaylistRules(t, body, ll, true)
}

// checkPlaylistRules is checkMediaPlaylist; with strict false it skips
// the 85 % minimum part duration, which lost frames legitimately break.
func checkPlaylistRules(t *testing.T, body []byte, ll, strict bool) *playlist.Media {
	t.Helper()
	m := testkit.ParseMedia(t, body)
	text := string(body)
	for i, s := range m.Segments {
		if rd := int(math.Round(s.Duration.Seconds())); rd > m.TargetDuration {
			t.Errorf("segment %d: EXTINF %v rounds above TARGETDURATION %d", i, s.Duration, m.TargetDuration)
		}
		if s.DateTime == nil {
			t.Errorf("segment %d (%s) has no EXT-X-PROGRAM-DATE-TIME", i, s.URI)
		}
		if want := "seg" + strconv.Itoa(m.MediaSequence+i); !strings.HasPrefix(s.URI, want+".") {
			t.Errorf("segment %d is %s, want %s.* (names follow the media sequence)", i, s.URI, want)
		}
		if i > 0 && s.DateTime != nil && m.Segments[i-1].DateTime != nil && !s.Discontinuity {
			want := m.Segments[i-1].DateTime.Add(m.Segments[i-1].Duration)
			if d := s.DateTime.Sub(want); d > 5*time.Millisecond || d < -5*time.Millisecond {
				t.Errorf("segment %d: PDT %v, want %v (previous PDT + duration)", i, s.DateTime, want)
			}
		}
	}
	if !strings.Contains(text, "#EXT-X-INDEPENDENT-SEGMENTS") {
		t.Error("no EXT-X-INDEPENDENT-SEGMENTS")
	}
	if m.DiscontinuitySequence == nil {
		t.Error("no EXT-X-DISCONTINUITY-SEQUENCE")
	}
	if !ll {
		return m
	}
	if m.ServerControl == nil || !m.ServerControl.CanBlockReload || m.ServerControl.PartHoldBack == nil {
		t.Fatalf("EXT-X-SERVER-CONTROL incomplete:\n%s", body)
	}
	if m.PartInf == nil {
		t.Fatalf("no EXT-X-PART-INF:\n%s", body)
	}
	pt := m.PartInf.PartTarget
	if *m.ServerControl.PartHoldBack < 2*pt {
		t.Errorf("PART-HOLD-BACK %v < 2 × PART-TARGET %v", *m.ServerControl.PartHoldBack, pt)
	}
	// gohlslib does not parse HOLD-BACK: read it from the text.
	hb := regexp.MustCompile(`SERVER-CONTROL:.*[:,]HOLD-BACK=([0-9.]+)`).FindStringSubmatch(text)
	if hb == nil {
		t.Errorf("no HOLD-BACK in EXT-X-SERVER-CONTROL")
	} else if v, _ := strconv.ParseFloat(hb[1], 64); v < 3*float64(m.TargetDuration) {
		t.Errorf("HOLD-BACK %v < 3 × TARGETDURATION", v)
	}
	check := func(uri string, parts []*playlist.MediaPart, complete bool) {
		for j, p := range parts {
			if p.Duration > pt {
				t.Errorf("%s part %d: %v > PART-TARGET %v", uri, j, p.Duration, pt)
			}
			last := j == len(parts)-1
			if strict && !p.Independent && !last && complete && float64(p.Duration) < 0.85*float64(pt) {
				t.Errorf("%s part %d: %v < 85%% of PART-TARGET", uri, j, p.Duration)
			}
			if j == 0 && !p.Independent {
				t.Errorf("%s: first part not INDEPENDENT=YES (segments start on keyframes)", uri)
			}
		}
	}
	for _, s := range m.Segments {
		check(s.URI, s.Parts, true)
	}
	check("open segment", m.Parts, false)
	return m
}

func TestPackagerRealMedia(t *testing.T) {
	for _, tc := range []struct {
		name       string
		spec       testkit.TS
		videoCodec string
		codecsRE   string
	}{
		{"h264+aac", testkit.TS{Video: "libx264", Seconds: 9, BFrames: true}, "h264", `CODECS="avc1\.[0-9a-f]{6},mp4a\.40\.2"`},
		{"h265+aac", testkit.TS{Video: "libx265", Seconds: 9}, "hevc", `CODECS="hvc1\.[^,"]+,mp4a\.40\.2"`},
		{"h264+opus", testkit.TS{Video: "libx264", Seconds: 7, Audio: "libopus"}, "h264", `CODECS="avc1\.[0-9a-f]{6},opus"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			ts := testkit.MakeTS(t, dir, tc.spec)
			s, srv := newTestStream(t, Config{})
			r := s.Rendition("source")
			feed(t, r, readFile(t, ts))
			// The open segment stays open until the next keyframe: check
			// the LL-HLS view of it before flushing.
			live := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
			if live.PreloadHint == nil || !strings.HasPrefix(live.PreloadHint.URI, "part") {
				t.Errorf("live playlist without EXT-X-PRELOAD-HINT")
			}
			r.Discontinuity() // publisher gone: publish what was received

			mv := string(mustGet(t, srv, "index.m3u8"))
			for _, re := range []string{tc.codecsRE, `RESOLUTION=320x240`, `FRAME-RATE=30\.000`, `BANDWIDTH=\d+`, `AVERAGE-BANDWIDTH=\d+`, `(?m)^source/index\.m3u8$`} {
				if !regexp.MustCompile(re).MatchString(mv) {
					t.Errorf("multivariant playlist lacks %s:\n%s", re, mv)
				}
			}
			if cl := string(mustGet(t, srv, "classic.m3u8")); !strings.Contains(cl, "source/classic.m3u8") {
				t.Errorf("classic multivariant:\n%s", cl)
			}

			m := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
			if len(m.Segments) < 4 {
				t.Fatalf("want ≥ 4 segments from %v s of media, got %d", tc.spec.Seconds, len(m.Segments))
			}
			init := mustGet(t, srv, "source/"+m.Map.URI)
			var total time.Duration
			for i, seg := range m.Segments {
				body := mustGet(t, srv, "source/"+seg.URI)
				// Parts concatenated are the segment.
				if len(seg.Parts) > 0 {
					var cat []byte
					for _, p := range seg.Parts {
						cat = append(cat, mustGet(t, srv, "source/"+p.URI)...)
					}
					if !bytes.Equal(cat, body) {
						t.Errorf("%s: parts do not add up to the segment", seg.URI)
					}
				}
				pr := probe(t, writeTemp(t, dir, "check.mp4", init, body))
				checkProbe(t, seg.URI, pr, tc.videoCodec, seg.Duration, i == len(m.Segments)-1)
				total += seg.Duration
			}
			c := checkMediaPlaylist(t, mustGet(t, srv, "source/classic.m3u8"), false)
			if len(c.Segments) != len(m.Segments) || c.MediaSequence != m.MediaSequence {
				t.Errorf("classic playlist has %d segments from %d, LL-HLS %d from %d", len(c.Segments), c.MediaSequence, len(m.Segments), m.MediaSequence)
			}
			for i, seg := range c.Segments {
				body := mustGet(t, srv, "source/"+seg.URI)
				pr := probe(t, writeTemp(t, dir, "check.ts", body))
				checkProbe(t, seg.URI, pr, tc.videoCodec, seg.Duration, i == len(c.Segments)-1)
			}
			st := s.Stats()
			if st.SegmentsWritten < uint64(len(m.Segments)) || st.PartsWritten == 0 || st.DecodeErrors != 0 {
				t.Errorf("stats %+v", st)
			}
		})
	}
}

func checkProbe(t *testing.T, name string, pr probeResult, codec string, extinf time.Duration, last bool) {
	t.Helper()
	var gotCodec string
	var hasAudio bool
	for _, s := range pr.Streams {
		if s.CodecType == "video" {
			gotCodec = s.CodecName
		} else if s.CodecType == "audio" {
			hasAudio = true
		}
	}
	if gotCodec != codec || !hasAudio {
		t.Errorf("%s: video codec %q (want %q), audio %v", name, gotCodec, codec, hasAudio)
	}
	key, dur, frames := videoSpan(t, pr)
	t.Logf("%s: %s, %d frames over %.3f s (EXTINF %.3f), keyframe first: %v", name, gotCodec, frames, dur, extinf.Seconds(), key)
	if !key {
		t.Errorf("%s does not start with a keyframe", name)
	}
	if frames == 0 {
		t.Errorf("%s has no video", name)
	}
	// ffprobe's per-packet durations in TS are estimates: allow one frame.
	if d := dur - extinf.Seconds(); d > 0.034 || d < -0.034 {
		t.Errorf("%s: video spans %.3f s, EXTINF says %.3f s", name, dur, extinf.Seconds())
	}
}

// Segment and part durations follow the configuration (1 s GOP input).
func TestConfiguredDurations(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 13, NoAudio: true}))
	for _, tc := range []struct {
		seg, part  time.Duration
		wantTarget time.Duration // PART-TARGET: part rounded up to 30 fps frames
	}{
		{time.Second, 200 * time.Millisecond, 200 * time.Millisecond},
		{4 * time.Second, 500 * time.Millisecond, 500 * time.Millisecond},
		{2 * time.Second, 330 * time.Millisecond, 333334 * time.Microsecond},
	} {
		t.Run(tc.seg.String()+"/"+tc.part.String(), func(t *testing.T) {
			s, srv := newTestStream(t, Config{SegmentDuration: tc.seg, PartDuration: tc.part, WindowSegments: 20})
			r := s.Rendition("source")
			feed(t, r, data)
			r.Discontinuity()
			m := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
			if d := m.PartInf.PartTarget - tc.wantTarget; d < -10*time.Microsecond || d > 10*time.Microsecond {
				t.Errorf("PART-TARGET %v, want %v", m.PartInf.PartTarget, tc.wantTarget)
			}
			if want := int((tc.seg + time.Second/2) / time.Second); m.TargetDuration != want {
				t.Errorf("TARGETDURATION %d, want %d", m.TargetDuration, want)
			}
			// All but the first (starts at the first keyframe) and the last
			// (cut by the publisher leaving) last exactly one segment.
			for _, seg := range m.Segments[1 : len(m.Segments)-1] {
				if seg.Duration != tc.seg {
					t.Errorf("%s lasts %v, want %v", seg.URI, seg.Duration, tc.seg)
				}
			}
		})
	}
}
