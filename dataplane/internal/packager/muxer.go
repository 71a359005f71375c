// Package packager cuts a rendition's MPEG-TS into HLS: classic MPEG-TS
// segments and LL-HLS fMP4 parts, with playlists and blocking reload.
//
// The segmenting, numbering and blocking reload are written here rather than
// taken from gohlslib's Muxer because zonecast must control media sequence
// numbers across publisher reconnects and across nodes (State/Resume, cut
// rule as a pure function of the input timestamps); gohlslib's playlist
// package is used for marshalling and mediacommon for the fMP4 and TS
// writers.
package packager

import (
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/store"
)

// Muxer is one live stream's HLS: its renditions and their playlists,
// served over HTTP (the field's word for it: gohlslib's and MediaMTX's HLS
// muxer). stream.Stream is the stream itself, before packaging.
type Muxer struct {
	name  string
	cfg   Config
	log   *slog.Logger
	store *store.Store

	mu         sync.RWMutex
	renditions map[string]*Rendition
	closed     bool

	// cuts lets sibling renditions cutting the same input share segment
	// numbers and program date-times.
	cuts cutRegistry

	// retired are renditions leaving the stream (a ladder change): out of
	// the multivariant playlist, still served until closed (switching.go).
	retired map[string]*Rendition
	// atCut run once when the source rendition next starts a segment.
	cutMu sync.Mutex
	atCut []func()
	// classicOnly serves the stream as classic HLS only (switching.go).
	classicOnly atomic.Bool
	// slateStop ends the slate's clock (closed by Close).
	slateStop chan struct{}
	slateOnce sync.Once
}

// NewMuxer creates the packager of one stream.
func NewMuxer(name string, cfg Config, log *slog.Logger) *Muxer {
	cfg = cfg.withDefaults()
	if log == nil {
		log = slog.Default()
	}
	log = log.With("stream", name)
	st, err := store.New(cfg.Dir, name)
	if err != nil {
		// The on-disk copy is optional: keep serving from memory.
		log.Error("on-disk copy disabled", "dir", cfg.Dir, "err", err)
		st, _ = store.New("", name)
	}
	m := &Muxer{
		name:       name,
		cfg:        cfg,
		log:        log,
		store:      st,
		renditions: make(map[string]*Rendition),
		cuts:       newCutRegistry(cfg.SegmentDuration),
		slateStop:  make(chan struct{}),
	}
	if cfg.SlateAfter > 0 {
		go m.slateClock()
	}
	return m
}

// slateClock runs every rendition's slate (slate.go) a few times a part,
// so that filler parts come out at most a quarter part late.
func (s *Muxer) slateClock() {
	t := time.NewTicker(s.cfg.PartDuration / 4)
	defer t.Stop()
	for {
		select {
		case <-s.slateStop:
			return
		case at := <-t.C:
			for _, r := range s.renditionList() {
				r.slateTick(at)
			}
		}
	}
}

// stopSlate stops the slate's clock.
func (s *Muxer) stopSlate() { s.slateOnce.Do(func() { close(s.slateStop) }) }

// Name is the stream's name.
func (s *Muxer) Name() string { return s.name }

// Rendition returns the named rendition, created on first use.
func (s *Muxer) Rendition(name string) *Rendition {
	s.mu.RLock()
	r := s.renditions[name]
	s.mu.RUnlock()
	if r != nil {
		return r
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if r = s.renditions[name]; r == nil {
		r = newRendition(s, name)
		if s.closed {
			// Too late to publish: a closed rendition refuses WriteTS.
			r.closed = true
			return r
		}
		s.renditions[name] = r
	}
	return r
}

// renditionList returns the renditions in a stable order: source first, then
// by name.
func (s *Muxer) renditionList() []*Rendition {
	s.mu.RLock()
	out := make([]*Rendition, 0, len(s.renditions))
	for _, r := range s.renditions {
		out = append(out, r)
	}
	s.mu.RUnlock()
	sort.Slice(out, func(i, j int) bool {
		if (out[i].name == "source") != (out[j].name == "source") {
			return out[i].name == "source"
		}
		return out[i].name < out[j].name
	})
	return out
}

// Stats sums the counters of every rendition.
func (s *Muxer) Stats() Stats {
	var st Stats
	for _, r := range s.renditionList() {
		st.add(r.Stats())
	}
	return st
}

// State is what a successor node needs to continue this stream's playlists.
func (s *Muxer) State() State {
	out := State{Stream: s.name, Renditions: make(map[string]RenditionState)}
	for _, r := range s.renditionList() {
		if !s.listed(r) {
			continue // retired by a ladder change: a successor must not bring it back
		}
		out.Renditions[r.name] = r.State()
	}
	return out
}

// Resume continues the playlists described by st (from the previous leader).
// Renditions are created as needed. It never makes a media sequence go back.
func (s *Muxer) Resume(st State) {
	s.cuts.reset() // local numbers are about to change
	for name, rs := range st.Renditions {
		s.Rendition(name).Resume(rs)
	}
}

// Close stops every rendition and frees the stored objects.
func (s *Muxer) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.stopSlate()
	rs := make([]*Rendition, 0, len(s.renditions))
	for _, r := range s.renditions {
		rs = append(rs, r)
	}
	s.mu.Unlock()
	for _, r := range rs {
		r.close()
	}
}

// Reset drops every rendition's segments, parts and numbers, keeping the
// stream (a node that starts standing by for a new leader drops segments of
// another lineage). Writers and readers reach renditions through
// Rendition, so they follow: a write racing the reset lands in the closed
// rendition and is refused. The old renditions are closed before they
// leave the map, so that a new rendition's objects never share the store
// with the old one's deletions.
func (s *Muxer) Reset() {
	old := s.renditionList()
	for _, r := range old {
		r.close()
	}
	s.mu.Lock()
	for _, r := range old {
		if s.renditions[r.name] == r {
			delete(s.renditions, r.name)
		}
	}
	s.mu.Unlock()
	s.cuts.reset()
}

// now is the wall clock (replaced in tests).
var now = time.Now
