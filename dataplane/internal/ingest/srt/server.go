package srt

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	gosrt "github.com/datarhei/gosrt"
	"golang.org/x/time/rate"

	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// Target is the stream a publisher names, with the keys it may use.
type Target struct {
	Stream *stream.Stream
	// Passphrases are the accepted keys, primary first (a backup encoder
	// has its own); none for an unencrypted stream.
	Passphrases []string
}

// Lookup finds the stream a publisher names. An error wrapping
// ErrUnknownStream, ErrLookupUnavailable or ErrLookupThrottled is sent back
// with its own reject reason; any other with REJX_ISE.
type Lookup func(ctx context.Context, name string) (Target, error)

// Quick reports whether Lookup answers name at once (from memory).
type Quick func(name string) bool

// Why a lookup failed, as the publisher is told.
var (
	// ErrUnknownStream: no such stream (REJX_NOTFOUND).
	ErrUnknownStream = errors.New("unknown stream")
	// ErrLookupUnavailable: the stream catalog cannot be read and this node
	// does not know the stream (REJX_DOWN: try again, or another node).
	ErrLookupUnavailable = errors.New("stream catalog unavailable")
	// ErrLookupThrottled: too many lookups of unknown names right now
	// (REJX_OVERLOAD: try again shortly).
	ErrLookupThrottled = errors.New("too many lookups of unknown streams")
)

// Admit may veto a publisher after it authenticated (the cluster uses it to
// refuse streams this node cannot lead). A non-nil error is logged and the
// publisher is rejected with REJX_FORBIDDEN.
type Admit func(stream string, remote net.Addr) error

// Options configure the listener.
type Options struct {
	Listen          string
	Latency         time.Duration
	PeerIdleTimeout time.Duration
	// UDPBuffer is the listening socket's receive buffer in bytes (0: the
	// kernel's default), capped by net.core.rmem_max.
	UDPBuffer int
	// Takeover: a second publisher replaces the first instead of being
	// refused with REJX_CONFLICT.
	Takeover bool
	Lookup   Lookup
	// Quick, when set, says which lookups answer at once. Requests whose
	// lookup would wait (a catalog read) are handled on their own
	// goroutine, so that a slow read never delays another publisher's
	// handshake; the others are handled in arrival order, so that two
	// publishers racing for a stream are decided deterministically. Nil:
	// every lookup is taken as quick.
	Quick Quick
	Admit Admit // optional
	Log   *slog.Logger
}

// Server is the SRT listener.
type Server struct {
	opts Options
	log  *slog.Logger
	ln   gosrt.Listener
	// ctx ends at Close: lookups still waiting give up.
	ctx    context.Context
	cancel context.CancelFunc

	rejections sync.Map // reason label → *atomic.Uint64
	accepted   atomic.Uint64
	// refusedLog bounds the refusal log lines: a flood of handshakes must
	// not turn into a flood of log lines (the counters count them all).
	refusedLog *rate.Limiter
	suppressed atomic.Uint64 // refusals not logged since the last line

	wg sync.WaitGroup
}

// Listen opens the SRT listener; Serve accepts publishers.
func Listen(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	cfg := gosrt.DefaultConfig()
	cfg.ReceiverLatency = opts.Latency
	cfg.PeerLatency = opts.Latency
	if opts.PeerIdleTimeout > 0 {
		cfg.PeerIdleTimeout = opts.PeerIdleTimeout
	}
	ln, err := gosrt.Listen("srt", opts.Listen, cfg)
	if err != nil {
		return nil, fmt.Errorf("srt listen %s: %w", opts.Listen, err)
	}
	s := &Server{opts: opts, log: opts.Log.With("component", "srt"), ln: ln,
		refusedLog: rate.NewLimiter(refusalLogRate, refusalLogBurst)}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if opts.UDPBuffer > 0 && !setReceiveBuffer(ln, opts.UDPBuffer) {
		s.log.Warn("could not enlarge the SRT socket's receive buffer; many publishers may see loss", "bytes", opts.UDPBuffer)
	}
	return s, nil
}

// Addr is the listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve accepts connection requests until Close.
func (s *Server) Serve() error {
	s.log.Info("SRT listening", "addr", s.ln.Addr().String(), "latency", s.opts.Latency)
	for {
		req, err := s.ln.Accept2()
		if err != nil {
			if errors.Is(err, gosrt.ErrListenerClosed) {
				s.wg.Wait()
				return nil
			}
			return err
		}
		// Handled in order (a handshake costs one PBKDF2 per key at most),
		// so that two publishers racing for a stream are decided
		// deterministically, unless the lookup must wait (Options.Quick).
		if s.opts.Quick != nil && !s.opts.Quick(streamResource(req.StreamId())) {
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				s.handle(req)
			}()
			continue
		}
		s.handle(req)
	}
}

// Close stops the listener and disconnects every publisher.
func (s *Server) Close() {
	s.cancel()
	s.ln.Close()
	s.wg.Wait()
}

// rejection is why a request was refused, with the SRT reason sent back.
type rejection struct {
	reason gosrt.RejectionReason
	label  string // metrics label
	err    error
}

// Refusal log lines: a burst, then this many a second; the rest are
// counted in the next line's "unlogged".
const (
	refusalLogRate  = 20
	refusalLogBurst = 100
)

func (s *Server) reject(req gosrt.ConnRequest, streamID string, r rejection) {
	c, _ := s.rejections.LoadOrStore(r.label, new(atomic.Uint64))
	c.(*atomic.Uint64).Add(1)
	// Logged before the caller hears of it: whoever sees the refusal can
	// find its line.
	defer req.Reject(r.reason)
	if !s.refusedLog.Allow() {
		s.suppressed.Add(1)
		return
	}
	attrs := []any{"remote", req.RemoteAddr().String(), "streamid", streamID,
		"reason", r.label, "srt_reject", fmt.Sprintf("%d", uint32(r.reason)), "err", r.err}
	if n := s.suppressed.Swap(0); n > 0 {
		attrs = append(attrs, "unlogged", n)
	}
	s.log.Warn("publisher refused", attrs...)
}

// Rejections counts refused connection requests by reason.
func (s *Server) Rejections() map[string]uint64 {
	out := map[string]uint64{}
	s.rejections.Range(func(k, v any) bool { out[k.(string)] = v.(*atomic.Uint64).Load(); return true })
	return out
}

// Accepted counts admitted publishers.
func (s *Server) Accepted() uint64 { return s.accepted.Load() }

func (s *Server) handle(req gosrt.ConnRequest) {
	rawID := req.StreamId()
	st, r := s.admit(req, rawID)
	if r != nil {
		s.reject(req, rawID, *r)
		return
	}
	conn, err := req.Accept()
	if err != nil {
		s.log.Warn("SRT accept failed", "remote", req.RemoteAddr().String(), "streamid", rawID, "err", err)
		return
	}
	in := &connInput{conn: conn, idleTimeout: s.opts.PeerIdleTimeout}
	pub, err := st.Publish(stream.PublisherInfo{
		Addr:     conn.RemoteAddr().String(),
		Protocol: "srt",
		Stats:    in.stats,
		Kick:     func() { conn.Close() },
	}, s.opts.Takeover)
	if err != nil {
		// Lost a race with another publisher (e.g. a relay) since admit.
		s.log.Warn("publisher refused", "remote", conn.RemoteAddr().String(), "stream", st.Name(), "reason", "busy", "err", err)
		conn.Close()
		return
	}
	s.accepted.Add(1)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := in.pump(pub)
		conn.Close()
		pub.Close(err)
	}()
}

// admit decides on a connection request before anything is allocated.
func (s *Server) admit(req gosrt.ConnRequest, rawID string) (*stream.Stream, *rejection) {
	if req.Version() < 5 {
		return nil, &rejection{gosrt.REJX_BAD_REQUEST, "no_streamid", errors.New("HSv4 caller sends no streamid")}
	}
	id, err := ParseStreamID(rawID)
	if err != nil {
		return nil, &rejection{gosrt.REJX_BAD_REQUEST, "bad_streamid", err}
	}
	if id.Mode != ModePublish {
		return nil, &rejection{gosrt.REJX_BAD_MODE, "bad_mode", fmt.Errorf("mode %q: this listener only takes publishers (m=publish)", id.Mode)}
	}
	target, err := s.opts.Lookup(s.ctx, id.Resource)
	if err != nil {
		return nil, lookupRejection(err)
	}
	st := target.Stream
	switch {
	case len(target.Passphrases) > 0 && !req.IsEncrypted():
		return nil, &rejection{gosrt.REJ_UNSECURE, "unencrypted", fmt.Errorf("stream %q needs a passphrase", id.Resource)}
	case len(target.Passphrases) == 0 && req.IsEncrypted():
		return nil, &rejection{gosrt.REJ_UNSECURE, "unexpected_encryption", fmt.Errorf("stream %q is not encrypted but the caller set a passphrase", id.Resource)}
	case len(target.Passphrases) > 0:
		if err := setPassphrase(req, target.Passphrases); err != nil {
			return nil, &rejection{gosrt.REJ_BADSECRET, "bad_passphrase", fmt.Errorf("wrong passphrase for stream %q: %w", id.Resource, err)}
		}
	}
	if st.Live() && !s.opts.Takeover {
		return nil, &rejection{gosrt.REJX_CONFLICT, "busy", fmt.Errorf("stream %q already has a publisher (%s)", id.Resource, st.Status().Publisher)}
	}
	if s.opts.Admit != nil {
		if err := s.opts.Admit(id.Resource, req.RemoteAddr()); err != nil {
			return nil, &rejection{gosrt.REJX_FORBIDDEN, "not_admitted", err}
		}
	}
	return st, nil
}

// lookupRejection tells the publisher why its stream was not found.
func lookupRejection(err error) *rejection {
	switch {
	case errors.Is(err, ErrUnknownStream):
		return &rejection{gosrt.REJX_NOTFOUND, "unknown_stream", err}
	case errors.Is(err, ErrLookupUnavailable):
		return &rejection{gosrt.REJX_DOWN, "catalog_unavailable", err}
	case errors.Is(err, ErrLookupThrottled):
		return &rejection{gosrt.REJX_OVERLOAD, "lookup_throttled", err}
	default:
		return &rejection{gosrt.REJX_ISE, "lookup_failed", err}
	}
}

// setPassphrase accepts the first key that decrypts the caller's key
// material: the primary encoder's, else the backup's.
func setPassphrase(req gosrt.ConnRequest, keys []string) error {
	var err error
	for _, k := range keys {
		if err = req.SetPassphrase(k); err == nil {
			return nil
		}
	}
	return err
}

// streamResource is the stream a raw streamid names ("" when it names
// none), for deciding how to handle the request before it is parsed again
// in admit.
func streamResource(raw string) string {
	id, err := ParseStreamID(raw)
	if err != nil {
		return ""
	}
	return id.Resource
}
