package main

import (
	"testing"
	"time"
)

// videoPacket builds a TS packet that starts a video PES with PTS and DTS,
// and carries a PCR.
func videoPacket(pid uint16, cc byte, pcr, pts, dts int64) []byte {
	p := make([]byte, tsPacket)
	p[0] = 0x47
	p[1] = 0x40 | byte(pid>>8) // payload unit start
	p[2] = byte(pid)
	p[3] = 0x30 | cc // adaptation field + payload
	p[4] = 7         // adaptation field length
	p[5] = 0x50      // random access + PCR
	p[6], p[7], p[8], p[9] = byte(pcr>>25), byte(pcr>>17), byte(pcr>>9), byte(pcr>>1)
	p[10] = byte(pcr<<7) | 0x7E
	pes := p[12:]
	copy(pes, []byte{0, 0, 1, 0xE0, 0, 0, 0x80, 0xC0, 10})
	pes[9] = 0x31
	writeTS(pes[9:14], pts)
	pes[14] = 0x11
	writeTS(pes[14:19], dts)
	return p
}

func TestTimestampsRoundTrip(t *testing.T) {
	for _, v := range []int64{0, 1, 90000, 1<<32 + 12345, 1<<33 - 1} {
		b := make([]byte, 5)
		b[0] = 0x21
		writeTS(b, v)
		if got := readTS(b); got != v {
			t.Fatalf("%d read back as %d", v, got)
		}
	}
}

func TestLooperShiftsTimestampsAndKeepsCounters(t *testing.T) {
	lp := newLooper()
	// First loop: counters 5, 6 as in the file.
	for i, cc := range []byte{5, 6} {
		p := videoPacket(0x100, cc, 1000+int64(i), 2000, 1900)
		lp.rewrite(p, 0)
		if p[3]&0xF != cc {
			t.Fatalf("loop 0 counter %d, want %d", p[3]&0xF, cc)
		}
	}
	// Second loop replays the file (counter 5 again) shifted by 3 s: the
	// counter must continue at 7 and every timestamp move by 270000.
	p := videoPacket(0x100, 5, 1000, 2000, 1900)
	lp.rewrite(p, 270000)
	if p[3]&0xF != 7 {
		t.Fatalf("loop 1 counter %d, want 7", p[3]&0xF)
	}
	payload, key := tsPayload(p)
	if !key {
		t.Fatal("random access indicator lost")
	}
	pts, dts, ok := pesTimestamps(payload)
	if !ok || pts != 2000+270000 || dts != 1900+270000 {
		t.Fatalf("pts %d dts %d", pts, dts)
	}
	pcr := int64(p[6])<<25 | int64(p[7])<<17 | int64(p[8])<<9 | int64(p[9])<<1 | int64(p[10]>>7)
	if pcr != 1000+270000 {
		t.Fatalf("pcr %d", pcr)
	}
}

func TestSummarize(t *testing.T) {
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i)*time.Millisecond)
	}
	s := summarize(ds)
	if s.n != 100 || s.median != 51*time.Millisecond || s.p95 != 96*time.Millisecond || s.mx != 100*time.Millisecond {
		t.Fatalf("%+v", s)
	}
}
