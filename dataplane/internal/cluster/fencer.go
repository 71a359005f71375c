package cluster

import (
	"context"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zonecast/zonecast/policies/failover"
)

// LoadBalancer takes a fenced node out of its zone's load balancer.
type LoadBalancer interface {
	// DeregisterTargets removes the instance from the target group. An
	// instance that is not registered is no error: the call is idempotent.
	DeregisterTargets(ctx context.Context, targetGroup, instance string) error
}

// Accelerator weights a zone's load balancer in the region's accelerator
// endpoint group.
type Accelerator interface {
	// SetEndpointWeight sets one endpoint's weight and leaves the group's
	// other endpoints as they are; it returns the weight it replaced.
	SetEndpointWeight(ctx context.Context, endpointGroup, endpoint string, weight int) (previous int, err error)
}

// Fence actions and results, the labels of zonecast_fence_actions_total.
const (
	ActionDeregister  = "deregister"
	ActionZoneWeight  = "zone_weight"
	ActionZoneRestore = "zone_restore"

	ResultOK      = "ok"
	ResultError   = "error"
	ResultAlready = "already"
)

// FencerConfig wires a fencer.
type FencerConfig struct {
	Ledger *Ledger // its Fencing is the policy
	// Self is this node: its region and zone.
	Self NodeInfo
	// EndpointGroup is the ARN of the region's accelerator endpoint group;
	// empty, or a nil Accelerator, leaves zones to the accelerator's own
	// health checks.
	EndpointGroup string
	LoadBalancer  LoadBalancer
	Accelerator   Accelerator
	Log           *slog.Logger
}

// Fencer takes dead nodes out of their load balancer, and dead zones out
// of the accelerator, faster than those health-check them out, and only
// with Redis's agreement (fenceScript, zoneScript): a node is fenced once
// this node took over a lease it held and Redis has heard no heartbeat
// from it for the quiet time. It remembers the registry's records, which
// expire with a dead node, to know its target groups.
type Fencer struct {
	cfg    FencerConfig
	ledger *Ledger
	policy failover.Fencing
	t      failover.Timings
	log    *slog.Logger

	actions *prometheus.CounterVec

	ctx    context.Context // ends with Run
	cancel context.CancelFunc
	wg     sync.WaitGroup // fencing passes under way

	mu     sync.Mutex
	closed bool
	known  map[string]knownNode // registry records by node id
	active map[string]bool      // nodes a pass is fencing now
}

// knownNode is a registry record and when this node last read it.
type knownNode struct {
	info NodeInfo
	at   time.Time
}

// NewFencer prepares a fencer; Run keeps its view of the registry.
func NewFencer(cfg FencerConfig) *Fencer {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	f := &Fencer{cfg: cfg, ledger: cfg.Ledger, policy: cfg.Ledger.fencing, t: cfg.Ledger.timings,
		log: cfg.Log.With("area", "fencing"), known: map[string]knownNode{}, active: map[string]bool{},
		actions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "zonecast_fence_actions_total",
			Help: "Fencing calls this node made (deregister: one target group of a dead node; zone_weight, zone_restore: a zone's accelerator weight), by result; already: another node had fenced it."},
			[]string{"action", "result"})}
	for _, a := range []string{ActionDeregister, ActionZoneWeight, ActionZoneRestore} {
		for _, r := range []string{ResultOK, ResultError, ResultAlready} {
			f.actions.WithLabelValues(a, r) // every row exists from the start, at 0
		}
	}
	f.ctx, f.cancel = context.WithCancel(context.Background())
	return f
}

// Describe implements prometheus.Collector.
func (f *Fencer) Describe(ch chan<- *prometheus.Desc) { f.actions.Describe(ch) }

// Collect implements prometheus.Collector.
func (f *Fencer) Collect(ch chan<- prometheus.Metric) { f.actions.Collect(ch) }

// Run reads the registry every heartbeat (remembering the records) and
// looks after the region's zones' weights until ctx ends; then it waits
// for the fencing passes under way, which end with it.
func (f *Fencer) Run(ctx context.Context) {
	defer func() {
		f.mu.Lock()
		f.closed = true
		f.mu.Unlock()
		f.cancel()
		f.wg.Wait()
	}()
	tick := time.NewTicker(f.t.NodeHeartbeat)
	defer tick.Stop()
	for {
		f.Refresh(ctx)
		f.zones(ctx)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// Refresh reads the registry and remembers its records for as long as
// Redis remembers a quiet node's heartbeat.
func (f *Fencer) Refresh(ctx context.Context) {
	rctx, cancel := context.WithTimeout(ctx, f.t.NodeHeartbeat)
	nodes, err := f.ledger.Nodes(rctx)
	cancel()
	if err != nil {
		return // nothing learnt; the records kept stay
	}
	now := time.Now()
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, n := range nodes {
		f.known[n.ID] = knownNode{info: n, at: now}
	}
	for id, k := range f.known {
		if now.Sub(k.at) > f.policy.RecordFor(f.t) {
			delete(f.known, id)
		}
	}
}

// TookOver tells the fencer that this node took over the stream's lease
// from node, which held it with token: node is fenced if Redis agrees it
// is dead. It returns at once; one pass per node runs at a time.
func (f *Fencer) TookOver(stream, node string, token uint64) {
	f.mu.Lock()
	if f.closed || f.active[node] || node == f.cfg.Self.ID {
		f.mu.Unlock()
		return
	}
	f.active[node] = true
	f.wg.Add(1)
	f.mu.Unlock()
	go func() {
		defer f.wg.Done()
		defer func() {
			f.mu.Lock()
			delete(f.active, node)
			f.mu.Unlock()
		}()
		f.Fence(f.ctx, stream, node, token)
	}()
}

// Fence is one fencing pass (TookOver runs it): it asks Redis to agree
// that node, which held the stream's lease with token, is dead, waiting
// through the rest of the quiet time if its last heartbeat is recent, and
// deregisters it from its target groups when this node is the one that
// recorded the fence. It reports whether it recorded the fence.
func (f *Fencer) Fence(ctx context.Context, stream, node string, token uint64) bool {
	log := f.log.With("node", node, "stream", stream, "token", token)
	f.mu.Lock()
	k, ok := f.known[node]
	f.mu.Unlock()
	switch {
	case !ok:
		log.Warn("cannot fence: its registry record is not known here")
		return false
	case len(k.info.TargetGroups) == 0:
		log.Info("not fencing: it publishes no target groups")
		return false
	}
	// A live node heartbeats within the quiet time and one more heartbeat:
	// asking again until then tells a late heartbeat from a dead node.
	deadline := time.Now().Add(f.policy.QuietAfter + f.t.NodeHeartbeat)
	for {
		cctx, cancel := context.WithTimeout(ctx, f.t.LeaseRenew)
		v, err := f.ledger.Fence(cctx, stream, node, token)
		cancel()
		wait := f.policy.Retry
		switch {
		case err != nil:
			// Cut off from Redis: no agreement, so no fence.
			if time.Now().After(deadline) {
				log.Warn("cannot fence: Redis cannot be asked", "err", err)
				return false
			}
		case v.Code == fenceRecorded:
			log.Warn("fencing a dead node: deregistering it from its load balancer", "zone", k.info.Zone,
				"fenced_under", v.Token, "target_groups", k.info.TargetGroups)
			f.deregister(ctx, log, k.info)
			f.zone(ctx, k.info.Region, k.info.Zone)
			return true
		case v.Code == fenceAlready:
			f.actions.WithLabelValues(ActionDeregister, ResultAlready).Inc()
			log.Info("already fenced", "fenced_under", v.Token)
			return false
		case v.Code == fenceFresh:
			wait = f.policy.QuietAfter - v.Quiet + 5*time.Millisecond
			if time.Now().Add(wait).After(deadline) {
				log.Info("not fencing: it still heartbeats", "quiet", v.Quiet)
				return false
			}
		case v.Code == fenceHolder, v.Code == fenceNotPast:
			log.Info("not fencing: it still holds the lease", "lease_token", v.Token)
			return false
		default:
			log.Info("not fencing: Redis remembers no heartbeat of it (it left on purpose, or long ago)")
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(wait):
		}
	}
}

// deregister takes the node out of each of its target groups.
func (f *Fencer) deregister(ctx context.Context, log *slog.Logger, n NodeInfo) {
	for _, tg := range n.TargetGroups {
		f.retry(ctx, log.With("target_group", tg), ActionDeregister, f.policy.Deregistration, nil, func(ctx context.Context) error {
			return f.cfg.LoadBalancer.DeregisterTargets(ctx, tg, n.ID)
		})
	}
}

// retry makes call until it succeeds, every Retry, for as long as Redis
// remembers the fence (each call is idempotent), while still (when set)
// says the action is still wanted. Each attempt is bounded by budget,
// logged when it fails and counted.
func (f *Fencer) retry(ctx context.Context, log *slog.Logger, action string, budget time.Duration, still func(context.Context) bool, call func(context.Context) error) bool {
	end := time.Now().Add(f.policy.RecordFor(f.t))
	for attempt := 1; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, budget)
		start := time.Now()
		err := call(cctx)
		cancel()
		if err == nil {
			f.actions.WithLabelValues(action, ResultOK).Inc()
			log.Info("fencing call done", "action", action, "attempt", attempt, "took", time.Since(start).Round(time.Millisecond))
			return true
		}
		f.actions.WithLabelValues(action, ResultError).Inc()
		log.Warn("fencing call failed", "action", action, "attempt", attempt, "err", err)
		if time.Now().After(end) {
			log.Error("fencing call given up", "action", action, "attempts", attempt)
			return false
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(f.policy.Retry):
		}
		if still != nil && !still(ctx) {
			log.Info("fencing call no longer wanted", "action", action)
			return false
		}
	}
}

// zones looks after every zone of this node's region it knows of.
func (f *Fencer) zones(ctx context.Context) {
	if !f.weighs() {
		return
	}
	f.mu.Lock()
	seen := map[string]bool{}
	var names []string
	for _, k := range f.known {
		if k.info.Region == f.cfg.Self.Region && !seen[k.info.Zone] {
			seen[k.info.Zone] = true
			names = append(names, k.info.Zone)
		}
	}
	f.mu.Unlock()
	sort.Strings(names)
	for _, z := range names {
		f.zone(ctx, f.cfg.Self.Region, z)
	}
}

// weighs: this node may change zones' weights.
func (f *Fencer) weighs() bool {
	return f.cfg.Accelerator != nil && f.cfg.EndpointGroup != ""
}

// zone sets the zone's endpoint weight to 0 when Redis agrees it was lost,
// and puts it back when Redis agrees it is healthy again; exactly one node
// acts on each change.
func (f *Fencer) zone(ctx context.Context, region, zone string) {
	if !f.weighs() || region != f.cfg.Self.Region {
		return
	}
	var ids []string
	endpoint := ""
	f.mu.Lock()
	for id, k := range f.known {
		if k.info.Region == region && k.info.Zone == zone {
			ids = append(ids, id)
			if endpoint == "" {
				endpoint = k.info.Endpoint
			}
		}
	}
	f.mu.Unlock()
	sort.Strings(ids)
	cctx, cancel := context.WithTimeout(ctx, f.t.LeaseRenew)
	v, err := f.ledger.Zone(cctx, region, zone, endpoint, f.cfg.EndpointGroup, ids)
	cancel()
	if err != nil {
		return // cut off from Redis: no agreement
	}
	log := f.log.With("zone", zone)
	switch v.Code {
	case zoneLost:
		if endpoint == "" {
			log.Warn("zone lost, but its nodes publish no accelerator endpoint: left to the accelerator's health checks")
			return
		}
		log.Warn("zone lost: setting its accelerator endpoint weight to 0", "endpoint", endpoint, "nodes", ids)
		still := func(ctx context.Context) bool {
			lost, err := f.ledger.ZoneLost(ctx, region, zone)
			return err != nil || lost
		}
		var previous int
		if f.retry(ctx, log, ActionZoneWeight, f.policy.WeightShift, still, func(ctx context.Context) (err error) {
			previous, err = f.cfg.Accelerator.SetEndpointWeight(ctx, f.cfg.EndpointGroup, endpoint, 0)
			return err
		}) && previous > 0 {
			pctx, cancel := context.WithTimeout(ctx, f.t.LeaseRenew)
			if err := f.ledger.ZonePrevious(pctx, region, zone, previous); err != nil {
				log.Warn("cannot record the zone's weight; its restore will use the shipped weight", "err", err)
			}
			cancel()
		}
	case zoneRestored:
		weight := v.Previous
		if weight <= 0 {
			weight = failover.DefaultEndpointWeight
		}
		group := v.EndpointGroup
		if group == "" {
			group = f.cfg.EndpointGroup
		}
		if v.Endpoint == "" {
			return // it was never weighted
		}
		log.Info("zone healthy again: putting its accelerator endpoint weight back", "endpoint", v.Endpoint, "weight", weight,
			"healthy_for", f.policy.ZoneHealthyFor)
		f.retry(ctx, log, ActionZoneRestore, f.policy.WeightShift, func(ctx context.Context) bool {
			lost, err := f.ledger.ZoneLost(ctx, region, zone)
			return err != nil || !lost
		}, func(ctx context.Context) error {
			_, err := f.cfg.Accelerator.SetEndpointWeight(ctx, group, v.Endpoint, weight)
			return err
		})
	}
}
