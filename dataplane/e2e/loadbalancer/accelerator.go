package loadbalancer

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// Endpoint is one endpoint of the accelerator's endpoint group: a zone's
// NLB (its ARN is the endpoint id).
type Endpoint struct {
	Balancer *Balancer
	// Weight is the endpoint's share of new flows (0–255; 0: none).
	Weight int32
}

// Accelerator is Global Accelerator in front of a region's endpoint group
// as far as SRT goes: a UDP listener whose new flows are hashed (on the
// 5-tuple, or on the source IP with SOURCE_IP client affinity, as the SRT
// listener ships) over the endpoints in proportion to their weights, skipping endpoints
// that have had no healthy target for the traffic shift (new flows only;
// an endpoint judged unhealthy also loses its flows, while another one is
// healthy). With no healthy endpoint it fails open over every endpoint of
// non-zero weight. A weight of 0 sends no new flow to the endpoint at once
// (the budget Fencing.WeightShift allows real Global Accelerator); existing
// flows stay. Its JSON API (ServeHTTP) serves DescribeEndpointGroup and
// UpdateEndpointGroup.
type Accelerator struct {
	GroupARN string
	Region   string
	// Shift is how long an endpoint with no healthy target keeps getting
	// new flows (the accelerator's traffic shift, Timings.GATrafficShift).
	Shift time.Duration
	// Affinity is the listener's client affinity: "SOURCE_IP" or "NONE".
	Affinity string
	check    failover.HealthCheck

	mu        sync.Mutex
	endpoints []*endpoint
	fw        *forwarder
	done      chan struct{}
	wg        sync.WaitGroup
}

// endpoint is an Endpoint and when it was last seen healthy.
type endpoint struct {
	Endpoint
	clientIP    bool
	healthyAt   time.Time // last time its NLB had a healthy target
	routeHealth bool      // healthy as far as new flows go (after the shift)
}

// ListenAccelerator starts the accelerator's listener on addr (UDP) in
// front of the endpoints, with client affinity (failover.SRTClientAffinity
// for SRT). check is the health check the endpoint group reports (an NLB
// endpoint's health is its targets').
func ListenAccelerator(groupARN, region, addr, affinity string, shift time.Duration, check failover.HealthCheck, endpoints ...Endpoint) (*Accelerator, error) {
	if affinity != "SOURCE_IP" && affinity != "NONE" {
		return nil, fmt.Errorf("client affinity %q: want SOURCE_IP or NONE", affinity)
	}
	a := &Accelerator{GroupARN: groupARN, Region: region, Shift: shift, Affinity: affinity, check: check, done: make(chan struct{})}
	now := time.Now()
	for _, e := range endpoints {
		a.endpoints = append(a.endpoints, &endpoint{Endpoint: e, healthyAt: now, routeHealth: true})
	}
	fw, err := listenForwarder(addr, a.pick)
	if err != nil {
		return nil, err
	}
	a.fw = fw
	a.wg.Add(1)
	go a.watch()
	return a, nil
}

// Addr is the accelerator's UDP address (what the broadcaster sends to).
func (a *Accelerator) Addr() string { return a.fw.Addr() }

// pick chooses a new flow's endpoint.
func (a *Accelerator) pick(client, listener netip.AddrPort) (destination, bool) {
	hash := hash5(client, listener)
	if a.Affinity == "SOURCE_IP" {
		hash = hash2(client.Addr(), listener.Addr())
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	var cands []*endpoint
	for _, e := range a.endpoints {
		if e.Weight > 0 && e.routeHealth {
			cands = append(cands, e)
		}
	}
	if len(cands) == 0 { // fail open
		for _, e := range a.endpoints {
			if e.Weight > 0 {
				cands = append(cands, e)
			}
		}
	}
	var total uint64
	for _, e := range cands {
		total += uint64(e.Weight)
	}
	if total == 0 {
		return destination{}, false
	}
	at := hash % total
	for _, e := range cands {
		if at < uint64(e.Weight) {
			return destination{name: e.Balancer.ARN, addr: e.Balancer.Addr()}, true
		}
		at -= uint64(e.Weight)
	}
	return destination{}, false
}

// EndpointFor is the endpoint a new flow from client goes to now (with
// SOURCE_IP affinity any flow of the client; "" if none).
func (a *Accelerator) EndpointFor(client netip.Addr) string {
	listener := a.fw.conn.LocalAddr().(*net.UDPAddr).AddrPort()
	d, _ := a.pick(netip.AddrPortFrom(client, 1), listener)
	return d.name
}

// watch follows the endpoints' health every 100 ms.
func (a *Accelerator) watch() {
	defer a.wg.Done()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-a.done:
			return
		case now := <-tick.C:
			a.judge(now)
		}
	}
}

// judge updates each endpoint's routing health; an endpoint that has just
// been judged unhealthy loses its flows while another one is healthy.
func (a *Accelerator) judge(now time.Time) {
	a.mu.Lock()
	var lost []string
	anyHealthy := false
	for _, e := range a.endpoints {
		if e.Balancer.Healthy() {
			e.healthyAt = now
		}
		was := e.routeHealth
		e.routeHealth = now.Sub(e.healthyAt) < a.Shift
		if was && !e.routeHealth {
			lost = append(lost, e.Balancer.ARN)
		}
		anyHealthy = anyHealthy || e.routeHealth
	}
	a.mu.Unlock()
	if anyHealthy && len(lost) > 0 {
		a.fw.endFlows(func(name string) bool { return slices.Contains(lost, name) })
	}
}

// Weight is endpoint id's current weight (-1: no such endpoint).
func (a *Accelerator) Weight(id string) int32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, e := range a.endpoints {
		if e.Balancer.ARN == id {
			return e.Weight
		}
	}
	return -1
}

// FlowsTo counts the flows going to endpoint id.
func (a *Accelerator) FlowsTo(id string) int { return a.fw.flowsTo(id) }

// Close stops the listener (not the endpoints).
func (a *Accelerator) Close() {
	close(a.done)
	a.fw.Close()
	a.wg.Wait()
}
