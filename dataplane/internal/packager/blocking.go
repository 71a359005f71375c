package packager

import (
	"net/http"
	"strconv"
	"time"
)

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
		active := r.activeLocked() || r.slate.active // the slate publishes too
		targetDur := r.targetDur
		r.mu.Unlock()
		if ready {
			cache := playlistCache(targetDur)
			if br.present {
				cache = blockingCache(targetDur)
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
			ServeError(w, "the requested segment or part did not appear in time", http.StatusServiceUnavailable)
			return
		}
	}
}

// withRenditionReports appends EXT-X-RENDITION-REPORT for every other
// rendition of the stream (RFC 8216bis §4.4.5.4), so that a player switching
// rendition can block on the right part at once. It is added outside the
// rendition's lock (no lock is ever held on two renditions) and never into
// the cached playlist.
func (r *Rendition) withRenditionReports(body []byte) []byte {
	var out []byte
	for _, o := range r.muxer.renditionList() {
		if o == r || !r.muxer.listed(o) {
			// A retired rendition is no switch target (Retain).
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
