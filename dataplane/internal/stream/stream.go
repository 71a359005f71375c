package stream

import (
	"errors"
	"log/slog"
	"sync"
	"time"
)

// ErrBusy is returned by Publish when the stream already has a publisher and
// takeover was not asked for.
var ErrBusy = errors.New("stream already has a publisher")

// State of a stream.
const (
	StateIdle = "idle"
	StateLive = "live"
)

// Stream is one configured stream.
type Stream struct {
	name string
	log  *slog.Logger

	mu     sync.Mutex
	pub    *Publisher
	subs   []*subscription
	totals TransportStats // of publishers that are gone
	meter  bitrateMeter
	// observers are told about publishers coming and going.
	observers []Observer
}

// Observer is told when a stream's publisher starts and stops (the cluster
// takes and releases leases from here). Calls are made without locks held,
// from the publisher's goroutine.
type Observer interface {
	PublisherStarted(s *Stream, info PublisherInfo)
	PublisherStopped(s *Stream, info PublisherInfo)
}

func newStream(name string, log *slog.Logger) *Stream {
	return &Stream{name: name, log: log.With("stream", name)}
}

// Name is the stream's name.
func (s *Stream) Name() string { return s.name }

// Subscribe attaches a sink; it receives every chunk written from now
// on, on its own goroutine. name appears in logs ("source", "transcode",
// "relay"). The returned function detaches it.
func (s *Stream) Subscribe(name string, c Sink) (unsubscribe func()) {
	sub := newSubscription(name, c, s.log)
	s.mu.Lock()
	s.subs = append(s.subs, sub)
	s.mu.Unlock()
	return func() {
		s.mu.Lock()
		for i, x := range s.subs {
			if x == sub {
				s.subs = append(s.subs[:i:i], s.subs[i+1:]...)
				break
			}
		}
		s.mu.Unlock()
		sub.stop()
	}
}

// Observe registers an observer of publishers.
func (s *Stream) Observe(o Observer) {
	s.mu.Lock()
	s.observers = append(s.observers, o)
	s.mu.Unlock()
}

// Publish makes info's sender the stream's publisher. When the stream
// already has one, it fails with ErrBusy unless takeover is set: then the
// old publisher is kicked (its Kick is called) and sinks see a
// discontinuity.
func (s *Stream) Publish(info PublisherInfo, takeover bool) (*Publisher, error) {
	s.mu.Lock()
	old := s.pub
	if old != nil && !takeover {
		s.mu.Unlock()
		return nil, ErrBusy
	}
	if info.Since.IsZero() {
		info.Since = time.Now()
	}
	p := &Publisher{stream: s, info: info}
	if old != nil {
		s.retireLocked(old)
	}
	s.pub = p
	s.meter = bitrateMeter{}
	obs := append([]Observer(nil), s.observers...)
	s.mu.Unlock()

	if old != nil {
		s.log.Warn("publisher taken over", "old", old.info.Addr, "new", info.Addr)
		if old.info.Kick != nil {
			old.info.Kick()
		}
		for _, o := range obs {
			o.PublisherStopped(s, old.info)
		}
	}
	s.log.Info("publisher started", "addr", info.Addr, "protocol", info.Protocol)
	for _, o := range obs {
		o.PublisherStarted(s, info)
	}
	return p, nil
}

// retireLocked detaches p: its counters go to the totals, sinks get a
// discontinuity.
func (s *Stream) retireLocked(p *Publisher) {
	if p.info.Stats != nil {
		s.totals.add(p.info.Stats())
	}
	p.retired = true
	s.pub = nil
	for _, sub := range s.subs {
		sub.discontinuity()
	}
}

// write fans a chunk out. Never blocks on sinks.
func (s *Stream) write(p *Publisher, b []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if p.retired {
		return ErrReplaced
	}
	s.meter.add(len(b), time.Now())
	for _, sub := range s.subs {
		sub.offer(b)
	}
	return nil
}

// End disconnects the current publisher, if any, as a takeover would: its
// connection is closed (Kick), sinks see a discontinuity and observers are
// told it stopped. A stream deleted from the catalog ends this way.
func (s *Stream) End(reason error) {
	s.mu.Lock()
	p := s.pub
	s.mu.Unlock()
	if p == nil {
		return
	}
	s.unpublish(p, reason)
	if p.info.Kick != nil {
		p.info.Kick()
	}
}

func (s *Stream) unpublish(p *Publisher, reason error) {
	s.mu.Lock()
	if p.retired {
		s.mu.Unlock()
		return
	}
	s.retireLocked(p)
	obs := append([]Observer(nil), s.observers...)
	s.mu.Unlock()
	s.log.Info("publisher stopped", "addr", p.info.Addr, "reason", reason)
	for _, o := range obs {
		o.PublisherStopped(s, p.info)
	}
}

// Status is the stream's state as the API reports it.
type Status struct {
	Name  string `json:"name"`
	State string `json:"state"` // live or idle
	// When live:
	Publisher string     `json:"publisher,omitempty"` // address of the publisher
	Protocol  string     `json:"protocol,omitempty"`
	Bitrate   int64      `json:"bitrate,omitempty"` // incoming, bits per second
	Since     *time.Time `json:"since,omitempty"`
	// Transport: the current publisher's SRT counters.
	Transport *TransportStats `json:"transport,omitempty"`
}

// Status reports the stream's state.
func (s *Stream) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{Name: s.name, State: StateIdle}
	if s.pub != nil {
		since := s.pub.info.Since
		st.State = StateLive
		st.Publisher = s.pub.info.Addr
		st.Protocol = s.pub.info.Protocol
		st.Bitrate = s.meter.rate(time.Now())
		st.Since = &since
		if s.pub.info.Stats != nil {
			ts := s.pub.info.Stats()
			st.Transport = &ts
		}
	}
	return st
}

// Live reports whether the stream has a publisher.
func (s *Stream) Live() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.pub != nil
}

// TransportStats sums the transport counters of every publisher the stream
// has had, the current one included.
func (s *Stream) TransportStats() TransportStats {
	s.mu.Lock()
	t := s.totals
	pub := s.pub
	s.mu.Unlock()
	if pub != nil && pub.info.Stats != nil {
		t.add(pub.info.Stats())
	}
	return t
}

// SinkStats are the fan-out's loss counters.
type SinkStats struct {
	Name          string
	DroppedChunks uint64
	Errors        uint64
}

// SinkStats reports each subscription's losses.
func (s *Stream) SinkStats() []SinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]SinkStats, len(s.subs))
	for i, sub := range s.subs {
		out[i] = SinkStats{Name: sub.name, DroppedChunks: sub.dropped.Load(), Errors: sub.errors.Load()}
	}
	return out
}
