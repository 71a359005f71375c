package sim

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// engine holds one run's state.
type engine struct {
	c   Config
	w   *world
	q   queue
	rng *rand.Rand // the world's draws while the simulation runs: node phases and picks, launch delays, traffic shifts
	// phases are the draws of each failed-over stream (its keyframe, where
	// its lease renewal was, where its reconnection hashes): apart from
	// the world's, so that a what-if changing only how streams fail over
	// (-no-fencing) meets the same faults on the same nodes.
	phases   *rand.Rand
	streams  []stream
	waiting  []int32
	unprot   []int32
	res      *Result
	now      time.Duration
	capacity int // units per node
	standby  int // units per standby
	viewers  int64
	live     int
	downNow  int

	aws          bool            // behind NLB and Global Accelerator (else: direct routing)
	episodeStart []time.Duration // per flat zone index, −1: no scale-out pending
	flat         []*zone
	refreshQueue []*zone
}

// Run simulates the scenario and returns its figures. It is deterministic:
// the same Config gives the same Result.
func Run(c Config) (*Result, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	e := newEngine(c)
	c = e.c
	sessions := generateSessions(c, rand.New(rand.NewPCG(c.Seed, 1)))
	e.streams = make([]stream, len(sessions))
	for i, s := range sessions {
		e.streams[i] = newStream(s)
		e.q.push(event{at: s.start, kind: evStreamStart, a: int32(i)})
	}
	e.res.Sessions = len(sessions)
	starts := map[time.Duration]int{}
	for _, s := range sessions {
		if s.start > 0 {
			starts[s.start]++
			e.res.LargestBurst = max(e.res.LargestBurst, starts[s.start])
		}
		e.res.LargestAudience = max(e.res.LargestAudience, int(s.viewers))
	}

	faults := c.Faults
	if faults == nil && !c.NoFaults {
		faults = DefaultFaults(c, nodeLossTimes(c, rand.New(rand.NewPCG(c.Seed, 2))))
	}
	if c.NoFaults {
		faults = nil
	}
	e.scheduleFaults(faults)
	e.presize(sessions)
	e.q.push(event{at: c.Scaling.EvaluationPeriod, kind: evAutoscale})
	e.q.push(event{at: 0, kind: evSample})
	e.loop(c.Duration)
	e.finish()
	return e.res, nil
}

func newStream(s session) stream {
	return stream{session: s, leader: vacant, standby: vacant, fault: -1, home: -1}
}

func newEngine(c Config) *engine {
	if c.USDPerHour == 0 {
		c.USDPerHour = c.Instance.USDPerHour
	}
	if c.Routing == nil {
		r := c.Timings.AWSRouting()
		c.Routing = &r
	}
	e := &engine{
		c: c, w: newWorld(c),
		rng:      rand.New(rand.NewPCG(c.Seed, 3)),
		phases:   rand.New(rand.NewPCG(c.Seed, 5)),
		capacity: c.Instance.StreamsPerNode * unit,
		standby:  int(math.Round(c.StandbyLoad * unit)),
		res:      &Result{Config: c, CapacityPerNode: c.Instance.StreamsPerNode},
		aws:      c.Routing.Name == "aws",
	}
	for _, zs := range e.w.zones {
		for _, z := range zs {
			e.flat = append(e.flat, z)
			e.episodeStart = append(e.episodeStart, -1)
			z.phase = time.Duration(e.rng.Int64N(int64(e.c.Timings.NLBHealthCheckInterval)))
		}
	}
	e.res.ZoneCount = len(e.flat)
	return e
}

// scheduleFaults books the faults with the policy's worst case for each.
func (e *engine) scheduleFaults(faults []FaultSpec) {
	c := e.c
	wc := failover.WorstCaseVia(c.Timings, 0, *c.Routing)
	for i, f := range faults {
		fr := FaultResult{Spec: f}
		for _, b := range wc {
			if b.Fault == f.Kind {
				fr.Bound = b
			}
		}
		if f.Kind == failover.Partition || f.Kind == failover.LeaderFreeze {
			fr.Bound.Stall, fr.Bound.MediaLost = c.Timings.FreezeImpactVia(f.Duration, *c.Routing)
		}
		e.res.Faults = append(e.res.Faults, fr)
		e.q.push(event{at: f.At, kind: evFaultStart, a: int32(i)})
	}
}

// loop runs events until the queue is empty or the next one is at or past
// until, then sets the clock to until.
func (e *engine) loop(until time.Duration) {
	for e.q.len() > 0 {
		if e.q.ev[0].at >= until {
			break
		}
		ev := e.q.pop()
		e.now = ev.at
		e.res.Events++
		e.handle(ev)
	}
	e.now = until
}

// nodeLossTimes draws random node losses, about one an hour world-wide.
func nodeLossTimes(c Config, rng *rand.Rand) []time.Duration {
	var out []time.Duration
	for t := time.Duration(rng.ExpFloat64() * float64(time.Hour)); t < c.Duration; t += time.Duration(rng.ExpFloat64() * float64(time.Hour)) {
		out = append(out, t)
	}
	return out
}

// presize starts each zone with the nodes its share of the first hour's
// load needs (a deployment does not start its day cold), and sets each
// group's maximum.
func (e *engine) presize(sessions []session) {
	d := newDemand(e.c)
	peakZone := 0.0
	for ri := range e.c.Regions {
		for t := time.Duration(0); t < e.c.Duration; t += 10 * time.Minute {
			peakZone = max(peakZone, d.at(ri, t)/2)
		}
	}
	per := unit + e.standby
	asgMax := e.c.ASGMax
	if asgMax == 0 {
		// Room for the zone's own peak three times over: its twin's
		// leaders, and a neighbouring region's share after a region loss.
		asgMax = e.c.Scaling.NodesFor(int(3*peakZone*float64(per)), e.capacity)
	}
	e.res.ASGMax = asgMax
	// The streams running when the day starts, by their closest region.
	atStart := make([]int, len(e.c.Regions))
	for _, s := range sessions {
		if s.start == 0 {
			atStart[failover.RankRegions(e.w.topo, failover.Broadcaster{Location: s.loc})[0]]++
		}
	}
	for ri, zs := range e.w.zones {
		for _, z := range zs {
			z.asgMax = asgMax
			n := min(asgMax, e.c.Scaling.NodesFor(atStart[ri]*per/len(zs), e.capacity))
			for range n {
				slot := e.w.launch(z, 0, e.capacity, e.nodePhase())
				e.w.ready(z, slot)
			}
		}
	}
}

func (e *engine) nodePhase() time.Duration {
	return time.Duration(e.rng.Int64N(int64(e.c.Timings.NLBHealthCheckInterval)))
}

func (e *engine) handle(ev event) {
	switch ev.kind {
	case evStreamStart:
		e.start(ev.a)
	case evStreamEnd:
		e.end(ev.a)
	case evResume:
		s := &e.streams[ev.a]
		if s.epoch == ev.epoch && s.down && !s.waiting && !s.ended {
			e.closeOutage(s, s.resumeAt)
		}
	case evStandbyRestore:
		s := &e.streams[ev.a]
		if !s.ended {
			e.restoreStandby(ev.a)
		}
	case evAutoscale:
		e.autoscale()
		e.q.push(event{at: e.now + e.c.Scaling.EvaluationPeriod, kind: evAutoscale})
	case evSample:
		e.sample()
		e.q.push(event{at: e.now + e.c.SampleEvery, kind: evSample})
	case evNodeReady:
		e.nodeReady(ev)
	case evNodeTerminate:
		z := e.flat[ev.a]
		if n := &z.nodes[ev.b]; n.live && n.incarnation == ev.epoch {
			e.dropNode(z, int(ev.b))
		}
	case evNodeBack:
		z := e.flat[ev.a]
		if n := &z.nodes[ev.b]; n.live && n.inService {
			e.w.policyZone(z).Nodes[ev.b].Up = true
		}
	case evFaultStart:
		e.faultStart(int(ev.a))
	case evFaultEnd:
		e.faultEnd(int(ev.a), ev.b)
	case evRedisPromoted:
		e.promoteReplica(int(ev.a))
	case evRefreshStep:
		e.refreshStep(e.flat[ev.a])
	}
}

func (e *engine) flatIndex(z *zone) int32 { return int32(z.region*len(e.w.zones[0]) + z.index) }
