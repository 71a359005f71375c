package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/zonecast/zonecast/policies/failover"
)

// Peer is a QUIC connection from a leader to one standby node.
type Peer struct {
	conn    *quic.Conn
	timings failover.Timings
	log     *slog.Logger
	Name    string // the standby's certificate name (its node id)
}

// Dial connects to a standby's relay listener with mutual TLS.
func Dial(ctx context.Context, addr string, t *TLS, timings failover.Timings, log *slog.Logger) (*Peer, error) {
	if log == nil {
		log = slog.Default()
	}
	conn, err := quic.DialAddr(ctx, addr, t.Client.Clone(), quicConfig(timings))
	if err != nil {
		return nil, fmt.Errorf("relay: dial %s: %w", addr, err)
	}
	name := peerName(conn.ConnectionState().TLS)
	return &Peer{conn: conn, timings: timings, log: log.With("peer", name, "addr", addr), Name: name}, nil
}

// Done is closed when the connection is gone.
func (p *Peer) Done() <-chan struct{} { return p.conn.Context().Done() }

// Close ends the connection and all its relay streams.
func (p *Peer) Close() error { return p.conn.CloseWithError(0, "closing") }

// Out is one live stream being relayed to the standby. WriteTS never blocks
// the ingest: a slow link drops chunks and marks a discontinuity instead.
type Out struct {
	peer    *Peer
	st      *quic.Stream
	hello   Hello
	queue   chan outItem
	done    chan struct{}
	errOnce sync.Once
	err     error

	dropped atomic.Uint64
	sent    atomic.Uint64

	mu       sync.Mutex
	status   Status
	statusAt time.Time
}

type outItem struct {
	typ     byte
	payload []byte
}

// ErrClosed is returned by an Out that has stopped.
var ErrClosed = errors.New("relay: stream closed")

// Open starts relaying a live stream.
func (p *Peer) Open(ctx context.Context, h Hello) (*Out, error) {
	st, err := p.conn.OpenStreamSync(ctx)
	if err != nil {
		return nil, fmt.Errorf("relay: open stream: %w", err)
	}
	if err := writeJSON(st, frameHello, h); err != nil {
		st.CancelWrite(0)
		return nil, fmt.Errorf("relay: hello: %w", err)
	}
	o := &Out{peer: p, st: st, hello: h, queue: make(chan outItem, 2048), done: make(chan struct{})}
	go o.writeLoop()
	go o.readLoop()
	return o, nil
}

// WriteTS queues TS bytes for the standby (copied).
func (o *Out) WriteTS(b []byte) error {
	return o.enqueue(frameTS, append([]byte(nil), b...))
}

// Discontinuity tells the standby that the input was cut.
func (o *Out) Discontinuity() error { return o.enqueue(frameDiscont, nil) }

// Control sends lease news (the leader's token, a handover).
func (o *Out) Control(c Control) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return o.enqueue(frameControl, b)
}

func (o *Out) enqueue(typ byte, b []byte) error {
	select {
	case <-o.done:
		return o.Err()
	default:
	}
	select {
	case o.queue <- outItem{typ, b}:
		return nil
	default:
		// The link cannot keep up: drop, and let the standby know the TS it
		// has is no longer continuous.
		o.dropped.Add(1)
		if typ != frameTS {
			return errors.New("relay: queue full")
		}
		return nil
	}
}

func (o *Out) writeLoop() {
	hb := time.NewTicker(heartbeatEvery(o.peer.timings))
	defer hb.Stop()
	lastDropped := uint64(0)
	for {
		var it outItem
		select {
		case <-o.done:
			return
		case <-o.peer.Done():
			o.fail(fmt.Errorf("relay: connection to %s lost", o.peer.Name))
			return
		case it = <-o.queue:
		case <-hb.C:
			it = outItem{typ: frameHeartbeat}
		}
		if d := o.dropped.Load(); d != lastDropped {
			lastDropped = d
			if err := writeFrame(o.st, frameDiscont, nil); err != nil {
				o.fail(err)
				return
			}
		}
		if err := writeFrame(o.st, it.typ, it.payload); err != nil {
			o.fail(err)
			return
		}
		if it.typ == frameTS {
			o.sent.Add(uint64(len(it.payload)))
		}
	}
}

func (o *Out) readLoop() {
	var buf []byte
	for {
		typ, b, err := readFrame(o.st, buf)
		if err != nil {
			o.fail(fmt.Errorf("relay: standby %s: %w", o.peer.Name, err))
			return
		}
		buf = b
		if typ != frameStatus {
			continue
		}
		var s Status
		if json.Unmarshal(b, &s) != nil {
			continue
		}
		o.mu.Lock()
		o.status, o.statusAt = s, time.Now()
		o.mu.Unlock()
	}
}

// PeerStatus is the standby's last status and when it arrived.
func (o *Out) PeerStatus() (Status, time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.status, o.statusAt
}

// Sent is the number of TS bytes written to the link.
func (o *Out) Sent() uint64 { return o.sent.Load() }

// Done is closed when the relay stream has stopped.
func (o *Out) Done() <-chan struct{} { return o.done }

// Err is why the stream stopped.
func (o *Out) Err() error {
	select {
	case <-o.done:
		return o.err
	default:
		return nil
	}
}

func (o *Out) fail(err error) {
	o.errOnce.Do(func() {
		o.err = err
		o.st.CancelRead(0)
		o.st.CancelWrite(0)
		close(o.done)
	})
}

// Close stops relaying this stream.
func (o *Out) Close() {
	o.errOnce.Do(func() {
		o.err = ErrClosed
		_ = o.st.Close()
		o.st.CancelRead(0)
		close(o.done)
	})
}
