package packager

import (
	"net/http/httptest"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
	"github.com/bluenviron/mediacommon/v2/pkg/codecs/mpeg4audio"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
	"github.com/zonecast/zonecast/dataplane/internal/protocols/mpegts"
)

// A quiet input (a publisher gone, or stalled without a word) leaves the
// playlist advancing with filler at its own cadence: the last keyframe
// shown still with silent audio, between EXT-X-DISCONTINUITY tags, every
// part independent, program date-times continuing; the filler decodes
// without an error; and real media resuming follows it.
func TestSlateFillsQuietInput(t *testing.T) {
	for _, tc := range []struct {
		name       string
		ts         testkit.TS
		disconnect bool     // the input ended with Discontinuity (a publisher gone), else it stalled
		streams    []string // codecs ffprobe finds in a filler segment
	}{
		{"h264 aac mono, publisher gone", testkit.TS{}, true, []string{"h264", "aac"}},
		{"h264 aac stereo, input stalled", testkit.TS{Channels: 2}, false, []string{"h264", "aac"}},
		{"h264 aac 5.1, publisher gone", testkit.TS{Channels: 6}, true, []string{"h264", "aac"}},
		{"h264 opus", testkit.TS{Audio: "libopus"}, true, []string{"h264", "opus"}},
		{"h264 b-frames", testkit.TS{BFrames: true}, false, []string{"h264", "aac"}},
		{"h265 aac", testkit.TS{Video: "libx265"}, true, []string{"hevc", "aac"}},
		{"h264 no audio", testkit.TS{NoAudio: true}, true, []string{"h264"}},
		{"audio only", testkit.TS{NoVideo: true}, true, []string{"aac"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.ts.Seconds = 5
			data := readFile(t, testkit.MakeTS(t, dir, tc.ts))
			again := tc.ts
			again.Offset = 600 // a new publisher: new timestamps
			data2 := readFile(t, testkit.MakeTS(t, dir, again))
			const after = time.Second
			s, srv := newTestStream(t, Config{WindowSegments: 20, SlateAfter: after})
			s.stopSlate() // the test drives the slate's clock
			r := s.Rendition("source")
			feed(t, r, data)
			if tc.disconnect {
				r.Discontinuity()
			}
			settle(t, s)
			r.mu.Lock()
			last, before := r.lastInput, r.nextMSN
			r.mu.Unlock()

			hinted := hint(t, mustGet(t, srv, "source/index.m3u8"))
			r.slateTick(last.Add(after - time.Millisecond))
			if st := s.Stats(); st.Slates != 0 {
				t.Fatalf("slate began before the input was quiet for %v", after)
			}
			// 5 s of quiet: the first second's filler at once, then a part
			// every part target.
			for at := last.Add(after); !at.After(last.Add(5 * time.Second)); at = at.Add(50 * time.Millisecond) {
				r.slateTick(at)
			}
			st := s.Stats()
			if st.Slates != 1 || st.FillerParts == 0 {
				t.Fatalf("stats after 5 s quiet: %+v", st)
			}
			// Players may wait for the hinted part: it must come (a
			// publisher gone has closed its segment short already; that
			// hint was dropped before the slate).
			if tc.disconnect != (hinted == "") {
				t.Errorf("hint %q in the playlist of an input that ended (%v)", hinted, tc.disconnect)
			} else if c := get(t, srv, "source/"+hinted); !tc.disconnect && c.status != 200 {
				t.Errorf("the part hinted when the input went quiet, %s: %d", hinted, c.status)
			}
			ll := mustGet(t, srv, "source/index.m3u8")
			m := checkMediaPlaylist(t, ll, true)
			checkMediaPlaylist(t, mustGet(t, srv, "source/classic.m3u8"), false)
			text := string(ll)
			if n := strings.Count(text, "#EXT-X-DISCONTINUITY\n"); n != 1 {
				t.Errorf("want one EXT-X-DISCONTINUITY (before the filler), got %d:\n%s", n, text)
			}
			if strings.Contains(text, "#EXT-X-GAP") {
				t.Errorf("filler is media, not EXT-X-GAP:\n%s", text)
			}
			first := int(before) - m.MediaSequence // the first filler segment
			if first <= 0 || first >= len(m.Segments) {
				t.Fatalf("no filler segment after MSN %d:\n%s", before, text)
			}
			fill := m.Segments[first]
			if !fill.Discontinuity {
				t.Errorf("first filler segment %s has no EXT-X-DISCONTINUITY", fill.URI)
			}
			prev := m.Segments[first-1]
			if want := prev.DateTime.Add(prev.Duration); fill.DateTime.Sub(want).Abs() > 2*time.Millisecond {
				t.Errorf("filler PDT %v, want %v (where the media stopped)", fill.DateTime, want)
			}
			// The filler covers the quiet time in whole parts, at the playlist's cadence.
			var filled time.Duration
			for _, seg := range m.Segments[first:] {
				filled += seg.Duration
				if seg.Duration > 2*time.Second+200*time.Millisecond {
					t.Errorf("filler segment %s lasts %v", seg.URI, seg.Duration)
				}
			}
			for _, p := range m.Parts {
				filled += p.Duration
			}
			if filled < 4800*time.Millisecond || filled > 5*time.Second+time.Millisecond {
				t.Errorf("%v of filler for 5 s of quiet input", filled)
			}
			// The second filler segment: the first starts where each track
			// of the input stopped, which differ by up to a frame.
			checkFiller(t, srv, dir, m, m.Segments[first+1], tc.streams)
			// A recording keeps the filler as a hole, not as the stream.
			for _, c := range s.Completed("source", before) {
				if !c.Gap || c.Data != nil {
					t.Errorf("filler segment %d handed to the recorder as media", c.MSN)
				}
			}

			// The input comes back: its media follows the filler after a
			// second discontinuity, and the slate stops.
			hinted = hint(t, mustGet(t, srv, "source/index.m3u8"))
			feed(t, r, data2)
			r.Discontinuity()
			settle(t, s)
			parts := s.Stats().FillerParts
			r.slateTick(time.Now())
			if got := s.Stats().FillerParts; got != parts {
				t.Errorf("filler went on after the input came back (%d → %d parts)", parts, got)
			}
			ll = mustGet(t, srv, "source/index.m3u8")
			m = checkMediaPlaylist(t, ll, true)
			if n := strings.Count(string(ll), "#EXT-X-DISCONTINUITY\n"); n != 2 {
				t.Errorf("want EXT-X-DISCONTINUITY before and after the filler, got %d:\n%s", n, ll)
			}
			if c := get(t, srv, "source/"+hinted); c.status != 200 {
				t.Errorf("the part hinted when the input came back, %s: %d", hinted, c.status)
			}
			// Every classic segment, before, in and after the filler.
			classic := checkMediaPlaylist(t, mustGet(t, srv, "source/classic.m3u8"), false)
			for _, seg := range classic.Segments {
				c := get(t, srv, "source/"+seg.URI)
				if c.status != 200 || c.header.Get("Content-Type") != "video/mp2t" {
					t.Errorf("%s: %d %s\n%s", seg.URI, c.status, c.header.Get("Content-Type"), mustGet(t, srv, "source/index.m3u8"))
					continue
				}
				p := writeTemp(t, dir, "classic.ts", c.body)
				if out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", p, "-f", "null", "-").CombinedOutput(); err != nil || len(out) > 0 {
					t.Errorf("classic %s does not decode cleanly: %v\n%s", seg.URI, err, out)
				}
			}
			lastSeg := m.Segments[len(m.Segments)-1]
			pr := probe(t, writeTemp(t, dir, "back.mp4", mustGet(t, srv, "source/"+lastMap(string(ll))), mustGet(t, srv, "source/"+lastSeg.URI)))
			if len(pr.Packets) < 10 {
				t.Errorf("media after the filler: %d packets", len(pr.Packets))
			}
		})
	}
}

// checkFiller fetches a filler segment with its init and checks what it
// holds: the expected tracks, video samples that are all keyframes, audio
// covering the segment, and that ffmpeg decodes it without an error.
func checkFiller(t *testing.T, srv *httptest.Server, dir string, m *playlist.Media, seg *playlist.MediaSegment, codecs []string) {
	t.Helper()
	body := mustGet(t, srv, "source/"+seg.URI)
	path := writeTemp(t, dir, "filler.mp4", mustGet(t, srv, "source/"+m.Map.URI), body)
	pr := probe(t, path)
	var got []string
	kinds := map[string]bool{}
	for _, s := range pr.Streams {
		got = append(got, s.CodecName)
		kinds[s.CodecType] = true
	}
	if strings.Join(got, ",") != strings.Join(codecs, ",") {
		t.Errorf("filler streams %v, want %v", got, codecs)
	}
	// Durations from the timestamps (ffprobe leaves fMP4 sample durations
	// out, or guesses them from the frame rate).
	dts := map[string][]float64{}
	for _, p := range pr.Packets {
		var d float64
		fmtSscan(p.DTSTime, &d)
		dts[p.CodecType] = append(dts[p.CodecType], d)
		if p.CodecType == "video" && !strings.HasPrefix(p.Flags, "K") {
			t.Errorf("filler video packet at %s is not a keyframe", p.DTSTime)
		}
	}
	want := seg.Duration.Seconds()
	for kind, ts := range dts {
		if len(ts) < 2 {
			t.Errorf("filler holds %d %s samples", len(ts), kind)
			continue
		}
		n := len(ts)
		if d := ts[n-1] - ts[0] + (ts[n-1] - ts[n-2]); d < want-0.03 || d > want+0.03 {
			t.Errorf("filler holds %.3f s of %s, EXTINF %.3f", d, kind, want)
		}
	}
	if t.Failed() {
		o, _ := exec.Command("ffprobe", "-v", "error", "-show_packets", "-show_streams", "-of", "compact", path).CombinedOutput()
		t.Logf("%s", o)
	}
	testkit.RequireTools(t, "ffmpeg")
	// The classic (MPEG-TS) segment too.
	ts := writeTemp(t, dir, "filler.ts", mustGet(t, srv, "source/"+strings.TrimSuffix(seg.URI, ".m4s")+".ts"))
	for _, p := range []string{path, ts} {
		out, err := exec.Command("ffmpeg", "-hide_banner", "-v", "error", "-i", p, "-f", "null", "-").CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("ffmpeg does not decode the filler %s cleanly: %v\n%s", p, err, out)
		}
	}
}

// hint is the URI of a playlist's EXT-X-PRELOAD-HINT ("" without one).
func hint(t *testing.T, playlist []byte) string {
	t.Helper()
	_, rest, ok := strings.Cut(string(playlist), `#EXT-X-PRELOAD-HINT:TYPE=PART,URI="`)
	if !ok {
		return ""
	}
	uri, _, _ := strings.Cut(rest, `"`)
	return uri
}

// A filler segment holds as many PART-TARGET parts as make the segment
// duration, never so many that its EXTINF rounds above TARGETDURATION.
func TestFillerParts(t *testing.T) {
	for _, tc := range []struct {
		name       string
		seg, part  time.Duration
		partTarget int64 // 90 kHz, as the first session fixed it (0: none yet)
		targetDur  int
		want       int
	}{
		{"2 s / 200 ms at 30 fps", 2 * time.Second, 200 * time.Millisecond, 18000, 2, 10},
		{"2 s / 200 ms at 24 fps (208.3 ms parts)", 2 * time.Second, 200 * time.Millisecond, 18750, 2, 10},
		{"2 s / 200 ms at 25 fps", 2 * time.Second, 200 * time.Millisecond, 18000, 2, 10},
		{"1 s / 333 ms at 30 fps", time.Second, 333 * time.Millisecond, 30000, 1, 3},
		{"6 s / 1 s", 6 * time.Second, time.Second, 90000, 6, 6},
		{"before any part", 2 * time.Second, 200 * time.Millisecond, 0, 2, 10},
		{"parts longer than the target allows", 2 * time.Second, time.Second, 3 * 90000 / 2, 2, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &Rendition{segTicks: durationToTicks(tc.seg), partTicks: durationToTicks(tc.part), partTargetTicks: tc.partTarget, targetDur: tc.targetDur}
			n := r.fillerParts()
			if n != tc.want {
				t.Errorf("%d parts, want %d", n, tc.want)
			}
			if d := ticksToDuration(int64(n) * r.fillerPartTicks()); int((d+time.Second/2)/time.Second) > tc.targetDur {
				t.Errorf("a filler segment of %v rounds above TARGETDURATION %d", d, tc.targetDur)
			}
		})
	}
}

// Silence exists for the audio configurations publishers send; others
// get video-only filler rather than a wrong frame.
func TestSilentFrame(t *testing.T) {
	aac := func(typ mpeg4audio.ObjectType, config uint8) *mpegts.Track {
		return &mpegts.Track{Codec: mpegts.CodecAAC, AAC: &mpeg4audio.AudioSpecificConfig{Type: typ, SampleRate: 48000, ChannelConfig: config}}
	}
	for _, tc := range []struct {
		name  string
		track *mpegts.Track
		dur   int64
	}{
		{"AAC-LC mono", aac(mpeg4audio.ObjectTypeAACLC, 1), 1024},
		{"AAC-LC stereo", aac(mpeg4audio.ObjectTypeAACLC, 2), 1024},
		{"AAC-LC 5.1", aac(mpeg4audio.ObjectTypeAACLC, 6), 1024},
		{"AAC-LC 7.1", aac(mpeg4audio.ObjectTypeAACLC, 7), 0},
		{"HE-AAC", aac(mpeg4audio.ObjectTypeSBR, 2), 0},
		{"Opus", &mpegts.Track{Codec: mpegts.CodecOpus, OpusChannels: 2}, 960},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, d := silentFrame(tc.track)
			if d != tc.dur || (len(f) > 0) != (tc.dur > 0) {
				t.Errorf("silent frame %x lasting %d, want %d", f, d, tc.dur)
			}
		})
	}
}
