package main

import (
	"sync"
	"time"

	gosrt "github.com/datarhei/gosrt"
)

// sender paces a TS file over SRT like a live encoder: each video access
// unit (with the audio muxed beside it) leaves when the wall clock reaches
// its DTS, and the moment each frame's first byte was written is recorded.
type sender struct {
	file     *tsFile
	conn     gosrt.Conn
	record   bool
	mu       sync.Mutex
	sentAt   map[int64]time.Time // input DTS (continuous across loops) → write time
	keyDTS   []int64
	first    time.Time
	writeErr error
}

func dialSender(addr, streamID, passphrase string, latency time.Duration, file *tsFile, record bool) (*sender, error) {
	cfg := gosrt.DefaultConfig()
	cfg.StreamId = streamID
	cfg.Passphrase = passphrase
	cfg.Latency = latency
	cfg.ReceiverLatency = latency
	cfg.PeerLatency = latency
	// gosrt's Dial sends its handshake once; libsrt callers retry, so do
	// the same when a busy listener lost it.
	var conn gosrt.Conn
	var err error
	for attempt := 0; attempt < 5; attempt++ {
		if conn, err = gosrt.Dial("srt", addr, cfg); err == nil {
			break
		}
	}
	if err != nil {
		return nil, err
	}
	return &sender{file: file, conn: conn, record: record, sentAt: map[int64]time.Time{}}, nil
}

// run sends until stop is closed or the duration elapses.
func (s *sender) run(stop <-chan struct{}, d time.Duration) {
	defer s.conn.Close()
	f := s.file
	lp := newLooper()
	start := time.Now()
	end := start.Add(d)
	dts0 := f.frames[0].dts
	payload := make([]byte, 0, 7*tsPacket)
	flush := func() bool {
		if len(payload) == 0 {
			return true
		}
		if _, err := s.conn.Write(payload); err != nil {
			s.writeErr = err
			return false
		}
		if s.first.IsZero() {
			s.mu.Lock()
			s.first = time.Now()
			s.mu.Unlock()
		}
		payload = payload[:0]
		return true
	}
	pkt := make([]byte, tsPacket)
	for loop := int64(0); ; loop++ {
		shift := loop * f.duration
		next := 0
		for off := 0; off < len(f.data); off += tsPacket {
			if next < len(f.frames) && f.frames[next].offset == off {
				fr := f.frames[next]
				next++
				due := start.Add(time.Duration(fr.dts-dts0+shift) * time.Second / 90000)
				if wait := time.Until(due); wait > 0 {
					if !flush() {
						return
					}
					select {
					case <-stop:
						return
					case <-time.After(wait):
					}
				}
				if time.Now().After(end) {
					flush()
					return
				}
				if s.record {
					// The frame leaves with the payload that holds its
					// first packet: flush what precedes it, then stamp.
					if !flush() {
						return
					}
					now := time.Now()
					s.mu.Lock()
					s.sentAt[fr.dts+shift] = now
					if fr.key {
						s.keyDTS = append(s.keyDTS, fr.dts+shift)
					}
					s.mu.Unlock()
				}
			}
			copy(pkt, f.data[off:off+tsPacket])
			lp.rewrite(pkt, shift)
			payload = append(payload, pkt...)
			if len(payload) == cap(payload) {
				if !flush() {
					return
				}
			}
		}
	}
}

func (s *sender) sendTime(dts int64) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.sentAt[dts]
	return t, ok
}

func (s *sender) firstByte() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.first
}
