package cluster

import (
	"context"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// NodeInfo is what a node publishes about itself in the registry.
type NodeInfo struct {
	ID       string `json:"id"` // the EC2 instance id in production: its load balancer target
	Region   string `json:"region"`
	Zone     string `json:"zone"`
	Capacity int    `json:"capacity"` // streams it can take
	Load     int    `json:"load"`     // streams it carries (led + standby)
	HTTP     string `json:"http"`     // origin address
	QUIC     string `json:"quic"`     // relay address
	Draining bool   `json:"draining"`
	// Ready is what the node's /readyz says: not draining, Redis reached.
	Ready bool `json:"ready"`
	// TargetGroups are the ARNs of the node's zone's load balancer target
	// groups it is a target of, and Endpoint is that load balancer's ARN
	// as the accelerator's endpoint id: what a survivor needs to fence the
	// node, or its zone, from any zone.
	TargetGroups []string `json:"target_groups,omitempty"`
	Endpoint     string   `json:"endpoint,omitempty"`
	// ReadySince is when the node's heartbeats began saying ready without
	// a gap (Redis's clock; zero while not ready).
	ReadySince time.Time `json:"ready_since,omitzero"`
}

// parseNode reads a registry entry.
func parseNode(m map[string]string) NodeInfo {
	capacity, _ := strconv.Atoi(m["capacity"])
	load, _ := strconv.Atoi(m["load"])
	n := NodeInfo{ID: m["id"], Region: m["region"], Zone: m["zone"], Capacity: capacity, Load: load,
		HTTP: m["http"], QUIC: m["quic"], Draining: m["draining"] == "true", Ready: m["ready"] == "1",
		Endpoint: m["endpoint"]}
	if tg := m["target_groups"]; tg != "" {
		n.TargetGroups = strings.Split(tg, ",")
	}
	if ms, _ := strconv.ParseInt(m["ready_since_ms"], 10, 64); ms > 0 {
		n.ReadySince = time.UnixMilli(ms)
	}
	return n
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

// Heartbeat writes the node's entry once, with the node TTL, and its last
// heartbeat on Redis's clock (what fencing judges quiet by). A fence
// recorded against the node is cleared (it is back: a later death is a new
// one) and reported, since a fenced node stays out of its load balancer
// until the auto-scaling group replaces it.
func (r *Registry) Heartbeat(ctx context.Context) error {
	n := r.Self()
	t, f := r.ledger.timings, r.ledger.fencing
	fenced, err := heartbeatScript.Run(ctx, r.ledger.rdb, []string{keyNode(n.ID), keyNodes, keySeen(n.ID), keyFence(n.ID)},
		n.ID, ms(t.NodeTTL), ms(f.RecordFor(t)), ms(f.QuietAfter), boolFlag(n.Ready),
		"id", n.ID, "region", n.Region, "zone", n.Zone,
		"capacity", n.Capacity, "load", n.Load, "http", n.HTTP, "quic", n.QUIC,
		"draining", strconv.FormatBool(n.Draining), "ready", boolFlag(n.Ready),
		"target_groups", strings.Join(n.TargetGroups, ","), "endpoint", n.Endpoint,
	).Text()
	if err != nil {
		return classify(err)
	}
	if fenced != "" {
		r.log.Error("this node was fenced while it was quiet: its load balancer targets were deregistered and stay so until the node is replaced",
			"fenced_under_token", fenced)
	}
	return nil
}

func boolFlag(b bool) string {
	if b {
		return "1"
	}
	return "0"
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
