package relay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/quic-go/quic-go"

	"github.com/zonecast/zonecast/policies/failover"
)

// Sink receives one relayed stream on the standby.
type Sink interface {
	WriteTS(b []byte) error // b is only valid during the call
	Discontinuity()
	Control(c Control)
	Status() Status
	// Close ends the relay: err says why (ErrRelayTimeout, the peer closed, ...).
	Close(err error)
}

// Handler decides whether to accept a relayed stream from peer (the
// sender's certificate name).
type Handler func(peer string, h Hello) (Sink, error)

// ErrRelayTimeout means nothing arrived from the leader for RelayTimeout.
var ErrRelayTimeout = errors.New("relay: no data from the leader within the relay timeout")

// Server is the standby's relay listener.
type Server struct {
	ln      *quic.Listener
	handler Handler
	timings failover.Timings
	log     *slog.Logger
	wg      sync.WaitGroup
	ctx     context.Context
	cancel  context.CancelFunc
}

// Listen opens the relay listener (UDP) with mutual TLS.
func Listen(addr string, t *TLS, timings failover.Timings, h Handler, log *slog.Logger) (*Server, error) {
	if log == nil {
		log = slog.Default()
	}
	ln, err := quic.ListenAddr(addr, t.Server.Clone(), quicConfig(timings))
	if err != nil {
		return nil, fmt.Errorf("relay: listen %s: %w", addr, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s := &Server{ln: ln, handler: h, timings: timings, log: log, ctx: ctx, cancel: cancel}
	s.wg.Add(1)
	go s.acceptLoop()
	return s, nil
}

// Addr is the listener's UDP address.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Close stops the listener and every relayed stream.
func (s *Server) Close() error {
	s.cancel()
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) acceptLoop() {
	defer s.wg.Done()
	for {
		conn, err := s.ln.Accept(s.ctx)
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.serveConn(conn)
	}
}

func (s *Server) serveConn(conn *quic.Conn) {
	defer s.wg.Done()
	peer := peerName(conn.ConnectionState().TLS)
	log := s.log.With("peer", peer, "addr", conn.RemoteAddr().String())
	go func() {
		<-s.ctx.Done()
		_ = conn.CloseWithError(0, "standby closing")
	}()
	for {
		st, err := conn.AcceptStream(s.ctx)
		if err != nil {
			return
		}
		s.wg.Add(1)
		go s.serveStream(st, peer, log)
	}
}

func (s *Server) serveStream(st *quic.Stream, peer string, log *slog.Logger) {
	defer s.wg.Done()
	defer st.CancelRead(0)
	_ = st.SetReadDeadline(time.Now().Add(s.timings.RelayTimeout))
	typ, b, err := readFrame(st, nil)
	if err != nil || typ != frameHello {
		log.Warn("relay stream without hello", "err", err, "type", typ)
		st.CancelWrite(1)
		return
	}
	var h Hello
	if err := json.Unmarshal(b, &h); err != nil || h.Stream == "" {
		log.Warn("relay hello is not valid JSON", "err", err)
		st.CancelWrite(1)
		return
	}
	log = log.With("stream", h.Stream)
	sink, err := s.handler(peer, h)
	if err != nil {
		log.Warn("relay stream refused", "err", err)
		st.CancelWrite(2)
		return
	}
	log.Info("relay stream accepted", "leader", h.Leader, "token", h.Token)

	// Status goes back on the same QUIC stream while frames come in.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(heartbeatEvery(s.timings))
		defer t.Stop()
		for {
			if err := writeJSON(st, frameStatus, sink.Status()); err != nil {
				return
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	defer func() { close(stop); st.CancelWrite(0); wg.Wait() }()

	var buf []byte
	for {
		_ = st.SetReadDeadline(time.Now().Add(s.timings.RelayTimeout))
		typ, b, err := readFrame(st, buf)
		if err != nil {
			var ne interface{ Timeout() bool }
			if errors.As(err, &ne) && ne.Timeout() {
				err = ErrRelayTimeout
			}
			log.Info("relay stream ended", "err", err)
			sink.Close(err)
			return
		}
		buf = b
		switch typ {
		case frameTS:
			if err := sink.WriteTS(b); err != nil {
				log.Warn("standby media refused TS", "err", err)
			}
		case frameDiscont:
			sink.Discontinuity()
		case frameControl:
			var c Control
			if json.Unmarshal(b, &c) == nil {
				sink.Control(c)
			}
		case frameHeartbeat:
		default:
			log.Warn("unknown relay frame", "type", typ)
		}
	}
}
