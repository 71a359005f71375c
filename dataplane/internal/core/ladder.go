package core

import (
	"sync"

	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

// LadderFeed is a stream's transcoder as the cluster wiring uses it: it
// takes TS like any consumer of the stream (on a standby, the relayed TS)
// and says whether it produces every rendition of the ladder now.
type LadderFeed interface {
	WriteTS(p []byte) error
	Discontinuity()
	Producing() bool
}

// serialLadder is a transcoder with two possible inputs, the stream's
// subscription (local ingest) and the cluster's relay (standby): the
// transcoder wants one caller at a time, so they take turns. Each call only
// copies into the transcoder's queue, so neither waits long.
type serialLadder struct {
	mu sync.Mutex
	tr *transcode.Transcoder
}

func (l *serialLadder) WriteTS(p []byte) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.tr.WriteTS(p)
}

func (l *serialLadder) Discontinuity() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tr.Discontinuity()
}

func (l *serialLadder) Producing() bool { return l.tr.Producing() }

// setLadder registers a stream's ladder (the transcode plugin).
func (n *Node) setLadder(stream string, l LadderFeed) { n.ladders.Store(stream, l) }

// ladder is a stream's ladder, nil without transcoding.
func (n *Node) ladder(stream string) LadderFeed {
	if l, ok := n.ladders.Load(stream); ok {
		return l.(LadderFeed)
	}
	return nil
}
