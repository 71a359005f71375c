package sim

import (
	"fmt"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// unit is one stream's worth of node capacity; a standby costs
// StandbyLoad units of it.
const unit = 1000

// node is the simulator's side of one edge node; its placement-visible
// state (up, draining, load, capacity) lives in the zone's failover.Node
// at the same index.
type node struct {
	live        bool // the slot holds an instance (launching, in service, draining)
	launchedAt  time.Duration
	inService   bool
	phase       time.Duration // where in its cycle the NLB's health check is
	generation  int           // instance-refresh generation
	incarnation uint32        // counts launches into this slot: stale events name an older one
	leaders     []int32
	standbys    []int32
}

// zone is one availability zone: its auto-scaling group.
type zone struct {
	region, index int
	name          string
	nodes         []node
	free          []int // slots of terminated nodes, reused by launches
	launching     int
	refreshing    bool
	generation    int
	asgMax        int
	phase         time.Duration // the zone load balancer's health-check phase as GA sees it

	// accounting
	instanceSeconds float64
	peakNodes       int
	utilSum         float64
	utilSamples     int
	peakUtil        float64
}

// world is the deployment: the placement-visible topology plus the
// simulator's bookkeeping per zone and per region's Redis pair.
type world struct {
	topo  failover.Topology
	zones [][]*zone // [region][zone]
	// redisBackAt is when each region's Redis pair can coordinate again
	// after a loss (promotion or restart).
	redisBackAt []time.Duration
	// promoting is true while a region's replica is being promoted (the
	// topology's pair counts it up only once promoted).
	promoting []bool
}

// policyZone is z as the placement policy sees it (its nodes' load, up,
// draining), beside the simulator's own bookkeeping in zone.
func (w *world) policyZone(z *zone) *failover.Zone { return &w.topo.Regions[z.region].Zones[z.index] }

func newWorld(c Config) *world {
	w := &world{}
	for ri, info := range c.Regions {
		names := info.Zones()
		// One replication group per region, as provision deploys it: the
		// primary in the first zone, the replica in its twin.
		r := failover.Region{Name: info.Name, Location: info.Location, Redis: failover.RedisPair{
			Primary: failover.RedisInstance{Zone: names[0], Up: true},
			Replica: failover.RedisInstance{Zone: names[1%len(names)], Up: true},
		}}
		var zs []*zone
		for zi, name := range names {
			r.Zones = append(r.Zones, failover.Zone{Name: name, Up: true})
			zs = append(zs, &zone{region: ri, index: zi, name: name})
		}
		w.topo.Regions = append(w.topo.Regions, r)
		w.zones = append(w.zones, zs)
		w.redisBackAt = append(w.redisBackAt, 0)
		w.promoting = append(w.promoting, false)
	}
	return w
}

// launch starts an instance in the zone; it serves from readyAt on (the
// caller schedules evNodeReady). It returns the slot.
func (w *world) launch(z *zone, now time.Duration, capacity int, phase time.Duration) int {
	fz := w.policyZone(z)
	slot := -1
	if n := len(z.free); n > 0 {
		slot, z.free = z.free[n-1], z.free[:n-1]
	} else {
		slot = len(z.nodes)
		z.nodes = append(z.nodes, node{})
		fz.Nodes = append(fz.Nodes, failover.Node{})
	}
	z.nodes[slot] = node{live: true, launchedAt: now, phase: phase, generation: z.generation,
		incarnation: z.nodes[slot].incarnation + 1,
		leaders:     z.nodes[slot].leaders[:0], standbys: z.nodes[slot].standbys[:0]}
	fz.Nodes[slot] = failover.Node{ID: fmt.Sprintf("%s-%d", z.name, slot), Capacity: capacity}
	z.launching++
	return slot
}

// ready puts a launched node in service.
func (w *world) ready(z *zone, slot int) {
	n := &z.nodes[slot]
	if !n.live || n.inService {
		return
	}
	n.inService = true
	z.launching--
	w.policyZone(z).Nodes[slot].Up = true
}

// terminate ends an instance (crash, scale-in, end of a drain, zone loss)
// and bills it. The caller has already moved or failed its streams.
func (w *world) terminate(z *zone, slot int, now time.Duration) {
	n := &z.nodes[slot]
	if !n.live {
		return
	}
	if !n.inService {
		z.launching--
	}
	z.instanceSeconds += (now - n.launchedAt).Seconds()
	n.live, n.inService = false, false
	n.leaders, n.standbys = n.leaders[:0], n.standbys[:0]
	w.policyZone(z).Nodes[slot] = failover.Node{}
	z.free = append(z.free, slot)
}

// counts returns in-service (not draining) and launching nodes.
func (w *world) counts(z *zone) (serving, launching int) {
	fz := w.policyZone(z)
	for i := range z.nodes {
		if z.nodes[i].inService && !fz.Nodes[i].Draining {
			serving++
		}
	}
	return serving, z.launching
}

// load returns the units in use and the units available on in-service nodes.
func (w *world) load(z *zone) (used, capacity int) {
	fz := w.policyZone(z)
	for i := range z.nodes {
		if z.nodes[i].inService {
			used += fz.Nodes[i].Load
			capacity += fz.Nodes[i].Capacity
		}
	}
	return used, capacity
}

func (w *world) liveNodes(z *zone) int {
	n := 0
	for i := range z.nodes {
		if z.nodes[i].live {
			n++
		}
	}
	return n
}
