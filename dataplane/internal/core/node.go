// Package core wires one edge node from its configuration:
//
//	SRT ingest ──▶ stream (fan-out) ──▶ packager "source" rendition ──▶ origin
//
// main stays small: config.Load, core.New, Node.Run. Other areas add their
// wiring in their own files of this package with RegisterPlugin (see
// plugin.go): a plugin sees the built node before its listeners open.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"sync"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/ingest/srt"
	"github.com/zonecast/zonecast/dataplane/internal/metrics"
	"github.com/zonecast/zonecast/dataplane/internal/origin"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
)

// SourceRendition is the name of the passthrough rendition.
const SourceRendition = "source"

// Node is one running edge.
type Node struct {
	Config  *config.Config
	Log     *slog.Logger
	Streams *stream.Registry
	Metrics *metrics.Metrics
	SRT     *srt.Server
	Origin  *origin.Server

	// Set by plugins before the listeners open (nil: defaults).
	// StreamsAPI builds the body of GET /api/v1/streams.
	StreamsAPI func() any
	// Admit may veto an authenticated SRT publisher.
	Admit srt.Admit
	// ServeGate, when set, says whether this node serves a stream's
	// playlists and media now (the cluster: leader or standby); false → 404.
	ServeGate func(stream string) bool
	// ServeElsewhere, when set, answers for a stream ServeGate refuses (the
	// cluster's viewer proxy); nil → 404.
	ServeElsewhere func(stream string) http.Handler
	// BeforeShutdown, when set, runs when Run's context ends, before the
	// listeners close (the cluster drains: hands streams to standbys).
	BeforeShutdown func()
	// ReadyInfo, when set, adds lines to /readyz when ready (transcode:
	// free ladder capacity).
	ReadyInfo func() string
	// Routes are extra HTTP handlers by ServeMux pattern (admin endpoints).
	Routes map[string]http.Handler
	// HoldInputCut, when set, says whether a publisher's leaving should
	// leave the stream's open segments open instead of cutting them (the
	// cluster: the standby's backup feed of the same encoder goes on with
	// them); read at each cut.
	HoldInputCut func(stream string) bool
	// PipelineFailed, when set, is told that a stream's ladder failed here
	// (cluster plugin: a leader hands the stream to a standby whose ladder runs).
	PipelineFailed func(stream, reason string)

	mu        sync.RWMutex
	packagers map[string]*packager.Stream
	// sourceUnsub detaches each stream's packager from its source feed;
	// pcfg makes replacements (ResetPackager).
	sourceUnsub map[string]func()
	pcfg        packager.Config
	readyCheck  []namedCheck
	closers     []func()

	// ladders: stream → LadderFeed, set by the transcode plugin (ladder.go);
	// a sync.Map because the cluster's relay may read it while plugins run.
	ladders sync.Map
}

type namedCheck struct {
	name  string
	check func() error
}

// New builds the node: streams, packagers, metrics, plugins, then the SRT
// and HTTP listeners (opened, not yet serving).
func New(cfg *config.Config, log *slog.Logger) (*Node, error) {
	n := &Node{
		Config:      cfg,
		Log:         log.With("node", cfg.Node.ID),
		Streams:     stream.NewRegistry(log.With("node", cfg.Node.ID)),
		Metrics:     metrics.New(),
		packagers:   make(map[string]*packager.Stream),
		sourceUnsub: make(map[string]func()),
		Routes:      make(map[string]http.Handler),
	}
	pcfg := packager.Config{
		SegmentDuration: cfg.HLS.SegmentDuration,
		PartDuration:    cfg.HLS.PartDuration,
		WindowSegments:  cfg.HLS.WindowSegments,
		Dir:             cfg.HLS.Dir,
	}
	for _, sc := range cfg.Streams {
		st, err := n.Streams.Add(sc.Name)
		if err != nil {
			return nil, err
		}
		ps := packager.NewStream(sc.Name, pcfg, n.Log)
		n.packagers[sc.Name] = ps
		n.sourceUnsub[sc.Name] = st.Subscribe(SourceRendition, n.gateCuts(sc.Name, ps.Rendition(SourceRendition)))
	}
	n.pcfg = pcfg
	n.OnClose(func() {
		n.mu.Lock()
		defer n.mu.Unlock()
		for name, unsubscribe := range n.sourceUnsub {
			unsubscribe()
			n.packagers[name].Close()
		}
	})
	n.StreamsAPI = func() any { return n.Streams.Statuses() }

	for _, p := range plugins {
		if err := p.setup(n); err != nil {
			n.Close()
			return nil, fmt.Errorf("%s: %w", p.name, err)
		}
	}

	var err error
	n.SRT, err = srt.Listen(srt.Options{
		Listen:          cfg.SRT.Listen,
		Latency:         cfg.SRT.Latency,
		PeerIdleTimeout: cfg.SRT.PeerIdleTimeout,
		UDPBuffer:       cfg.SRT.UDPBuffer,
		Takeover:        cfg.SRT.OnConflict == config.OnConflictTakeover,
		Lookup:          n.lookup,
		Admit:           n.Admit,
		Log:             n.Log,
	})
	if err != nil {
		n.Close()
		return nil, err
	}
	n.Metrics.RegisterStreams(metrics.StreamSources{
		Streams:       n.Streams.List,
		Packager:      n.packagerCounters,
		SRTRejections: n.SRT.Rejections,
		SRTAccepted:   n.SRT.Accepted,
	})
	n.Origin, err = origin.Listen(origin.Options{
		Listen:     cfg.HTTP.Listen,
		TLSCert:    cfg.HTTP.TLSCert,
		TLSKey:     cfg.HTTP.TLSKey,
		CORSOrigin: cfg.HTTP.CORSOrigin,
		WebDir:     cfg.HTTP.WebDir,
		Packagers:  n.packagerHandler,
		Streams:    func() any { return n.StreamsAPI() },
		Ready:      n.ready,
		ReadyInfo:  n.readyInfo,
		Metrics:    n.Metrics.Handler(),
		Routes:     n.Routes,
		Requests:   n.Metrics,
		Log:        n.Log,
	})
	if err != nil {
		n.SRT.Close()
		n.Close()
		return nil, err
	}
	return n, nil
}

// Run serves until ctx is done, then closes everything.
func (n *Node) Run(ctx context.Context) error {
	errc := make(chan error, 2)
	go func() { errc <- n.SRT.Serve() }()
	go func() { errc <- n.Origin.Serve() }()
	var err error
	select {
	case <-ctx.Done():
		n.Log.Info("shutting down")
		if n.BeforeShutdown != nil {
			n.BeforeShutdown()
		}
	case err = <-errc:
		n.Log.Error("server stopped", "err", err)
	}
	n.Origin.Close()
	n.SRT.Close()
	n.Close()
	return err
}

// Packager returns a stream's packager (nil when unknown).
func (n *Node) Packager(name string) *packager.Stream {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.packagers[name]
}

// SetPackager installs or replaces the packager that serves a stream
// (the cluster uses it when it resumes a stream's state).
func (n *Node) SetPackager(name string, ps *packager.Stream) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.packagers[name] = ps
}

// ResetPackager replaces a stream's packager by a fresh one fed from the
// source (the cluster: a node that starts standing by for a new leader drops
// segments of another lineage). Consumers must fetch Packager(name) anew.
func (n *Node) ResetPackager(name string) *packager.Stream {
	st := n.Streams.Get(name)
	if st == nil {
		return nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	old, ok := n.packagers[name]
	if !ok {
		return nil
	}
	ps := packager.NewStream(name, n.pcfg, n.Log)
	n.packagers[name] = ps
	if unsubscribe := n.sourceUnsub[name]; unsubscribe != nil {
		unsubscribe()
	}
	n.sourceUnsub[name] = st.Subscribe(SourceRendition, n.gateCuts(name, ps.Rendition(SourceRendition)))
	old.Close()
	return ps
}

// AddReadyCheck adds a condition to /readyz: a non-nil error makes the node
// unready and is shown.
func (n *Node) AddReadyCheck(name string, check func() error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.readyCheck = append(n.readyCheck, namedCheck{name, check})
}

// OnClose runs fn at shutdown, in reverse order of registration.
func (n *Node) OnClose(fn func()) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closers = append(n.closers, fn)
}

// Close releases what New built (Run calls it).
func (n *Node) Close() {
	n.mu.Lock()
	closers := n.closers
	n.closers = nil
	n.mu.Unlock()
	for i := len(closers) - 1; i >= 0; i-- {
		closers[i]()
	}
}

func (n *Node) lookup(name string) (*stream.Stream, string, bool) {
	sc, ok := n.Config.Streams.Find(name)
	if !ok {
		return nil, "", false
	}
	st := n.Streams.Get(name)
	return st, sc.Passphrase, st != nil
}

func (n *Node) packagerHandler(name string) http.Handler {
	if n.ServeGate != nil && !n.ServeGate(name) {
		if n.ServeElsewhere != nil && n.Streams.Get(name) != nil {
			return n.ServeElsewhere(name)
		}
		return nil
	}
	if ps := n.Packager(name); ps != nil {
		return ps
	}
	return nil
}

func (n *Node) packagerCounters(name string) (metrics.PackagerCounters, bool) {
	ps := n.Packager(name)
	if ps == nil {
		return metrics.PackagerCounters{}, false
	}
	st := ps.Stats()
	return metrics.PackagerCounters{
		SegmentsWritten: st.SegmentsWritten,
		PartsWritten:    st.PartsWritten,
		DecodeErrors:    st.DecodeErrors,
		Discontinuities: st.Discontinuities,
	}, true
}

// ready: this node can take publishers and viewers unless a check says
// otherwise (draining, out of capacity, ...).
func (n *Node) ready() error {
	n.mu.RLock()
	checks := append([]namedCheck(nil), n.readyCheck...)
	n.mu.RUnlock()
	var errs []error
	for _, c := range checks {
		if err := c.check(); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", c.name, err))
		}
	}
	return errors.Join(errs...)
}

// readyInfo is the extra /readyz body plugins set (ReadyInfo).
func (n *Node) readyInfo() string {
	if n.ReadyInfo == nil {
		return ""
	}
	return n.ReadyInfo()
}

// gateCuts passes a stream's TS to c, and its cuts unless HoldInputCut
// holds them.
func (n *Node) gateCuts(name string, c stream.Consumer) stream.Consumer {
	return cutGate{Consumer: c, hold: func() bool { return n.HoldInputCut != nil && n.HoldInputCut(name) }}
}

type cutGate struct {
	stream.Consumer
	hold func() bool
}

func (g cutGate) Discontinuity() {
	if !g.hold() {
		g.Consumer.Discontinuity()
	}
}
