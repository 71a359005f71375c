package sim

import (
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// launchNode starts one instance through the zone's auto-scaling group: in
// service after the launch delay (±, since boots vary).
func (e *engine) launchNode(z *zone) {
	fi := e.flatIndex(z)
	if e.episodeStart[fi] < 0 {
		e.episodeStart[fi] = e.now
	}
	slot := e.w.launch(z, e.now, e.capacity, e.nodePhase())
	d := e.c.Scaling.LaunchDelay
	delay := d*85/100 + time.Duration(e.rng.Int64N(int64(d*45/100)+1))
	e.q.push(event{at: e.now + delay, kind: evNodeReady, a: fi, b: int32(slot), epoch: z.nodes[slot].incarnation})
}

func (e *engine) nodeReady(ev event) {
	z := e.flat[ev.a]
	n := &z.nodes[ev.b]
	if !n.live || n.inService || n.incarnation != ev.epoch || !e.w.policyZone(z).Up {
		return
	}
	e.w.ready(z, int(ev.b))
	if z.launching == 0 && e.episodeStart[ev.a] >= 0 {
		e.res.ScaleOuts = append(e.res.ScaleOuts, e.now-e.episodeStart[ev.a])
		e.episodeStart[ev.a] = -1
	}
	if z.refreshing && z.launching == 0 {
		e.drainBatch(z)
	}
	e.retryWaiting()
	e.retryUnprotected()
}

// dropNode terminates an instance whose streams have already left (end of
// a drain, scale-in) or are failed over now.
func (e *engine) dropNode(z *zone, slot int) {
	n := &z.nodes[slot]
	for len(n.standbys) > 0 {
		id := n.standbys[0]
		e.detachStandby(&e.streams[id])
		e.setUnprotected(id)
		e.retryLater(id)
	}
	e.w.terminate(z, slot, e.now)
	if z.launching == 0 {
		e.episodeStart[e.flatIndex(z)] = -1
	}
}

// autoscale is every group's target-tracking evaluation: enough in-service
// nodes for the zone's load (plus the streams waiting for room nearby) at
// the target utilisation, never under the policy's minimum nor over the
// group's maximum; scale-in only removes idle nodes (busy nodes are
// protected from scale-in).
func (e *engine) autoscale() {
	waitingUnits := make([]int, len(e.flat))
	per := unit + e.standby
	for _, id := range e.waiting {
		s := &e.streams[id]
		if s.ended || !s.waiting {
			continue
		}
		for _, ri := range failover.RankRegions(e.w.topo, failover.Broadcaster{Location: s.loc}) {
			up := 0
			for _, z := range e.w.zones[ri] {
				if e.w.policyZone(z).Up {
					up++
				}
			}
			if up == 0 {
				continue
			}
			for _, z := range e.w.zones[ri] {
				if e.w.policyZone(z).Up {
					waitingUnits[e.flatIndex(z)] += per / up
				}
			}
			break
		}
	}
	for fi, z := range e.flat {
		if !e.w.policyZone(z).Up {
			continue
		}
		used, _ := e.w.load(z)
		desired := min(z.asgMax, e.c.Scaling.NodesFor(used+waitingUnits[fi], e.capacity))
		serving, launching := e.w.counts(z)
		switch {
		case desired > serving+launching:
			for range desired - serving - launching {
				e.launchNode(z)
			}
		case desired < serving-1 && launching == 0 && !z.refreshing:
			e.scaleIn(z, serving-desired)
		}
	}
	e.retryWaiting()
	e.retryUnprotected()
}

func (e *engine) scaleIn(z *zone, n int) {
	fz := e.w.policyZone(z)
	for slot := len(z.nodes) - 1; slot >= 0 && n > 0; slot-- {
		nd := &z.nodes[slot]
		if nd.inService && fz.Nodes[slot].Up && !fz.Nodes[slot].Draining && len(nd.leaders) == 0 && len(nd.standbys) == 0 {
			e.w.terminate(z, slot, e.now)
			n--
		}
	}
}
