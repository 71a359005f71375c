package transcode

import (
	"bytes"
	"math/rand"
	"slices"
	"testing"
)

// scanAll feeds data in chunks of the given size and returns the keyframe
// PTS found and the SPS-derived source info.
func scanAll(data []byte, chunk int) (keys []int64, info SourceInfo, sc *tsScanner) {
	sc = newTSScanner()
	sc.onKeyHead = func(head []byte, st byte) {
		if i, ok := parseKeyHead(head, st); ok {
			info = i
		}
	}
	var out []byte
	for off := 0; off < len(data); off += chunk {
		var k keyframe
		before := len(out)
		out, k = sc.scan(data[off:min(off+chunk, len(data))], out, true)
		if k.At >= 0 {
			keys = append(keys, k.PTS)
			if out[k.At] != tsSync || k.At < before {
				panic("keyframe offset not at a packet start of this chunk")
			}
		}
	}
	return keys, info, sc
}

func TestScannerChunkingAndGarbage(t *testing.T) {
	src := readFile(t, sourceTS(t, 640, 360, 5, 7000.4))
	ref, info, sc := scanAll(src, 1316)
	if len(ref) != 5 {
		t.Fatalf("%d keyframes in 5 s of 1 s GOP, want 5: %v", len(ref), ref)
	}
	if info.Codec != "h264" || info.Width != 640 || info.Height != 360 || info.FPS != 30 {
		t.Errorf("SPS: %+v", info)
	}
	if sc.videoType != streamTypeH264 || sc.audioType != streamTypeAAC || sc.audioPID < 0 {
		t.Errorf("PMT: video %#x audio %#x pid %d", sc.videoType, sc.audioType, sc.audioPID)
	}
	if sc.garbage != 0 {
		t.Errorf("%d garbage bytes in a clean TS", sc.garbage)
	}
	tests := []struct {
		name  string
		data  []byte
		chunk int
	}{
		{"one byte at a time", src, 1},
		{"odd chunks", src, 1000},
		{"packet chunks", src, 188},
		{"big chunks", src, 65536},
		{"garbage before and between packets", withGarbage(src), 1316},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			keys, got, _ := scanAll(tc.data, tc.chunk)
			if !slices.Equal(keys, ref) || got != info {
				t.Errorf("keyframes %v info %+v, want %v %+v", keys, got, ref, info)
			}
		})
	}
}

// withGarbage puts junk before the TS and after every 50th packet.
func withGarbage(src []byte) []byte {
	rng := rand.New(rand.NewSource(1))
	junk := func() []byte {
		b := make([]byte, 1+rng.Intn(300))
		rng.Read(b)
		for i := range b {
			if b[i] == tsSync {
				b[i] = 0
			}
		}
		return b
	}
	var out bytes.Buffer
	out.Write(junk())
	for i := 0; i+tsPacketSize <= len(src); i += tsPacketSize {
		out.Write(src[i : i+tsPacketSize])
		if i/tsPacketSize%50 == 49 {
			out.Write(junk())
		}
	}
	return out.Bytes()
}

func TestPTSDiffWraps(t *testing.T) {
	const wrap = int64(1) << 33
	tests := []struct{ a, b, want int64 }{
		{100, 40, 60},
		{40, 100, -60},
		{5, wrap - 5, 10},
		{wrap - 5, 5, -10},
	}
	for _, tc := range tests {
		if got := ptsDiff(tc.a, tc.b); got != tc.want {
			t.Errorf("ptsDiff(%d,%d)=%d want %d", tc.a, tc.b, got, tc.want)
		}
	}
}

func TestRegularGOP(t *testing.T) {
	tests := []struct {
		keys []int64
		want int64
	}{
		{[]int64{0, 90000, 180000}, 90000},
		{[]int64{0, 90000, 180050}, 90000}, // within a millisecond
		{[]int64{0, 90000, 200000}, 0},     // irregular: pure time grid
		{[]int64{0, 90000}, 0},             // not enough seen
		{[]int64{(1 << 33) - 45000, 45000, 135000}, 90000},
	}
	for _, tc := range tests {
		if got := regularGOP(tc.keys); got != tc.want {
			t.Errorf("regularGOP(%v)=%d want %d", tc.keys, got, tc.want)
		}
	}
}

// FuzzTSScanner: arbitrary bytes never panic the scanner, in any chunking.
func FuzzTSScanner(f *testing.F) {
	f.Add([]byte{0x47, 0x40, 0x00, 0x10, 0x00}, 3)
	pkt := make([]byte, 188)
	pkt[0], pkt[1], pkt[3] = 0x47, 0x40, 0x30
	pkt[4] = 183
	f.Add(pkt, 50)
	f.Fuzz(func(t *testing.T, data []byte, chunk int) {
		if chunk <= 0 {
			chunk = 1
		}
		sc := newTSScanner()
		sc.onKeyHead = func(head []byte, st byte) { parseKeyHead(head, st) }
		var out []byte
		for off := 0; off < len(data); off += chunk {
			out, _ = sc.scan(data[off:min(off+chunk, len(data))], out[:0], true)
			if len(out)%tsPacketSize != 0 {
				t.Fatalf("scan returned %d bytes: not whole packets", len(out))
			}
		}
	})
}
