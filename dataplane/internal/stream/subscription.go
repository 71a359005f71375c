package stream

import (
	"log/slog"
	"sync"
	"sync/atomic"
)

// QueueChunks is how many chunks a sink may lag behind before it starts
// losing data: 1024 SRT payloads are about 1.3 MB, 4 s of a 2.5 Mb/s stream.
const QueueChunks = 1024

// item is a chunk of TS, or a discontinuity marker when data is nil.
type item struct {
	data []byte
}

// subscription feeds one sink from its own goroutine.
type subscription struct {
	name  string
	sink  Sink
	log   *slog.Logger
	queue chan item

	// Touched only by the publishing side, under Stream.mu.
	pendingDisc bool
	lagging     bool

	dropped atomic.Uint64
	errors  atomic.Uint64

	done     chan struct{}
	stopOnce sync.Once
}

func newSubscription(name string, c Sink, log *slog.Logger) *subscription {
	s := &subscription{
		name:  name,
		sink:  c,
		log:   log.With("sink", name),
		queue: make(chan item, QueueChunks),
		done:  make(chan struct{}),
	}
	go s.run()
	return s
}

func (s *subscription) run() {
	for {
		select {
		case <-s.done:
			return
		case it := <-s.queue:
			if it.data == nil {
				s.sink.Discontinuity()
				continue
			}
			if err := s.sink.WriteTS(it.data); err != nil {
				if s.errors.Add(1) == 1 || s.errors.Load()%1000 == 0 {
					s.log.Warn("sink rejected TS", "err", err, "errors", s.errors.Load())
				}
			}
		}
	}
}

// offer queues a chunk without ever blocking. Called under Stream.mu.
func (s *subscription) offer(p []byte) {
	if s.pendingDisc {
		select {
		case s.queue <- item{}:
			s.pendingDisc = false
		default:
			s.drop()
			return
		}
	}
	select {
	case s.queue <- item{data: p}:
		if s.lagging {
			s.lagging = false
			s.log.Info("sink caught up", "dropped_chunks", s.dropped.Load())
		}
	default:
		s.drop()
	}
}

func (s *subscription) drop() {
	if !s.lagging {
		s.lagging = true
		s.log.Warn("sink too slow: dropping TS until it catches up", "queue", QueueChunks)
	}
	s.dropped.Add(1)
	// What it missed makes its input discontinuous.
	s.pendingDisc = true
}

// discontinuity queues a discontinuity marker. Called under Stream.mu.
func (s *subscription) discontinuity() {
	select {
	case s.queue <- item{}:
	default:
		s.pendingDisc = true
	}
}

func (s *subscription) stop() {
	s.stopOnce.Do(func() { close(s.done) })
}
