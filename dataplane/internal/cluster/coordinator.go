package cluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/zonecast/zonecast/dataplane/internal/relay"
	"github.com/zonecast/zonecast/policies/failover"
)

// Media is one stream's packaged media on this node as the coordinator
// drives it (implemented by the node's wiring over the packager). Its
// first two methods make it a sink like any other (stream.Sink).
type Media interface {
	// WriteTS writes relayed TS into the local packager and ladder (standby).
	WriteTS(b []byte) error
	// Discontinuity marks the relayed input as cut.
	Discontinuity()
	// State is the successor state (JSON) and each rendition's next MSN.
	State() (blob []byte, msn map[string]uint64, err error)
	// Resume continues the playlists described by a leader's state blob.
	// cold says this node's segments are not the leader's (it never stood by
	// for it): the successor then skips one media sequence number, because
	// the leader may have published a segment in the instant between
	// completing it and recording it, and that name must not be reused.
	Resume(blob []byte, cold bool) error
	// Reset drops the local segments: the node starts standing by for a
	// leader whose playlists its old segments do not belong to.
	Reset()
	// Listed is the number of complete segments the playlists list.
	Listed() int
}

// CoordinatorConfig wires a coordinator.
type CoordinatorConfig struct {
	Self    NodeInfo // id, region, zone, capacity, http, quic
	Streams []string // streams known at start; AddStream adds more
	Ledger  *Ledger
	TLS     *relay.TLS
	Media   func(stream string) Media // nil for unknown streams
	// Wire is asked when a relay arrives for a stream this node has no job
	// for (a stream created after it started, which no local publisher
	// named yet): nil makes the node known to it (the node wires it and
	// calls AddStream), an error refuses the relay. Nil: refused.
	Wire func(stream string) error
	Log  *slog.Logger
	// Advertise and AdvertiseToward decide the relay address announced in
	// the registry (AdvertiseAddr).
	Advertise       string
	AdvertiseToward []string
	// Announcer, when set, is told of the live-state changes this node
	// makes as a stream's leader (announce.go).
	Announcer Announcer
	// Fencer, when set, is run with the coordinator and told of every
	// lease this node takes over from another node (fencer.go).
	Fencer *Fencer
}

// Coordinator runs the cluster side of one node: registry heartbeat, the
// relay listener, and per stream the leader/standby roles.
type Coordinator struct {
	cfg    CoordinatorConfig
	ledger *Ledger
	t      failover.Timings
	log    *slog.Logger
	srv    *relay.Server
	addr   string // the relay address peers dial (AdvertiseAddr)
	loc    locator

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup

	draining atomic.Bool
	// vanish, set before Close, leaves the registry entry to expire as a
	// crashed node's would (tests that kill a node in-process).
	vanish  atomic.Bool
	redisOK atomic.Bool // the last registry heartbeat reached Redis
	// redisSeen is when a registry heartbeat last reached Redis (Unix
	// nanoseconds; 0 before the first), for readiness (RedisReachable).
	redisSeen atomic.Int64

	mu    sync.Mutex
	jobs  map[string]*job
	peers map[string]*relay.Peer // by QUIC address
}

// NewCoordinator starts the relay listener and the registry heartbeat.
func NewCoordinator(cfg CoordinatorConfig) (*Coordinator, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	c := &Coordinator{cfg: cfg, ledger: cfg.Ledger, t: cfg.Ledger.timings, log: cfg.Log.With("area", "cluster"),
		jobs: map[string]*job{}, peers: map[string]*relay.Peer{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	for _, s := range cfg.Streams {
		c.jobs[s] = newJob(c, s)
	}
	srv, err := relay.Listen(cfg.Self.QUIC, cfg.TLS, c.t, c.acceptRelay, c.log)
	if err != nil {
		return nil, err
	}
	c.srv = srv
	if c.addr, err = AdvertiseAddr(srv.Addr(), cfg.Advertise, cfg.AdvertiseToward); err != nil {
		srv.Close()
		return nil, err
	}
	c.log.Info("relay listening", "listen", srv.Addr(), "advertised", c.addr)
	reg := NewRegistry(c.ledger, c.self, c.log)
	if cfg.Fencer != nil {
		c.wg.Add(1)
		go func() {
			defer c.wg.Done()
			cfg.Fencer.Run(c.ctx)
		}()
	}
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		tick := time.NewTicker(c.t.NodeHeartbeat)
		defer tick.Stop()
		for {
			hctx, cancel := context.WithTimeout(c.ctx, c.t.NodeHeartbeat)
			err := reg.Heartbeat(hctx)
			cancel()
			if err == nil {
				c.redisSeen.Store(time.Now().UnixNano())
			}
			if c.redisOK.Swap(err == nil) != (err == nil) {
				c.log.Info("redis reachability changed", "reachable", err == nil, "err", err)
			}
			select {
			case <-c.ctx.Done():
				if c.vanish.Load() {
					return
				}
				dctx, cancel := context.WithTimeout(context.Background(), c.t.NodeHeartbeat)
				_ = c.ledger.Deregister(dctx, c.cfg.Self.ID)
				cancel()
				return
			case <-tick.C:
			}
		}
	}()
	return c, nil
}

// RelayAddr is the relay listener's address.
func (c *Coordinator) RelayAddr() string { return c.srv.Addr() }

func (c *Coordinator) self() NodeInfo {
	n := c.cfg.Self
	n.Draining = c.draining.Load()
	n.Ready = !n.Draining && c.RedisReachable() == nil // as /readyz
	n.QUIC = c.addr
	load := 0
	c.mu.Lock()
	for _, j := range c.jobs {
		if r := j.role(); r != RoleNone {
			load++
		}
	}
	c.mu.Unlock()
	n.Load = load
	return n
}

func (c *Coordinator) job(stream string) *job {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.jobs[stream]
}

// AddStream makes the coordinator take part in stream: its publishers take
// leases, its relay is accepted. Adding a known stream does nothing.
func (c *Coordinator) AddStream(stream string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.jobs[stream]; !ok {
		c.jobs[stream] = newJob(c, stream)
	}
}

// RemoveStream stops everything the node does for stream (leadership,
// relay, standby) without handing over: the stream is gone. Its lease
// expires in Redis on its own.
func (c *Coordinator) RemoveStream(stream string) {
	c.mu.Lock()
	j := c.jobs[stream]
	delete(c.jobs, stream)
	c.mu.Unlock()
	if j != nil {
		j.stop()
	}
}

// names lists the streams the coordinator takes part in, sorted.
func (c *Coordinator) names() []string {
	c.mu.Lock()
	out := make([]string, 0, len(c.jobs))
	for n := range c.jobs {
		out = append(out, n)
	}
	c.mu.Unlock()
	sort.Strings(out)
	return out
}

// Close stops everything without handing over (see Drain).
func (c *Coordinator) Close() {
	c.cancel()
	c.mu.Lock()
	jobs := make([]*job, 0, len(c.jobs))
	for _, j := range c.jobs {
		jobs = append(jobs, j)
	}
	peers := c.peers
	c.peers = map[string]*relay.Peer{}
	c.mu.Unlock()
	for _, j := range jobs {
		j.stop()
	}
	for _, p := range peers {
		p.Close()
	}
	c.srv.Close()
	c.wg.Wait()
}

// Admit decides whether this node may take a new ingest of stream: not
// while draining, and not when Redis cannot be asked (a new ingest needs
// coordination), unless this node already leads the stream.
func (c *Coordinator) Admit(stream string) error {
	if c.draining.Load() {
		return errors.New("node is draining")
	}
	j := c.job(stream)
	if j == nil {
		return fmt.Errorf("stream %q is not configured", stream)
	}
	if j.leading() {
		return nil
	}
	ctx, cancel := context.WithTimeout(c.ctx, c.t.LeaseRenew)
	defer cancel()
	if _, err := c.ledger.Lease(ctx, stream); err != nil {
		return fmt.Errorf("coordination unavailable, refusing a new ingest: %w", err)
	}
	return nil
}

// IngestStarted is called when a local publisher starts: the node tries to
// lead the stream (or waits for the lease if another node holds it).
func (c *Coordinator) IngestStarted(stream string) {
	if j := c.job(stream); j != nil {
		j.ingestStarted()
	}
}

// IngestStopped is called when the local publisher is gone.
func (c *Coordinator) IngestStopped(stream string) {
	if j := c.job(stream); j != nil {
		j.ingestStopped()
	}
}

// IngestTS receives the local ingest's TS (for the relay to the standby).
func (c *Coordinator) IngestTS(stream string, b []byte) {
	if j := c.job(stream); j != nil {
		j.ingestTS(b)
	}
}

// IngestCut relays a discontinuity of the local ingest.
func (c *Coordinator) IngestCut(stream string) {
	if j := c.job(stream); j != nil {
		j.ingestCut()
	}
}

// HoldInputCut reports whether the local publisher's leaving should leave
// the stream's open segments open (backupLive: the standby's backup feed
// goes on with them).
func (c *Coordinator) HoldInputCut(stream string) bool {
	j := c.job(stream)
	return j != nil && j.backupLive()
}

// Serving reports whether this node serves the stream's playlists: it
// leads it or stands by for it. Anything else answers 404 at once.
func (c *Coordinator) Serving(stream string) bool {
	j := c.job(stream)
	return j != nil && j.role() != RoleNone
}

// RedisReachable is readiness's view of Redis: nil while a registry
// heartbeat reached it within the policy's RedisUnreadyAfter. A node that
// cannot ask Redis refuses new ingests (Admit), so the load balancer must
// stop sending them; the grace keeps a Redis promotion within its budget,
// or one lost heartbeat, from taking nodes out of service.
func (c *Coordinator) RedisReachable() error {
	seen := c.redisSeen.Load()
	if seen == 0 {
		return errors.New("cluster: Redis not reached yet")
	}
	if since := time.Since(time.Unix(0, seen)); since > c.t.RedisUnreadyAfter() {
		return fmt.Errorf("cluster: Redis unreachable for %v", since.Round(100*time.Millisecond))
	}
	return nil
}

// LeadingToken is this node's lease token of the stream while it leads
// it, on its own clock (the term's keeper): what fences the stream's
// recording uploads.
func (c *Coordinator) LeadingToken(stream string) (uint64, bool) {
	j := c.job(stream)
	if j == nil {
		return 0, false
	}
	tok, _, ok := j.term()
	return tok, ok
}

// TermCurrent reports whether no term after the one of token was issued
// for the stream: this node leads with token, or its term ended (the lease
// released or expired) and no node took the lease since. A write to shared
// storage made under token (a recording's upload, its close after the
// stream went idle) is safe exactly then.
func (c *Coordinator) TermCurrent(ctx context.Context, stream string, token uint64) (bool, error) {
	if tok, ok := c.LeadingToken(stream); ok {
		return tok == token, nil
	}
	last, err := c.ledger.LastToken(ctx, stream)
	if err != nil {
		return false, err
	}
	return last == token, nil
}

// Draining reports whether Drain was called.
func (c *Coordinator) Draining() bool { return c.draining.Load() }

// StreamInfo is one row of GET /api/v1/streams.
type StreamInfo struct {
	Name    string `json:"name"`
	Leader  string `json:"leader"`
	Standby string `json:"standby"`
	Token   uint64 `json:"token"`
	State   string `json:"state"` // live or idle, as seen by this node
	Role    string `json:"role"`  // this node's role: leader, standby or none
	// Coordination is "ok", or "unavailable" when Redis cannot be reached
	// (Leader/Standby/Token are then this node's last knowledge).
	Coordination string `json:"coordination"`
	// LeadingToken and LeadingSince describe this node's own leadership
	// term when Role is leader (the chaos tests check that terms never
	// overlap).
	LeadingToken uint64     `json:"leading_token,omitempty"`
	LeadingSince *time.Time `json:"leading_since,omitempty"`
	// Protection is set on the node that leads and ingests the stream:
	// twin-zone, same-zone or none (protection.go).
	Protection Protection `json:"protection,omitempty"`
}

// Streams lists every stream the node takes part in with its lease (one Redis round
// trip for all, bounded by a short timeout so the API stays fast).
func (c *Coordinator) Streams(live func(stream string) bool) []StreamInfo {
	names := c.names()
	ctx, cancel := context.WithTimeout(c.ctx, c.t.LeaseRenew/2)
	defer cancel()
	out := make([]StreamInfo, 0, len(names))
	for _, n := range names {
		j := c.job(n)
		if j == nil {
			continue // removed meanwhile
		}
		info := StreamInfo{Name: n, Role: j.role().String(), Coordination: "ok", State: "idle"}
		if tok, since, ok := j.term(); ok {
			info.LeadingToken, info.LeadingSince = tok, &since
		}
		info.Protection = j.protectionNow()
		if l, err := c.ledger.Lease(ctx, n); err == nil {
			info.Leader, info.Standby, info.Token = l.Holder, l.Standby, l.Token
		} else {
			info.Coordination = "unavailable"
			info.Leader, info.Standby, info.Token = j.lastKnown()
		}
		if (live != nil && live(n)) || j.relayFresh() {
			info.State = "live"
		}
		out = append(out, info)
	}
	return out
}

// peer returns a relay connection to addr, dialling once.
func (c *Coordinator) peer(ctx context.Context, addr string) (*relay.Peer, error) {
	c.mu.Lock()
	p := c.peers[addr]
	c.mu.Unlock()
	if p != nil {
		select {
		case <-p.Done():
		default:
			return p, nil
		}
	}
	p, err := relay.Dial(ctx, addr, c.cfg.TLS, c.t, c.log)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if old := c.peers[addr]; old != nil && old != p {
		old.Close()
	}
	c.peers[addr] = p
	c.mu.Unlock()
	return p, nil
}

// chooseStandby picks the standby for a stream this node leads with the
// failover policy: a node of the twin zone in this region (registry view).
func (c *Coordinator) chooseStandby(ctx context.Context) (NodeInfo, bool) {
	nodes, err := c.ledger.Nodes(ctx)
	if err != nil {
		return NodeInfo{}, false
	}
	// The region's Redis answered (the registry was just read from it).
	region := failover.Region{Name: c.cfg.Self.Region, Redis: failover.RedisPair{Primary: failover.RedisInstance{Up: true}}}
	zoneIdx := map[string]int{}
	var byIndex [][]NodeInfo
	// Own zone first so that its index is known.
	zoneIdx[c.cfg.Self.Zone] = 0
	region.Zones = append(region.Zones, failover.Zone{Name: c.cfg.Self.Zone, Up: true})
	byIndex = append(byIndex, nil)
	for _, n := range nodes {
		if n.Region != c.cfg.Self.Region || n.ID == c.cfg.Self.ID {
			continue
		}
		zi, ok := zoneIdx[n.Zone]
		if !ok {
			zi = len(region.Zones)
			zoneIdx[n.Zone] = zi
			region.Zones = append(region.Zones, failover.Zone{Name: n.Zone, Up: true})
			byIndex = append(byIndex, nil)
		}
		region.Zones[zi].Nodes = append(region.Zones[zi].Nodes, failover.Node{ID: n.ID, Capacity: n.Capacity, Load: n.Load, Up: true, Draining: n.Draining})
		byIndex[zi] = append(byIndex[zi], n)
	}
	zi, ni, _, ok := failover.Standby(region, 0, -1) // this node is not in the list
	if !ok {
		return NodeInfo{}, false
	}
	return byIndex[zi][ni], true
}

// Drain stops new ingests, hands every led stream to its standby and waits
// (up to the drain deadline or ctx) until each standby confirms it leads.
func (c *Coordinator) Drain(ctx context.Context) error {
	if c.draining.Swap(true) {
		c.log.Info("drain already under way")
	}
	ctx, cancel := context.WithTimeout(ctx, c.t.DrainDeadline)
	defer cancel()
	c.mu.Lock()
	var led []*job
	for _, j := range c.jobs {
		if j.leading() {
			led = append(led, j)
		}
	}
	c.mu.Unlock()
	c.log.Info("draining", "streams", len(led))
	var wg sync.WaitGroup
	errs := make([]error, len(led))
	for i, j := range led {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = j.handover(ctx)
		}()
	}
	wg.Wait()
	err := errors.Join(errs...)
	c.log.Info("drain finished", "err", err)
	return err
}
