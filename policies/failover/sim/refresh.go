package sim

// Rolling updates: instance refresh, zone by zone, and the drain of one node.

import (
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

func (e *engine) nextRefresh() {
	for len(e.refreshQueue) > 0 {
		z := e.refreshQueue[0]
		if z.refreshing {
			return // one zone at a time
		}
		e.refreshQueue = e.refreshQueue[1:]
		if !e.w.policyZone(z).Up {
			continue
		}
		z.refreshing = true
		z.generation++
		e.refreshStep(z)
		return
	}
}

// refreshStep launches the next batch's replacements; drainBatch drains the
// batch once they are in service.
func (e *engine) refreshStep(z *zone) {
	old := e.oldNodes(z)
	if len(old) == 0 || !e.w.policyZone(z).Up {
		z.refreshing = false
		e.nextRefresh()
		return
	}
	serving, _ := e.w.counts(z)
	batch := e.c.Scaling.RefreshBatch(serving)
	for range min(batch, len(old)) {
		e.launchNode(z)
	}
}

func (e *engine) oldNodes(z *zone) []int {
	var old []int
	for i := range z.nodes {
		if z.nodes[i].inService && z.nodes[i].generation < z.generation && !e.w.policyZone(z).Nodes[i].Draining {
			old = append(old, i)
		}
	}
	return old
}

func (e *engine) drainBatch(z *zone) {
	t := e.c.Timings
	serving, _ := e.w.counts(z)
	batch := e.c.Scaling.RefreshBatch(serving)
	old := e.oldNodes(z)
	fault := e.refreshFault(z)
	for _, slot := range old[:min(batch, len(old))] {
		e.drainNode(z, slot, fault)
	}
	e.q.push(event{at: e.now + t.DrainNeeds() + time.Second, kind: evRefreshStep, a: e.flatIndex(z)})
}

// drainNode is a SIGTERM: /readyz goes unready, every led stream is handed
// to its standby, standbys move, and the node exits when the drain is done.
func (e *engine) drainNode(z *zone, slot int, fault int32) {
	t := e.c.Timings
	e.w.policyZone(z).Nodes[slot].Draining = true
	for _, id := range append([]int32(nil), z.nodes[slot].leaders...) {
		e.failLeader(id, failure{fault: fault, planned: true})
	}
	e.loseStandbys(z, slot, t.SegmentDuration)
	e.q.push(event{at: e.now + t.DrainNeeds(), kind: evNodeTerminate, a: e.flatIndex(z), b: int32(slot), epoch: z.nodes[slot].incarnation})
}

// refreshFault finds the rolling-update fault that covers the zone's region.
func (e *engine) refreshFault(z *zone) int32 {
	for i := len(e.res.Faults) - 1; i >= 0; i-- {
		f := e.res.Faults[i].Spec
		if f.Kind == failover.RollingUpdate && f.Region == z.region && f.At <= e.now {
			return int32(i)
		}
	}
	return -1
}
