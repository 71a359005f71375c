package relay

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
)

// Frames on a relay stream: type (1 byte), length (4 bytes, big endian),
// payload. Hand-written because it is eleven lines and a framing library
// would add a dependency for nothing.
const (
	frameHello     byte = 1 // sender → standby, JSON Hello, first frame
	frameTS        byte = 2 // sender → standby, MPEG-TS bytes as received
	frameDiscont   byte = 3 // sender → standby, the input was cut (or relay bytes dropped)
	frameControl   byte = 4 // sender → standby, JSON Control
	frameHeartbeat byte = 5 // sender → standby, nothing to send for a while
	frameStatus    byte = 6 // standby → sender, JSON Status

	maxFrame = 4 << 20
)

// Hello opens a relay stream.
type Hello struct {
	Stream string `json:"stream"`
	Leader string `json:"leader"` // node id of the sender
	Token  uint64 `json:"token"`  // the sender's fencing token (0 if none yet)
	// Forward says the sender ingests the stream without leading it (the
	// broadcaster reconnected to it after the leader died): the standby
	// keeps its segments and its role, and feeds from this relay once the
	// leader's relay has gone quiet.
	Forward bool `json:"forward,omitempty"`
}

// Control carries lease news from the leader to its standby.
type Control struct {
	Token    uint64 `json:"token,omitempty"`    // the leader's current token
	Handover string `json:"handover,omitempty"` // the lease was handed to this node (drain)
	// Leading is true while the sender leads (sent at least every lease
	// renewal); a control without it says the sender no longer leads.
	Leading bool `json:"leading,omitempty"`
	// State is the leader's successor state (the packager's JSON State):
	// the standby aligns its segment numbers and names with it.
	State json.RawMessage `json:"state,omitempty"`
	// Dismiss tells the receiver it no longer stands by: the leader moved
	// its standby (to the twin zone) and closes this relay next.
	Dismiss bool `json:"dismiss,omitempty"`
}

// Status is the standby's answer, sent periodically.
type Status struct {
	Node    string `json:"node"`
	RedisOK bool   `json:"redis_ok"` // the standby can reach Redis
	Bytes   uint64 `json:"bytes"`    // TS bytes received on this stream
	Leading bool   `json:"leading"`  // the standby now leads the stream
	// Ingest says the standby receives the stream's backup feed itself
	// (input redundancy): the leader hands over at once if its own feed stops.
	Ingest bool `json:"ingest"`
	// Ladder says the standby's transcoder produces every rendition of the
	// stream's ladder (a warm ladder): the leader hands over at once if its
	// own transcoder fails.
	Ladder bool `json:"ladder,omitempty"`
}

func writeFrame(w io.Writer, typ byte, payload []byte) error {
	var hdr [5]byte
	hdr[0] = typ
	binary.BigEndian.PutUint32(hdr[1:], uint32(len(payload)))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	if len(payload) == 0 {
		return nil
	}
	_, err := w.Write(payload)
	return err
}

func writeJSON(w io.Writer, typ byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return writeFrame(w, typ, b)
}

// readFrame reads one frame; buf is reused when large enough.
func readFrame(r io.Reader, buf []byte) (byte, []byte, error) {
	var hdr [5]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(hdr[1:])
	if n > maxFrame {
		return 0, nil, fmt.Errorf("relay: frame of %d bytes exceeds %d", n, maxFrame)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return hdr[0], buf, nil
}
