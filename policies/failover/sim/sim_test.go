package sim

import (
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
// the simulated stalls against failover.WorstCase: the simulator may do
// better than the worst case (it draws where in their cycles the health
// checks and renewals were), never worse, except by the time streams
// waited for capacity.
func TestEachFaultWithinPolicyBound(t *testing.T) {
	at := 17 * time.Hour // eu-west-1's evening
	cases := []struct {
		spec     FaultSpec
		affects  bool
		minStall time.Duration // the least any affected stream can stall
	}{
		{FaultSpec{Kind: failover.NodeLoss, Region: 0, Zone: 0}, true, failover.DefaultTimings.LeaseTTL - failover.DefaultTimings.LeaseRenew},
		{FaultSpec{Kind: failover.StandbyLoss, Region: 0, Zone: 1}, false, 0},
		{FaultSpec{Kind: failover.ZoneLoss, Region: 0, Zone: 0, Duration: 20 * time.Minute}, true, failover.DefaultTimings.LeaseTTL - failover.DefaultTimings.LeaseRenew},
		{FaultSpec{Kind: failover.RedisPrimaryLoss, Region: 0, Zone: 0, Duration: 10 * time.Minute}, false, 0},
		{FaultSpec{Kind: failover.RedisPairLoss, Region: 0, Zone: 0, Duration: time.Minute}, false, 0},
		{FaultSpec{Kind: failover.RegionLoss, Region: 0, Zone: 0, Duration: 30 * time.Minute}, true, failover.DefaultTimings.SRTPeerIdleTimeout},
		{FaultSpec{Kind: failover.Partition, Region: 0, Zone: 0, Duration: 30 * time.Second}, true, failover.DefaultTimings.LeaseTTL - failover.DefaultTimings.LeaseRenew},
		{FaultSpec{Kind: failover.LeaderFreeze, Region: 0, Zone: 0, Duration: 2 * time.Second}, true, 2 * time.Second},
		{FaultSpec{Kind: failover.RollingUpdate, Region: 0, Zone: -1}, true, failover.DefaultTimings.PartDuration},
	}
	for _, tc := range cases {
		t.Run(tc.spec.Kind.String(), func(t *testing.T) {
			c := smallConfig(t, 3000, 4, 24)
			tc.spec.At = at
			c.Faults = []FaultSpec{tc.spec}
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
			if f.Affected > 0 && f.SumStall < time.Duration(f.Affected)*tc.minStall {
				t.Fatalf("%v: mean stall %v under the least possible %v", tc.spec.Kind, f.MeanStall(), tc.minStall)
			}
			if (tc.spec.Kind == failover.ZoneLoss || tc.spec.Kind == failover.StandbyLoss) && r.UnprotectedStreamHours <= 0 {
				t.Fatal("a zone loss must leave the twin's streams without standby for a while")
			}
		})
	}
}

// TestTimingsDriveTheFaultModel: the simulator reads the policy's timings,
// so a slower accelerator or a longer lease shows in the figures.
func TestTimingsDriveTheFaultModel(t *testing.T) {
	noForward := func(c *Config) {
		r := c.Timings.AWSRouting()
		r.ReconnectReachesStandby = false
		c.Routing = &r
	}
	meanStallVia := func(kind failover.Fault, mutate func(*failover.Timings), route func(*Config)) time.Duration {
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
		return r.Faults[0].MeanStall()
	}
	meanStall := func(kind failover.Fault, mutate func(*failover.Timings)) time.Duration {
		return meanStallVia(kind, mutate, nil)
	}
	base := meanStall(failover.ZoneLoss, func(*failover.Timings) {})
	slowGA := meanStall(failover.ZoneLoss, func(x *failover.Timings) { x.GATrafficShift = 90 * time.Second })
	if slowGA < base+20*time.Second {
		t.Fatalf("tripling the GA traffic shift moved the mean zone-loss stall from %v only to %v", base, slowGA)
	}
	// Without the forward to the standby, a node loss waits for the lease;
	// with it (the default), the lease no longer matters.
	longLease := func(x *failover.Timings) { x.LeaseTTL = 20 * time.Second }
	base = meanStallVia(failover.NodeLoss, func(*failover.Timings) {}, noForward)
	if long := meanStallVia(failover.NodeLoss, longLease, noForward); long < base+8*time.Second {
		t.Fatalf("-no-forward: a 20 s lease moved the mean node-loss stall from %v only to %v", base, long)
	}
	base = meanStall(failover.NodeLoss, func(*failover.Timings) {})
	if long := meanStall(failover.NodeLoss, longLease); long != base {
		t.Fatalf("with the forward, a 20 s lease still moved the mean node-loss stall from %v to %v", base, long)
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
// lost while its zone's Redis pair is down stays dark until Redis is back,
// and what exceeds the playlist window is lost.
func TestLeaderLossDuringRedisOutage(t *testing.T) {
	c := smallConfig(t, 3000, 2, 24)
	c.RedundantShare = 0
	c.Faults = []FaultSpec{
		{Kind: failover.RedisPairLoss, At: 17 * time.Hour, Duration: 10 * time.Minute, Region: 0, Zone: 0},
		{Kind: failover.NodeLoss, At: 17*time.Hour + 2*time.Minute, Region: 0, Zone: 0},
	}
	r, err := Run(c)
	if err != nil {
		t.Fatal(err)
	}
	f := r.Faults[1]
	if f.Affected == 0 {
		t.Fatal("the node loss affected nobody")
	}
	if f.MaxStall < 8*time.Minute || f.MaxStall > 8*time.Minute+c.Timings.PartDuration+c.Timings.SegmentDuration {
		t.Fatalf("stall %v, want the rest of the Redis outage (8 min)", f.MaxStall)
	}
	window := time.Duration(c.WindowSegments) * c.Timings.SegmentDuration
	if f.MaxLost < f.MaxStall-window {
		t.Fatalf("lost %v of a %v stall: more than a window (%v) was kept", f.MaxLost, f.MaxStall, window)
	}
}
