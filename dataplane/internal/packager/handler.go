package packager

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/store"
)

// ServeHTTP serves paths relative to /live/<stream>/ (the origin strips the
// prefix; a leading "/" is accepted): index.m3u8, classic.m3u8,
// <rendition>/index.m3u8 (blocking reload with _HLS_msn/_HLS_part),
// <rendition>/classic.m3u8, <rendition>/init.mp4 (the current init),
// <rendition>/init<MSN>.mp4, <rendition>/seg<MSN>.m4s,
// <rendition>/part<MSN>.<i>.m4s, <rendition>/seg<MSN>.ts.
func (s *Muxer) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		ServeError(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(req.URL.Path, "/")
	p = strings.TrimPrefix(p, "live/"+s.name+"/")
	switch p {
	case "index.m3u8", "classic.m3u8":
		s.serveMultivariant(w, req, p == "index.m3u8" && !s.ClassicOnly())
		return
	}
	rend, file, ok := strings.Cut(p, "/")
	if !ok || rend == "" || strings.Contains(file, "/") {
		notFound(w)
		return
	}
	s.mu.RLock()
	r := s.renditions[rend]
	s.mu.RUnlock()
	if r == nil {
		notFound(w)
		return
	}
	classic := s.ClassicOnly()
	switch {
	case classic && (file == "index.m3u8" || file == "classic.m3u8"):
		r.serveMediaPlaylist(w, withoutBlocking(req), false)
		return
	case classic && isPart(file):
		notFound(w)
		return
	}
	switch file {
	case "index.m3u8":
		r.serveMediaPlaylist(w, req, true)
	case "classic.m3u8":
		r.serveMediaPlaylist(w, req, false)
	case "init.mp4":
		r.mu.Lock()
		name, targetDur := r.curInit, r.targetDur
		r.mu.Unlock()
		if o, ok := s.store.Get(rend + "/" + name); ok && name != "" {
			// An alias: it names other bytes after a reconnect with other
			// encoder settings, so it is cached like a playlist.
			serveObject(w, req, o, playlistCache(targetDur))
			return
		}
		notFound(w)
	default:
		r.serveMedia(w, req, file)
	}
}

func notFound(w http.ResponseWriter) {
	ServeError(w, "not found", http.StatusNotFound)
}

func badRequest(w http.ResponseWriter, msg string) {
	ServeError(w, msg, http.StatusBadRequest)
}

// serveObject serves a stored media object, with Range and conditional
// requests (players and CDNs use both).
func serveObject(w http.ResponseWriter, req *http.Request, o *store.Object, cache string) {
	h := w.Header()
	h.Set("Content-Type", mediaType(o.Name))
	h.Set("Cache-Control", cache)
	h.Set("ETag", o.ETag)
	if wholeObject(req) {
		// The plain GET, every viewer's every part: written at once.
		// http.ServeContent copies through a 32 KB buffer it allocates
		// per request (io.CopyN hides bytes.Reader's WriterTo), which at
		// thousands of parts a second was most of the origin's garbage.
		// The headers are ServeContent's.
		h.Set("Accept-Ranges", "bytes")
		if !o.ModTime.IsZero() {
			h.Set("Last-Modified", o.ModTime.UTC().Format(http.TimeFormat))
		}
		h.Set("Content-Length", strconv.Itoa(len(o.Data)))
		w.WriteHeader(http.StatusOK)
		if req.Method != http.MethodHead {
			_, _ = w.Write(o.Data)
		}
		return
	}
	http.ServeContent(w, req, "", o.ModTime, bytes.NewReader(o.Data))
}

// wholeObject reports a request that asks for the whole object without
// condition, which ServeContent would answer 200 with every byte.
func wholeObject(req *http.Request) bool {
	for _, k := range []string{"Range", "If-Range", "If-Match", "If-None-Match", "If-Modified-Since", "If-Unmodified-Since"} {
		if _, ok := req.Header[k]; ok {
			return false
		}
	}
	return true
}

func servePlaylist(w http.ResponseWriter, req *http.Request, body []byte, cache string) {
	h := w.Header()
	h.Set("Content-Type", typePlaylist)
	h.Set("Cache-Control", cache)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// waitBoundLocked is how long a request may wait for media that is about to
// exist: the configured hold, not RFC 8216bis's three target durations,
// because a CDN in front gives up on its origin sooner (Config.Hold).
func (r *Rendition) waitBoundLocked() time.Duration {
	return r.muxer.cfg.Hold
}

// active reports an input session in progress (something to wait for).
func (r *Rendition) activeLocked() bool { return r.sess != nil || r.tracks != nil }

func (s *Muxer) serveMultivariant(w http.ResponseWriter, req *http.Request, fmp4 bool) {
	// The same hold as a blocking reload: a player tuning in at a stream's
	// start gets 404 and retries rather than a CDN timeout.
	deadline := time.Now().Add(s.cfg.Hold)
	for {
		if body, ok := s.multivariant(fmp4); ok {
			servePlaylist(w, req, body, playlistCache(targetDuration(s.cfg.SegmentDuration)))
			return
		}
		// Nothing complete yet: wait (bounded) if some rendition is being fed.
		var wait chan struct{}
		for _, r := range s.renditionList() {
			r.mu.Lock()
			if r.activeLocked() && !r.closed {
				wait = r.changed
			}
			r.mu.Unlock()
			if wait != nil {
				break
			}
		}
		left := time.Until(deadline)
		if wait == nil || left <= 0 {
			notFound(w)
			return
		}
		if !waitFor(req, wait, left) {
			notFound(w)
			return
		}
	}
}

// waitFor waits for ch, the deadline or the client going away; false unless
// ch fired.
func waitFor(req *http.Request, ch chan struct{}, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ch:
		return true
	case <-t.C:
		return false
	case <-req.Context().Done():
		return false
	}
}

// serveMedia serves a media object; a request for the part announced by
// EXT-X-PRELOAD-HINT waits until the part is published.
func (r *Rendition) serveMedia(w http.ResponseWriter, req *http.Request, file string) {
	key := r.name + "/" + file
	var deadline time.Time
	for {
		if o, ok := r.muxer.store.Get(key); ok {
			serveObject(w, req, o, cacheImmutable)
			return
		}
		if msn, ok := parseTSName(file); ok {
			if _, ok := r.classicSegment(msn); ok {
				if o, ok := r.muxer.store.Get(key); ok {
					serveObject(w, req, o, cacheImmutable)
					return
				}
			}
			notFound(w)
			return
		}
		r.mu.Lock()
		hinted := false
		if r.cur != nil {
			hinted = file == partName(r.cur.msn, len(r.cur.parts)) || file == partName(r.cur.msn+1, 0)
		}
		if deadline.IsZero() {
			deadline = time.Now().Add(r.waitBoundLocked())
		}
		wait := r.changed
		r.mu.Unlock()
		left := time.Until(deadline)
		if !hinted || left <= 0 || !waitFor(req, wait, left) {
			if req.Context().Err() == nil {
				notFound(w)
			}
			return
		}
	}
}

// parseTSName reads MSN from "seg<MSN>.ts".
func parseTSName(file string) (uint64, bool) {
	if !strings.HasPrefix(file, "seg") || !strings.HasSuffix(file, ".ts") {
		return 0, false
	}
	n, err := strconv.ParseUint(file[3:len(file)-3], 10, 64)
	return n, err == nil
}
