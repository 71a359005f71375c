package stream

import (
	"errors"
	"time"
)

// ErrReplaced is returned by Publisher.Write once another publisher took the
// stream over (or the publisher was closed).
var ErrReplaced = errors.New("publisher replaced")

// PublisherInfo describes a publisher.
type PublisherInfo struct {
	Addr     string    // remote address
	Protocol string    // "srt", "relay", ...
	Since    time.Time // set by Publish when zero
	// Stats, when set, returns the transport counters (SRT statistics).
	Stats func() TransportStats
	// Kick, when set, disconnects the publisher (used by takeover).
	Kick func()
}

// Publisher is the sender currently feeding a stream.
type Publisher struct {
	stream  *Stream
	info    PublisherInfo
	retired bool // guarded by stream.mu
}

// Write hands a chunk of TS to every sink. The publisher gives up b:
// it must not modify or reuse it. It never blocks on sinks.
func (p *Publisher) Write(b []byte) error {
	return p.stream.write(p, b)
}

// Close ends the publication (reason is logged); sinks see a
// discontinuity. Closing a publisher that was taken over does nothing.
func (p *Publisher) Close(reason error) {
	p.stream.unpublish(p, reason)
}

// Info describes the publisher.
func (p *Publisher) Info() PublisherInfo { return p.info }
