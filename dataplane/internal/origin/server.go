// Package origin is the HTTP side of the edge: HLS for players and CDNs over
// HTTP/1.1, HTTP/2 (with TLS) and HTTP/3 (with TLS, announced by Alt-Svc),
// plus health, readiness, metrics, the streams API and a player page.
package origin

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/quic-go/quic-go/http3"
)

// Packagers finds the HLS handler of a stream (paths relative to
// /live/<stream>/); nil when this node does not serve the stream.
type Packagers func(stream string) http.Handler

// RequestObserver counts viewers' requests (the metrics package implements it).
type RequestObserver interface {
	ObserveRequest(kind string, code int)
}

// Options configure the origin.
type Options struct {
	Listen     string
	TLSCert    string // with TLSKey: HTTPS + HTTP/2 on Listen, HTTP/3 on the same UDP port
	TLSKey     string
	CORSOrigin string
	WebDir     string

	Packagers Packagers
	// Streams returns the body of GET /api/v1/streams (JSON-marshalled).
	Streams func() any
	// Ready returns nil when this node can take work; each error says what
	// it cannot take. The origin adds its own state (listening, not closing).
	Ready func() error
	// ReadyInfo, when set, adds lines to a ready node's /readyz body
	// (e.g. the free transcode capacity); it never changes the status.
	ReadyInfo func() string
	Metrics   http.Handler // /metrics
	// Routes are extra handlers by ServeMux pattern (the cluster's drain).
	Routes   map[string]http.Handler
	Requests RequestObserver
	Log      *slog.Logger
}

// Server serves HTTP.
type Server struct {
	opts    Options
	log     *slog.Logger
	ln      net.Listener
	http    *http.Server
	h3      *http3.Server
	closing sync.Once
	closed  chan struct{}
	webDir  string
}

// Listen opens the TCP listener (and the UDP one for HTTP/3 with TLS).
func Listen(opts Options) (*Server, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	s := &Server{opts: opts, log: opts.Log.With("component", "origin"), closed: make(chan struct{})}
	s.webDir = resolveWebDir(opts.WebDir)
	if s.webDir == "" {
		s.log.Warn("hls.js not found: the player page will not play (run `make deps`)", "web_dir", opts.WebDir)
	}
	handler := s.routes()
	var tlsConf *tls.Config
	if opts.TLSCert != "" {
		cert, err := tls.LoadX509KeyPair(opts.TLSCert, opts.TLSKey)
		if err != nil {
			return nil, fmt.Errorf("http tls: %w", err)
		}
		tlsConf = &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}
	}
	ln, err := net.Listen("tcp", opts.Listen)
	if err != nil {
		return nil, fmt.Errorf("http listen %s: %w", opts.Listen, err)
	}
	s.ln = ln
	if tlsConf != nil {
		s.h3 = &http3.Server{Addr: ln.Addr().String(), Handler: handler, TLSConfig: http3.ConfigureTLSConfig(tlsConf.Clone())}
		inner := handler
		handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			_ = s.h3.SetQUICHeaders(w.Header()) // Alt-Svc: h3 on the same port
			inner.ServeHTTP(w, r)
		})
		s.ln = tls.NewListener(ln, tlsConf)
	}
	s.http = &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		// No WriteTimeout: blocking playlist reloads hold a request for up
		// to three target durations.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	return s, nil
}

// Addr is the TCP listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// TLS reports whether HTTPS (and HTTP/3) is on.
func (s *Server) TLS() bool { return s.h3 != nil }

// Serve serves until Close.
func (s *Server) Serve() error {
	errc := make(chan error, 2)
	proto := "HTTP/1.1"
	if s.h3 != nil {
		proto = "HTTPS (HTTP/1.1, HTTP/2) and HTTP/3"
		go func() {
			if err := s.h3.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("http3: %w", err)
			}
		}()
	}
	s.log.Info("HTTP listening", "addr", s.ln.Addr().String(), "protocols", proto)
	go func() {
		if err := s.http.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
		errc <- nil
	}()
	return <-errc
}

// Close stops serving; in-flight requests get a moment to finish.
func (s *Server) Close() {
	s.closing.Do(func() {
		close(s.closed)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = s.http.Shutdown(ctx)
		if s.h3 != nil {
			_ = s.h3.Close()
		}
	})
}

func (s *Server) isClosing() bool {
	select {
	case <-s.closed:
		return true
	default:
		return false
	}
}
