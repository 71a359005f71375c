package packager

import (
	"sync"
)

// Rendition is one variant of a stream (the source, or a ladder rung): its
// demuxer, segmenter and playlists.
type Rendition struct {
	stream *Stream
	name   string

	mu    sync.Mutex
	stats Stats
	st    RenditionState
}

func newRendition(s *Stream, name string) *Rendition {
	return &Rendition{stream: s, name: name}
}

// Name is the rendition's name ("source", "720p", ...).
func (r *Rendition) Name() string { return r.name }

// WriteTS feeds MPEG-TS bytes in any chunking. Garbage is counted, logged and
// skipped; an error means this rendition cannot continue with this input
// (it never affects other renditions or streams).
func (r *Rendition) WriteTS(p []byte) error {
	r.mu.Lock()
	r.stats.BytesIn += uint64(len(p))
	r.mu.Unlock()
	return nil
}

// Discontinuity tells the rendition that its input was cut (publisher gone,
// encoder restart): the next segment is marked EXT-X-DISCONTINUITY.
func (r *Rendition) Discontinuity() {}

// Stats returns the rendition's counters.
func (r *Rendition) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// State returns what a successor needs to continue this rendition.
func (r *Rendition) State() RenditionState {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.st
}

// Resume continues the playlist described by st.
func (r *Rendition) Resume(st RenditionState) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.st = st
}

func (r *Rendition) close() {}
