package viewers

import (
	"sync"
	"time"
)

// Sample is one blocking reload: when it was answered and how long after
// the part it asked for became available.
type Sample struct {
	At    time.Time
	Extra time.Duration
}

// Record is what one viewer saw. Its methods are safe while Run goes on.
type Record struct {
	mu        sync.Mutex
	samples   []Sample
	parts     int
	bytes     int64
	requests  int
	errs      int
	misses    int // blocking reloads answered without the part asked for
	resyncs   int // the next part had left the playlist: jumped to live
	last      Position
	lastAvail time.Time // availability of the newest part fetched
	lastErr   error
}

// Snapshot is a copy of a Record.
type Snapshot struct {
	Samples                                  []Sample
	Parts, Requests, Errors, Misses, Resyncs int
	Bytes                                    int64
	Last                                     Position
	LastAvailable                            time.Time
	LastError                                error
}

// Snapshot copies the record.
func (r *Record) Snapshot() Snapshot {
	r.mu.Lock()
	defer r.mu.Unlock()
	return Snapshot{
		Samples: append([]Sample(nil), r.samples...), Parts: r.parts, Requests: r.requests, Errors: r.errs,
		Misses: r.misses, Resyncs: r.resyncs, Bytes: r.bytes, Last: r.last, LastAvailable: r.lastAvail, LastError: r.lastErr,
	}
}

// Reset forgets samples and counts (the warm-up), keeping the position.
func (r *Record) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.samples = r.samples[:0]
	r.parts, r.bytes, r.requests, r.errs, r.misses, r.resyncs = 0, 0, 0, 0, 0, 0
}

func (r *Record) failed(err error) {
	r.mu.Lock()
	r.errs++
	r.lastErr = err
	r.mu.Unlock()
}
