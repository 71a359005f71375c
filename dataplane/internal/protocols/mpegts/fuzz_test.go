package mpegts

import (
	"testing"
	"time"
)

// FuzzDemux feeds arbitrary bytes, in two chunkings, to the demuxer: it must
// never panic, hang or produce a unit whose timeline goes back on one track.
// Seeded with real ffmpeg-made TS (H.264 and H.265 + AAC).
func FuzzDemux(f *testing.F) {
	for _, v := range []string{"libx264", "libx265"} {
		data := makeTS(f, v, 0.5, 0)
		f.Add(data[:min(len(data), 188*60)], uint16(1316))
	}
	f.Add([]byte{0x47, 0x40, 0x00, 0x10, 0x00}, uint16(1))
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		done := make(chan struct{})
		go func() {
			defer close(done)
			d := &Demuxer{}
			last := map[*Track]int64{}
			d.OnAccessUnit = func(au *AccessUnit) {
				if p, ok := last[au.Track]; ok && au.DTS < p-DefaultMaxJump {
					panic("timeline went back by more than the jump bound")
				}
				last[au.Track] = au.DTS
			}
			n := int(chunk%4096) + 1
			for len(data) > 0 {
				k := min(n, len(data))
				if _, err := d.Write(data[:k]); err != nil {
					panic(err)
				}
				data = data[k:]
			}
			d.Close()
		}()
		// A hang is a bug too: report the input instead of stalling.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatalf("demuxer hung on a %d-byte input", len(data))
		}
	})
}
