package packager

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/store"
)

// Cache-Control per object kind: playlists change every part, media objects
// never change once named (names come from media sequence numbers).
const (
	cachePlaylist  = "public, max-age=1"
	cacheImmutable = "public, max-age=31536000, immutable"
	cacheNone      = "no-store"
)

// ServeHTTP serves paths relative to /live/<stream>/ (the origin strips the
// prefix; a leading "/" is accepted): index.m3u8, classic.m3u8,
// <rendition>/index.m3u8 (blocking reload with _HLS_msn/_HLS_part),
// <rendition>/classic.m3u8, <rendition>/init.mp4 (the current init),
// <rendition>/init<MSN>.mp4, <rendition>/seg<MSN>.m4s,
// <rendition>/part<MSN>.<i>.m4s, <rendition>/seg<MSN>.ts.
func (s *Stream) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if req.Method != http.MethodGet && req.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := strings.TrimPrefix(req.URL.Path, "/")
	p = strings.TrimPrefix(p, "live/"+s.name+"/")
	switch p {
	case "index.m3u8", "classic.m3u8":
		s.serveMultivariant(w, req, p == "index.m3u8")
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
	switch file {
	case "index.m3u8":
		r.serveMediaPlaylist(w, req, true)
	case "classic.m3u8":
		r.serveMediaPlaylist(w, req, false)
	case "init.mp4":
		r.mu.Lock()
		name := r.curInit
		r.mu.Unlock()
		if o, ok := s.store.Get(rend + "/" + name); ok && name != "" {
			serveObject(w, req, o, cachePlaylist)
			return
		}
		notFound(w)
	default:
		r.serveMedia(w, req, file)
	}
}

func notFound(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", cacheNone)
	http.Error(w, "not found", http.StatusNotFound)
}

func badRequest(w http.ResponseWriter, msg string) {
	w.Header().Set("Cache-Control", cacheNone)
	http.Error(w, msg, http.StatusBadRequest)
}

func serveObject(w http.ResponseWriter, req *http.Request, o *store.Object, cache string) {
	h := w.Header()
	h.Set("Content-Type", o.ContentType)
	h.Set("Cache-Control", cache)
	h.Set("ETag", o.ETag)
	http.ServeContent(w, req, "", o.ModTime, bytes.NewReader(o.Data))
}

func servePlaylist(w http.ResponseWriter, req *http.Request, body []byte, cache string) {
	h := w.Header()
	h.Set("Content-Type", store.TypePlaylist)
	h.Set("Cache-Control", cache)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if req.Method != http.MethodHead {
		_, _ = w.Write(body)
	}
}

// waitBound is how long a request may wait for media that is about to
// exist: three target durations (RFC 8216bis blocking-reload guidance).
func (r *Rendition) waitBoundLocked() time.Duration {
	return 3 * time.Duration(r.targetDur) * time.Second
}

// active reports an input session in progress (something to wait for).
func (r *Rendition) activeLocked() bool { return r.sess != nil || r.tracks != nil }

func (s *Stream) serveMultivariant(w http.ResponseWriter, req *http.Request, fmp4 bool) {
	deadline := time.Now().Add(3 * s.cfg.SegmentDuration)
	for {
		if body, ok := s.multivariant(fmp4); ok {
			servePlaylist(w, req, body, cachePlaylist)
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

// blockingRequest is a parsed _HLS_msn/_HLS_part query.
type blockingRequest struct {
	msn     uint64
	part    int // -1 when absent
	present bool
}

func parseBlocking(req *http.Request) (blockingRequest, string) {
	q := req.URL.Query()
	br := blockingRequest{part: -1}
	ms, hasMSN := q["_HLS_msn"]
	ps, hasPart := q["_HLS_part"]
	if !hasMSN {
		if hasPart {
			return br, "_HLS_part without _HLS_msn"
		}
		return br, ""
	}
	if len(ms) != 1 {
		return br, "repeated _HLS_msn"
	}
	v, err := strconv.ParseUint(ms[0], 10, 63)
	if err != nil {
		return br, "_HLS_msn is not a media sequence number"
	}
	br.msn, br.present = v, true
	if hasPart {
		if len(ps) != 1 {
			return br, "repeated _HLS_part"
		}
		pv, err := strconv.ParseUint(ps[0], 10, 31)
		if err != nil {
			return br, "_HLS_part is not a part index"
		}
		br.part = int(pv)
	}
	return br, ""
}

// serveMediaPlaylist serves a media playlist, holding LL-HLS blocking
// reloads (RFC 8216bis §6.2.5.2) until the requested segment or part exists.
func (r *Rendition) serveMediaPlaylist(w http.ResponseWriter, req *http.Request, fmp4 bool) {
	br, bad := parseBlocking(req)
	if bad != "" {
		badRequest(w, bad)
		return
	}
	if br.present && !fmp4 {
		badRequest(w, "blocking reload is offered on the LL-HLS playlist only")
		return
	}
	maxParts := int(r.segTicks/max(r.partTicks, 1))*4 + 16
	var deadline time.Time
	for {
		r.mu.Lock()
		if deadline.IsZero() {
			deadline = time.Now().Add(r.waitBoundLocked())
		}
		if r.closed {
			r.mu.Unlock()
			notFound(w)
			return
		}
		body, ok := r.mediaPlaylistLocked(fmp4)
		ready := ok
		if ok && br.present {
			curMSN, nParts := r.nextMSN, 0
			if r.cur != nil {
				curMSN, nParts = r.cur.msn, len(r.cur.parts)
			}
			switch {
			case br.msn > curMSN+1 || br.part > maxParts ||
				(br.msn == curMSN && br.part > nParts+3) || (br.msn == curMSN+1 && br.part > 3):
				// Too far in the future to be a real player's request.
				r.mu.Unlock()
				badRequest(w, "_HLS_msn/_HLS_part too far beyond the live edge")
				return
			case br.msn < curMSN:
				ready = true
			case br.msn == curMSN && br.part >= 0 && nParts > br.part:
				ready = true
			default:
				ready = false
			}
		}
		wait := r.changed
		active := r.activeLocked()
		r.mu.Unlock()
		if ready {
			cache := cachePlaylist
			if br.present {
				// The URL names a future state: a CDN may keep the answer.
				cache = "public, max-age=" + strconv.Itoa(6*r.targetDur)
			}
			if fmp4 {
				body = r.withRenditionReports(body)
			}
			servePlaylist(w, req, body, cache)
			return
		}
		left := time.Until(deadline)
		if !active && !ok {
			notFound(w)
			return
		}
		if left <= 0 || !waitFor(req, wait, left) {
			if req.Context().Err() != nil {
				return
			}
			if !ok {
				notFound(w)
				return
			}
			w.Header().Set("Cache-Control", cacheNone)
			http.Error(w, "the requested segment or part did not appear in time", http.StatusServiceUnavailable)
			return
		}
	}
}

// serveMedia serves a media object; a request for the part announced by
// EXT-X-PRELOAD-HINT waits until the part is published.
func (r *Rendition) serveMedia(w http.ResponseWriter, req *http.Request, file string) {
	key := r.name + "/" + file
	var deadline time.Time
	for {
		if o, ok := r.stream.store.Get(key); ok {
			serveObject(w, req, o, cacheImmutable)
			return
		}
		if msn, ok := parseTSName(file); ok {
			if _, ok := r.classicSegment(msn); ok {
				if o, ok := r.stream.store.Get(key); ok {
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

// withRenditionReports appends EXT-X-RENDITION-REPORT for every other
// rendition of the stream (RFC 8216bis §4.4.5.4), so that a player switching
// rendition can block on the right part at once. It is added outside the
// rendition's lock (no lock is ever held on two renditions) and never into
// the cached playlist.
func (r *Rendition) withRenditionReports(body []byte) []byte {
	var out []byte
	for _, o := range r.stream.renditionList() {
		if o == r {
			continue
		}
		o.mu.Lock()
		msn, part, ok := o.lastPartLocked()
		o.mu.Unlock()
		if !ok {
			continue
		}
		if out == nil {
			out = append(make([]byte, 0, len(body)+256), body...)
		}
		out = append(out, "#EXT-X-RENDITION-REPORT:URI=\"../"+o.name+"/index.m3u8\",LAST-MSN="+
			strconv.FormatUint(msn, 10)+",LAST-PART="+strconv.Itoa(part)+"\n"...)
	}
	if out == nil {
		return body
	}
	return out
}

// lastPartLocked is the newest part of the rendition.
func (r *Rendition) lastPartLocked() (msn uint64, part int, ok bool) {
	if r.cur != nil && len(r.cur.parts) > 0 {
		return r.cur.msn, len(r.cur.parts) - 1, true
	}
	if n := len(r.segs); n > 0 {
		return r.segs[n-1].msn, len(r.segs[n-1].parts) - 1, true
	}
	return 0, 0, false
}
