package recording

import (
	"sort"
	"sync"
	"time"
)

// ledger is what the bucket holds of each stream's open recording, as the
// rewind playlist needs it: per rendition, the segments put, by number,
// trimmed to the rewind window. The uploaders write it (a segment once it
// is in the bucket, a whole recording when they continue one); the rewind
// handler reads it. It lives in memory so that a playlist reload never
// costs an S3 request.
type ledger struct {
	window time.Duration

	mu      sync.Mutex
	streams map[string]*ledgerStream
}

type ledgerStream struct {
	id         string // the recording
	renditions map[string]*ledgerRendition
	// local is when this node's uploader last wrote the entry; a node
	// that does not upload the stream (a standby) reads the bucket instead.
	local time.Time
}

// ledgerRendition is one rendition's recorded segments. segs is only ever
// appended to or replaced, never written in place, so that a reader may
// keep the slice it got without a copy.
type ledgerRendition struct {
	segs []manifestSeg
	// discTrimmed counts the discontinuities of the segments trimmed off
	// the front: the rewind playlist's EXT-X-DISCONTINUITY-SEQUENCE starts
	// from it.
	discTrimmed uint64
}

// ledgerView is a rendition's recorded segments at one instant.
type ledgerView struct {
	id          string
	segs        []manifestSeg // by MSN, read-only
	discTrimmed uint64
}

func newLedger(window time.Duration) *ledger {
	return &ledger{window: window, streams: map[string]*ledgerStream{}}
}

// stream returns stream's entry for recording id, starting afresh when a
// new recording begins. l.mu must be held.
func (l *ledger) streamLocked(stream, id string) *ledgerStream {
	st := l.streams[stream]
	if st == nil || st.id != id {
		st = &ledgerStream{id: id, renditions: map[string]*ledgerRendition{}}
		l.streams[stream] = st
	}
	return st
}

// put notes a segment this node's uploader put in the bucket.
func (l *ledger) put(stream, id, rendition string, s manifestSeg) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.streamLocked(stream, id)
	st.local = time.Now()
	l.addLocked(st, rendition, s)
}

// merge notes segments another node put, read from the bucket.
func (l *ledger) merge(stream, id, rendition string, segs []manifestSeg) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.streamLocked(stream, id)
	for _, s := range segs {
		l.addLocked(st, rendition, s)
	}
}

func (l *ledger) addLocked(st *ledgerStream, rendition string, s manifestSeg) {
	r := st.renditions[rendition]
	if r == nil {
		r = &ledgerRendition{}
		st.renditions[rendition] = r
	}
	n := len(r.segs)
	switch {
	case n == 0 || s.MSN > r.segs[n-1].MSN:
		r.segs = append(r.segs, s)
	default:
		i := sort.Search(n, func(i int) bool { return r.segs[i].MSN >= s.MSN })
		if i < n && r.segs[i].MSN == s.MSN {
			return // the same segment again (a retry, or the twin's copy)
		}
		if i == 0 && n > 0 && s.end().Before(r.segs[n-1].end().Add(-l.window)) {
			return // older than the window
		}
		// Out of order: a new slice, since readers may hold the old one.
		segs := make([]manifestSeg, 0, n+1)
		segs = append(append(append(segs, r.segs[:i]...), s), r.segs[i:]...)
		r.segs = segs
	}
	l.trimLocked(r)
}

// trimLocked drops the segments that ended before the window, measured
// from the newest segment's end.
func (l *ledger) trimLocked(r *ledgerRendition) {
	n := len(r.segs)
	if n == 0 {
		return
	}
	from := r.segs[n-1].end().Add(-l.window)
	k := 0
	for k < n-1 && !r.segs[k].end().After(from) {
		if r.segs[k].Disc {
			r.discTrimmed++
		}
		k++
	}
	if k > 0 {
		r.segs = r.segs[k:]
	}
}

// load replaces stream's entry with a recording read back from the bucket:
// by this node's uploader continuing another's recording (local), or by a
// node that reads what another uploads.
func (l *ledger) load(stream string, c *open, local bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := &ledgerStream{id: c.entry.ID, renditions: map[string]*ledgerRendition{}}
	if local {
		st.local = time.Now()
	}
	for name, m := range c.renditions {
		r := &ledgerRendition{segs: append([]manifestSeg(nil), m.Segments...)}
		l.trimLocked(r)
		st.renditions[name] = r
	}
	l.streams[stream] = st
}

// end forgets stream's recording id once it is closed.
func (l *ledger) end(stream, id string) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if st := l.streams[stream]; st != nil && st.id == id {
		delete(l.streams, stream)
	}
}

// tails is what the ledger knows of stream for a reader of the bucket: the
// recording, the last number of each rendition, and when this node's
// uploader last wrote.
func (l *ledger) tails(stream string) (id string, last map[string]uint64, local time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.streams[stream]
	if st == nil {
		return "", nil, time.Time{}
	}
	last = map[string]uint64{}
	for name, r := range st.renditions {
		if n := len(r.segs); n > 0 {
			last[name] = r.segs[n-1].MSN
		}
	}
	return st.id, last, st.local
}

// view returns what is recorded of stream's rendition; ok is false when
// nothing is.
func (l *ledger) view(stream, rendition string) (ledgerView, bool) {
	if l == nil {
		return ledgerView{}, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.streams[stream]
	if st == nil {
		return ledgerView{}, false
	}
	r := st.renditions[rendition]
	if r == nil || len(r.segs) == 0 {
		return ledgerView{}, false
	}
	return ledgerView{id: st.id, segs: r.segs, discTrimmed: r.discTrimmed}, true
}
