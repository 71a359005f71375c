package core

// The node's streams come and go with the catalog: a publisher's stream is
// resolved at the SRT handshake and wired on first use; a relay or a
// viewer for a stream wired elsewhere wires or finds it here; a stream
// deleted from the catalog is ended and unwired.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/zonecast/zonecast/dataplane/internal/api"
	"github.com/zonecast/zonecast/dataplane/internal/catalog"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	"github.com/zonecast/zonecast/dataplane/internal/ingest/srt"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

// openCatalog is the node's source of streams: the DynamoDB table when one
// is configured, else the configuration's streams: list, so that a single
// edge with no catalog behaves as it always did.
func openCatalog(cfg *config.Config) (api.Store, error) {
	if !cfg.Catalog.Enabled() {
		return catalog.NewStatic(cfg.Streams), nil
	}
	// create_table may wait for the table to become active.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return catalog.NewDynamoDB(ctx, cfg.Catalog.DynamoDB)
}

// lookup answers the SRT handshake: the catalog's stream, wired here on
// first use, with its keys.
func (n *Node) lookup(ctx context.Context, name string) (srt.Target, error) {
	s, err := n.resolver.Resolve(ctx, name)
	switch {
	case err == nil:
	case errors.Is(err, catalog.ErrNotFound):
		return srt.Target{}, fmt.Errorf("%w: %v", srt.ErrUnknownStream, err)
	case errors.Is(err, catalog.ErrUnavailable):
		return srt.Target{}, fmt.Errorf("%w: %v", srt.ErrLookupUnavailable, err)
	case errors.Is(err, catalog.ErrThrottled):
		return srt.Target{}, fmt.Errorf("%w: %v", srt.ErrLookupThrottled, err)
	default:
		return srt.Target{}, err
	}
	w, err := n.addStream(s)
	if err != nil {
		return srt.Target{}, err
	}
	var keys []string
	for _, k := range []string{s.Passphrase, s.BackupPassphrase} {
		if k != "" {
			keys = append(keys, k)
		}
	}
	return srt.Target{Stream: w.stream, Passphrases: keys}, nil
}

// known reports whether the catalog has the stream (from memory when it
// can, the miss budget bounding what random names cost it).
func (n *Node) known(ctx context.Context, name string) bool {
	_, err := n.resolver.Resolve(ctx, name)
	return err == nil
}

// wireForRelay wires a stream a relay arrives for before any local
// publisher named it (this node is chosen as its standby). The catalog is
// asked first, so that a deleted stream is not brought back by a peer that
// has not seen the deletion yet. When the catalog cannot answer
// (unreachable, or the miss budget spent), the relay's peer is trusted:
// it is a node of this deployment, authenticated by the relay's mutual TLS,
// and it resolved the stream itself; refusing would leave the stream
// without a standby for as long as the catalog is out. The watch removes
// the wiring if the catalog later says the stream is gone.
func (n *Node) wireForRelay(name string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 2*policy.DefaultCache.ReadTimeout)
	defer cancel()
	s, err := n.resolver.Resolve(ctx, name)
	switch {
	case err == nil:
	case errors.Is(err, catalog.ErrNotFound):
		return err
	default:
		n.Log.Warn("catalog cannot confirm a relayed stream; trusting the authenticated peer", "stream", name, "err", err)
		if !config.ValidStreamName(name) {
			return fmt.Errorf("%q is not a valid stream name", name)
		}
		s = catalog.Stream{Name: name, Latency: catalog.LatencyLow}
	}
	_, err = n.addStream(s)
	return err
}

// watchCatalog asks, every policy Recheck, about every stream wired here:
// a stream the catalog no longer has is ended (its publisher disconnected,
// its playlists gone) and unwired; the others take their current settings,
// and those unused here for policy IdleUnwire are unwired.
// While the catalog is unreachable the resolver answers what it knew, so
// nothing is ended by an outage.
func (n *Node) watchCatalog(ctx context.Context) {
	tick := time.NewTicker(policy.Recheck)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		n.recheck(ctx)
	}
}

// recheckParallel bounds the reads one recheck has in flight: a node with
// hundreds of streams checks them within a part, without opening hundreds
// of connections to the catalog at once.
const recheckParallel = 16

func (n *Node) recheck(ctx context.Context) {
	var g errgroup.Group
	g.SetLimit(recheckParallel)
	for _, name := range n.wiredNames() {
		g.Go(func() error {
			s, err := n.resolver.Resolve(ctx, name)
			switch {
			case err == nil:
				if w := n.wiring(name); w != nil {
					w.apply(s)
					if n.idleFor(name, w) >= n.idleUnwire {
						n.Log.Info("stream unused here: unwiring it", "stream", name, "idle", n.idleUnwire)
						n.removeStream(name, errors.New("unused"))
					}
				}
			case errors.Is(err, catalog.ErrNotFound):
				n.Log.Info("stream deleted from the catalog: ending it", "stream", name)
				n.removeStream(name, errors.New("stream deleted from the catalog"))
			}
			return nil
		})
	}
	_ = g.Wait()
}

// idleFor is how long the stream has had no publisher and no role in the
// cluster here, as seen by the rechecks.
func (n *Node) idleFor(name string, w *wiring) time.Duration {
	used := w.stream.Live() || (n.cluster != nil && n.cluster.coord.Serving(name))
	w.mu.Lock()
	defer w.mu.Unlock()
	if used {
		w.idleSince = time.Time{}
		return 0
	}
	if w.idleSince.IsZero() {
		w.idleSince = time.Now()
	}
	return time.Since(w.idleSince)
}

func (n *Node) wiredNames() []string {
	n.mu.RLock()
	defer n.mu.RUnlock()
	out := make([]string, 0, len(n.wirings))
	for name := range n.wirings {
		out = append(out, name)
	}
	return out
}

// removeStream ends a stream on this node: its publisher is disconnected,
// the cluster forgets it, its packager and ladder stop, and its playlists
// answer 404 (players stop on a playlist that is gone; a deleted stream's
// media must not stay available).
func (n *Node) removeStream(name string, reason error) {
	n.changes.Lock()
	defer n.changes.Unlock()
	n.mu.Lock()
	w := n.wirings[name]
	delete(n.wirings, name)
	n.mu.Unlock()
	if w == nil {
		return
	}
	w.stream.End(reason)
	if n.cluster != nil {
		n.cluster.coord.RemoveStream(name)
	}
	n.Streams.Remove(name)
	// The segment being cut is the last one recorded; the recording
	// closes on its own after the wiring is gone.
	w.detachRecording()
	w.close()
}

// liveRows is the live state the control API shows beside each stream's
// settings: today's GET /api/v1/streams rows by name.
type liveRows func() map[string]any

func (l liveRows) Rows() map[string]any { return l() }

func (n *Node) liveRows() map[string]any {
	out := map[string]any{}
	switch rows := n.streamsReport().(type) {
	case []stream.Status:
		for _, r := range rows {
			out[r.Name] = r
		}
	case []clusterStreamRow:
		for _, r := range rows {
			out[r.Name] = r
		}
	}
	return out
}

// resolverMetrics exposes the resolver's counters: the reads that reached
// the catalog (what the catalog pays for this node) against the answers
// given from memory, the throttled and the refused-while-down.
func resolverMetrics(r *catalog.Resolver) []prometheus.Collector {
	results := []struct {
		name string
		get  func(catalog.ResolverStats) int64
	}{
		{"hit", func(s catalog.ResolverStats) int64 { return s.Hits }},
		{"read", func(s catalog.ResolverStats) int64 { return s.Reads }},
		{"throttled", func(s catalog.ResolverStats) int64 { return s.Throttled }},
		{"stale", func(s catalog.ResolverStats) int64 { return s.Stale }},
		{"unavailable", func(s catalog.ResolverStats) int64 { return s.Unavailable }},
	}
	out := make([]prometheus.Collector, 0, len(results))
	for _, res := range results {
		out = append(out, prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name:        "zonecast_catalog_lookups_total",
			Help:        "Stream lookups (handshakes, relays, viewers, rechecks) by how the resolver answered; result=read counts reads of the catalog.",
			ConstLabels: prometheus.Labels{"result": res.name},
		}, func() float64 { return float64(res.get(r.Stats())) }))
	}
	return out
}
