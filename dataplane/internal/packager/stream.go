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
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/store"
)

// Stream is one live stream: its renditions and their playlists.
type Stream struct {
	name  string
	cfg   Config
	log   *slog.Logger
	store *store.Store

	mu         sync.RWMutex
	renditions map[string]*Rendition
	closed     bool

	// cuts records where the renditions started segments, by cut-grid
	// index (raw DTS of the first keyframe / segment duration), so that
	// renditions cut at the same grid boundary (a ladder whose keyframes
	// are forced at the source's, or on the grid) share segment numbers and
	// program date-times. Its own lock: it is used under a rendition's
	// lock, and no rendition lock is taken under it.
	cutMu   sync.Mutex
	cuts    map[int64]cutMark
	cutRing []int64
}

// cutMark is where a rendition started a segment.
type cutMark struct {
	raw int64 // raw DTS of the first keyframe
	msn uint64
	pdt time.Time
	by  string // rendition
}

// maxCuts bounds the cut registry (a few minutes of segments).
const maxCuts = 256

func (s *Stream) gridIndex(raw int64) int64 {
	return raw / max(durationToTicks(s.cfg.SegmentDuration), 1)
}

// cutAt returns the cut recorded at raw's grid boundary.
func (s *Stream) cutAt(raw int64) (cutMark, bool) {
	s.cutMu.Lock()
	defer s.cutMu.Unlock()
	m, ok := s.cuts[s.gridIndex(raw)]
	return m, ok
}

// othersCutNear reports whether a rendition other than name has cut a
// segment within 10 s of raw (on the 33-bit clock): siblings are cutting
// the same input timeline right now.
func (s *Stream) othersCutNear(name string, raw int64) bool {
	const near = 10 * 90000
	s.cutMu.Lock()
	defer s.cutMu.Unlock()
	for i := len(s.cutRing) - 1; i >= 0; i-- {
		m := s.cuts[s.cutRing[i]]
		if m.by != name && abs33(raw-m.raw) < near {
			return true
		}
	}
	return false
}

// abs33 is the distance between two 33-bit timestamps.
func abs33(d int64) int64 {
	d &= 1<<33 - 1
	if d > 1<<32 {
		d = 1<<33 - d
	}
	return d
}

// signed33 is b − a for 33-bit timestamps, taking the shorter way round.
func signed33(d int64) int64 {
	d &= 1<<33 - 1
	if d > 1<<32 {
		d -= 1 << 33
	}
	return d
}

// cutsBy returns the PDT at which rendition name started each of the
// segments from..to (inclusive); ok is false when one is unknown.
func (s *Stream) cutsBy(name string, from, to uint64) (pdts []time.Time, ok bool) {
	s.cutMu.Lock()
	defer s.cutMu.Unlock()
	byMSN := map[uint64]time.Time{}
	for _, idx := range s.cutRing {
		if m := s.cuts[idx]; m.by == name && m.msn >= from && m.msn <= to {
			byMSN[m.msn] = m.pdt
		}
	}
	for msn := from; msn <= to; msn++ {
		p, found := byMSN[msn]
		if !found {
			return nil, false
		}
		pdts = append(pdts, p)
	}
	return pdts, true
}

// recordCut records m unless a cut is known at its grid boundary already.
func (s *Stream) recordCut(m cutMark) {
	s.cutMu.Lock()
	defer s.cutMu.Unlock()
	if s.cuts == nil {
		s.cuts = make(map[int64]cutMark)
	}
	idx := s.gridIndex(m.raw)
	if _, ok := s.cuts[idx]; ok {
		return
	}
	s.cuts[idx] = m
	s.cutRing = append(s.cutRing, idx)
	if len(s.cutRing) > maxCuts {
		delete(s.cuts, s.cutRing[0])
		s.cutRing = s.cutRing[1:]
	}
}

func (s *Stream) resetCuts() {
	s.cutMu.Lock()
	defer s.cutMu.Unlock()
	s.cuts, s.cutRing = nil, nil
}

// NewStream creates the packager of one stream.
func NewStream(name string, cfg Config, log *slog.Logger) *Stream {
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
	return &Stream{
		name:       name,
		cfg:        cfg,
		log:        log,
		store:      st,
		renditions: make(map[string]*Rendition),
	}
}

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// Rendition returns the named rendition, created on first use.
func (s *Stream) Rendition(name string) *Rendition {
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
func (s *Stream) renditionList() []*Rendition {
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
func (s *Stream) Stats() Stats {
	var st Stats
	for _, r := range s.renditionList() {
		st.add(r.Stats())
	}
	return st
}

// State is what a successor node needs to continue this stream's playlists.
func (s *Stream) State() State {
	out := State{Stream: s.name, Renditions: make(map[string]RenditionState)}
	for _, r := range s.renditionList() {
		out.Renditions[r.name] = r.State()
	}
	return out
}

// Resume continues the playlists described by st (from the previous leader).
// Renditions are created as needed. It never makes a media sequence go back.
func (s *Stream) Resume(st State) {
	s.resetCuts() // local numbers are about to change
	for name, rs := range st.Renditions {
		s.Rendition(name).Resume(rs)
	}
}

// Close stops every rendition and frees the stored objects.
func (s *Stream) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
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
func (s *Stream) Reset() {
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
	s.resetCuts()
}

// now is the wall clock (replaced in tests).
var now = time.Now
