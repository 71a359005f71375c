package events

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	policy "github.com/zonecast/zonecast/policies/events"
)

// Options configure an emitter.
type Options struct {
	URL    string // events.webhook.url
	Secret string // events.webhook.secret; never logged
	// Node, Region and Zone are the emitting node's, carried by every event.
	Node, Region, Zone string
	// Redis, when set, holds the region's queue (cluster); nil: in memory.
	Redis  redis.UniversalClient
	Policy policy.Delivery
	// Client sends the events; nil: a client with the policy's timeout.
	Client *http.Client
	Log    *slog.Logger
}

// Emitter queues the node's events and delivers the region's.
type Emitter struct {
	opts    Options
	q       queue
	d       *deliverer
	metrics *Metrics
	log     *slog.Logger
}

// New builds an emitter; Run delivers.
func New(opts Options) (*Emitter, error) {
	if err := opts.Policy.Validate(); err != nil {
		return nil, err
	}
	if opts.URL == "" || opts.Secret == "" {
		return nil, errors.New("events: a webhook URL and secret are required")
	}
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.Client == nil {
		opts.Client = &http.Client{Timeout: opts.Policy.Timeout}
	}
	var q queue = NewMemory(opts.Policy.MaxInFlight)
	if opts.Redis != nil {
		q = NewRedis(opts.Redis, opts.Region, opts.Node, opts.Policy)
	}
	m := newMetrics(q)
	log := opts.Log.With("area", "events")
	return &Emitter{opts: opts, q: q, metrics: m, log: log,
		d: &deliverer{q: q, url: opts.URL, secret: []byte(opts.Secret), client: opts.Client, policy: opts.Policy, log: log, metrics: m}}, nil
}

// Metrics is the emitter's prometheus.Collector.
func (e *Emitter) Metrics() *Metrics { return e.metrics }

// Run delivers queued events until ctx ends (in a cluster, while this
// node holds the region's deliverer lock; another node's otherwise).
func (e *Emitter) Run(ctx context.Context) { e.d.run(ctx) }

// Emit queues an event that is not about the live state (the control
// API's, the recorder's): any node may emit it. A failure is logged and
// counted, never returned: an event must not fail the change it reports.
func (e *Emitter) Emit(ctx context.Context, ev Event) {
	_, _ = e.enqueue(ctx, request{op: opPlain, env: e.envelope(ev)})
}

// Lead announces that this node leads stream under f: stream.live, or
// stream.failover (with reason) when the stream was live under another
// leader, or nothing when it already was under this node. Refused (ErrStale)
// unless the lease is held with f's token.
func (e *Emitter) Lead(ctx context.Context, stream string, f Fence, reason string) (Type, error) {
	ev := Event{Type: StreamLive, Stream: stream, Data: map[string]any{"leader": f.Holder, "token": f.Token}}
	return e.enqueue(ctx, request{op: opLead, env: e.envelope(ev), fence: &f, reason: reason})
}

// Idle announces that this node, the stream's leader under f, gives it up
// (stream.idle); nothing when the stream was announced under another node.
func (e *Emitter) Idle(ctx context.Context, stream string, f Fence, reason string) (Type, error) {
	ev := Event{Type: StreamIdle, Stream: stream, Data: map[string]any{"leader": f.Holder, "token": f.Token, "reason": reason}}
	return e.enqueue(ctx, request{op: opIdle, env: e.envelope(ev), fence: &f})
}

// InputSwitched announces that the backup encoder's feed, on node to,
// replaces the primary's on this node, the leader under f, which is about
// to hand the lease to it: the stream's announced leader becomes to, so
// the term to begins announces no failover.
func (e *Emitter) InputSwitched(ctx context.Context, stream string, f Fence, to string) (Type, error) {
	ev := Event{Type: StreamInputSwitched, Stream: stream, Data: map[string]any{
		"from": f.Holder, "to": to, "token": f.Token, "input": map[string]any{"previous": "primary", "current": "backup"}}}
	return e.enqueue(ctx, request{op: opSwitch, env: e.envelope(ev), fence: &f, successor: to})
}

// Fenced reports whether events can be fenced by a lease (a cluster's
// Redis queue): a single edge's memory queue has no leases.
func (e *Emitter) Fenced() bool { return e.opts.Redis != nil }

func (e *Emitter) envelope(ev Event) Envelope {
	return Envelope{ID: NewID(), Type: ev.Type, Time: time.Now().UTC(), Stream: ev.Stream,
		Node: e.opts.Node, Region: e.opts.Region, Zone: e.opts.Zone, Data: ev.Data}
}

func (e *Emitter) enqueue(ctx context.Context, r request) (Type, error) {
	typ, queued, err := e.q.enqueue(ctx, r)
	switch {
	case errors.Is(err, ErrStale):
		e.metrics.refused.WithLabelValues("stale").Inc()
		e.log.Info("events: not the leader any more; event not queued", "type", r.env.Type, "stream", r.env.Stream, "op", r.op)
	case err != nil:
		e.metrics.refused.WithLabelValues("error").Inc()
		e.log.Warn("events: cannot queue", "type", r.env.Type, "stream", r.env.Stream, "err", err)
	case queued:
		e.metrics.queued.WithLabelValues(string(typ)).Inc()
		e.log.Debug("events: queued", "type", typ, "stream", r.env.Stream, "id", r.env.ID)
	}
	if !queued {
		typ = ""
	}
	return typ, err
}
