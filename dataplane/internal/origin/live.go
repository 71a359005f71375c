package origin

import (
	"net/http"
	"strings"
)

// Object kinds, for headers and metrics labels.
const (
	kindMultivariant = "multivariant"
	kindPlaylist     = "playlist"
	kindInit         = "init"
	kindPart         = "part"
	kindSegment      = "segment"
	kindOther        = "other"
)

// Cache-Control values. Media objects are named by media sequence number,
// which never goes back, so a name is never reused: immutable. Playlists
// change every part: a CDN may hold them for at most a second, and plain
// (non-blocking) reloads must be revalidated every time. Errors are never
// cached, or a CDN would keep answering 404 for a part that appears 200 ms
// later.
const (
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheBlocking  = "public, max-age=1"
	cachePlaylist  = "no-cache"
	cacheInit      = "public, max-age=2"
	cacheError     = "no-store"
)

// classify names the kind of object a path relative to /live/<stream>/ is.
func classify(rest string) string {
	base := rest
	if i := strings.LastIndexByte(rest, '/'); i >= 0 {
		base = rest[i+1:]
	}
	switch {
	case strings.HasSuffix(base, ".m3u8"):
		if !strings.Contains(rest, "/") {
			return kindMultivariant
		}
		return kindPlaylist
	case strings.HasPrefix(base, "init") && strings.HasSuffix(base, ".mp4"):
		return kindInit
	case strings.HasPrefix(base, "part") && strings.HasSuffix(base, ".m4s"):
		return kindPart
	case strings.HasPrefix(base, "seg") && (strings.HasSuffix(base, ".m4s") || strings.HasSuffix(base, ".ts")):
		return kindSegment
	}
	return kindOther
}

func contentType(rest string) string {
	switch {
	case strings.HasSuffix(rest, ".m3u8"):
		return "application/vnd.apple.mpegurl"
	case strings.HasSuffix(rest, ".m4s"):
		return "video/iso.segment"
	case strings.HasSuffix(rest, ".mp4"):
		return "video/mp4"
	case strings.HasSuffix(rest, ".ts"):
		return "video/mp2t"
	}
	return ""
}

func cacheControl(kind, rest string, r *http.Request) string {
	switch kind {
	case kindMultivariant, kindPlaylist:
		if r.URL.Query().Has("_HLS_msn") {
			return cacheBlocking
		}
		return cachePlaylist
	case kindInit:
		// The packager names init segments after the first segment that
		// uses them (init<MSN>.mp4): a new encoder configuration gets a new
		// name, so they are immutable too. A bare init.mp4 could change
		// under the same name: cacheable only briefly.
		if base := rest[strings.LastIndexByte(rest, '/')+1:]; len(base) > len("init.mp4") {
			return cacheImmutable
		}
		return cacheInit
	case kindPart, kindSegment:
		return cacheImmutable
	}
	return cachePlaylist
}

// serveLive routes /live/<stream>/<rest> to the stream's packager.
func (s *Server) serveLive(w http.ResponseWriter, r *http.Request) {
	name, rest, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/live/"), "/")
	kind := classify(rest)
	rec := &statusWriter{ResponseWriter: w, cache: cacheControl(kind, rest, r)}
	defer func() {
		if s.opts.Requests != nil {
			s.opts.Requests.ObserveRequest(kind, rec.code())
		}
	}()
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD, OPTIONS")
		rec.cache = cacheError
		http.Error(rec, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	var h http.Handler
	if name != "" && s.opts.Packagers != nil {
		h = s.opts.Packagers(name)
	}
	if h == nil || rest == "" {
		http.Error(rec, "unknown stream", http.StatusNotFound)
		return
	}
	if ct := contentType(rest); ct != "" {
		w.Header().Set("Content-Type", ct)
	}
	r2 := r.Clone(r.Context())
	r2.URL.Path = rest
	r2.URL.RawPath = ""
	h.ServeHTTP(rec, r2)
}

// statusWriter records the status and puts the right Cache-Control on the
// response: the kind's for successes, no-store for errors.
type statusWriter struct {
	http.ResponseWriter
	cache  string
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
		h := w.Header()
		if code >= 400 {
			h.Set("Cache-Control", cacheError)
		} else {
			h.Set("Cache-Control", w.cache)
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	return w.ResponseWriter.Write(b)
}

// Flush keeps streaming responses working through the wrapper.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}
