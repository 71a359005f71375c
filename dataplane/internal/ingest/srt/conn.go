package srt

import (
	"fmt"
	"time"

	gosrt "github.com/datarhei/gosrt"

	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// slabSize: payloads are read into shared slabs and handed to the stream as
// sub-slices, one allocation per ~50 packets instead of one per packet.
const (
	slabSize   = 64 << 10
	maxPayload = gosrt.MAX_PAYLOAD_SIZE
)

// connInput reads one publisher's connection.
type connInput struct {
	conn        gosrt.Conn
	idleTimeout time.Duration
	lastRead    time.Time
}

// pump copies payloads to the publisher until the connection ends (peer
// gone, idle timeout, kicked by a takeover).
func (c *connInput) pump(pub *stream.Publisher) error {
	c.lastRead = time.Now()
	slab := make([]byte, slabSize)
	off := 0
	for {
		if len(slab)-off < maxPayload {
			slab, off = make([]byte, slabSize), 0
		}
		n, err := c.conn.Read(slab[off : off+maxPayload])
		if err != nil {
			// gosrt reports an idle timeout and a clean shutdown alike (EOF):
			// tell them apart by how long the publisher had been silent.
			if silent := time.Since(c.lastRead); c.idleTimeout > 0 && silent >= c.idleTimeout/2 {
				return fmt.Errorf("publisher vanished: silent for %v (peer idle timeout %v)", silent.Round(time.Millisecond), c.idleTimeout)
			}
			return err
		}
		c.lastRead = time.Now()
		if n == 0 {
			continue
		}
		chunk := slab[off : off+n : off+n]
		off += n
		if err := pub.Write(chunk); err != nil {
			return err // taken over
		}
	}
}

func (c *connInput) stats() stream.TransportStats {
	var s gosrt.Statistics
	c.conn.Stats(&s)
	return stream.TransportStats{
		PacketsReceived:      s.Accumulated.PktRecv,
		PacketsLost:          s.Accumulated.PktRecvLoss,
		PacketsRetransmitted: s.Accumulated.PktRecvRetrans,
		PacketsDropped:       s.Accumulated.PktRecvDrop + s.Accumulated.PktRecvUndecrypt,
		BytesReceived:        s.Accumulated.ByteRecv,
	}
}
