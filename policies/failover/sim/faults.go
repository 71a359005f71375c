package sim

import (
	"fmt"
	"math"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// nlbDetect is when the NLB marks a target dead at e.now unhealthy: its
// checks run every interval from the target's phase; the unhealthy
// threshold of consecutive failures is needed.
func (e *engine) nlbDetect(phase time.Duration) time.Duration {
	t := e.c.Timings
	iv := t.NLBHealthCheckInterval
	k := (e.now - phase) / iv
	first := phase + k*iv
	for first <= e.now {
		first += iv
	}
	return first + time.Duration(t.NLBUnhealthyThreshold-1)*iv
}

// gaShift is how long Global Accelerator takes to move new flows once an
// endpoint is unhealthy: AWS documents "about 30 s"; the simulator draws
// between half and all of GATrafficShift (an assumption, stated in
// docs/simulator.md).
func (e *engine) gaShift() time.Duration {
	g := e.c.Timings.GATrafficShift
	return g/2 + time.Duration(e.rng.Int64N(int64(g/2)+1))
}

// deadNodeRouting is when new connections stop reaching a node that died
// or froze at e.now, and the chance that a reconnection before then lands
// on it: behind the NLB, its health-check cycle and one target among the
// zone's; with direct routing the broadcaster skips it at once.
func (e *engine) deadNodeRouting(z *zone, slot int) (time.Duration, float64) {
	if !e.aws {
		return e.now + e.c.Routing.NodeDetection, 0
	}
	return e.nlbDetect(z.nodes[slot].phase), 1 / float64(max(1, e.servingUp(z)+1))
}

// pickZone resolves a fault's zone: −1 is the zone leading more streams.
func (e *engine) pickZone(f FaultSpec) *zone {
	if f.Zone >= 0 {
		return e.w.zones[f.Region][f.Zone]
	}
	best, bestLeaders := e.w.zones[f.Region][0], -1
	for _, z := range e.w.zones[f.Region] {
		n := 0
		for i := range z.nodes {
			n += len(z.nodes[i].leaders)
		}
		if n > bestLeaders {
			best, bestLeaders = z, n
		}
	}
	return best
}

// pickNode resolves a node fault's target: the busiest in-service node, or
// a random one; −1 when the zone has none.
func (e *engine) pickNode(z *zone, random bool) int {
	return e.pickNodeBy(z, random, func(n *node) int { return len(n.leaders) })
}

// pickNodeBy picks the in-service node with the highest weight, or a random one.
func (e *engine) pickNodeBy(z *zone, random bool, weight func(*node) int) int {
	fz := e.w.policyZone(z)
	var candidates []int
	best, bestLeaders := -1, -1
	for i := range z.nodes {
		if !z.nodes[i].inService || !fz.Nodes[i].Up || fz.Nodes[i].Draining {
			continue
		}
		candidates = append(candidates, i)
		if w := weight(&z.nodes[i]); w > bestLeaders {
			best, bestLeaders = i, w
		}
	}
	if random && len(candidates) > 0 {
		return candidates[e.rng.IntN(len(candidates))]
	}
	return best
}

func (e *engine) servingUp(z *zone) int {
	fz := e.w.policyZone(z)
	n := 0
	for i := range z.nodes {
		if z.nodes[i].inService && fz.Nodes[i].Up {
			n++
		}
	}
	return n
}

func (e *engine) faultStart(i int) {
	fr := &e.res.Faults[i]
	f := fr.Spec
	t := e.c.Timings
	id := int32(i)
	switch f.Kind {
	case failover.StandbyLoss:
		// Only the standby roles of the node die (a node holds leaders
		// too; losing the whole node is NodeLoss): viewers see nothing, the
		// streams run unprotected until re-placed.
		z := e.pickZone(f)
		slot := e.pickNodeBy(z, f.Random, func(n *node) int { return len(n.standbys) })
		if slot < 0 {
			fr.Target = z.name + " (no node)"
			return
		}
		fr.Target = e.w.policyZone(z).Nodes[slot].ID + " standbys"
		e.loseStandbys(z, slot, t.StandbyRestore())
	case failover.NodeLoss:
		z := e.pickZone(f)
		slot := e.pickNode(z, f.Random)
		if slot < 0 {
			fr.Target = z.name + " (no node)"
			return
		}
		fr.Target = e.w.policyZone(z).Nodes[slot].ID
		e.crashNode(z, slot, id)
	case failover.Partition, failover.LeaderFreeze:
		z := e.pickZone(f)
		slot := e.pickNode(z, f.Random)
		if slot < 0 {
			fr.Target = z.name + " (no node)"
			return
		}
		fr.Target = e.w.policyZone(z).Nodes[slot].ID
		e.isolateNode(z, slot, f.Duration, id)
	case failover.RedisPartition:
		z := e.pickZone(f)
		slot := e.pickNode(z, f.Random)
		if slot < 0 {
			fr.Target = z.name + " (no node)"
			return
		}
		fr.Target = e.w.policyZone(z).Nodes[slot].ID + " from Redis"
		e.cutFromRedis(z, slot, f.Duration, id)
	case failover.ZoneLoss:
		z := e.pickZone(f)
		fr.Target = z.name
		e.loseZones([]*zone{z}, id, false, e.now+f.Duration)
		e.q.push(event{at: e.now + f.Duration, kind: evFaultEnd, a: id, b: e.flatIndex(z)})
	case failover.RegionLoss:
		fr.Target = e.c.Regions[f.Region].Name
		e.loseZones(e.w.zones[f.Region], id, true, e.now+f.Duration)
		e.q.push(event{at: e.now + f.Duration, kind: evFaultEnd, a: id, b: -1})
	case failover.RedisPrimaryLoss:
		// The region's one pair: both zones wait for the promotion.
		fr.Target = e.c.Regions[f.Region].Name + " redis primary (" + e.redisOf(f.Region).Primary.Zone + ")"
		e.loseRedisPrimary(f.Region, e.now+f.Duration)
		e.q.push(event{at: e.now + f.Duration, kind: evFaultEnd, a: id})
	case failover.RedisPairLoss:
		fr.Target = e.c.Regions[f.Region].Name + " redis pair"
		e.loseRedis(f.Region, e.now+f.Duration)
		e.q.push(event{at: e.now + f.Duration, kind: evFaultEnd, a: id})
	case failover.RollingUpdate:
		if f.Drain {
			z := e.pickZone(f)
			slot := e.pickNode(z, f.Random)
			if slot < 0 {
				fr.Target = z.name + " (no node)"
				return
			}
			fr.Target = e.w.policyZone(z).Nodes[slot].ID + " drain"
			e.drainNode(z, slot, id)
			return
		}
		fr.Target = e.c.Regions[f.Region].Name
		// Zones one after the other, so a stream's leader and standby are
		// never drained at once.
		e.refreshQueue = append(e.refreshQueue, e.w.zones[f.Region]...)
		e.nextRefresh()
	default:
		panic(fmt.Sprintf("sim: fault %v not modelled", f.Kind))
	}
}

func (e *engine) faultEnd(i int, flat int32) {
	f := e.res.Faults[i].Spec
	switch f.Kind {
	case failover.ZoneLoss:
		e.restoreZone(e.flat[flat])
	case failover.RegionLoss:
		for _, z := range e.w.zones[f.Region] {
			e.restoreZone(z)
		}
	case failover.RedisPrimaryLoss, failover.RedisPairLoss:
		e.restartRedis(f.Region, "")
	}
}

// crashNode: the instance is gone. Its led streams fail over, its standbys
// are re-placed once the registry notices.
func (e *engine) crashNode(z *zone, slot int, fault int32) {
	t := e.c.Timings
	fz := e.w.policyZone(z)
	fz.Nodes[slot].Up = false
	detect, pDead := e.deadNodeRouting(z, slot)
	leaders := append([]int32(nil), z.nodes[slot].leaders...)
	lapses := e.fencingLapses(leaders)
	healthyAt, moved := e.fenced(z, leaders, lapses, detect, math.MaxInt64)
	for i, id := range leaders {
		e.failLeader(id, failure{fault: fault, noticed: e.now + t.DeathNoticed(*e.c.Routing), healthyAt: healthyAt, moved: moved,
			pDead: pDead, coordAt: e.w.redisBackAt[z.region], lapse: lapses[i]})
	}
	e.loseStandbys(z, slot, t.StandbyRestore())
	e.w.terminate(z, slot, e.now)
}

// loseStandbys drops a node's standbys; each leader picks a new one after
// the given delay.
func (e *engine) loseStandbys(z *zone, slot int, after time.Duration) {
	for _, id := range append([]int32(nil), z.nodes[slot].standbys...) {
		s := &e.streams[id]
		e.detachStandby(s)
		e.setUnprotected(id)
		e.q.push(event{at: e.now + after, kind: evStandbyRestore, a: id, epoch: s.epoch})
	}
}

// isolateNode: a partition or a freeze of length d. A stream whose SRT
// connection and lease both outlast d only pauses; the others fail over
// as from a node loss, except that reconnections may land on the node
// again once it is back (deposed, it relays to the new leader).
func (e *engine) isolateNode(z *zone, slot int, d time.Duration, fault int32) {
	t := e.c.Timings
	fz := e.w.policyZone(z)
	fz.Nodes[slot].Up = false
	detect, pDead := e.deadNodeRouting(z, slot)
	leaders := append([]int32(nil), z.nodes[slot].leaders...)
	lapses := e.fencingLapses(leaders)
	// Back at e.now+d, the node answers again (deposed, it relays); a fence
	// agreed before then still goes through.
	healthyAt, moved := e.fenced(z, leaders, lapses, min(detect, e.now+d), e.now+d)
	for i, id := range leaders {
		lapse := lapses[i]
		if lapse == 0 {
			lapse = e.drawLapse()
		}
		if d < t.SRTPeerIdleTimeout && e.now+d < lapse {
			served := time.Duration(0)
			if e.standbyUsable(&e.streams[id]) {
				served = e.servedUntil(e.now + d) // the leader is back at d
			}
			e.beginOutage(id, fault, e.now+d, e.now+d, served)
			continue
		}
		noticed := e.now + min(t.SRTPeerIdleTimeout, d)
		if d > t.SRTPeerIdleTimeout {
			noticed += e.c.Routing.ProbeTimeout // the frozen node is still tried first
		}
		e.failLeader(id, failure{fault: fault, noticed: noticed,
			healthyAt: healthyAt, moved: moved, pDead: pDead, coordAt: e.w.redisBackAt[z.region], lapse: lapse})
	}
	if d > t.NodeTTL {
		e.loseStandbys(z, slot, t.StandbyRestore()-t.NodeTTL)
	}
	e.q.push(event{at: e.now + d, kind: evNodeBack, a: e.flatIndex(z), b: int32(slot)})
}

// cutFromRedis: the node still ingests and relays but cannot renew. Each
// led stream's standby takes the lease as it lapses and, fed by the relay,
// publishes within a part; a stream without a standby goes dark until the
// node reaches Redis again and takes its lease back.
func (e *engine) cutFromRedis(z *zone, slot int, d time.Duration, fault int32) {
	t := e.c.Timings
	for _, id := range append([]int32(nil), z.nodes[slot].leaders...) {
		s := &e.streams[id]
		if s.hasStandby() && e.w.topo.Regions[s.standby.region].Zones[s.standby.zone].Nodes[s.standby.slot].Up {
			sz, sn := e.w.zones[s.standby.region][s.standby.zone], int(s.standby.slot)
			e.detachLeader(s)
			e.detachStandby(s)
			e.attachLeader(id, sz, sn)
			e.setUnprotected(id)
			e.q.push(event{at: e.now + t.StandbyRestore(), kind: evStandbyRestore, a: id})
			e.beginOutage(id, fault, e.now+t.PartDuration, e.now, servedThroughout)
			continue
		}
		// Its relay is live, so nobody fences it; without a standby
		// nobody serves the stream while it cannot lead.
		lapse := e.drawLapse()
		if lapse < e.now+d {
			e.beginOutage(id, fault, e.now+d+t.PartDuration, e.now+d, 0)
		}
	}
	// The node takes no new work while it cannot coordinate.
	e.w.policyZone(z).Nodes[slot].Up = false
	e.q.push(event{at: e.now + d, kind: evNodeBack, a: e.flatIndex(z), b: int32(slot)})
}

// loseZones takes zones down, until back, with their nodes and the Redis
// instances in them. newRegion says the whole region is gone, so its
// streams restart in another region rather than in the twin zone.
func (e *engine) loseZones(zs []*zone, fault int32, newRegion bool, back time.Duration) {
	t := e.c.Timings
	healthyAt := time.Duration(0)
	for _, z := range zs {
		e.w.policyZone(z).Up = false
		// The region's primary here: the replica in the twin is promoted;
		// its replica here: nothing while the primary lives.
		e.loseRedisIn(z.region, z.name, back)
		if e.aws {
			healthyAt = max(healthyAt, e.nlbDetect(z.phase))
		} else {
			healthyAt = e.now + e.c.Routing.NodeDetection
		}
	}
	if e.aws {
		healthyAt += e.gaShift()
	} else {
		healthyAt += e.c.Routing.ZoneShift
	}
	if f := e.c.Routing.Fencing; f.Enabled && !newRegion && e.survivorIn(zs[0].region) {
		// Every node of the zone falls quiet at once; a survivor in the
		// twin zone sets the zone's weight to 0 once Redis (promoted, if
		// the primary was here) agrees.
		healthyAt = min(healthyAt, f.ZoneFencedAt(e.now, e.w.redisBackAt[zs[0].region]))
	}
	for _, z := range zs {
		for slot := range z.nodes {
			if !z.nodes[slot].live {
				continue
			}
			e.w.policyZone(z).Nodes[slot].Up = false
		}
	}
	pDead := 1.0 // every target of the zone is dead
	if !e.aws {
		pDead = 0 // the broadcaster skips dead nodes itself
	}
	for _, z := range zs {
		for slot := range z.nodes {
			if !z.nodes[slot].live {
				continue
			}
			for _, id := range append([]int32(nil), z.nodes[slot].leaders...) {
				e.failLeader(id, failure{fault: fault, noticed: e.now + t.SRTPeerIdleTimeout, healthyAt: healthyAt,
					pDead: pDead, coordAt: e.w.redisBackAt[z.region], newRegion: newRegion})
			}
			e.loseStandbys(z, slot, t.StandbyRestore())
			e.w.terminate(z, slot, e.now)
		}
		e.episodeStart[e.flatIndex(z)] = -1
	}
}

func (e *engine) restoreZone(z *zone) {
	e.w.policyZone(z).Up = true
	e.restartRedis(z.region, z.name)
	// The group relaunches at once; the autoscale tick sizes it further.
	for range e.c.Scaling.NodesFor(0, e.capacity) {
		e.launchNode(z)
	}
}

// drawLapse is when a lease renewed at a random point of its renewal
// cycle before e.now lapses.
func (e *engine) drawLapse() time.Duration {
	t := e.c.Timings
	return e.now + t.LeaseTTL - time.Duration(e.phases.Int64N(int64(t.LeaseRenew)))
}

// fencingLapses draws, with fencing on, when each of a silent node's
// leases lapses, since its fence waits for the first takeover; 0 (drawn
// later, in the order the model without fencing draws them) otherwise.
func (e *engine) fencingLapses(leaders []int32) []time.Duration {
	lapses := make([]time.Duration, len(leaders))
	if e.c.Routing.Fencing.Enabled {
		for i := range lapses {
			lapses[i] = e.drawLapse()
		}
	}
	return lapses
}

// fenced is when new flows stop reaching a node of zone z that fell silent
// at e.now leading these streams (their leases lapsing at lapses), given
// healthyAt without fencing, and when flows caught on it move (0: never).
// A survivor fences it (failover.Fencing.FencedAt) once a standby took a
// lease over, if the node is still silent then (wake); a node leading no
// stream with a usable standby is left to the health checks.
func (e *engine) fenced(z *zone, leaders []int32, lapses []time.Duration, healthyAt, wake time.Duration) (time.Duration, time.Duration) {
	f := e.c.Routing.Fencing
	if !f.Enabled {
		return healthyAt, 0
	}
	first := time.Duration(-1)
	for i, id := range leaders {
		if e.standbyUsable(&e.streams[id]) && (first < 0 || lapses[i] < first) {
			first = lapses[i]
		}
	}
	if first < 0 {
		return healthyAt, 0
	}
	at := f.FencedAt(e.c.Timings, e.now, first, e.w.redisBackAt[z.region])
	if at-f.Deregistration >= wake || at > healthyAt {
		return healthyAt, 0
	}
	return at, at
}

// survivorIn reports whether a node of the region is up to act for it.
func (e *engine) survivorIn(region int) bool {
	for _, z := range e.w.topo.Regions[region].Zones {
		for i := range z.Nodes {
			if z.Up && z.Nodes[i].Up {
				return true
			}
		}
	}
	return false
}
