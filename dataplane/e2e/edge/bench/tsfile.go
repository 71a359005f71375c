package main

import (
	"errors"
	"fmt"
	"os"
)

const tsPacket = 188

// tsFile is a pre-encoded MPEG-TS file, split at video access units so that a
// sender can pace it like a live encoder and loop it with continuous
// timestamps.
type tsFile struct {
	data     []byte
	frames   []frame // video access units in file order
	duration int64   // 90 kHz: one loop
}

// frame is a video access unit: where its packets start and its DTS.
type frame struct {
	offset int   // byte offset of the packet starting its PES
	dts    int64 // 90 kHz
	key    bool  // random access indicator set
}

func loadTS(path string) (*tsFile, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	if len(data)%tsPacket != 0 {
		data = data[:len(data)/tsPacket*tsPacket]
	}
	f := &tsFile{data: data}
	for off := 0; off < len(data); off += tsPacket {
		p := data[off : off+tsPacket]
		if p[0] != 0x47 || p[1]&0x40 == 0 { // sync, payload unit start
			continue
		}
		payload, key := tsPayload(p)
		if len(payload) < 14 || payload[0] != 0 || payload[1] != 0 || payload[2] != 1 || payload[3]&0xF0 != 0xE0 {
			continue // not a video PES start
		}
		_, dts, ok := pesTimestamps(payload)
		if !ok {
			continue
		}
		f.frames = append(f.frames, frame{offset: off, dts: dts, key: key})
	}
	if len(f.frames) < 2 {
		return nil, errors.New("no video frames found")
	}
	last := f.frames[len(f.frames)-1].dts
	step := last - f.frames[len(f.frames)-2].dts
	f.duration = last - f.frames[0].dts + step
	return f, nil
}

// tsPayload returns the packet's payload and its random-access indicator.
func tsPayload(p []byte) ([]byte, bool) {
	afc := (p[3] >> 4) & 3
	start := 4
	key := false
	if afc&2 != 0 {
		afLen := int(p[4])
		if afLen > 0 {
			key = p[5]&0x40 != 0
		}
		start = 5 + afLen
	}
	if afc&1 == 0 || start >= tsPacket {
		return nil, key
	}
	return p[start:], key
}

// pesTimestamps reads PTS and DTS (DTS = PTS when absent).
func pesTimestamps(pes []byte) (pts, dts int64, ok bool) {
	flags := pes[7] >> 6
	if flags&2 == 0 || len(pes) < 14 {
		return 0, 0, false
	}
	pts = readTS(pes[9:14])
	dts = pts
	if flags == 3 && len(pes) >= 19 {
		dts = readTS(pes[14:19])
	}
	return pts, dts, true
}

func readTS(b []byte) int64 {
	return int64(b[0]>>1&7)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

func writeTS(b []byte, v int64) {
	v &= 1<<33 - 1
	b[0] = b[0]&0xF1 | byte(v>>29)&0x0E
	b[1] = byte(v >> 22)
	b[2] = byte(v>>14)&0xFE | 1
	b[3] = byte(v >> 7)
	b[4] = byte(v<<1) | 1
}

// looper rewrites a packet for loop n: timestamps (PCR, PTS, DTS) moved by
// n file durations and continuity counters kept continuous per PID, so that
// the receiver sees one endless stream rather than a jump back per loop.
type looper struct {
	cc map[uint16]byte
}

func newLooper() *looper { return &looper{cc: map[uint16]byte{}} }

func (l *looper) rewrite(p []byte, shift int64) {
	pid := uint16(p[1]&0x1F)<<8 | uint16(p[2])
	afc := (p[3] >> 4) & 3
	if afc&1 != 0 { // payload present: counter increments
		c, seen := l.cc[pid]
		if seen {
			c = (c + 1) & 0xF
		} else {
			c = p[3] & 0xF
		}
		l.cc[pid] = c
		p[3] = p[3]&0xF0 | c
	}
	if shift == 0 {
		return
	}
	start := 4
	if afc&2 != 0 {
		afLen := int(p[4])
		if afLen >= 7 && p[5]&0x10 != 0 { // PCR
			base := int64(p[6])<<25 | int64(p[7])<<17 | int64(p[8])<<9 | int64(p[9])<<1 | int64(p[10]>>7)
			base = (base + shift) & (1<<33 - 1)
			p[6], p[7], p[8], p[9] = byte(base>>25), byte(base>>17), byte(base>>9), byte(base>>1)
			p[10] = p[10]&0x7F | byte(base<<7)
		}
		start = 5 + afLen
	}
	if p[1]&0x40 == 0 || afc&1 == 0 || start+19 > tsPacket {
		return
	}
	pes := p[start:]
	if pes[0] != 0 || pes[1] != 0 || pes[2] != 1 {
		return
	}
	sid := pes[3]
	if sid < 0xC0 || sid > 0xEF { // audio and video only
		return
	}
	flags := pes[7] >> 6
	if flags&2 != 0 {
		writeTS(pes[9:14], readTS(pes[9:14])+shift)
	}
	if flags == 3 {
		writeTS(pes[14:19], readTS(pes[14:19])+shift)
	}
}

func (f *tsFile) String() string {
	return fmt.Sprintf("%d bytes, %d frames, %.1f s", len(f.data), len(f.frames), float64(f.duration)/90000)
}
