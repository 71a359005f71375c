package recording

import (
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/packager"
)

// rewindName is the rewind playlist's name, beside each live playlist:
// /live/<stream>/rewind.m3u8 (multivariant) and
// /live/<stream>/<rendition>/rewind.m3u8. Beside, so that the live edge's
// segments and parts keep their relative URIs (and the CDN's /live/ rules,
// the origin's CORS and guards apply unchanged), and the recorded past is
// reached at ../../../vod/, the edge's view of the bucket.
const rewindName = "rewind.m3u8"

// Live is a stream's packager as the rewind playlist reads it.
type Live interface {
	RenditionNames() []string
	Edge(rendition string) (packager.Edge, bool)
	WaitEdge(w http.ResponseWriter, req *http.Request, rendition string) bool
	MultivariantFor(name string) ([]byte, bool)
}

// Rewind serves the rewind (DVR) playlists of recorded streams: the last
// recording.rewind of what the recorder has put in the bucket, followed by
// the live edge, with LL-HLS blocking reloads and delta updates so that a
// two-hour playlist is fetched whole once per viewer, not on every part.
type Rewind struct {
	rec    *Recorder
	ledger *ledger
	window time.Duration

	mu        sync.Mutex
	followers map[string]*follower // streams read from the bucket
}

// rewindCache is one stream's rendered playlists, by rendition; it lives
// as long as the handler Wrap made for the stream.
type rewindCache struct {
	mu sync.Mutex
	m  map[string]*rewindCached
}

// rewindCached is a rendition's last rendered playlists: every viewer's
// reload between two parts asks for the same state, and a two-hour
// playlist is worth building once per state, not once per request.
type rewindCached struct {
	state       rewindState
	full, delta []byte
}

// rewindState is what a rendered playlist depends on.
type rewindState struct {
	id                 string
	recFirst, recLast  uint64
	recLen             int
	discTrimmed        uint64
	edgeFirst, curMSN  uint64
	edgeSegs, curParts int
	hint               string
}

func stateOf(view ledgerView, edge packager.Edge) rewindState {
	st := rewindState{id: view.id, recLen: len(view.segs), discTrimmed: view.discTrimmed,
		edgeSegs: len(edge.Segments), hint: edge.Hint}
	if n := len(view.segs); n > 0 {
		st.recFirst, st.recLast = view.segs[0].MSN, view.segs[n-1].MSN
	}
	if len(edge.Segments) > 0 {
		st.edgeFirst = edge.Segments[0].MSN
	}
	if edge.Current != nil {
		st.curMSN, st.curParts = edge.Current.MSN, len(edge.Current.Parts)
	}
	return st
}

// body returns the playlist for p, rendered once per state and kind.
func (rc *rewindCache) body(p *rewindPlaylist) []byte {
	st := stateOf(p.recorded, p.edge)
	rc.mu.Lock()
	c := rc.m[p.rendition]
	if c == nil || c.state != st {
		c = &rewindCached{state: st}
		rc.m[p.rendition] = c
	}
	b := c.full
	if p.skip {
		b = c.delta
	}
	rc.mu.Unlock()
	if b != nil {
		return b
	}
	b = p.render()
	rc.mu.Lock()
	if p.skip {
		c.delta = b
	} else {
		c.full = b
	}
	rc.mu.Unlock()
	return b
}

// NewRewind makes the rewind playlists of rec's streams; nil when rec is
// nil or its rewind window is off (Wrap then adds nothing).
func NewRewind(rec *Recorder) *Rewind {
	if rec == nil || rec.ledger == nil {
		return nil
	}
	return &Rewind{rec: rec, ledger: rec.ledger, window: rec.cfg.Rewind, followers: map[string]*follower{}}
}

// Wrap serves stream's rewind playlists and passes every other request to
// next, the stream's packager: paths as the packager takes them, relative
// to /live/<stream>/.
func (rw *Rewind) Wrap(stream string, live Live, next http.Handler) http.Handler {
	if rw == nil {
		return next
	}
	cache := &rewindCache{m: map[string]*rewindCached{}}
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p := strings.TrimPrefix(req.URL.Path, "/")
		p = strings.TrimPrefix(p, "live/"+stream+"/")
		if req.Method != http.MethodGet && req.Method != http.MethodHead {
			next.ServeHTTP(w, req)
			return
		}
		if p == rewindName {
			rw.serveMultivariant(w, req, live)
			return
		}
		if rend, file, ok := strings.Cut(p, "/"); ok && file == rewindName && rend != "" {
			rw.serveMedia(w, req, stream, rend, live, cache)
			return
		}
		next.ServeHTTP(w, req)
	})
}

func (rw *Rewind) serveMultivariant(w http.ResponseWriter, req *http.Request, live Live) {
	body, ok := live.MultivariantFor(rewindName)
	if !ok {
		packager.ServeError(w, "not found", http.StatusNotFound)
		return
	}
	td := 1
	for _, name := range live.RenditionNames() {
		if e, ok := live.Edge(name); ok {
			td = e.TargetDuration
			break
		}
	}
	packager.ServeMultivariant(w, req, body, td)
}

func (rw *Rewind) serveMedia(w http.ResponseWriter, req *http.Request, stream, rend string, live Live, cache *rewindCache) {
	q := req.URL.Query()
	skip := false
	if v, ok := q["_HLS_skip"]; ok {
		// v2 asks to skip date ranges too; this playlist has none, so it
		// is the same delta update.
		if len(v) != 1 || (v[0] != "YES" && v[0] != "v2") {
			packager.ServeError(w, "_HLS_skip must be YES or v2", http.StatusBadRequest)
			return
		}
		skip = true
	}
	if !live.WaitEdge(w, req, rend) {
		return
	}
	edge, ok := live.Edge(rend)
	if !ok {
		packager.ServeError(w, "not found", http.StatusNotFound)
		return
	}
	if rw.rec != nil {
		// Twice a target duration: the listed past meets the live edge,
		// whose window is six.
		rw.catchUp(req, stream, 2*time.Duration(edge.TargetDuration)*time.Second)
	}
	view, _ := rw.ledger.view(stream, rend)
	pl := rewindPlaylist{stream: stream, rendition: rend, recorded: view, edge: edge, window: rw.window, skip: skip}
	body := cache.body(&pl)
	// Rendition reports are added outside the cache, as the packager adds
	// them to its own playlists.
	var reports []renditionReport
	for _, other := range live.RenditionNames() {
		if other == rend {
			continue
		}
		if e, ok := live.Edge(other); ok {
			if msn, part, ok := e.Last(); ok {
				reports = append(reports, renditionReport{rendition: other, msn: msn, part: part})
			}
		}
	}
	_, blocking := q["_HLS_msn"]
	if len(reports) > 0 {
		body = appendReports(append([]byte(nil), body...), reports)
	}
	packager.ServePlaylist(w, req, body, edge.TargetDuration, blocking)
}
