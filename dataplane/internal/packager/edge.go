package packager

import (
	"net/http"
	"time"

	"github.com/bluenviron/gohlslib/v2/pkg/playlist"
)

// Edge is a rendition's live edge as its LL-HLS playlist lists it, for a
// playlist built around it (the recorder's rewind playlist, which puts the
// recorded past in front of it). URIs are relative to the rendition's
// folder, as in the live playlist.
type Edge struct {
	TargetDuration int // EXT-X-TARGETDURATION
	PartTarget     time.Duration
	// Segments are the window's complete segments, oldest first; the last
	// PartsListed of them carry their parts.
	Segments []EdgeSegment
	// Current is the segment being cut (its parts so far); nil when none.
	Current *EdgeSegment
	Hint    string // EXT-X-PRELOAD-HINT's part
}

// EdgeSegment is one segment of the live edge.
type EdgeSegment struct {
	MSN      uint64
	Duration time.Duration // zero for the segment being cut
	PDT      time.Time
	Disc     bool // EXT-X-DISCONTINUITY before it
	Gap      bool // EXT-X-GAP
	Init     string
	URI      string
	Parts    []EdgePart
}

// EdgePart is one LL-HLS part.
type EdgePart struct {
	URI         string
	Duration    time.Duration
	Independent bool
}

// Last is the newest part the edge lists, as EXT-X-RENDITION-REPORT says it.
func (e Edge) Last() (msn uint64, part int, ok bool) {
	if e.Current != nil && len(e.Current.Parts) > 0 {
		return e.Current.MSN, len(e.Current.Parts) - 1, true
	}
	if n := len(e.Segments); n > 0 {
		return e.Segments[n-1].MSN, len(e.Segments[n-1].Parts) - 1, true
	}
	return 0, 0, false
}

// Edge returns the named rendition's live edge; ok is false while it has
// nothing published (or there is no such rendition).
func (s *Muxer) Edge(rendition string) (Edge, bool) {
	s.mu.RLock()
	r := s.renditions[rendition]
	s.mu.RUnlock()
	if r == nil {
		return Edge{}, false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed || (len(r.segs) == 0 && (r.cur == nil || len(r.cur.parts) == 0)) {
		return Edge{}, false
	}
	e := Edge{TargetDuration: r.targetDur, PartTarget: r.partTarget, Segments: make([]EdgeSegment, 0, len(r.segs))}
	edgeSeg := func(sg *segment, withParts bool) EdgeSegment {
		out := EdgeSegment{MSN: sg.msn, Duration: sg.duration, PDT: sg.pdt, Disc: sg.disc, Gap: sg.gap,
			Init: sg.initName, URI: segName(sg.msn)}
		if withParts {
			out.Parts = make([]EdgePart, len(sg.parts))
			for i, p := range sg.parts {
				out.Parts[i] = EdgePart{URI: partName(sg.msn, p.index), Duration: p.duration, Independent: p.independent}
			}
		}
		return out
	}
	for i, sg := range r.segs {
		e.Segments = append(e.Segments, edgeSeg(sg, i >= len(r.segs)-partsListedSegments))
	}
	if r.cur != nil {
		c := edgeSeg(r.cur, true)
		c.Duration, c.URI = 0, ""
		e.Current = &c
		e.Hint = r.hintLocked()
	}
	return e, true
}

// WaitEdge waits, as a blocking playlist reload does (RFC 8216bis
// §6.2.5.2), until the rendition's playlist holds segment msn (and part
// part, or -1), then answers nothing; any other outcome (a request too far
// ahead, a timeout, no such rendition) is answered on w as the live
// playlist would have been, and ok is false. A playlist built around the
// edge calls it first, so that its blocking reloads behave exactly as the
// live playlist's.
func (s *Muxer) WaitEdge(w http.ResponseWriter, req *http.Request, rendition string) (ok bool) {
	s.mu.RLock()
	r := s.renditions[rendition]
	s.mu.RUnlock()
	if r == nil {
		notFound(w)
		return false
	}
	q := req.URL.Query()
	_, hasMSN := q["_HLS_msn"]
	_, hasPart := q["_HLS_part"]
	if !hasMSN && !hasPart {
		return true
	}
	probe := &discardWriter{header: http.Header{}}
	r.serveMediaPlaylist(probe, req, true)
	if probe.code == 0 || probe.code == http.StatusOK {
		return req.Context().Err() == nil
	}
	for k, v := range probe.header {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	http.Error(w, string(probe.body), probe.code)
	return false
}

// discardWriter keeps the status and error text of a playlist answer,
// not a successful playlist's body.
type discardWriter struct {
	header http.Header
	code   int
	body   []byte
}

func (d *discardWriter) Header() http.Header { return d.header }
func (d *discardWriter) WriteHeader(code int) {
	if d.code == 0 {
		d.code = code
	}
}
func (d *discardWriter) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	if d.code != http.StatusOK && len(d.body) < 512 {
		d.body = append(d.body, p...)
	}
	return len(p), nil
}

// ServePlaylist serves a media playlist built outside the packager (the
// rewind playlist) with the packager's caching: blocking is whether the
// request was a blocking reload (_HLS_msn), targetDur the playlist's
// EXT-X-TARGETDURATION.
func ServePlaylist(w http.ResponseWriter, req *http.Request, body []byte, targetDur int, blocking bool) {
	cache := playlistCache(targetDur)
	if blocking {
		cache = blockingCache(targetDur)
	}
	servePlaylist(w, req, body, cache)
}

// ServeMultivariant serves a multivariant playlist built outside the
// packager, cached as the live one is (targetDur: its renditions').
func ServeMultivariant(w http.ResponseWriter, req *http.Request, body []byte, targetDur int) {
	servePlaylist(w, req, body, playlistCache(targetDur))
}

// MultivariantFor is the stream's LL-HLS multivariant playlist with every
// variant pointing at <rendition>/<name> instead of the live playlist (the
// rewind playlist's multivariant); ok is false while no rendition has a
// complete segment.
func (s *Muxer) MultivariantFor(name string) ([]byte, bool) {
	m := playlist.Multivariant{Version: 9, IndependentSegments: true}
	for _, r := range s.renditionList() {
		if v, ok := r.variant(true); ok {
			v.URI = r.name + "/" + name
			m.Variants = append(m.Variants, v)
		}
	}
	if len(m.Variants) == 0 {
		return nil, false
	}
	out, err := m.Marshal()
	return out, err == nil
}
