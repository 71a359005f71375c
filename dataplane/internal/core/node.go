// Package core wires one edge node from its configuration. New creates
// every part in plain view, in data-flow order:
//
//	SRT ingest ──▶ stream (fan-out) ──▶ packager "source" rendition ──▶ origin
//	                                └─▶ transcoder ──▶ packager ladder renditions
//	                                └─▶ cluster relay ──▶ the twin zone's standby
//
// and beside the data path, coordination: the cluster's leases decide
// which node serves a stream, admits its publisher and hands it over.
// main stays small: config.Load, core.New, Node.Run.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/ingest/srt"
	"github.com/zonecast/zonecast/dataplane/internal/metrics"
	"github.com/zonecast/zonecast/dataplane/internal/origin"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/recording"
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

	// transcoding runs each stream's ladder; nil: every stream is
	// published source-only.
	transcoding *transcoding
	// cluster coordinates with the twin zone; nil: a single edge that
	// serves every stream it has.
	cluster *clustering
	// recorder writes recorded streams to the recording bucket; nil
	// without one.
	recorder *recording.Recorder
	// recordingEvents hears of recordings that are ready; nil: nobody.
	recordingEvents recordingNotifier

	packaging packager.Config

	mu      sync.RWMutex
	wirings map[string]*wiring
	closers []func()
}

// New builds the node: streams with their packagers and ladders, the
// cluster, then the SRT and HTTP listeners (opened, not yet serving).
func New(cfg *config.Config, log *slog.Logger) (*Node, error) {
	log = log.With("node", cfg.Node.ID)
	n := &Node{
		Config:  cfg,
		Log:     log,
		Streams: stream.NewRegistry(log),
		Metrics: metrics.New(),
		packaging: packager.Config{
			SegmentDuration: cfg.HLS.SegmentDuration,
			PartDuration:    cfg.HLS.PartDuration,
			WindowSegments:  cfg.HLS.WindowSegments,
			Dir:             cfg.HLS.Dir,
		},
		wirings: make(map[string]*wiring),
	}
	fail := func(err error) (*Node, error) {
		n.Close()
		return nil, err
	}

	if cfg.Transcode.Enabled {
		n.transcoding = newTranscoding(cfg.Transcode, cfg.HLS.SegmentDuration, n.Log, n.Metrics)
		n.OnClose(n.transcoding.Close)
	}
	recorder, err := newRecorder(n)
	if err != nil {
		return fail(fmt.Errorf("recording: %w", err))
	}
	if recorder != nil {
		n.recorder = recorder
		n.OnClose(recorder.Close)
	}
	for _, sc := range cfg.Streams {
		if err := n.addStream(sc.Name); err != nil {
			return fail(err)
		}
	}
	if cfg.Cluster.Enabled() {
		c, err := newClustering(n)
		if err != nil {
			return fail(fmt.Errorf("cluster: %w", err))
		}
		n.cluster = c
		n.OnClose(c.Close)
	}

	n.SRT, err = srt.Listen(srt.Options{
		Listen:          cfg.SRT.Listen,
		Latency:         cfg.SRT.Latency,
		PeerIdleTimeout: cfg.SRT.PeerIdleTimeout,
		UDPBuffer:       cfg.SRT.UDPBuffer,
		Takeover:        cfg.SRT.OnConflict == config.OnConflictTakeover,
		Lookup:          n.lookup,
		Admit:           n.admit,
		Log:             n.Log,
	})
	if err != nil {
		return fail(err)
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
		Packagers:  n.mediaHandler,
		Streams:    n.streamsReport,
		Ready:      n.ready,
		ReadyInfo:  n.readyInfo,
		Metrics:    n.Metrics.Handler(),
		Routes:     n.routes(),
		Media:      n.media(),
		Requests:   n.Metrics,
		Log:        n.Log,
		// The operator's endpoints on the private admin listener when
		// provision sets one; the public one keeps media and health.
		AdminListen: cfg.Admin.Listen,
		// Media only for the CDN, when secrets are configured.
		SecretHeader: cfg.Origin.SecretHeader,
		Secrets:      cfg.Origin.Secrets,
	})
	if err != nil {
		n.SRT.Close()
		return fail(err)
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
		if n.cluster != nil {
			// Hand every led stream to its standby while the listeners
			// still serve.
			n.cluster.Drain()
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
func (n *Node) Packager(name string) *packager.Muxer {
	if w := n.wiring(name); w != nil {
		return w.packager
	}
	return nil
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

func (n *Node) wiring(name string) *wiring {
	n.mu.RLock()
	defer n.mu.RUnlock()
	return n.wirings[name]
}

func (n *Node) lookup(name string) (*stream.Stream, string, bool) {
	sc, ok := n.Config.Streams.Find(name)
	if !ok {
		return nil, "", false
	}
	st := n.Streams.Get(name)
	return st, sc.Passphrase, st != nil
}

// admit may veto an authenticated publisher: in a cluster, only the node
// that leads the stream, or may take its lease, takes its ingest.
func (n *Node) admit(name string, _ net.Addr) error {
	if n.cluster != nil {
		return n.cluster.coord.Admit(name)
	}
	return nil
}

// mediaHandler answers a stream's playlists and media: from this node's
// packager when it serves the stream, else (cluster) from the node that
// does, through the viewer proxy; nil → 404.
func (n *Node) mediaHandler(name string) http.Handler {
	w := n.wiring(name)
	if w == nil {
		return nil
	}
	if n.cluster != nil && !n.cluster.coord.Serving(name) {
		return n.cluster.elsewhere(name)
	}
	return w.packager
}

// streamsReport is the body of GET /api/v1/streams.
func (n *Node) streamsReport() any {
	if n.cluster != nil {
		return n.cluster.streams(n.Streams.Statuses())
	}
	return n.Streams.Statuses()
}

// routes are the node's HTTP endpoints beyond media, health and metrics.
func (n *Node) routes() map[string]http.Handler {
	r := map[string]http.Handler{}
	if n.transcoding != nil {
		r[TranscodeRoute] = n.transcoding.reportHandler()
	}
	if token := n.Config.AdminToken(); n.cluster != nil && token != "" {
		r[DrainRoute] = n.cluster.drainHandler(token)
	}
	if n.recorder != nil {
		r[RecordingsRoute] = n.recordingsHandler()
	}
	return r
}

// media are the node's media endpoints beyond live streams: recordings.
func (n *Node) media() map[string]http.Handler {
	r := map[string]http.Handler{}
	if n.recorder != nil {
		r[VODRoute] = n.vodHandler()
	}
	return r
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

// ready: this node can take publishers and viewers unless it drains.
// Transcoding capacity never makes it unready: above capacity a stream
// is published source-only.
func (n *Node) ready() error {
	if n.cluster != nil && n.cluster.coord.Draining() {
		return errors.New("cluster: draining")
	}
	return nil
}

// readyInfo is the extra /readyz body: free ladder capacity.
func (n *Node) readyInfo() string {
	if n.transcoding == nil {
		return ""
	}
	return n.transcoding.readyInfo()
}
