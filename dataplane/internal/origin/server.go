// Package origin is the HTTP side of the edge: HLS for players and CDNs over
// HTTP/1.1, HTTP/2 (with TLS) and HTTP/3 (with TLS, announced by Alt-Svc),
// plus health, readiness, metrics, the streams API and a player page.
//
// With an admin listener, the operator's endpoints (metrics, /api/*) are
// served there only, and the public listener answers media, health and
// the player page; with origin secrets, media is served only to requests
// carrying one (the CDN's).
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
	// Streams returns the body of GET /api/v1/streams (JSON-marshalled);
	// StreamsAPI, when set, answers /api/v1/streams and below instead (the
	// control API).
	Streams    func() any
	StreamsAPI http.Handler
	// Version, when set, is the edge's release: every answer names it in
	// its Server header, "zonecast-edge/<version>".
	Version string
	// Ready returns nil when this node can take work; each error says what
	// it cannot take. The origin adds its own state (listening, not closing).
	Ready func() error
	// ReadyInfo, when set, adds lines to a ready node's /readyz body
	// (e.g. the free transcode capacity); it never changes the status.
	ReadyInfo func() string
	Metrics   http.Handler // /metrics
	// Routes are extra operator endpoints by ServeMux pattern (the
	// cluster's drain, the transcode report): on the admin listener when
	// there is one.
	Routes map[string]http.Handler
	// Media are extra media endpoints by ServeMux pattern (recordings
	// under /vod/): on the public listener, with CORS, guarded by the
	// origin secrets like /live/.
	Media map[string]http.Handler
	// AdminListen, when set, is a second, plain-HTTP listener (a private
	// address) for /metrics, /api/* and Routes, which the public listener
	// then no longer answers. /healthz and /readyz stay public (the load
	// balancer's health checks reach the public port) and are on both.
	AdminListen string
	// SecretHeader and Secrets guard media (Guarded paths): with any
	// secret set, a request without one of them in SecretHeader gets 403.
	SecretHeader string
	Secrets      []string
	Requests     RequestObserver
	Log          *slog.Logger
}

// Server serves HTTP.
type Server struct {
	opts    Options
	log     *slog.Logger
	ln      net.Listener
	http    *http.Server
	h3      *http3.Server
	adminLn net.Listener // nil without an admin listener
	admin   *http.Server
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
	handler := s.versioned(s.guard(s.routes()))
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
		// No WriteTimeout: blocking playlist reloads hold a request (for
		// the packager's hold, under the CDN's origin response timeout).
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	if opts.AdminListen != "" {
		aln, err := net.Listen("tcp", opts.AdminListen)
		if err != nil {
			ln.Close()
			return nil, fmt.Errorf("admin listen %s: %w", opts.AdminListen, err)
		}
		s.adminLn = aln
		s.admin = &http.Server{
			Handler:           s.versioned(s.adminRoutes()),
			ReadHeaderTimeout: 10 * time.Second,
			IdleTimeout:       120 * time.Second,
			ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
		}
	}
	return s, nil
}

// Addr is the TCP listening address.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// AdminAddr is the admin listener's address; nil without one.
func (s *Server) AdminAddr() net.Addr {
	if s.adminLn == nil {
		return nil
	}
	return s.adminLn.Addr()
}

// TLS reports whether HTTPS (and HTTP/3) is on.
func (s *Server) TLS() bool { return s.h3 != nil }

// Serve serves until Close.
func (s *Server) Serve() error {
	errc := make(chan error, 3)
	proto := "HTTP/1.1"
	if s.h3 != nil {
		proto = "HTTPS (HTTP/1.1, HTTP/2) and HTTP/3"
		go func() {
			if err := s.h3.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
				errc <- fmt.Errorf("http3: %w", err)
			}
		}()
	}
	s.log.Info("HTTP listening", "addr", s.ln.Addr().String(), "protocols", proto, "origin_secrets", len(s.opts.Secrets))
	if s.admin != nil {
		s.log.Info("admin HTTP listening", "addr", s.adminLn.Addr().String())
		go func() {
			if err := s.admin.Serve(s.adminLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("admin: %w", err)
			}
		}()
	}
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
		if s.admin != nil {
			_ = s.admin.Shutdown(ctx)
		}
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

// versioned names the release in every answer's Server header.
func (s *Server) versioned(h http.Handler) http.Handler {
	if s.opts.Version == "" {
		return h
	}
	server := "zonecast-edge/" + s.opts.Version
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Server", server)
		h.ServeHTTP(w, r)
	})
}
