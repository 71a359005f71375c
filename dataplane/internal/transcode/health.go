package transcode

import (
	"sync/atomic"
	"time"
)

// Ladder health, as the cluster needs it: a leader whose ladder fails hands
// its stream to a standby whose ladder runs (docs/cluster.md, "Warm
// ladder"), so the transcoder says when it fails (OnFailure) and whether
// it produces every rendition now (Producing).

// outputClock is one ffmpeg run's first and latest output time per
// rendition (unix nanoseconds, 0: none yet).
type outputClock struct {
	first, last []atomic.Int64
}

func newOutputClock(n int) *outputClock {
	return &outputClock{first: make([]atomic.Int64, n), last: make([]atomic.Int64, n)}
}

// mark records output of rendition i at now.
func (c *outputClock) mark(i int, now time.Time) {
	ns := now.UnixNano()
	c.first[i].CompareAndSwap(0, ns)
	c.last[i].Store(ns)
}

// producing: every rendition has produced for at least window (its first
// segment exists) and produced within the last window.
func (c *outputClock) producing(now time.Time, window time.Duration) bool {
	if len(c.first) == 0 {
		return false
	}
	for i := range c.first {
		first, last := c.first[i].Load(), c.last[i].Load()
		if first == 0 || now.Sub(time.Unix(0, first)) < window || now.Sub(time.Unix(0, last)) > window {
			return false
		}
	}
	return true
}

// OnFailure sets fn to be told each time the ladder fails: ffmpeg exited,
// stalled, never started, fell behind (the cause constants), or the stream
// was demoted to source-only ("demoted"). fn runs on the supervisor
// before the failed run's renditions are cut, so that a leader can hand
// its stream over before it publishes a truncated segment; it may block
// briefly (the restart waits for it).
func (t *Transcoder) OnFailure(fn func(cause string)) {
	t.onFailure.Store(&fn)
}

// CauseDemoted is the failure reported when the ladder is dropped for not
// keeping real time.
const CauseDemoted = "demoted"

func (t *Transcoder) failed(cause string) {
	if fn := t.onFailure.Load(); fn != nil && *fn != nil {
		(*fn)(cause)
	}
}

// Producing reports whether ffmpeg runs and has produced every rendition
// of the ladder for at least a segment, the latest output within a segment.
func (t *Transcoder) Producing() bool {
	if !t.running.Load() || t.sourceOnly.Load() {
		return false
	}
	c := t.clock.Load()
	if c == nil {
		return false
	}
	window := t.set.Segment
	if window <= 0 {
		window = t.set.StallTimeout
	}
	return c.producing(time.Now(), window)
}
