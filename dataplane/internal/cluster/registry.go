package cluster

import (
	"context"
	"log/slog"
	"strconv"
	"time"
)

// NodeInfo is what a node publishes about itself in the registry.
type NodeInfo struct {
	ID       string `json:"id"`
	Region   string `json:"region"`
	Zone     string `json:"zone"`
	Capacity int    `json:"capacity"` // streams it can take
	Load     int    `json:"load"`     // streams it carries (led + standby)
	HTTP     string `json:"http"`     // origin address
	QUIC     string `json:"quic"`     // relay address
	Draining bool   `json:"draining"`
}

// Registry keeps this node registered with a TTL heartbeat.
type Registry struct {
	ledger *Ledger
	log    *slog.Logger
	// Self returns the node's current description (load changes).
	Self func() NodeInfo
}

// NewRegistry registers self() every NodeHeartbeat once Run is called.
func NewRegistry(ledger *Ledger, self func() NodeInfo, log *slog.Logger) *Registry {
	if log == nil {
		log = slog.Default()
	}
	return &Registry{ledger: ledger, Self: self, log: log}
}

// Heartbeat writes the node's entry once, with the node TTL.
func (r *Registry) Heartbeat(ctx context.Context) error {
	n := r.Self()
	t := r.ledger.timings
	_, err := r.ledger.rdb.TxPipelined(ctx, func(p redisPipeliner) error {
		p.HSet(ctx, keyNode(n.ID), map[string]any{
			"id": n.ID, "region": n.Region, "zone": n.Zone,
			"capacity": n.Capacity, "load": n.Load, "http": n.HTTP, "quic": n.QUIC,
			"draining": strconv.FormatBool(n.Draining),
		})
		p.PExpire(ctx, keyNode(n.ID), t.NodeTTL)
		p.SAdd(ctx, keyNodes, n.ID)
		return nil
	})
	return classify(err)
}

// Run heartbeats until ctx ends, then removes the entry (best effort).
func (r *Registry) Run(ctx context.Context) {
	t := time.NewTicker(r.ledger.timings.NodeHeartbeat)
	defer t.Stop()
	failing := false
	for {
		hctx, cancel := context.WithTimeout(ctx, r.ledger.timings.NodeHeartbeat)
		err := r.Heartbeat(hctx)
		cancel()
		if err != nil && !failing && ctx.Err() == nil {
			r.log.Warn("registry heartbeat failed", "err", err)
		}
		failing = err != nil
		select {
		case <-ctx.Done():
			dctx, cancel := context.WithTimeout(context.Background(), r.ledger.timings.NodeHeartbeat)
			_ = r.ledger.Deregister(dctx, r.Self().ID)
			cancel()
			return
		case <-t.C:
		}
	}
}
