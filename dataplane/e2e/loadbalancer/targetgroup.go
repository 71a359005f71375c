package loadbalancer

import (
	"cmp"
	"context"
	"crypto/tls"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Instance is what a registered instance id stands for here: where its
// traffic goes and where it is health-checked. (AWS resolves an instance
// id to its private IP and uses the target's port and the group's
// health-check port; locally each node has ports of its own, so both
// addresses are given whole.)
type Instance struct {
	ID string
	// Traffic is the UDP host:port the target group's traffic goes to.
	Traffic string
	// Health is the health check's URL (scheme, host, port, path), e.g.
	// https://127.0.0.1:8443/readyz.
	Health string
}

// Target health states, as ELB names them.
const (
	StateInitial   = "initial"
	StateHealthy   = "healthy"
	StateUnhealthy = "unhealthy"
	StateDraining  = "draining"
	StateUnused    = "unused"
)

// TargetGroup is an NLB target group: registered targets, health-checked
// every interval, healthy after HealthyThreshold consecutive successes and
// unhealthy after UnhealthyThreshold consecutive failures (a first check
// runs at registration). Flows to a target end when it is deregistered
// with connection termination (after the deregistration delay) or when it
// turns unhealthy while another target is healthy; with no healthy target
// the group fails open, as NLB does: new flows go to every registered
// target and existing ones stay.
type TargetGroup struct {
	ARN   string
	Check failover.HealthCheck
	// DeregistrationDelay is how long a deregistered target drains (no new
	// flows) before it is removed; TerminateOnDeregistration ends its flows
	// then. The SRT group ships with 0 and true.
	DeregistrationDelay       time.Duration
	TerminateOnDeregistration bool

	client *http.Client

	mu      sync.Mutex
	targets map[string]*target
	ends    []func(id string) // listeners' flow enders
	changed chan struct{}     // closed and replaced at every state change
}

// target is one registered instance and its health-check run.
type target struct {
	inst   Instance
	port   int32
	state  string
	reason string
	ok     int // consecutive successes
	bad    int // consecutive failures
	stop   context.CancelFunc
}

// NewTargetGroup makes an empty group with the given health check.
func NewTargetGroup(arn string, check failover.HealthCheck) *TargetGroup {
	timeout := time.Duration(check.TimeoutSeconds) * time.Second
	return &TargetGroup{
		ARN: arn, Check: check, TerminateOnDeregistration: true,
		// NLB does not verify a target's certificate.
		client: &http.Client{Timeout: timeout, Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{InsecureSkipVerify: true},
			DisableKeepAlives: true, // every check opens its own connection, as NLB's do
		}},
		targets: map[string]*target{},
		changed: make(chan struct{}),
	}
}

// onEnd registers a listener's flow ender.
func (g *TargetGroup) onEnd(f func(id string)) {
	g.mu.Lock()
	g.ends = append(g.ends, f)
	g.mu.Unlock()
}

func (g *TargetGroup) notifyLocked() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// Register adds a target (idempotent: a registered target stays as it is)
// and starts checking it.
func (g *TargetGroup) Register(inst Instance, port int32) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := g.targets[inst.ID]; t != nil && t.state != StateDraining {
		return
	}
	if t := g.targets[inst.ID]; t != nil { // re-registered while draining
		t.stop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	t := &target{inst: inst, port: port, state: StateInitial, reason: "Elb.InitialHealthChecking", stop: cancel}
	g.targets[inst.ID] = t
	g.notifyLocked()
	go g.checkLoop(ctx, t)
}

// Deregister removes a target (idempotent): at once with no deregistration
// delay, else after draining for it; its flows end then when the group
// terminates connections on deregistration.
func (g *TargetGroup) Deregister(id string) {
	g.mu.Lock()
	t := g.targets[id]
	if t == nil || t.state == StateDraining {
		g.mu.Unlock()
		return
	}
	t.stop()
	if g.DeregistrationDelay <= 0 {
		delete(g.targets, id)
		g.notifyLocked()
		g.mu.Unlock()
		g.endFlows(id)
		return
	}
	t.state, t.reason = StateDraining, "Target.DeregistrationInProgress"
	g.notifyLocked()
	g.mu.Unlock()
	time.AfterFunc(g.DeregistrationDelay, func() {
		g.mu.Lock()
		if g.targets[id] != t {
			g.mu.Unlock()
			return // registered again meanwhile
		}
		delete(g.targets, id)
		g.notifyLocked()
		g.mu.Unlock()
		g.endFlows(id)
	})
}

func (g *TargetGroup) endFlows(id string) {
	if !g.TerminateOnDeregistration {
		return
	}
	g.mu.Lock()
	ends := slices.Clone(g.ends)
	g.mu.Unlock()
	for _, end := range ends {
		end(id)
	}
}

// checkLoop health-checks t at the group's interval until t is
// deregistered.
func (g *TargetGroup) checkLoop(ctx context.Context, t *target) {
	interval := time.Duration(g.Check.IntervalSeconds) * time.Second
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok := g.probe(ctx, t.inst.Health)
		if ctx.Err() != nil {
			return
		}
		g.record(t, ok)
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// probe is one health check: an answer in 200–399 within the timeout
// passes (NLB's default success codes).
func (g *TargetGroup) probe(ctx context.Context, url string) bool {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return false
	}
	resp, err := g.client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode >= 200 && resp.StatusCode < 400
}

// record counts a check's result and moves the target between states.
func (g *TargetGroup) record(t *target, ok bool) {
	g.mu.Lock()
	if g.targets[t.inst.ID] != t || t.state == StateDraining {
		g.mu.Unlock()
		return
	}
	was := t.state
	if ok {
		t.ok, t.bad = t.ok+1, 0
		if t.ok >= g.Check.HealthyThreshold {
			t.state, t.reason = StateHealthy, ""
		}
	} else {
		t.ok, t.bad = 0, t.bad+1
		if t.bad >= g.Check.UnhealthyThreshold {
			t.state, t.reason = StateUnhealthy, "Target.FailedHealthChecks"
		}
	}
	if t.state == was {
		g.mu.Unlock()
		return
	}
	g.notifyLocked()
	// An unhealthy target's flows end only while another target is
	// healthy: with none, the group fails open and flows stay.
	endFlows := t.state == StateUnhealthy && g.healthyLocked() > 0
	ends := slices.Clone(g.ends)
	g.mu.Unlock()
	if endFlows {
		for _, end := range ends {
			end(t.inst.ID)
		}
	}
}

func (g *TargetGroup) healthyLocked() int {
	n := 0
	for _, t := range g.targets {
		if t.state == StateHealthy {
			n++
		}
	}
	return n
}

// Healthy reports whether any target is healthy (what Global Accelerator
// judges an NLB endpoint by).
func (g *TargetGroup) Healthy() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.healthyLocked() > 0
}

// routable are the destinations of new flows, in a stable order: the
// healthy targets, or every registered target that is not draining when
// none is healthy (fail-open).
func (g *TargetGroup) routable() []destination {
	g.mu.Lock()
	defer g.mu.Unlock()
	var healthy, all []destination
	for id, t := range g.targets {
		if t.state == StateDraining {
			continue
		}
		d := destination{name: id, addr: t.inst.Traffic}
		all = append(all, d)
		if t.state == StateHealthy {
			healthy = append(healthy, d)
		}
	}
	out := healthy
	if len(out) == 0 {
		out = all
	}
	slices.SortFunc(out, func(a, b destination) int { return cmp.Compare(a.name, b.name) })
	return out
}

// TargetHealth is one target's state as DescribeTargetHealth reports it.
type TargetHealth struct {
	ID     string
	Port   int32
	State  string
	Reason string
}

// Health lists the registered targets' states, by id.
func (g *TargetGroup) Health() []TargetHealth {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []TargetHealth
	for id, t := range g.targets {
		out = append(out, TargetHealth{ID: id, Port: t.port, State: t.state, Reason: t.reason})
	}
	slices.SortFunc(out, func(a, b TargetHealth) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// State is a target's health state (StateUnused when not registered).
func (g *TargetGroup) State(id string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	if t := g.targets[id]; t != nil {
		return t.state
	}
	return StateUnused
}

// WaitState waits until target id is in state (or d passes).
func (g *TargetGroup) WaitState(id, state string, d time.Duration) error {
	deadline := time.After(d)
	for {
		g.mu.Lock()
		ch := g.changed
		cur := StateUnused
		if t := g.targets[id]; t != nil {
			cur = t.state
		}
		g.mu.Unlock()
		if cur == state {
			return nil
		}
		select {
		case <-ch:
		case <-deadline:
			return fmt.Errorf("target %s of %s is %s after %v, want %s", id, g.ARN, cur, d, state)
		}
	}
}

// Close stops every health check.
func (g *TargetGroup) Close() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, t := range g.targets {
		t.stop()
	}
}
