package core

import (
	"log/slog"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

// wiring is one stream's parts on this node: its packager, fed by the
// stream's source subscription, and its transcoder when the node
// transcodes. Both live as long as the stream is wired; a standby that must
// drop another lineage's segments resets the packager in place.
type wiring struct {
	stream   *stream.Stream
	packager *packager.Muxer
	// ladder is the stream's current transcoder: nil without transcoding,
	// when the manager declined it, or for a stream whose ladder is
	// catalog.LadderSource. A ladder change replaces it at a segment
	// boundary (settings.go); the feeds read it at each write.
	ladder atomic.Pointer[transcode.Transcoder]
	// ladders is the node's transcoding (nil: none), ladderFailed what a
	// ladder's failure tells.
	ladders      *transcoding
	ladderFailed func(name, reason string)
	// switching serialises ladder changes and the wiring's end; ladderSet
	// is the Ladder setting the current transcoder runs (once switched),
	// switchPending a change waiting for the next cut, ended the wiring
	// closed.
	switching     sync.Mutex
	switched      bool
	ladderSet     string
	switchPending bool
	ended         bool
	// settings are the stream's catalog record as last read (ladder,
	// latency, record...), kept current by the catalog watch; parts that
	// apply a setting from the next segment boundary read it here.
	settings atomic.Pointer[catalog.Stream]

	log *slog.Logger

	mu      sync.Mutex
	closers []func()
	// idleSince is when the recheck first found the stream without a
	// publisher or a role here (zero while in use).
	idleSince time.Time
	// recording follows the packager into the recorder; nil without one.
	recording *streamRecording
	// media answers the stream's HTTP requests when it is more than the
	// packager: the rewind playlists in front of it (nil: the packager).
	media http.Handler
}

// Settings returns the stream's catalog record as last read.
func (w *wiring) Settings() catalog.Stream { return *w.settings.Load() }

// use takes s as the current settings of a stream about to be used (a
// handshake or a relay is being let in): the idle clock starts again, so
// that the recheck does not unwire it under its new publisher.
func (w *wiring) use(s catalog.Stream) {
	w.apply(s)
	w.mu.Lock()
	w.idleSince = time.Time{}
	w.mu.Unlock()
}

// apply takes s as the stream's current settings. The recording switch
// and a ladder change take effect at the next segment boundary (setRecord,
// changeLadder); a latency change at the next publish (applyLatency).
func (w *wiring) apply(s catalog.Stream) {
	old := w.settings.Swap(&s)
	if old == nil || old.Record != s.Record {
		w.setRecord(s.Record)
	}
	if old == nil || old.Ladder != s.Ladder {
		w.changeLadder()
	}
	w.applyLatency()
}

// onClose runs fn when the stream is unwired (or the node closes), in
// reverse order of registration.
func (w *wiring) onClose(fn func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.closers = append(w.closers, fn)
}

func (w *wiring) close() {
	w.mu.Lock()
	closers := w.closers
	w.closers = nil
	w.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

// addStream wires a stream of the catalog at any time: its packager and
// ladder, subscribed to its publishers, and its part in the cluster. A
// stream already wired only takes s as its current settings.
func (n *Node) addStream(s catalog.Stream) (*wiring, error) {
	if w := n.wiring(s.Name); w != nil {
		w.use(s)
		return w, nil
	}
	// One wiring at a time: two handshakes for a new stream race here.
	n.changes.Lock()
	defer n.changes.Unlock()
	if w := n.wiring(s.Name); w != nil {
		w.use(s)
		return w, nil
	}
	name := s.Name
	st, err := n.Streams.Add(name)
	if err != nil {
		return nil, err
	}
	w := &wiring{stream: st, packager: packager.NewMuxer(name, n.packaging, n.Log),
		ladders: n.transcoding, ladderFailed: n.ladderFailed, log: n.Log.With("stream", name)}
	w.settings.Store(&s)
	w.onClose(w.packager.Close)
	n.attachRecording(w, s.Record)
	w.onClose(st.Subscribe(SourceRendition, n.gateCuts(name, w.rendition(SourceRendition))))
	w.packager.SetClassicOnly(s.Latency == catalog.LatencyStandard)
	if n.transcoding != nil {
		// Subscribed whatever the ladder: a change to or from "source"
		// only replaces the transcoder the feed writes to.
		w.onClose(w.endLadder)
		w.switchLadder()
		w.onClose(st.Subscribe("transcode", n.gateCuts(name, ladderFeed{w})))
	}
	// In the map before the cluster hears of it: the coordinator finds
	// the stream's media through it.
	n.mu.Lock()
	n.wirings[name] = w
	n.mu.Unlock()
	if n.cluster != nil {
		n.cluster.attach(name, st, w)
	}
	n.events.Load().attach(st)
	return w, nil
}

// unwireAll releases every stream's parts at shutdown.
func (n *Node) unwireAll() {
	n.mu.Lock()
	ws := make([]*wiring, 0, len(n.wirings))
	for _, w := range n.wirings {
		ws = append(ws, w)
	}
	n.mu.Unlock()
	for _, w := range ws {
		w.close()
	}
}

// rendition is the packager rendition named, looked up at each write so
// that writers follow a reset.
func (w *wiring) rendition(name string) renditionInput {
	return renditionInput{ps: w.packager, name: name}
}

// Rendition gives the transcoder its outputs (transcode.Outputs).
func (w *wiring) Rendition(name string) transcode.Sink { return w.rendition(name) }

// renditionInput writes TS into one rendition of a stream's packager.
type renditionInput struct {
	ps   *packager.Muxer
	name string
}

func (r renditionInput) WriteTS(b []byte) error { return r.ps.Rendition(r.name).WriteTS(b) }
func (r renditionInput) Discontinuity()         { r.ps.Rendition(r.name).Discontinuity() }

// ladderFailed: a stream's ladder failed here; a cluster leader hands the
// stream to a standby whose ladder runs.
func (n *Node) ladderFailed(name, reason string) {
	if n.cluster != nil {
		n.cluster.coord.LadderFailed(name, reason)
	}
}

// gateCuts passes a stream's TS to c, and its cuts unless the cluster holds
// them (the standby's backup feed of the same encoder goes on with the
// open segments).
func (n *Node) gateCuts(name string, c stream.Sink) stream.Sink {
	return cutGate{Sink: c, hold: func() bool { return n.cluster != nil && n.cluster.coord.HoldInputCut(name) }}
}

type cutGate struct {
	stream.Sink
	hold func() bool
}

func (g cutGate) Discontinuity() {
	if !g.hold() {
		g.Sink.Discontinuity()
	}
}
