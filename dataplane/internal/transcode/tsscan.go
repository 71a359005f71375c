package transcode

// tsScanner reads just enough of an MPEG-TS to drive the transcoder: the
// PAT and PMT (which PIDs carry video and audio, and of what kind), the PTS
// of each video PES, whether that PES starts a keyframe, and the SPS of
// keyframes (the source's size).
//
// It is written by hand, not taken from mediacommon/astits, because it
// runs on every chunk of every transcoded stream and must (a) tell at which
// exact TS packet a keyframe starts, so that ffmpeg's input can be spliced
// there, and (b) cost almost nothing: the pinned demuxers reassemble and
// allocate every PES, which would double the Go side's cost per stream.
// SPS decoding itself is mediacommon's.

const (
	tsPacketSize = 188
	tsSync       = 0x47
	// Stream types of the PMT.
	streamTypeH264 = 0x1B
	streamTypeH265 = 0x24
	streamTypeAAC  = 0x0F
	// spsWindow is how much of a keyframe PES is kept to find its SPS.
	spsWindow = 2048
)

type tsScanner struct {
	carry  []byte // a packet split across chunks
	pmtPID int

	videoPID, audioPID   int
	videoType, audioType byte

	pat, pmt []byte // latest PAT and PMT packets, replayed when ffmpeg's input is spliced

	// Latest video PTS (33-bit, 90 kHz) and whether one was seen.
	videoPTS int64
	havePTS  bool

	keyframes uint64
	garbage   uint64 // bytes skipped to regain packet sync

	spsBuf  []byte // head of the current keyframe PES while looking for its SPS
	spsDone bool
	// onSPS receives the first SPS/VPS-bearing head of each keyframe PES.
	onKeyHead func(head []byte, codec byte)
}

func newTSScanner() *tsScanner {
	return &tsScanner{pmtPID: -1, videoPID: -1, audioPID: -1}
}

// keyframe locates the start of a video keyframe PES in scanned bytes.
type keyframe struct {
	At  int // offset of its first TS packet, -1 when the bytes hold none
	PTS int64
	DTS int64
}

// scan consumes p (any chunking). Every whole packet is inspected and,
// when collect is set, appended to dst (the transcoder's own copy of the
// shared chunk). key locates the first keyframe start in the returned bytes.
func (s *tsScanner) scan(p []byte, dst []byte, collect bool) (out []byte, key keyframe) {
	out, key = dst, keyframe{At: -1}
	handle := func(pkt []byte) {
		if isKey, pts, dts := s.packet(pkt); isKey && key.At < 0 {
			key = keyframe{At: len(out), PTS: pts, DTS: dts}
		}
		if collect {
			out = append(out, pkt...)
		}
	}
	if len(s.carry) > 0 {
		need := tsPacketSize - len(s.carry)
		if len(p) < need {
			s.carry = append(s.carry, p...)
			return out, key
		}
		s.carry = append(s.carry, p[:need]...)
		p = p[need:]
		if s.carry[0] == tsSync {
			handle(s.carry)
		}
		s.carry = s.carry[:0]
	}
	for len(p) > 0 {
		if p[0] != tsSync {
			skip := resync(p)
			s.garbage += uint64(skip)
			p = p[skip:]
			continue
		}
		if len(p) < tsPacketSize {
			s.carry = append(s.carry[:0], p...)
			break
		}
		handle(p[:tsPacketSize])
		p = p[tsPacketSize:]
	}
	return out, key
}

// resync returns how many bytes to skip to the next plausible packet start.
func resync(p []byte) int {
	for i := 1; i < len(p); i++ {
		if p[i] == tsSync && (i+tsPacketSize >= len(p) || p[i+tsPacketSize] == tsSync) {
			return i
		}
	}
	return len(p)
}

// packet handles one 188-byte packet; it reports whether it starts a video
// keyframe PES, and that PES's PTS and DTS.
func (s *tsScanner) packet(pkt []byte) (key bool, pts, dts int64) {
	pusi := pkt[1]&0x40 != 0
	pid := int(pkt[1]&0x1f)<<8 | int(pkt[2])
	afc := pkt[3] >> 4 & 0x3
	payload := pkt[4:]
	rai := false
	if afc&0x2 != 0 { // adaptation field
		n := int(payload[0])
		if n > 0 && len(payload) > 1 {
			rai = payload[1]&0x40 != 0
		}
		if 1+n > len(payload) {
			return false, 0, 0
		}
		payload = payload[1+n:]
	}
	if afc&0x1 == 0 {
		return false, 0, 0
	}
	switch {
	case pid == 0:
		if pusi {
			s.parsePAT(payload)
			s.pat = append(s.pat[:0], pkt...)
		}
	case pid == s.pmtPID:
		if pusi {
			s.parsePMT(payload)
			s.pmt = append(s.pmt[:0], pkt...)
		}
	case pid == s.videoPID:
		if !pusi {
			if !s.spsDone && len(s.spsBuf) > 0 {
				s.spsBuf = append(s.spsBuf, payload...)
				if len(s.spsBuf) >= spsWindow {
					s.finishHead()
				}
			}
			return false, 0, 0
		}
		if !s.spsDone && len(s.spsBuf) > 0 {
			s.finishHead()
		}
		es, p, d, ok := pesPayload(payload)
		if !ok {
			return false, 0, 0
		}
		s.videoPTS, s.havePTS = p, true
		if rai || s.startsKeyframe(es) {
			s.keyframes++
			s.spsBuf, s.spsDone = append(s.spsBuf[:0], es...), false
			return true, p, d
		}
	}
	return false, 0, 0
}

func (s *tsScanner) finishHead() {
	s.spsDone = true
	if s.onKeyHead != nil {
		s.onKeyHead(s.spsBuf, s.videoType)
	}
	s.spsBuf = s.spsBuf[:0]
}

// startsKeyframe looks at the NAL units in the first packet of a PES: an
// IDR/IRAP slice or a parameter set means a random access point (encoders
// that do not set random_access_indicator still repeat SPS at keyframes).
func (s *tsScanner) startsKeyframe(es []byte) bool {
	for i := 0; i+3 < len(es); i++ {
		if es[i] != 0 || es[i+1] != 0 || es[i+2] != 1 {
			continue
		}
		h := es[i+3]
		if s.videoType == streamTypeH265 {
			switch t := h >> 1 & 0x3f; {
			case t >= 16 && t <= 21, t == 32, t == 33: // IRAP, VPS, SPS
				return true
			}
		} else {
			switch h & 0x1f {
			case 5, 7: // IDR, SPS
				return true
			}
		}
		i += 2
	}
	return false
}

// pesPayload returns the elementary-stream bytes after a PES header, its
// PTS and DTS (the PTS when the header has none).
func pesPayload(b []byte) (es []byte, pts, dts int64, ok bool) {
	if len(b) < 14 || b[0] != 0 || b[1] != 0 || b[2] != 1 {
		return nil, 0, 0, false
	}
	flags := b[7]
	hlen := int(b[8])
	if flags&0x80 == 0 || 9+hlen > len(b) {
		return nil, 0, 0, false
	}
	pts = readTimestamp(b[9:14])
	dts = pts
	if flags&0x40 != 0 && hlen >= 10 {
		dts = readTimestamp(b[14:19])
	}
	return b[9+hlen:], pts, dts, true
}

func readTimestamp(b []byte) int64 {
	return int64(b[0]>>1&0x07)<<30 | int64(b[1])<<22 | int64(b[2]>>1)<<15 | int64(b[3])<<7 | int64(b[4]>>1)
}

func (s *tsScanner) parsePAT(b []byte) {
	sec, ok := psiSection(b, 0x00)
	if !ok {
		return
	}
	for i := 0; i+4 <= len(sec); i += 4 {
		program := int(sec[i])<<8 | int(sec[i+1])
		if program != 0 {
			s.pmtPID = int(sec[i+2]&0x1f)<<8 | int(sec[i+3])
			return
		}
	}
}

func (s *tsScanner) parsePMT(b []byte) {
	sec, ok := psiSection(b, 0x02)
	if !ok || len(sec) < 4 {
		return
	}
	infoLen := int(sec[2]&0x0f)<<8 | int(sec[3])
	if 4+infoLen > len(sec) {
		return
	}
	video, audio := -1, -1
	var vt, at byte
	for es := sec[4+infoLen:]; len(es) >= 5; {
		st := es[0]
		pid := int(es[1]&0x1f)<<8 | int(es[2])
		esLen := int(es[3]&0x0f)<<8 | int(es[4])
		switch st {
		case streamTypeH264, streamTypeH265:
			if video < 0 {
				video, vt = pid, st
			}
		case streamTypeAAC, 0x11, 0x03, 0x04, 0x81, 0x87, 0x06:
			if audio < 0 {
				audio, at = pid, st
			}
		}
		if 5+esLen > len(es) {
			break
		}
		es = es[5+esLen:]
	}
	s.videoPID, s.videoType, s.audioPID, s.audioType = video, vt, audio, at
}

// psiSection returns the body of a single-packet PSI section of the given
// table (after the 5 bytes of extension header, before the CRC).
func psiSection(b []byte, table byte) ([]byte, bool) {
	if len(b) < 1 {
		return nil, false
	}
	ptr := int(b[0])
	if 1+ptr+8 > len(b) {
		return nil, false
	}
	b = b[1+ptr:]
	if b[0] != table {
		return nil, false
	}
	secLen := int(b[1]&0x0f)<<8 | int(b[2])
	end := 3 + secLen - 4 // CRC
	if end > len(b) || end < 8 {
		return nil, false
	}
	return b[8:end], true
}

// ptsDiff is a−b on the 33-bit clock, wrapped into ±2^32.
func ptsDiff(a, b int64) int64 {
	const wrap = int64(1) << 33
	d := (a - b) % wrap
	if d >= wrap/2 {
		d -= wrap
	} else if d < -wrap/2 {
		d += wrap
	}
	return d
}
