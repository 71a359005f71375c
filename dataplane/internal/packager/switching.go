package packager

import (
	"net/http"

	"strings"
	"time"
)

// A stream's settings change while it is live: its ladder (renditions come
// and go at a segment boundary) and its latency mode (LL-HLS, or classic
// HLS only). The packager owns what players are served, so both are
// decided here.

// sourceRendition is the publisher's own rendition, always in the stream.
const sourceRendition = "source"

// AtNextCut runs fn once, on its own goroutine, when the source rendition
// next starts a segment: a ladder change made then joins the boundary the
// cut rule chose, the one every rendition (and the standby) cuts at.
func (s *Muxer) AtNextCut(fn func()) {
	s.cutMu.Lock()
	defer s.cutMu.Unlock()
	s.atCut = append(s.atCut, fn)
}

// sourceCut is called by the source rendition as it starts a segment
// (under its lock: the callbacks run elsewhere).
func (s *Muxer) sourceCut() {
	s.cutMu.Lock()
	fns := s.atCut
	s.atCut = nil
	s.cutMu.Unlock()
	for _, fn := range fns {
		go fn()
	}
}

// Retain keeps the renditions keep names and retires the others: a retired
// rendition leaves the multivariant playlist at once, so that no new
// player picks it, and keeps serving its playlist and media for grace
// (players on it fetch what they were promised), then it is closed and
// answers 404. A 404 rather than EXT-X-ENDLIST: ENDLIST tells a player the
// presentation is over and it stops, while hls.js and AVPlayer treat a
// variant that fails to load as a failed variant and switch to another one
// the multivariant playlist listed, the way a player keeps watching a
// stream whose ladder changed. A rendition kept again before its grace
// ran out stays.
func (s *Muxer) Retain(keep func(name string) bool, grace time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.retired == nil {
		s.retired = map[string]*Rendition{}
	}
	for name, r := range s.renditions {
		if keep(name) {
			delete(s.retired, name)
			continue
		}
		if s.retired[name] == r {
			continue
		}
		s.retired[name] = r
		time.AfterFunc(grace, func() { s.dropRetired(name, r) })
	}
}

// dropRetired closes r if it is still retired.
func (s *Muxer) dropRetired(name string, r *Rendition) {
	s.mu.Lock()
	if s.retired[name] != r {
		s.mu.Unlock()
		return
	}
	delete(s.retired, name)
	if s.renditions[name] == r {
		delete(s.renditions, name)
	}
	s.mu.Unlock()
	r.close()
}

// listed reports whether r belongs in the multivariant playlist.
func (s *Muxer) listed(r *Rendition) bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.retired[r.name] != r
}

// SetClassicOnly serves the stream as classic HLS only (true) or LL-HLS
// and classic (false). Classic only: index.m3u8 is the classic
// multivariant playlist, each rendition's index.m3u8 its classic playlist
// (MPEG-TS segments, no EXT-X-PART, no EXT-X-PRELOAD-HINT, no
// EXT-X-SERVER-CONTROL), a blocking reload's _HLS_msn/_HLS_part are
// ignored (the playlist as it is, at once), and parts answer 404. The
// playback URL stays the same in both modes.
func (s *Muxer) SetClassicOnly(on bool) { s.classicOnly.Store(on) }

// ClassicOnly reports the mode SetClassicOnly set.
func (s *Muxer) ClassicOnly() bool { return s.classicOnly.Load() }

// withoutBlocking is req without the blocking reload's query.
func withoutBlocking(req *http.Request) *http.Request {
	q := req.URL.Query()
	if !q.Has("_HLS_msn") && !q.Has("_HLS_part") {
		return req
	}
	q.Del("_HLS_msn")
	q.Del("_HLS_part")
	q.Del("_HLS_skip")
	r := req.Clone(req.Context())
	u := *req.URL
	u.RawQuery = q.Encode()
	r.URL = &u
	return r
}

// isPart reports an LL-HLS part's file name ("part<MSN>.<i>.m4s").
func isPart(file string) bool {
	return strings.HasPrefix(file, "part") && strings.HasSuffix(file, ".m4s")
}

// Fed reports whether the source rendition is in an input session (a
// publisher's, or on a standby the relay's): settings that must wait for
// the next publish wait while it is.
func (s *Muxer) Fed() bool {
	s.mu.RLock()
	r := s.renditions[sourceRendition]
	s.mu.RUnlock()
	if r == nil {
		return false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.activeLocked() && !r.closed
}
