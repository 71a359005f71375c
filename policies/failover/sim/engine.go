package sim

import (
	"errors"
	"math"
	"math/rand/v2"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// engine holds one run's state.
type engine struct {
	c        Config
	w        *world
	q        queue
	rng      *rand.Rand // draws made while the simulation runs
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
	return stream{session: s, lr: -1, lz: -1, ln: -1, sr: -1, sz: -1, sn: -1, fault: -1}
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
			e.w.fz(z).Nodes[ev.b].Up = true
		}
	case evFaultStart:
		e.faultStart(int(ev.a))
	case evFaultEnd:
		e.faultEnd(int(ev.a), ev.b)
	case evRedisPromoted:
		z := e.flat[ev.a]
		e.w.fz(z).Redis.Replica.Up = true
	case evRefreshStep:
		e.refreshStep(e.flat[ev.a])
	}
}

func (e *engine) flatIndex(z *zone) int32 { return int32(z.region*len(e.w.zones[0]) + z.index) }

// ---- streams ----

func (e *engine) start(id int32) {
	s := &e.streams[id]
	s.started = true
	e.q.push(event{at: s.end, kind: evStreamEnd, a: id})
	e.live++
	e.viewers += int64(s.viewers)
	e.res.PeakConcurrent = max(e.res.PeakConcurrent, e.live)
	if !e.place(id) {
		// Nobody has room: the broadcaster is refused and retries while
		// the groups scale out. Viewers see nothing: black screen.
		s.waiting, s.waitSince = true, e.now
		e.waiting = append(e.waiting, id)
		e.beginOutage(id, -1, e.now, e.now)
	}
}

func (e *engine) end(id int32) {
	s := &e.streams[id]
	if s.down {
		e.closeOutage(s, e.now)
	}
	e.detachLeader(s)
	e.detachStandby(s)
	e.setProtected(s)
	s.ended, s.waiting = true, false
	e.live--
	e.viewers -= int64(s.viewers)
}

// place puts a stream without a leader where the policy says.
func (e *engine) place(id int32) bool {
	s := &e.streams[id]
	p, err := failover.Place(e.w.topo, failover.Broadcaster{Location: s.loc})
	if errors.Is(err, failover.ErrNoCapacity) {
		return false
	}
	e.attachLeader(id, e.w.zones[p.RegionIndex][p.ZoneIndex], p.NodeIndex)
	if p.StandbyNodeIndex >= 0 {
		e.attachStandby(id, e.w.zones[p.RegionIndex][p.StandbyZoneIndex], p.StandbyNodeIndex)
	} else {
		e.setUnprotected(id)
		e.retryLater(id)
	}
	return true
}

func (e *engine) attachLeader(id int32, z *zone, slot int) {
	s := &e.streams[id]
	n := &z.nodes[slot]
	s.lr, s.lz, s.ln, s.lpos = int32(z.region), int32(z.index), int32(slot), int32(len(n.leaders))
	n.leaders = append(n.leaders, id)
	e.w.fz(z).Nodes[slot].Load += unit
}

func (e *engine) detachLeader(s *stream) {
	if !s.hasLeader() {
		return
	}
	z := e.w.zones[s.lr][s.lz]
	n := &z.nodes[s.ln]
	last := n.leaders[len(n.leaders)-1]
	n.leaders[s.lpos] = last
	e.streams[last].lpos = s.lpos
	n.leaders = n.leaders[:len(n.leaders)-1]
	e.w.fz(z).Nodes[s.ln].Load -= unit
	s.ln = -1
}

func (e *engine) attachStandby(id int32, z *zone, slot int) {
	s := &e.streams[id]
	n := &z.nodes[slot]
	s.sr, s.sz, s.sn, s.spos = int32(z.region), int32(z.index), int32(slot), int32(len(n.standbys))
	n.standbys = append(n.standbys, id)
	e.w.fz(z).Nodes[slot].Load += e.standby
	e.setProtected(s)
}

func (e *engine) detachStandby(s *stream) {
	if !s.hasStandby() {
		return
	}
	z := e.w.zones[s.sr][s.sz]
	n := &z.nodes[s.sn]
	last := n.standbys[len(n.standbys)-1]
	n.standbys[s.spos] = last
	e.streams[last].spos = s.spos
	n.standbys = n.standbys[:len(n.standbys)-1]
	e.w.fz(z).Nodes[s.sn].Load -= e.standby
	s.sn = -1
}

// setUnprotected books the start of a time without standby. The stream is
// retried by the periodic passes only once an attempt has failed (retry):
// a lost standby is first re-placed when the leader can know it is lost.
func (e *engine) setUnprotected(id int32) {
	s := &e.streams[id]
	if !s.unprotected {
		s.unprotected, s.unprotectedSince = true, e.now
	}
}

func (e *engine) retryLater(id int32) {
	s := &e.streams[id]
	if !s.retrying {
		s.retrying = true
		e.unprot = append(e.unprot, id)
	}
}

func (e *engine) setProtected(s *stream) {
	if s.unprotected {
		s.unprotected = false
		e.res.UnprotectedStreamHours += (e.now - s.unprotectedSince).Hours()
	}
}

// restoreStandby gives a leading stream a new standby in its twin zone.
func (e *engine) restoreStandby(id int32) bool {
	s := &e.streams[id]
	if s.hasStandby() {
		return true
	}
	if !s.hasLeader() {
		// Waiting for room: place() gives it a standby with its leader.
		return false
	}
	r := e.w.topo.Regions[s.lr]
	zi, ni, ok := failover.Standby(r, int(s.lz))
	if !ok {
		e.setUnprotected(id)
		e.retryLater(id)
		return false
	}
	e.attachStandby(id, e.w.zones[s.lr][zi], ni)
	return true
}

// ---- outages ----

// beginOutage starts (or extends) a stream's stall.
func (e *engine) beginOutage(id int32, fault int32, resumeAt, lostUntil time.Duration) {
	s := &e.streams[id]
	if !s.down {
		s.down, s.downSince, s.fault = true, e.now, fault
		s.resumeAt, s.lostUntil = resumeAt, lostUntil
		e.downNow++
	} else {
		s.resumeAt, s.lostUntil = max(s.resumeAt, resumeAt), max(s.lostUntil, lostUntil)
	}
	s.epoch++
	if !s.waiting {
		e.q.push(event{at: s.resumeAt, kind: evResume, a: id, epoch: s.epoch})
	}
}

// closeOutage ends a stall at the given time and books it.
func (e *engine) closeOutage(s *stream, at time.Duration) {
	stall := at - s.downSince
	lost := min(s.lostUntil, at) - s.downSince
	s.stall += stall
	s.black += lost
	s.down = false
	e.downNow--
	e.res.BlackViewerHours += lost.Hours() * float64(s.viewers)
	if s.fault >= 0 {
		f := &e.res.Faults[s.fault]
		f.Affected++
		f.SumStall += stall
		f.SumLost += lost
		f.MaxStall = max(f.MaxStall, stall)
		f.MaxLost = max(f.MaxLost, lost)
	}
}

// failure describes how a leader was lost, for failLeader.
type failure struct {
	fault     int32
	noticed   time.Duration // the broadcaster notices its connection is gone
	healthyAt time.Duration // from then on new flows reach only healthy targets
	pDead     float64       // chance an earlier reconnection lands on a dead target
	coordAt   time.Duration // the stream's Redis can hand out the lease again
	lapse     time.Duration // when the old lease lapses (0: draw it)
	newRegion bool          // the region is gone: start afresh elsewhere
	planned   bool          // a drain: the leader hands over on purpose
}

// failLeader moves a stream whose leader is gone (or going) to its standby
// or a new node and books the stall the timings imply.
func (e *engine) failLeader(id int32, f failure) {
	t := e.c.Timings
	s := &e.streams[id]
	e.detachLeader(s)
	standbyOK := s.hasStandby() && !f.newRegion && e.w.topo.Regions[s.sr].Zones[s.sz].Up &&
		e.w.topo.Regions[s.sr].Zones[s.sz].Nodes[s.sn].Up && !e.w.topo.Regions[s.sr].Zones[s.sz].Nodes[s.sn].Draining
	keyframe := time.Duration(e.rng.Int64N(int64(t.SegmentDuration)))

	var resume, lost time.Duration
	switch {
	case f.planned && s.redundant && standbyOK:
		resume, lost = e.now+t.PartDuration, e.now
	case f.planned:
		back := e.now + t.BroadcasterRetry
		resume, lost = max(e.now+t.PartDuration, back+keyframe), back
	default:
		lapse := f.lapse
		if lapse == 0 {
			lapse = e.now + t.LeaseTTL - time.Duration(e.rng.Int64N(int64(t.LeaseRenew)))
		}
		lapse = max(lapse, f.coordAt)
		if s.redundant && standbyOK {
			resume, lost = lapse+t.PartDuration, e.now
			break
		}
		back := t.ReconnectAt(f.noticed, f.healthyAt, func(time.Duration) bool { return e.rng.Float64() < f.pDead })
		if f.newRegion {
			resume = back + keyframe // a fresh lease in the new region: nothing to wait for
		} else {
			resume = max(back, lapse) + keyframe
		}
		lost = back
	}

	if standbyOK {
		z := e.w.zones[s.sr][s.sz]
		slot := int(s.sn)
		e.detachStandby(s)
		e.attachLeader(id, z, slot)
		e.setUnprotected(id)
		restore := t.StandbyRestore()
		if f.planned {
			restore = t.SegmentDuration
		}
		e.q.push(event{at: e.now + restore, kind: evStandbyRestore, a: id, epoch: s.epoch + 1})
	} else {
		e.detachStandby(s)
		if !e.place(id) {
			s.waiting, s.waitSince = true, e.now
			e.waiting = append(e.waiting, id)
		}
	}
	e.beginOutage(id, f.fault, resume, lost)
}

// retryWaiting places the streams that found no room, now that some may
// have appeared.
func (e *engine) retryWaiting() {
	kept := e.waiting[:0]
	for _, id := range e.waiting {
		s := &e.streams[id]
		if s.ended || !s.waiting {
			continue
		}
		if !e.place(id) {
			kept = append(kept, id)
			continue
		}
		s.waiting = false
		wait := e.now - s.waitSince
		e.res.CapacityWaits++
		e.res.CapacityWaitMax = max(e.res.CapacityWaitMax, wait)
		keyframe := time.Duration(e.rng.Int64N(int64(e.c.Timings.SegmentDuration)))
		e.beginOutage(id, s.fault, e.now+keyframe, e.now)
	}
	e.waiting = kept
}

func (e *engine) retryUnprotected() {
	kept := e.unprot[:0]
	// A twin zone that refused one stream refuses the rest of this pass:
	// remember it rather than ask again for each of thousands of streams.
	full := map[[2]int32]bool{}
	for _, id := range e.unprot {
		s := &e.streams[id]
		if s.ended || !s.unprotected {
			s.retrying = false
			continue
		}
		key := [2]int32{s.lr, s.lz}
		if !s.hasLeader() || full[key] {
			kept = append(kept, id)
			continue
		}
		if e.restoreStandby(id) {
			s.retrying = false
		} else {
			full[key] = true
			kept = append(kept, id)
		}
	}
	e.unprot = kept
}

func (e *engine) finish() {
	for i := range e.streams {
		s := &e.streams[i]
		if s.down {
			e.closeOutage(s, e.now)
		}
		e.setProtected(s)
		e.res.StallSeconds = append(e.res.StallSeconds, s.stall.Seconds())
		e.res.BlackSeconds = append(e.res.BlackSeconds, s.black.Seconds())
	}
	for _, z := range e.flat {
		for slot := range z.nodes {
			if z.nodes[slot].live {
				z.instanceSeconds += (e.now - z.nodes[slot].launchedAt).Seconds()
			}
		}
		zr := ZoneResult{Name: z.name, InstanceHours: z.instanceSeconds / 3600, PeakUtil: z.peakUtil, PeakNodes: z.peakNodes}
		zr.CostUSD = zr.InstanceHours * e.c.USDPerHour
		if z.utilSamples > 0 {
			zr.MeanUtil = z.utilSum / float64(z.utilSamples)
		}
		e.res.Zones = append(e.res.Zones, zr)
		e.res.InstanceHours += zr.InstanceHours
		e.res.CostUSD += zr.CostUSD
	}
	e.res.SimulatedSeconds = e.c.Duration.Seconds()
}

func (e *engine) sample() {
	smp := Sample{At: e.now, Live: e.live, Down: e.downNow, Viewers: e.viewers}
	for _, z := range e.flat {
		used, capacity := e.w.load(z)
		u := 0.0
		if capacity > 0 {
			u = float64(used) / float64(capacity)
		}
		nodes := e.w.liveNodes(z)
		smp.ZoneUtil = append(smp.ZoneUtil, u)
		smp.ZoneNodes = append(smp.ZoneNodes, nodes)
		z.utilSum += u
		z.utilSamples++
		z.peakUtil = max(z.peakUtil, u)
		z.peakNodes = max(z.peakNodes, nodes)
	}
	e.res.Samples = append(e.res.Samples, smp)
	e.res.PeakViewers = max(e.res.PeakViewers, e.viewers)
	e.res.PeakEgressGbps = max(e.res.PeakEgressGbps, float64(e.viewers)*e.c.AvgBitrateBps/1e9)
	// Each shield POP fetches every part and every blocking playlist
	// reload of every rendition once.
	reqs := float64(e.live*e.c.Renditions*e.c.ShieldPOPs) * 2 / e.c.Timings.PartDuration.Seconds()
	e.res.PeakOriginReqPS = max(e.res.PeakOriginReqPS, reqs)
}
