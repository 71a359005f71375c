package core

import (
	"fmt"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	"github.com/zonecast/zonecast/dataplane/internal/transcode"
)

// wiring is one stream's parts on this node: its packager, fed by the
// stream's source subscription, and its transcoder when the node
// transcodes. Both live as long as the stream; a standby that must drop
// another lineage's segments resets the packager in place.
type wiring struct {
	stream   *stream.Stream
	packager *packager.Muxer
	// ladder is nil without transcoding, or when the manager declined it.
	ladder *transcode.Transcoder
	// recording follows the packager into the recorder; nil without one.
	recording *streamRecording
}

// addStream creates a stream with its packager and ladder, subscribed to
// its publishers.
func (n *Node) addStream(name string) error {
	st, err := n.Streams.Add(name)
	if err != nil {
		return err
	}
	w := &wiring{stream: st, packager: packager.NewMuxer(name, n.packaging, n.Log)}
	n.OnClose(w.packager.Close)
	n.attachRecording(w, n.configuredRecord(name))
	n.OnClose(st.Subscribe(SourceRendition, n.gateCuts(name, w.rendition(SourceRendition))))
	if n.transcoding != nil {
		if w.ladder = n.transcoding.ladder(name, w, n.ladderFailed); w.ladder != nil {
			n.OnClose(w.ladder.Close)
			n.OnClose(st.Subscribe("transcode", n.gateCuts(name, w.ladder)))
		}
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, dup := n.wirings[name]; dup {
		return fmt.Errorf("stream %q wired twice", name)
	}
	n.wirings[name] = w
	return nil
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
