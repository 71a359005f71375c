package packager

import (
	"math/rand"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// A stream whose 33-bit clock wraps mid-stream (ffmpeg started just below
// 2^33 / 90000 s) keeps exact segment durations, no discontinuity and
// timestamps that keep increasing in the fMP4 output.
func TestPTSWrapAround(t *testing.T) {
	dir := t.TempDir()
	wrapAt := float64(int64(1)<<33) / 90000
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 9, Offset: wrapAt - 4}))
	s, srv := newTestStream(t, Config{WindowSegments: 10})
	r := s.Rendition("source")
	feed(t, r, data)
	r.Discontinuity()
	body := mustGet(t, srv, "source/index.m3u8")
	m := checkMediaPlaylist(t, body, true)
	if strings.Contains(string(body), "#EXT-X-DISCONTINUITY\n") {
		t.Errorf("wrap-around marked as a discontinuity:\n%s", body)
	}
	var total float64
	for _, seg := range m.Segments {
		total += seg.Duration.Seconds()
		if seg.Duration.Seconds() > 2.001 || seg.Duration.Seconds() < 0.5 {
			t.Errorf("%s lasts %v across the wrap", seg.URI, seg.Duration)
		}
	}
	if total < 8.9 || total > 9.1 {
		t.Errorf("segments add up to %.3f s, want 9 (nothing lost at the wrap)", total)
	}
	// Concatenate init + every segment: decode times must increase.
	parts := [][]byte{mustGet(t, srv, "source/"+m.Map.URI)}
	for _, seg := range m.Segments {
		parts = append(parts, mustGet(t, srv, "source/"+seg.URI))
	}
	pr := probe(t, writeTemp(t, dir, "all.mp4", parts...))
	prev := -1.0
	n := 0
	for _, p := range pr.Packets {
		if p.CodecType != "video" {
			continue
		}
		var dts float64
		if _, err := fmtSscan(p.DTSTime, &dts); err != nil {
			t.Fatal(err)
		}
		if dts <= prev {
			t.Fatalf("video DTS went from %.4f to %.4f (packet %d)", prev, dts, n)
		}
		prev = dts
		n++
	}
	if n != 270 {
		t.Errorf("%d video frames, want 270 (9 s at 30 fps)", n)
	}
}

// Corrupt and truncated input is counted and survived: segments still come
// out of the intact stretches, and another stream is untouched.
func TestCorruptInput(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 8}))
	rng := rand.New(rand.NewSource(1))
	var bad []byte
	for off := 0; off < len(data); {
		n := min(188*(1+rng.Intn(40)), len(data)-off)
		chunk := append([]byte(nil), data[off:off+n]...)
		off += n
		switch rng.Intn(6) {
		case 0: // truncated packet
			chunk = chunk[:len(chunk)-1-rng.Intn(150)]
		case 1: // garbage between packets
			g := make([]byte, 1+rng.Intn(300))
			rng.Read(g)
			bad = append(bad, g...)
		case 2: // flipped bytes inside
			for k := 0; k < 3; k++ {
				chunk[rng.Intn(len(chunk))] ^= byte(1 + rng.Intn(255))
			}
		}
		bad = append(bad, chunk...)
	}
	s, srv := newTestStream(t, Config{})
	good := NewMuxer("cam2", Config{}, nil)
	defer good.Close()
	feed(t, s.Rendition("source"), bad)
	feed(t, good.Rendition("source"), data)
	s.Rendition("source").Discontinuity()
	good.Rendition("source").Discontinuity()
	st := s.Stats()
	if st.DecodeErrors == 0 {
		t.Error("corrupt input produced no decode errors")
	}
	if st.SegmentsWritten == 0 {
		t.Errorf("no segment survived the corruption: %+v", st)
	}
	if checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true); t.Failed() {
		t.Logf("%s", mustGet(t, srv, "source/index.m3u8"))
	}
	if gs := good.Stats(); gs.DecodeErrors != 0 || gs.SegmentsWritten < 4 {
		t.Errorf("the clean stream was affected: %+v", gs)
	}
	t.Logf("corrupt stream: %+v", st)

	// Pure garbage never yields a playlist nor an error from WriteTS.
	junk := make([]byte, 200000)
	rng.Read(junk)
	g := NewMuxer("junk", Config{}, nil)
	defer g.Close()
	feed(t, g.Rendition("source"), junk)
	if g.Stats().SegmentsWritten != 0 {
		t.Error("segments out of random bytes")
	}
}

// An audio-only input (radio) is segmented on its own timestamps: every
// frame can start a segment.
func TestAudioOnly(t *testing.T) {
	dir := t.TempDir()
	data := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 7, NoVideo: true}))
	s, srv := newTestStream(t, Config{})
	r := s.Rendition("source")
	feed(t, r, data)
	r.Discontinuity()
	m := checkMediaPlaylist(t, mustGet(t, srv, "source/index.m3u8"), true)
	if len(m.Segments) < 3 {
		t.Fatalf("%d segments from 7 s of audio", len(m.Segments))
	}
	mv := string(mustGet(t, srv, "index.m3u8"))
	if !strings.Contains(mv, `CODECS="mp4a.40.2"`) || strings.Contains(mv, "RESOLUTION") {
		t.Errorf("audio-only multivariant:\n%s", mv)
	}
	seg := m.Segments[1]
	pr := probe(t, writeTemp(t, dir, "a.mp4", mustGet(t, srv, "source/"+m.Map.URI), mustGet(t, srv, "source/"+seg.URI)))
	if len(pr.Streams) != 1 || pr.Streams[0].CodecName != "aac" {
		t.Errorf("audio segment streams %+v", pr.Streams)
	}
	var audioDur float64
	for _, p := range pr.Packets {
		var d float64
		fmtSscan(p.Duration, &d)
		audioDur += d
	}
	if diff := audioDur - seg.Duration.Seconds(); diff > 0.03 || diff < -0.03 {
		t.Errorf("%s holds %.3f s of audio, EXTINF %.3f", seg.URI, audioDur, seg.Duration.Seconds())
	}
	if c := get(t, srv, "source/seg1.ts"); c.status != 200 || c.header.Get("Content-Type") != "video/mp2t" {
		t.Errorf("classic audio segment: %d", c.status)
	}
}

// Many randomly corrupted inputs: never a panic (the demuxer would survive
// one, but each is a bug), and every playlist produced still follows the
// rules.
func TestCorruptionStress(t *testing.T) {
	dir := t.TempDir()
	clean := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 4}))
	hevc := readFile(t, testkit.MakeTS(t, dir, testkit.TS{Seconds: 4, Video: "libx265"}))
	rng := rand.New(rand.NewSource(42))
	produced := 0
	for i := 0; i < 200; i++ {
		src := clean
		if i%2 == 1 {
			src = hevc
		}
		data := append([]byte(nil), src...)
		for k, n := 0, 1+rng.Intn(200); k < n; k++ {
			switch rng.Intn(3) {
			case 0:
				data[rng.Intn(len(data))] = byte(rng.Intn(256))
			case 1: // a burst of garbage
				off := rng.Intn(len(data))
				for j := off; j < min(off+rng.Intn(400), len(data)); j++ {
					data[j] = byte(rng.Intn(256))
				}
			case 2: // a hole
				off := rng.Intn(len(data))
				end := min(off+rng.Intn(3000), len(data))
				data = append(data[:off], data[end:]...)
			}
		}
		s, srv := newTestStream(t, Config{})
		r := s.Rendition("source")
		feed(t, r, data)
		r.Discontinuity()
		if st := s.Stats(); st.Panics != 0 {
			t.Fatalf("input %d: %d panics", i, st.Panics)
		}
		if res := get(t, srv, "source/index.m3u8"); res.status == 200 {
			checkPlaylistRules(t, res.body, true, false)
			produced++
		}
		s.Close()
	}
	if produced < 100 {
		t.Errorf("only %d of 200 corrupted inputs produced a playlist", produced)
	}
	t.Logf("%d of 200 corrupted inputs produced a playlist", produced)
}
