package sim

import (
	"fmt"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

func smallConfig(t *testing.T, streams, regions int, hours float64) Config {
	t.Helper()
	c, err := DefaultConfig(streams, regions, hours, 7)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestQueueOrdersByTimeThenInsertion(t *testing.T) {
	var q queue
	rng := rand.New(rand.NewPCG(1, 1))
	for i := range 5000 {
		q.push(event{at: time.Duration(rng.IntN(100)), a: int32(i)})
	}
	prev := event{at: -1}
	for q.len() > 0 {
		e := q.pop()
		if e.at < prev.at || (e.at == prev.at && e.seq < prev.seq) {
			t.Fatalf("popped %+v after %+v", e, prev)
		}
		prev = e
	}
}

func TestRunIsDeterministic(t *testing.T) {
	c := smallConfig(t, 1500, 3, 24)
	a, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Fatal("two runs with the same seed differ")
	}
	c.Seed++
	d, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(a.BlackSeconds, d.BlackSeconds) {
		t.Fatal("a different seed gave identical per-stream results")
	}
}

func TestLoadModel(t *testing.T) {
	c := smallConfig(t, 4000, 6, 24)
	c.NoFaults = true
	r, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	if r.PeakConcurrent < 3600 || r.PeakConcurrent > 4400 {
		t.Fatalf("peak concurrency %d, want within 10 %% of 4000", r.PeakConcurrent)
	}
	// One customer's batch: 20 streams starting in the same instant.
	sessions := generateSessions(c, rand.New(rand.NewPCG(c.Seed, 1)))
	starts := map[time.Duration]int{}
	big := 0
	for _, s := range sessions {
		if s.start > 0 {
			starts[s.start]++
		}
		if s.viewers >= 50_000 {
			big++
		}
	}
	burst := 0
	for _, n := range starts {
		burst = max(burst, n)
	}
	if burst < c.CustomerBatch {
		t.Fatalf("largest simultaneous start is %d streams, want a customer batch of %d", burst, c.CustomerBatch)
	}
	if big == 0 {
		t.Fatal("no 50,000+ audience in a day")
	}
	if r.PeakViewers <= 0 || r.PeakEgressGbps <= 0 || r.PeakOriginReqPS <= 0 {
		t.Fatalf("delivery figures missing: %d viewers, %v Gbps, %v req/s", r.PeakViewers, r.PeakEgressGbps, r.PeakOriginReqPS)
	}
	// Without faults nothing stalls, and scaling keeps up with the bursts.
	if r.CapacityWaits != 0 || Sum(r.StallSeconds) != 0 || Sum(r.BlackSeconds) != 0 {
		t.Fatalf("fault-free day: %d capacity waits, %.1f s stall, %.1f s black", r.CapacityWaits, Sum(r.StallSeconds), Sum(r.BlackSeconds))
	}
	if len(r.ScaleOuts) == 0 || r.InstanceHours <= 0 {
		t.Fatalf("no scale-out (%d) or no instance-hours (%v)", len(r.ScaleOuts), r.InstanceHours)
	}
	if got, want := r.CostUSD, r.InstanceHours*c.USDPerHour; got < want*0.999 || got > want*1.001 {
		t.Fatalf("cost %v, want instance-hours × price %v", got, want)
	}
	for _, z := range r.Zones {
		if z.MeanUtil <= 0.2 || z.MeanUtil > c.Scaling.TargetUtilisation+0.15 {
			t.Errorf("zone %s mean utilisation %.2f far from the %.2f target", z.Name, z.MeanUtil, c.Scaling.TargetUtilisation)
		}
	}
}

// TestEachFaultWithinPolicyBound runs one fault at a busy hour and checks
// the simulated stalls against failover.WorstCaseVia, for production as
// shipped (fast fencing and the slate) and with the health checks only:
// the simulator may do better than the worst case (it draws where in their
// cycles the health checks and renewals were), never worse, except by the
// time streams waited for capacity.
func TestEachFaultWithinPolicyBound(t *testing.T) {
	at := 17 * time.Hour // eu-west-1's evening
	tm := failover.DefaultTimings
	leaseWait, part, slate := tm.LeaseTTL-tm.LeaseRenew, tm.PartDuration, tm.SlateAfter()+tm.PartDuration
	cases := []struct {
		spec    FaultSpec
		affects bool
		// the least any affected stream can stall, with the health checks
		// only and as shipped (a backup-encoder stream: a part)
		minStall, minStallFenced time.Duration
	}{
		{FaultSpec{Kind: failover.NodeLoss, Region: 0, Zone: 0}, true, leaseWait, part},
		{FaultSpec{Kind: failover.StandbyLoss, Region: 0, Zone: 1}, false, 0, 0},
		{FaultSpec{Kind: failover.ZoneLoss, Region: 0, Zone: 0, Duration: 20 * time.Minute}, true, leaseWait, part},
		{FaultSpec{Kind: failover.RedisPrimaryLoss, Region: 0, Zone: 0, Duration: 10 * time.Minute}, false, 0, 0},
		{FaultSpec{Kind: failover.RedisPairLoss, Region: 0, Zone: 0, Duration: time.Minute}, false, 0, 0},
		{FaultSpec{Kind: failover.RegionLoss, Region: 0, Zone: 0, Duration: 30 * time.Minute}, true, tm.SRTPeerIdleTimeout, tm.SRTPeerIdleTimeout},
		{FaultSpec{Kind: failover.Partition, Region: 0, Zone: 0, Duration: 30 * time.Second}, true, leaseWait, part},
		{FaultSpec{Kind: failover.LeaderFreeze, Region: 0, Zone: 0, Duration: 2 * time.Second}, true, 2 * time.Second, slate},
		{FaultSpec{Kind: failover.RollingUpdate, Region: 0, Zone: -1}, true, part, part},
	}
	routings := []struct {
		name   string
		r      failover.Routing
		fenced bool
	}{
		{"shipped", tm.AWSRouting(), true},
		{"health checks only", tm.AWSRouting().WithoutFencing(), false},
	}
	for _, rt := range routings {
		for _, tc := range cases {
			t.Run(rt.name+"/"+tc.spec.Kind.String(), func(t *testing.T) {
				c := smallConfig(t, 3000, 4, 24)
				tc.spec.At = at
				c.Faults = []FaultSpec{tc.spec}
				c.Routing = &rt.r
				r, err := Run(c)
				if err != nil {
					t.Fatal(err)
				}
				f := r.Faults[0]
				if tc.affects != (f.Affected > 0) {
					t.Fatalf("%v on %s affected %d streams; want affected=%v", tc.spec.Kind, f.Target, f.Affected, tc.affects)
				}
				slack := r.CapacityWaitMax
				if f.MaxStall > f.Bound.Stall+slack || f.MaxLost > f.Bound.MediaLost+slack {
					t.Fatalf("%v: max stall %v lost %v beyond the policy bound %v / %v (capacity waits up to %v)",
						tc.spec.Kind, f.MaxStall, f.MaxLost, f.Bound.Stall, f.Bound.MediaLost, slack)
				}
				least := tc.minStall
				if rt.fenced {
					least = tc.minStallFenced
				}
				if f.Affected > 0 && f.SumStall < time.Duration(f.Affected)*least {
					t.Fatalf("%v: mean stall %v under the least possible %v", tc.spec.Kind, f.MeanStall(), least)
				}
				if (tc.spec.Kind == failover.ZoneLoss || tc.spec.Kind == failover.StandbyLoss) && r.UnprotectedStreamHours <= 0 {
					t.Fatal("a zone loss must leave the twin's streams without standby for a while")
				}
			})
		}
	}
}

// TestFencingMovesTheBroadcasters: the same faults with and without fast
// fencing. A fenced node loss loses at most the fence's worst case plus a
// handshake resend; a zone loss no longer waits for the accelerator's
// traffic shift; a region loss, with no survivor to fence it, and a Redis
// partition, whose relay stays live, are untouched.
func TestFencingMovesTheBroadcasters(t *testing.T) {
	tm := failover.DefaultTimings
	f := failover.DefaultFencing
	nodeMax := f.NodeFencedAfter(tm) + failover.SRTHandshakeResend
	cases := []struct {
		name      string
		streams   int // peak streams: few make zones of few nodes, where a reconnection often hashes to the dead one
		spec      FaultSpec
		fencedMax time.Duration // the most media a fenced stream loses; 0: as without fencing
		less      bool          // fencing must lose less in sum (else: no more)
	}{
		{"node-loss", 3000, FaultSpec{Kind: failover.NodeLoss, Region: 0, Zone: 0}, nodeMax, false},
		{"node-loss in a small zone", 150, FaultSpec{Kind: failover.NodeLoss, Region: 0, Zone: 0}, nodeMax, true},
		{"zone-loss", 3000, FaultSpec{Kind: failover.ZoneLoss, Region: 0, Zone: 0, Duration: 20 * time.Minute}, f.ZoneFencedAt(0, tm.RedisFailover), true},
		{"partition", 3000, FaultSpec{Kind: failover.Partition, Region: 0, Zone: 0, Duration: 30 * time.Second}, nodeMax, false},
		{"partition in a small zone", 150, FaultSpec{Kind: failover.Partition, Region: 0, Zone: 0, Duration: 30 * time.Second}, nodeMax, true},
		{"region-loss", 3000, FaultSpec{Kind: failover.RegionLoss, Region: 0, Zone: 0, Duration: 30 * time.Minute}, 0, false},
		{"redis-partition", 3000, FaultSpec{Kind: failover.RedisPartition, Region: 0, Zone: 0, Duration: 30 * time.Second}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lost := map[bool]FaultResult{}
			for _, fenced := range []bool{true, false} {
				c := smallConfig(t, tc.streams, 4, 24)
				tc.spec.At = 17 * time.Hour
				c.Faults = []FaultSpec{tc.spec}
				r := tm.AWSRouting()
				if !fenced {
					r = r.WithoutFencing()
				}
				c.Routing = &r
				res, err := Run(c)
				if err != nil {
					t.Fatal(err)
				}
				lost[fenced] = res.Faults[0]
			}
			with, without := lost[true], lost[false]
			t.Logf("%v: media lost max %v with fencing, %v without; sum %v / %v", tc.spec.Kind, with.MaxLost, without.MaxLost, with.SumLost, without.SumLost)
			if tc.fencedMax == 0 {
				if with.SumLost != without.SumLost {
					t.Fatalf("fencing changed the media lost (%v, %v without)", with.SumLost, without.SumLost)
				}
				return
			}
			if with.Affected == 0 || with.MaxLost > tc.fencedMax || with.SumLost > without.SumLost || (tc.less && with.SumLost == without.SumLost) {
				t.Fatalf("fenced: %d streams lost up to %v (sum %v), want at most %v and less than without (%v, less: %v)",
					with.Affected, with.MaxLost, with.SumLost, tc.fencedMax, without.SumLost, tc.less)
			}
		})
	}
}

// TestTimingsDriveTheFaultModel: the simulator reads the policy's timings,
// so a slower accelerator or a longer lease shows in the figures.
func TestTimingsDriveTheFaultModel(t *testing.T) {
	healthChecks := func(c *Config) {
		r := c.Timings.AWSRouting().WithoutFencing()
		c.Routing = &r
	}
	noForward := func(c *Config) {
		r := c.Timings.AWSRouting().WithoutFencing()
		r.ReconnectReachesStandby = false
		c.Routing = &r
	}
	run := func(kind failover.Fault, mutate func(*failover.Timings), route func(*Config)) FaultResult {
		c := smallConfig(t, 2000, 2, 24)
		mutate(&c.Timings)
		if route != nil {
			route(&c)
		}
		c.Faults = []FaultSpec{{Kind: kind, At: 17 * time.Hour, Duration: 10 * time.Minute, Region: 0, Zone: 0}}
		r, err := Run(c)
		if err != nil {
			t.Fatal(err)
		}
		if r.Faults[0].Affected == 0 {
			t.Fatalf("%v affected nothing", kind)
		}
		return r.Faults[0]
	}
	meanStallVia := func(kind failover.Fault, mutate func(*failover.Timings), route func(*Config)) time.Duration {
		return run(kind, mutate, route).MeanStall()
	}
	same := func(*failover.Timings) {}
	slowGA := func(x *failover.Timings) { x.GATrafficShift = 90 * time.Second }
	base := meanStallVia(failover.ZoneLoss, same, healthChecks)
	if slow := meanStallVia(failover.ZoneLoss, slowGA, healthChecks); slow < base+20*time.Second {
		t.Fatalf("tripling the GA traffic shift moved the mean zone-loss stall from %v only to %v", base, slow)
	}
	// Fenced, the zone's weight moves the flows long before the
	// accelerator's own shift would.
	if a, b := run(failover.ZoneLoss, same, nil), run(failover.ZoneLoss, slowGA, nil); a.SumLost != b.SumLost {
		t.Fatalf("fenced, the GA traffic shift still moved the zone loss's media lost from %v to %v", a.SumLost, b.SumLost)
	}
	// Without the forward to the standby, a node loss waits for the lease;
	// with it, the lease no longer matters.
	longLease := func(x *failover.Timings) { x.LeaseTTL = 20 * time.Second }
	base = meanStallVia(failover.NodeLoss, same, noForward)
	if long := meanStallVia(failover.NodeLoss, longLease, noForward); long < base+8*time.Second {
		t.Fatalf("-no-forward: a 20 s lease moved the mean node-loss stall from %v only to %v", base, long)
	}
	base = meanStallVia(failover.NodeLoss, same, healthChecks)
	if long := meanStallVia(failover.NodeLoss, longLease, healthChecks); long != base {
		t.Fatalf("with the forward, a 20 s lease still moved the mean node-loss stall from %v to %v", base, long)
	}
	// Fenced, the lease decides when the node is fenced: a 20 s lease
	// leaves it to the NLB's 10 s again.
	if a, b := run(failover.NodeLoss, longLease, nil), run(failover.NodeLoss, longLease, healthChecks); a.SumLost != b.SumLost {
		t.Fatalf("a 20 s lease: fenced %v lost, health checks only %v", a.SumLost, b.SumLost)
	}
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Config)
		want   string
	}{
		{"streams", func(c *Config) { c.Streams = 0 }, "at least one"},
		{"duration", func(c *Config) { c.Duration = time.Minute }, "at least an hour"},
		{"timings", func(c *Config) { c.Timings.LeaseTTL = time.Second }, "timings"},
		{"fault region", func(c *Config) { c.Faults = []FaultSpec{{Kind: failover.ZoneLoss, Region: 9}} }, "out of range"},
		{"fault time", func(c *Config) { c.Faults = []FaultSpec{{Kind: failover.ZoneLoss, At: 48 * time.Hour}} }, "outside the simulated"},
		{"shares", func(c *Config) { c.StandbyLoad = 2 }, "within 0–1"},
		{"fencing", func(c *Config) {
			c.Timings.NodeHeartbeat = 1500 * time.Millisecond
			c.Timings.NodeTTL = 4 * time.Second
		}, "fencing quiet time"},
	}
	for _, tc := range cases {
		c := smallConfig(t, 100, 2, 24)
		tc.mutate(&c)
		if _, err := Run(c); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: want an error containing %q, got %v", tc.name, tc.want, err)
		}
	}
}

// TestLeaderLossDuringRedisOutage: a takeover needs a lease, so a leader
// lost while its region's Redis pair is down stays dark until Redis is
// back, and what exceeds the playlist window is lost. The slate does not
// cover it: the standby, which can neither lead nor find the forward,
// stops serving its copy after StandbyServesFor.
func TestLeaderLossDuringRedisOutage(t *testing.T) {
	tm := failover.DefaultTimings
	for _, r := range []failover.Routing{tm.AWSRouting(), tm.AWSRouting().WithoutFencing()} {
		t.Run(fmt.Sprintf("slate %v", r.Slate), func(t *testing.T) {
			c := smallConfig(t, 3000, 2, 24)
			c.RedundantShare = 0
			c.Routing = &r
			c.Faults = []FaultSpec{
				{Kind: failover.RedisPairLoss, At: 17 * time.Hour, Duration: 10 * time.Minute, Region: 0, Zone: 0},
				{Kind: failover.NodeLoss, At: 17*time.Hour + 2*time.Minute, Region: 0, Zone: 0},
			}
			res, err := Run(c)
			if err != nil {
				t.Fatal(err)
			}
			f := res.Faults[1]
			if f.Affected == 0 {
				t.Fatal("the node loss affected nobody")
			}
			least := 8 * time.Minute // the rest of the Redis outage
			if r.Slate {
				least -= tm.StandbyServesFor() - tm.SlateAfter() - tm.PartDuration
			}
			if f.MaxStall < least || f.MaxStall > least+tm.PartDuration+tm.SegmentDuration {
				t.Fatalf("stall %v, want %v (the rest of the Redis outage)", f.MaxStall, least)
			}
			window := time.Duration(c.WindowSegments) * tm.SegmentDuration
			if f.MaxLost < 8*time.Minute-window {
				t.Fatalf("lost %v of an 8 min outage: more than a window (%v) was kept", f.MaxLost, window)
			}
		})
	}
}
