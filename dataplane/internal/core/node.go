// Package core wires one edge node from its configuration. New creates
// every part in plain view, in data-flow order:
//
//	SRT ingest ──▶ stream (fan-out) ──▶ packager "source" rendition ──▶ origin
//	                                └─▶ transcoder ──▶ packager ladder renditions
//	                                └─▶ cluster relay ──▶ the twin zone's standby
//
// and beside the data path, coordination: the cluster's leases decide
// which node serves a stream, admits its publisher and hands it over; and
// the stream catalog, which decides which streams exist: a stream is wired
// when a publisher, a relay or a viewer first needs it, and unwired when
// the catalog deletes it.
// main stays small: config.Load, core.New, Node.Run.
package core

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/api"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/ingest/srt"
	"github.com/zonecast/zonecast/dataplane/internal/metrics"
	"github.com/zonecast/zonecast/dataplane/internal/origin"
	"github.com/zonecast/zonecast/dataplane/internal/packager"
	"github.com/zonecast/zonecast/dataplane/internal/recording"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	policy "github.com/zonecast/zonecast/policies/catalog"
	"github.com/zonecast/zonecast/policies/failover"
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
	// events sends the signed events (events.go); nil without a webhook.
	// The cluster, built before it, finds it through this pointer.
	events atomic.Pointer[eventing]

	// catalog is where streams are created and read (the DynamoDB table,
	// or the streams: list); resolver answers the handshakes from it
	// through a bounded cache.
	catalog  api.Store
	resolver *catalog.Resolver
	// API is the control API, on the admin listener (or the HTTP one).
	API *api.Handler
	// idleUnwire is policies/catalog.IdleUnwire (tests shorten it).
	idleUnwire time.Duration
	// recorder writes recorded streams to the recording bucket; nil
	// without one.
	recorder *recording.Recorder
	// rewind serves the recorded streams' rewind (DVR) playlists; nil
	// without a recorder or with recording.rewind 0.
	rewind *recording.Rewind
	// recordingEvents hears of recordings that are ready; nil: nobody.
	recordingEvents recordingNotifier

	packaging packager.Config

	changes sync.Mutex // one stream wired or unwired at a time
	mu      sync.RWMutex
	wirings map[string]*wiring
	closers []func()
}

// slateAfter is how long a stream's input may be quiet before its
// playlists go on with the slate: the policy's, for this node's cadence
// (0 with hls.slate off).
func slateAfter(h config.HLS) time.Duration {
	if !h.Slate {
		return 0
	}
	return failover.DefaultTimings.ForCadence(h.SegmentDuration, h.PartDuration).SlateAfter()
}

// New builds the node: streams with their packagers and ladders, the
// cluster, then the SRT and HTTP listeners (opened, not yet serving).
// version is the edge's release (`edge -version`), which every HTTP answer
// names so that a rolling update can be followed node by node.
func New(cfg *config.Config, log *slog.Logger, version string) (*Node, error) {
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
			SlateAfter:      slateAfter(cfg.HLS),
		},
		wirings:    make(map[string]*wiring),
		idleUnwire: policy.IdleUnwire,
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
		n.rewind = recording.NewRewind(recorder)
		// recording.ready goes out with the node's signed events, once
		// those are built (the notifier finds them when it is called).
		n.recordingEvents = n.Notifier()
	}
	// Before the cluster's close (registered later, run earlier): the
	// cluster lets go of the streams' media first.
	n.OnClose(n.unwireAll)

	if n.catalog, err = openCatalog(cfg); err != nil {
		return fail(fmt.Errorf("catalog: %w", err))
	}
	n.resolver = catalog.NewResolver(n.catalog, policy.DefaultCache)
	n.Metrics.Registry.MustRegister(resolverMetrics(n.resolver)...)
	if cfg.Catalog.Enabled() && len(cfg.Streams) > 0 {
		n.Log.Warn("streams: list ignored: the catalog is the source of streams", "table", cfg.Catalog.DynamoDB.Table)
	}

	if cfg.Cluster.Enabled() {
		c, err := newClustering(n)
		if err != nil {
			return fail(fmt.Errorf("cluster: %w", err))
		}
		n.cluster = c
		n.OnClose(c.Close)
	}
	if cfg.Events.Enabled() {
		e, err := newEventing(n)
		if err != nil {
			return fail(fmt.Errorf("events: %w", err))
		}
		n.events.Store(e)
	}
	// The streams: list is wired at once, as it always was (idle streams
	// listed, their playlists answering); catalog streams when first
	// needed.
	if !cfg.Catalog.Enabled() {
		for _, sc := range cfg.Streams {
			s, err := n.catalog.Get(context.Background(), sc.Name)
			if err == nil {
				_, err = n.addStream(s)
			}
			if err != nil {
				return fail(err)
			}
		}
	}

	// The streams: list answers from memory: every handshake stays on the
	// listener's ordered path, as it always was.
	var quick srt.Quick
	if cfg.Catalog.Enabled() {
		quick = n.resolver.Cached
	}
	n.SRT, err = srt.Listen(srt.Options{
		Listen:          cfg.SRT.Listen,
		Latency:         cfg.SRT.Latency,
		PeerIdleTimeout: cfg.SRT.PeerIdleTimeout,
		UDPBuffer:       cfg.SRT.UDPBuffer,
		Takeover:        cfg.SRT.OnConflict == config.OnConflictTakeover,
		Lookup:          n.lookup,
		Quick:           quick,
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
	n.API = api.New(api.Options{
		Store:       n.catalog,
		Token:       cfg.AdminToken(),
		Live:        liveRows(n.liveRows),
		SRTAddress:  publicAddr(n.SRT.Addr().String()),
		PlaybackURL: playbackBase(cfg),
		Notifier:    n.Notifier(),
		Log:         n.Log,
	})
	n.Origin, err = origin.Listen(origin.Options{
		Listen:     cfg.HTTP.Listen,
		TLSCert:    cfg.HTTP.TLSCert,
		TLSKey:     cfg.HTTP.TLSKey,
		CORSOrigin: cfg.HTTP.CORSOrigin,
		WebDir:     cfg.HTTP.WebDir,
		Packagers:  n.mediaHandler,
		StreamsAPI: n.API,
		Version:    version,
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
	if n.Config.Catalog.Enabled() {
		watch, stop := context.WithCancel(context.Background())
		defer stop()
		go n.watchCatalog(watch)
	}
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
// does, through the viewer proxy; nil → 404. A stream not wired here (no
// publisher or relay brought it yet) is proxied too when the catalog has
// it: viewers may reach any node.
func (n *Node) mediaHandler(name string) http.Handler {
	w := n.wiring(name)
	if w == nil {
		if n.cluster != nil && n.cluster.proxy != nil && n.known(context.Background(), name) {
			return n.cluster.elsewhere(name)
		}
		return nil
	}
	if n.cluster != nil && !n.cluster.coord.Serving(name) {
		return n.cluster.elsewhere(name)
	}
	if w.media != nil {
		return w.media
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
		Slates:          st.Slates,
		FillerParts:     st.FillerParts,
	}, true
}

// ready is what the load balancer's health check (/readyz) asks: may this
// node be sent new ingests? Not while it drains, and not while it cannot
// reach Redis (it would refuse them: a new ingest needs coordination).
// Transcoding capacity never makes it unready: above capacity, or with no
// encoder, a stream is published source-only.
func (n *Node) ready() error {
	if n.cluster == nil {
		return nil
	}
	if n.cluster.coord.Draining() {
		return errors.New("cluster: draining")
	}
	return n.cluster.coord.RedisReachable()
}

// readyInfo is the extra /readyz body: free ladder capacity.
func (n *Node) readyInfo() string {
	if n.transcoding == nil {
		return ""
	}
	return n.transcoding.readyInfo()
}

// publicAddr is the SRT address handed to broadcasters in the API's URLs:
// the listener's, with a wildcard host replaced by the loopback one (a
// deployment's public address is the accelerator's, given to
// broadcasters by the platform).
func publicAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

// playbackBase is the base of the viewers' URLs in the API's answers.
func playbackBase(cfg *config.Config) string {
	scheme := "http"
	if cfg.HTTP.TLSCert != "" {
		scheme = "https"
	}
	return scheme + "://" + strings.TrimSuffix(publicAddr(cfg.HTTP.Listen), "/")
}
