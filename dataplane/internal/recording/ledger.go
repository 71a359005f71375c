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

// put notes a segment now in the bucket.
func (l *ledger) put(stream, id, rendition string, s manifestSeg) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := l.streamLocked(stream, id)
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

// load replaces stream's entry with a recording read back from the bucket
// (a node continuing another's recording).
func (l *ledger) load(stream string, c *open) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	st := &ledgerStream{id: c.entry.ID, renditions: map[string]*ledgerRendition{}}
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
