package packager

import (
	"sync"
	"time"
)

// cutRegistry records where a stream's renditions started segments, by
// cut-grid index (raw DTS of the first keyframe / segment duration), so
// that renditions cut at the same grid boundary (a ladder whose keyframes
// are forced at the source's, or on the grid) share segment numbers and
// program date-times. It has its own lock: it is used under a rendition's
// lock, and no rendition lock is taken under it.
type cutRegistry struct {
	segTicks int64 // the grid's step: the segment duration in 90 kHz ticks

	mu    sync.Mutex
	marks map[int64]cutMark
	ring  []int64 // grid indexes in the order they were recorded
}

// cutMark is where a rendition started a segment.
type cutMark struct {
	raw int64 // raw DTS of the first keyframe
	msn uint64
	pdt time.Time
	by  string // rendition
}

// maxCuts bounds the cut registry (a few minutes of segments).
const maxCuts = 256

func newCutRegistry(segment time.Duration) cutRegistry {
	return cutRegistry{segTicks: max(durationToTicks(segment), 1)}
}

func (c *cutRegistry) gridIndex(raw int64) int64 { return raw / c.segTicks }

// at returns the cut recorded at raw's grid boundary.
func (c *cutRegistry) at(raw int64) (cutMark, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	m, ok := c.marks[c.gridIndex(raw)]
	return m, ok
}

// othersNear reports whether a rendition other than name has cut a
// segment within 10 s of raw (on the 33-bit clock): siblings are cutting
// the same input timeline right now.
func (c *cutRegistry) othersNear(name string, raw int64) bool {
	const near = 10 * 90000
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := len(c.ring) - 1; i >= 0; i-- {
		m := c.marks[c.ring[i]]
		if m.by != name && abs33(raw-m.raw) < near {
			return true
		}
	}
	return false
}

// by returns the PDT at which rendition name started each of the segments
// from..to (inclusive); ok is false when one is unknown.
func (c *cutRegistry) by(name string, from, to uint64) (pdts []time.Time, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	byMSN := map[uint64]time.Time{}
	for _, idx := range c.ring {
		if m := c.marks[idx]; m.by == name && m.msn >= from && m.msn <= to {
			byMSN[m.msn] = m.pdt
		}
	}
	for msn := from; msn <= to; msn++ {
		p, found := byMSN[msn]
		if !found {
			return nil, false
		}
		pdts = append(pdts, p)
	}
	return pdts, true
}

// record records m unless a cut is known at its grid boundary already.
func (c *cutRegistry) record(m cutMark) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.marks == nil {
		c.marks = make(map[int64]cutMark)
	}
	idx := c.gridIndex(m.raw)
	if _, ok := c.marks[idx]; ok {
		return
	}
	c.marks[idx] = m
	c.ring = append(c.ring, idx)
	if len(c.ring) > maxCuts {
		delete(c.marks, c.ring[0])
		c.ring = c.ring[1:]
	}
}

// reset forgets every cut (the local segment numbers are about to change).
func (c *cutRegistry) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.marks, c.ring = nil, nil
}

// abs33 is the distance between two 33-bit timestamps.
func abs33(d int64) int64 {
	d &= 1<<33 - 1
	if d > 1<<32 {
		d = 1<<33 - d
	}
	return d
}

// signed33 is b − a for 33-bit timestamps, taking the shorter way round.
func signed33(d int64) int64 {
	d &= 1<<33 - 1
	if d > 1<<32 {
		d -= 1 << 33
	}
	return d
}
