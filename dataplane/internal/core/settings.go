package core

// A stream's settings change while it is wired (the catalog's recheck, or
// a handshake, reads them): the ladder is replaced at the next segment
// boundary, the latency mode at the next publish. Every node wiring the
// stream, a cluster's standby included, reads the same catalog and applies
// the same change at the boundary the cut rule gives it, so leader and
// standby keep serving the same renditions.

import (
	"slices"

	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

// streamLadder is the ladder a stream's record asks for: its own rungs,
// nil for the node's configured ladder, and transcodes false for
// catalog.LadderSource. The catalog validated the text; a record it
// could not have written falls back to the node's ladder.
func streamLadder(s catalog.Stream) (rungs config.Ladder, transcodes bool, err error) {
	switch s.Ladder {
	case "":
		return nil, true, nil
	case catalog.LadderSource:
		return nil, false, nil
	}
	var l config.Ladder
	if err := l.UnmarshalText([]byte(s.Ladder)); err != nil {
		return nil, true, err
	}
	return l, len(l) > 0, nil
}

// changeLadder makes the ladder the settings name the stream's from the
// next segment boundary: the source's next cut, which the new renditions
// join aligned (the packager's cut rule). A stream not being fed has no
// boundary to wait for: its ladder changes at once.
func (w *wiring) changeLadder() {
	if w.ladders == nil {
		return
	}
	w.switching.Lock()
	pending := w.switchPending
	w.switchPending = true
	w.switching.Unlock()
	if pending {
		return // the waiting switch reads the latest settings
	}
	w.packager.AtNextCut(w.switchLadder)
	if !w.packager.Fed() {
		w.switchLadder()
	}
}

// switchLadder replaces the stream's transcoder by one of the ladder the
// current settings name: the old one stops (its renditions' open segments
// are published, ending at the boundary), the new one starts on the
// source from here, and the renditions no longer in the ladder are retired
// (out of the multivariant playlist at once, gone after a grace).
func (w *wiring) switchLadder() {
	w.switching.Lock()
	defer w.switching.Unlock()
	w.switchPending = false
	s := w.Settings()
	if w.ended || (w.switched && w.ladderSet == s.Ladder) {
		return
	}
	rungs, transcodes, err := streamLadder(s)
	if err != nil {
		w.log.Warn("stream's ladder unreadable: using the node's", "ladder", s.Ladder, "err", err)
	}
	if old := w.ladder.Swap(nil); old != nil {
		outs := old.Status().Outputs
		w.ladders.stop(w.stream.Name(), old)
		// A closed transcoder cuts nothing: what its renditions received
		// is published now, so they end at the boundary.
		for _, o := range outs {
			w.packager.Rendition(o.Name).Discontinuity()
		}
		w.log.Info("ladder changed", "from", ladderLabel(w.ladderSet), "to", ladderLabel(s.Ladder))
	}
	w.ladderSet, w.switched = s.Ladder, true
	keep := []string{SourceRendition}
	if transcodes {
		if len(rungs) == 0 {
			rungs = w.ladders.configured
		}
		for _, r := range rungs {
			keep = append(keep, r.Name())
		}
		w.ladder.Store(w.ladders.ladder(w.stream.Name(), rungs, w, w.ladderFailed))
	}
	w.packager.Retain(func(name string) bool { return slices.Contains(keep, name) },
		policy.RetiredSegments*w.ladders.segment)
}

// ladderLabel names a Ladder setting in the log.
func ladderLabel(l string) string {
	if l == "" {
		return "node"
	}
	return l
}

// endLadder stops the stream's transcoder for good (the wiring closes).
func (w *wiring) endLadder() {
	w.switching.Lock()
	defer w.switching.Unlock()
	w.ended = true
	if old := w.ladder.Swap(nil); old != nil {
		w.ladders.stop(w.stream.Name(), old)
	}
}

// applyLatency serves the stream in the latency mode its settings name,
// from the next publish: while the stream is fed, players hold LL-HLS
// playlists of fMP4 (EXT-X-MAP, parts, a blocking reload in flight) or
// classic ones of MPEG-TS at the same URLs, and a live switch would hand
// them the other container and tags in the middle of a segment sequence
// with no EXT-X-DISCONTINUITY to announce it; a publish starts a new input
// session anyway. Called at every settings read, so a pending switch lands
// at the first read after the stream stopped being fed (the next
// handshake at the latest).
func (w *wiring) applyLatency() {
	want := w.Settings().Latency == catalog.LatencyStandard
	if w.packager.ClassicOnly() == want || w.packager.Fed() {
		return
	}
	w.packager.SetClassicOnly(want)
	w.log.Info("latency mode applied", "latency", w.Settings().Latency)
}

// ladderFeed passes the stream's TS to its current transcoder, whichever
// a ladder change left there.
type ladderFeed struct{ w *wiring }

func (f ladderFeed) WriteTS(b []byte) error {
	if l := f.w.ladder.Load(); l != nil {
		return l.WriteTS(b)
	}
	return nil
}

func (f ladderFeed) Discontinuity() {
	if l := f.w.ladder.Load(); l != nil {
		l.Discontinuity()
	}
}
