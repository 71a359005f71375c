package core

// The node's signed events: the emitter, the cluster's live-state
// announcements fenced by the lease token, and a single edge's live/idle.

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/api"
	"github.com/zonecast/zonecast/dataplane/internal/cluster"
	"github.com/zonecast/zonecast/dataplane/internal/events"
	"github.com/zonecast/zonecast/dataplane/internal/stream"
	policy "github.com/zonecast/zonecast/policies/events"
)

// eventing sends the node's events; nil without events.webhook.url.
type eventing struct {
	n  *Node
	em *events.Emitter
}

// newEventing builds the emitter: in a cluster its queue is the region's
// Redis Stream (on the cluster's Redis: events outlive this node and any
// node of the region delivers them), on a single edge a queue in memory.
func newEventing(n *Node) (*eventing, error) {
	cfg := n.Config
	opts := events.Options{
		URL: cfg.Events.Webhook.URL, Secret: cfg.Events.Webhook.Secret,
		Node: cfg.Node.ID, Region: cfg.Node.Region, Zone: cfg.Node.Zone,
		Policy: policy.DefaultDelivery, Log: n.Log,
	}
	if n.cluster != nil {
		opts.Redis = n.cluster.rdb
	}
	em, err := events.New(opts)
	if err != nil {
		return nil, err
	}
	e := &eventing{n: n, em: em}
	n.Metrics.Registry.MustRegister(em.Metrics())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); em.Run(ctx) }()
	n.OnClose(func() { cancel(); <-done })
	return e, nil
}

// attach announces a single edge's stream live and idle with its
// publisher (addStream calls it for every stream it wires; in a cluster
// the leases are the live state instead); nil-safe.
func (e *eventing) attach(st *stream.Stream) {
	if e != nil && st != nil && e.n.cluster == nil {
		st.Observe(edgeLiveState{e})
	}
}

// Emit queues an event any node may send (the control API's, the
// recorder's); nil-safe.
func (e *eventing) Emit(ctx context.Context, ev events.Event) {
	if e != nil {
		e.em.Emit(ctx, ev)
	}
}

// edgeLiveState: a single edge's publisher starting and stopping.
type edgeLiveState struct{ e *eventing }

func (o edgeLiveState) PublisherStarted(s *stream.Stream, _ stream.PublisherInfo) {
	o.announce(func(ctx context.Context, f events.Fence) { _, _ = o.e.em.Lead(ctx, s.Name(), f, "") })
}

func (o edgeLiveState) PublisherStopped(s *stream.Stream, _ stream.PublisherInfo) {
	o.announce(func(ctx context.Context, f events.Fence) { _, _ = o.e.em.Idle(ctx, s.Name(), f, "no_media") })
}

func (o edgeLiveState) announce(fn func(context.Context, events.Fence)) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	fn(ctx, events.Fence{Holder: o.e.n.Config.Node.ID})
}

// leaderEvents is the cluster's Announcer: each announcement is queued
// only while this node holds the stream's lease with the token (the
// queue's script checks it in Redis), so a deposed or frozen leader's
// announcement is refused and each live-state event has one author.
// It finds the emitter when called: the cluster is built before it.
type leaderEvents struct{ e *atomic.Pointer[eventing] }

func (l leaderEvents) fence(stream, holder string, token uint64) events.Fence {
	return events.Fence{Key: cluster.LeaseKey(stream), Holder: holder, Token: token}
}

func (l leaderEvents) Leading(ctx context.Context, stream string, token uint64, reason string) {
	if e := l.e.Load(); e != nil {
		_, _ = e.em.Lead(ctx, stream, l.fence(stream, e.n.Config.Node.ID, token), reason)
	}
}

func (l leaderEvents) Idle(ctx context.Context, stream string, token uint64, reason string) {
	if e := l.e.Load(); e != nil {
		_, _ = e.em.Idle(ctx, stream, l.fence(stream, e.n.Config.Node.ID, token), reason)
	}
}

func (l leaderEvents) InputSwitched(ctx context.Context, stream, to string, token uint64) {
	if e := l.e.Load(); e != nil {
		_, _ = e.em.InputSwitched(ctx, stream, l.fence(stream, e.n.Config.Node.ID, token), to)
	}
}

// eventNotifier adapts the emitter to the small Emit(ctx, typ, stream,
// data) interfaces that its producers declare (api.Notifier, the
// recorder's); without a webhook it emits nothing.
type eventNotifier struct{ e *atomic.Pointer[eventing] }

func (en eventNotifier) Emit(ctx context.Context, typ, stream string, data map[string]any) {
	en.e.Load().Emit(ctx, events.Event{Type: events.Type(typ), Stream: stream, Data: data})
}

// Notifier is what the control API (api.Options.Notifier) and the
// recorder are given to emit their events; nil-safe without a webhook.
func (n *Node) Notifier() api.Notifier { return eventNotifier{&n.events} }
