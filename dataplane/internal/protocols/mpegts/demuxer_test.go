package mpegts

import (
	"math/rand"
	"os"
	"sync"
	"testing"

	"github.com/zonecast/zonecast/dataplane/e2e/testkit"
)

// makeTS produces a real MPEG-TS with ffmpeg (H.264 or H.265 + AAC, 1 s GOP).
func makeTS(t testing.TB, video string, seconds float64, offset float64) []byte {
	t.Helper()
	b, err := os.ReadFile(testkit.MakeTS(t, t.TempDir(), testkit.TS{Video: video, Size: "160x120", Seconds: seconds, Offset: offset}))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type collected struct {
	mu     sync.Mutex
	tracks []*Track
	units  []*AccessUnit
}

func collect(d *Demuxer) *collected {
	c := &collected{}
	d.OnTracks = func(tr []*Track) { c.mu.Lock(); c.tracks = tr; c.mu.Unlock() }
	d.OnAccessUnit = func(au *AccessUnit) { c.mu.Lock(); c.units = append(c.units, au); c.mu.Unlock() }
	return c
}

func writeChunks(t testing.TB, d *Demuxer, data []byte, sizes []int) {
	t.Helper()
	for i := 0; len(data) > 0; i++ {
		n := min(sizes[i%len(sizes)], len(data))
		if _, err := d.Write(data[:n]); err != nil {
			t.Fatal(err)
		}
		data = data[n:]
	}
}

func TestDemuxRealMedia(t *testing.T) {
	for _, tc := range []struct {
		video string
		codec Codec
	}{{"libx264", CodecH264}, {"libx265", CodecH265}} {
		t.Run(tc.codec.String(), func(t *testing.T) {
			data := makeTS(t, tc.video, 3, 0)
			var ref []*AccessUnit
			for _, sizes := range [][]int{{len(data)}, {1}, {7, 188, 1316, 3}, {100000}} {
				d := &Demuxer{}
				c := collect(d)
				writeChunks(t, d, data, sizes)
				d.Close()
				if d.DecodeErrors() != 0 {
					t.Errorf("chunks %v: %d decode errors on clean input", sizes, d.DecodeErrors())
				}
				var video, audio, keys int
				var prevDTS int64 = -1
				for _, au := range c.units {
					if au.Track.Codec.IsVideo() {
						video++
						if au.DTS <= prevDTS {
							t.Fatalf("video DTS not increasing: %d after %d", au.DTS, prevDTS)
						}
						prevDTS = au.DTS
						if au.PTS < au.DTS {
							t.Fatalf("PTS %d before DTS %d", au.PTS, au.DTS)
						}
						if isKey(au) {
							keys++
						}
					} else {
						audio++
						if au.Track.Codec != CodecAAC || au.Track.AAC.SampleRate != 48000 {
							t.Fatalf("audio track %+v", au.Track)
						}
					}
				}
				// The last frame stays in the demuxer until the next PES.
				if video < 89 || video > 90 || keys != 3 || audio == 0 {
					t.Errorf("chunks %v: %d video (%d keyframes), %d audio units", sizes, video, keys, audio)
				}
				if c.tracks[0].Codec != tc.codec {
					t.Errorf("track codec %v", c.tracks[0].Codec)
				}
				if ref == nil {
					ref = c.units
				} else if len(ref) != len(c.units) {
					t.Errorf("chunks %v: %d units, whole-buffer write gave %d", sizes, len(c.units), len(ref))
				}
			}
		})
	}
}

func isKey(au *AccessUnit) bool {
	for _, n := range au.NALUs {
		if au.Track.Codec == CodecH264 && n[0]&0x1f == 5 {
			return true
		}
		if au.Track.Codec == CodecH265 {
			if typ := (n[0] >> 1) & 0x3f; typ >= 16 && typ <= 21 {
				return true
			}
		}
	}
	return false
}

// Timestamps stay exact and increasing across the 33-bit wrap.
func TestDemuxWrapAround(t *testing.T) {
	wrapAt := float64(int64(1)<<33) / 90000
	data := makeTS(t, "libx264", 4, wrapAt-2)
	d := &Demuxer{}
	c := collect(d)
	writeChunks(t, d, data, []int{1316})
	d.Close()
	var prev int64 = -1
	var wrapped bool
	for _, au := range c.units {
		if !au.Track.Codec.IsVideo() {
			continue
		}
		if au.Discontinuity {
			t.Fatal("wrap-around reported as a discontinuity")
		}
		if prev >= 0 && au.DTS-prev != 3000 {
			t.Fatalf("DTS step %d at %d, want 3000", au.DTS-prev, au.DTS)
		}
		if au.DTS-DefaultMaxJump >= int64(1)<<33 {
			wrapped = true
			if au.RawDTS >= int64(1)<<33 {
				t.Fatal("raw DTS not 33-bit")
			}
		}
		prev = au.DTS
	}
	if !wrapped {
		t.Fatal("input did not cross 2^33")
	}
}

// Reset (a new publisher) starts a new timeline after the old one.
func TestDemuxResetRebases(t *testing.T) {
	a := makeTS(t, "libx264", 2, 0)
	b := makeTS(t, "libx264", 2, 500)
	d := &Demuxer{}
	c := collect(d)
	writeChunks(t, d, a, []int{1316})
	d.Reset()
	writeChunks(t, d, b, []int{1316})
	d.Close()
	var prev int64 = -1
	jumps := 0
	for _, au := range c.units {
		if au.Discontinuity {
			jumps++
		}
		if au.Track.Codec.IsVideo() {
			if au.DTS <= prev {
				t.Fatalf("timeline went back: %d after %d", au.DTS, prev)
			}
			prev = au.DTS
		}
	}
	if jumps != 1 {
		t.Errorf("%d units flagged as discontinuity, want 1", jumps)
	}
}

// Garbage, truncated packets and random bytes are counted, never fatal.
func TestDemuxBadInput(t *testing.T) {
	data := makeTS(t, "libx264", 2, 0)
	rng := rand.New(rand.NewSource(7))
	var bad []byte
	for off := 0; off < len(data); off += 188 * 10 {
		end := min(off+188*10, len(data))
		chunk := data[off:end]
		if rng.Intn(3) == 0 {
			chunk = chunk[:len(chunk)-rng.Intn(187)-1]
		}
		g := make([]byte, rng.Intn(50))
		rng.Read(g)
		bad = append(bad, g...)
		bad = append(bad, chunk...)
	}
	d := &Demuxer{}
	c := collect(d)
	writeChunks(t, d, bad, []int{999})
	d.Close()
	if d.DecodeErrors() == 0 {
		t.Error("no decode errors counted")
	}
	if len(c.units) == 0 {
		t.Error("nothing recovered from mostly intact input")
	}
}
