package cluster

import (
	"context"
	"sync"
	"time"
)

// locator answers "which nodes serve this stream" for the viewer proxy. A
// CDN may ask many times a second per stream, so answers are kept for a
// part and the registry for a heartbeat; when Redis cannot be asked the
// last answers stand (a node keeps serving what it knows without Redis).
type locator struct {
	mu      sync.Mutex
	streams map[string]located
	nodes   map[string]NodeInfo
	nodesAt time.Time
}

type located struct {
	at    time.Time
	nodes []NodeInfo
}

// ServingNodes lists the nodes serving stream, the leader first, then its
// standby; none when nobody leads it.
func (c *Coordinator) ServingNodes(ctx context.Context, stream string) ([]NodeInfo, error) {
	l := &c.loc
	now := time.Now()
	l.mu.Lock()
	if e, ok := l.streams[stream]; ok && now.Sub(e.at) < c.t.PartDuration {
		l.mu.Unlock()
		return e.nodes, nil
	}
	l.mu.Unlock()

	var holder, standby string
	lease, err := c.ledger.Lease(ctx, stream)
	if err == nil {
		holder, standby = lease.Holder, lease.Standby
	} else if j := c.job(stream); j != nil {
		holder, standby, _ = j.lastKnown()
	}
	nodes, nerr := c.registry(ctx, now)
	if err != nil && nerr != nil && len(nodes) == 0 {
		return nil, err
	}
	var out []NodeInfo
	for _, id := range []string{holder, standby} {
		if n, ok := nodes[id]; ok && id != "" {
			out = append(out, n)
		}
	}
	l.mu.Lock()
	if l.streams == nil {
		l.streams = map[string]located{}
	}
	l.streams[stream] = located{at: now, nodes: out}
	l.mu.Unlock()
	return out, nil
}

// registry is the node table, read from Redis at most once a heartbeat.
func (c *Coordinator) registry(ctx context.Context, now time.Time) (map[string]NodeInfo, error) {
	l := &c.loc
	l.mu.Lock()
	if l.nodes != nil && now.Sub(l.nodesAt) < c.t.NodeHeartbeat {
		defer l.mu.Unlock()
		return l.nodes, nil
	}
	l.mu.Unlock()
	list, err := c.ledger.Nodes(ctx)
	l.mu.Lock()
	defer l.mu.Unlock()
	if err != nil {
		return l.nodes, err
	}
	l.nodes = make(map[string]NodeInfo, len(list))
	for _, n := range list {
		l.nodes[n.ID] = n
	}
	l.nodesAt = now
	return l.nodes, nil
}
