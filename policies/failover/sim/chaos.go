package sim

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// ChaosCase is one fault of `make chaos` (dataplane/e2e/chaos):
// a set-up of one node per zone, a1 leading one stream and b1 standing by.
type ChaosCase struct {
	Name     string // as the chaos test names it
	Fault    failover.Fault
	Zone     int           // 0: the leader's zone, 1: the standby's
	Duration time.Duration // freeze, partition or Redis outage
	Drain    bool
	// Redundant: the stream has a backup feed into the standby's zone.
	Redundant bool
	// Elsewhere: the broadcaster's reconnection lands on a node that is not
	// the standby, which forwards the ingest to it.
	Elsewhere bool
	// Note says how the case is modelled when that is not obvious.
	Note string
}

// ChaosCases mirrors the chaos test's faults.
func ChaosCases(t failover.Timings) []ChaosCase {
	return []ChaosCase{
		{Name: "sigkill-standby", Fault: failover.NodeLoss, Zone: 1},
		{Name: "sigkill-leader", Fault: failover.NodeLoss, Zone: 0},
		{Name: "sigkill-leader-and-encoder", Fault: failover.NodeLoss, Zone: 0,
			Note: "as sigkill-leader: the restarted encoder's pause stands for the sender's reconnection"},
		{Name: "player-sigkill-leader-and-encoder", Fault: failover.NodeLoss, Zone: 0,
			Note: "as sigkill-leader-and-encoder, the picture of hls.js through an origin group (its buffer absorbs part of the stall)"},
		{Name: "sigkill-twin-then-leader", Fault: failover.NodeLoss, Zone: 0,
			Note: "as sigkill-leader: the standby is the same-zone node the policy fell back to, as warm"},
		{Name: "sigkill-leader-reconnect-elsewhere", Fault: failover.NodeLoss, Zone: 0, Elsewhere: true,
			Note: "the reconnection reaches a2, which forwards it to the standby"},
		{Name: "sigkill-leader-then-new-leader", Fault: failover.NodeLoss, Zone: 0, Elsewhere: true,
			Note: "the first death as reconnect-elsewhere; the second costs nothing (the forwarding node, aligned, goes on with its own ingest)"},
		{Name: "sigstop-leader", Fault: failover.LeaderFreeze, Zone: 0, Duration: t.LeaseTTL + 4*time.Second},
		{Name: "sigterm-drain", Fault: failover.RollingUpdate, Zone: 0, Drain: true},
		{Name: "api-drain", Fault: failover.RollingUpdate, Zone: 0, Drain: true, Note: "as sigterm-drain"},
		{Name: "sigterm-drain-reconnect-elsewhere", Fault: failover.RollingUpdate, Zone: 0, Drain: true, Elsewhere: true,
			Note: "as sigterm-drain; the reconnection reaches a2, which forwards it to the new leader"},
		{Name: "input-primary-feed-stops", Fault: failover.RollingUpdate, Zone: 0, Drain: true, Redundant: true,
			Note: "a handover to the standby, whose backup feed continues"},
		{Name: "transcoder-sigkill-leader-ffmpeg", Fault: failover.RollingUpdate, Zone: 0, Drain: true, Redundant: true,
			Note: "a handover to the standby, whose warm ladder continues (modelled as the backup-feed handover)"},
		{Name: "kill-redis-primary", Fault: failover.RedisPrimaryLoss, Zone: 0, Duration: time.Minute},
		{Name: "kill-both-redis-10s", Fault: failover.RedisPairLoss, Zone: 0, Duration: 10 * time.Second},
		{Name: "partition-leader-from-redis", Fault: failover.RedisPartition, Zone: 0, Duration: t.LeaseTTL + 4*time.Second},
		{Name: "partition-leader-full", Fault: failover.Partition, Zone: 0, Duration: t.LeaseTTL + 4*time.Second},
	}
}

// Prediction is the simulator's distribution of one chaos case over runs
// that differ in where the lease renewal, the keyframe and the health
// checks were when the fault struck.
type Prediction struct {
	Case                            ChaosCase
	Runs                            int
	StallMin, StallMedian, StallMax time.Duration
	LostMin, LostMedian, LostMax    time.Duration
	WorstStall, WorstLost           time.Duration // failover.WorstCaseVia for the case
}

// PredictChaos simulates each chaos case runs times with the given timings
// and routing (DirectRouting and LocalTimings for the local set-up).
func PredictChaos(t failover.Timings, r failover.Routing, runs int, seed uint64) ([]Prediction, error) {
	if runs < 1 {
		return nil, fmt.Errorf("sim: %d runs", runs)
	}
	var out []Prediction
	rng := rand.New(rand.NewPCG(seed, 4))
	for _, cc := range ChaosCases(t) {
		r := r
		if cc.Elsewhere {
			r.ReconnectLandsOnStandby = false
		}
		var stalls, losts []time.Duration
		for range runs {
			stall, lost, err := chaosRun(t, r, cc, rng.Uint64())
			if err != nil {
				return nil, fmt.Errorf("%s: %w", cc.Name, err)
			}
			stalls, losts = append(stalls, stall), append(losts, lost)
		}
		slices.Sort(stalls)
		slices.Sort(losts)
		p := Prediction{Case: cc, Runs: runs,
			StallMin: stalls[0], StallMedian: stalls[len(stalls)/2], StallMax: stalls[len(stalls)-1],
			LostMin: losts[0], LostMedian: losts[len(losts)/2], LostMax: losts[len(losts)-1]}
		for _, b := range failover.WorstCaseVia(t, cc.Duration, r) {
			if b.Fault == cc.Fault {
				p.WorstStall, p.WorstLost = b.Stall, b.MediaLost
			}
		}
		switch {
		case cc.Fault == failover.NodeLoss && cc.Zone == 1:
			p.WorstStall, p.WorstLost = 0, 0 // the standby's node: nothing led there
		case cc.Redundant:
			p.WorstStall, p.WorstLost = t.PartDuration, 0
		}
		out = append(out, p)
	}
	return out, nil
}

// chaosRun is one run of one case: one region, one node per zone, one
// stream; the fault strikes 20 s in (plus up to a second, so phases vary).
func chaosRun(t failover.Timings, r failover.Routing, cc ChaosCase, seed uint64) (stall, lost time.Duration, err error) {
	region, err := failover.LookupRegion("eu-west-1")
	if err != nil {
		return 0, 0, err
	}
	c, err := DefaultConfig(1, 1, 1, seed)
	if err != nil {
		return 0, 0, err
	}
	c.Regions, c.Timings, c.Routing, c.NoFaults = []failover.RegionInfo{region}, t, &r, true
	if err := c.Validate(); err != nil && t == failover.DefaultTimings {
		return 0, 0, err
	}
	e := newEngine(c)
	for _, z := range e.flat {
		slot := e.w.launch(z, 0, e.capacity, e.nodePhase())
		e.w.ready(z, slot)
	}
	horizon := 2 * time.Minute
	e.streams = []stream{newStream(session{start: 0, end: horizon, loc: region.Location, viewers: 1, redundant: cc.Redundant})}
	e.q.push(event{at: 0, kind: evStreamStart, a: 0})
	at := 20*time.Second + time.Duration(e.rng.Int64N(int64(time.Second)))
	e.scheduleFaults([]FaultSpec{{Kind: cc.Fault, At: at, Duration: cc.Duration, Region: 0, Zone: cc.Zone, Drain: cc.Drain}})
	e.loop(horizon - time.Second)
	s := &e.streams[0]
	if s.down {
		e.closeOutage(s, e.now)
	}
	return s.stall, s.black, nil
}
