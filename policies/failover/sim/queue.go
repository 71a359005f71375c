package sim

import "time"

type eventKind uint8

const (
	evStreamStart eventKind = iota
	evStreamEnd
	evResume
	evStandbyRestore
	evAutoscale
	evSample
	evNodeReady
	evNodeTerminate
	evNodeBack
	evFaultStart
	evFaultEnd
	evRedisPromoted
	evRefreshStep
)

// event is one scheduled happening. a and b are its subject (a stream, or
// a zone and a node slot); epoch lets a stream's stale resumptions be
// ignored after a newer failover replaced them.
type event struct {
	at    time.Duration
	seq   uint64 // insertion order: ties resolve deterministically
	kind  eventKind
	a, b  int32
	epoch uint32
}

// queue is a binary min-heap of events ordered by time, then insertion.
// Written out rather than container/heap so that events stay values (no
// interface boxing per push and pop on the hot path).
type queue struct {
	ev  []event
	seq uint64
}

func (q *queue) less(i, j int) bool {
	if q.ev[i].at != q.ev[j].at {
		return q.ev[i].at < q.ev[j].at
	}
	return q.ev[i].seq < q.ev[j].seq
}

func (q *queue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.ev = append(q.ev, e)
	i := len(q.ev) - 1
	for i > 0 {
		p := (i - 1) / 2
		if !q.less(i, p) {
			break
		}
		q.ev[i], q.ev[p] = q.ev[p], q.ev[i]
		i = p
	}
}

func (q *queue) pop() event {
	top := q.ev[0]
	last := len(q.ev) - 1
	q.ev[0] = q.ev[last]
	q.ev = q.ev[:last]
	i := 0
	for {
		l, r, m := 2*i+1, 2*i+2, i
		if l < last && q.less(l, m) {
			m = l
		}
		if r < last && q.less(r, m) {
			m = r
		}
		if m == i {
			return top
		}
		q.ev[i], q.ev[m] = q.ev[m], q.ev[i]
		i = m
	}
}

func (q *queue) len() int { return len(q.ev) }
