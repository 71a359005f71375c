package failover

import (
	"strings"
	"testing"
	"time"
)

func TestDefaultTimingsValid(t *testing.T) {
	if err := DefaultTimings.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := DefaultScaling.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestValidateRules(t *testing.T) {
	// One case per rule: break exactly that rule and expect its message.
	cases := []struct {
		name   string
		mutate func(*Timings)
		want   string
	}{
		{"positive durations", func(x *Timings) { x.BroadcasterRetry = 0 }, "BroadcasterRetry must be positive"},
		{"NLB interval range", func(x *Timings) { x.NLBHealthCheckInterval = 2 * time.Second }, "outside AWS's 5–300 s"},
		{"NLB interval whole seconds", func(x *Timings) { x.NLBHealthCheckInterval = 5500 * time.Millisecond }, "whole seconds"},
		{"NLB healthy threshold", func(x *Timings) { x.NLBHealthyThreshold = 1 }, "healthy threshold 1 outside"},
		{"NLB unhealthy threshold", func(x *Timings) { x.NLBUnhealthyThreshold = 11 }, "unhealthy threshold 11 outside"},
		{"NLB path", func(x *Timings) { x.NLBHealthCheckPath = "readyz" }, "absolute path"},
		{"GA interval", func(x *Timings) { x.GAHealthCheckInterval = 15 * time.Second }, "10 s or 30 s"},
		{"GA threshold", func(x *Timings) { x.GAThreshold = 0 }, "Global Accelerator threshold"},
		{"node TTL vs heartbeats", func(x *Timings) { x.NodeTTL = 2 * time.Second }, "node TTL 2s must outlive two heartbeats"},
		{"lease TTL vs renewals", func(x *Timings) { x.LeaseRenew = 3 * time.Second }, "must outlive two renewals"},
		{"lease vs Redis failover", func(x *Timings) { x.RedisFailover = 5500 * time.Millisecond }, "plus a Redis failover"},
		{"Redis failover vs Sentinel", func(x *Timings) { x.SentinelDownAfter = 4 * time.Second }, "must exceed Sentinel's down-after"},
		{"node TTL vs lease", func(x *Timings) { x.NodeTTL = 7 * time.Second; x.NodeHeartbeat = time.Second }, "must not exceed the lease TTL"},
		{"segment holds two parts", func(x *Timings) { x.PartDuration = 1500 * time.Millisecond }, "at least two parts"},
		{"segment whole parts", func(x *Timings) { x.PartDuration = 300 * time.Millisecond }, "whole number of parts"},
		{"relay timeout vs segment", func(x *Timings) { x.RelayTimeout = 2 * time.Second }, "shorter than a segment"},
		{"relay timeout vs parts", func(x *Timings) { x.RelayTimeout = 300 * time.Millisecond }, "at least two parts"},
		{"origin response timeout range", func(x *Timings) { x.OriginResponseTimeout = 90 * time.Second }, "CloudFront's 1–60 s"},
		{"origin response timeout whole seconds", func(x *Timings) { x.OriginResponseTimeout = 1500 * time.Millisecond }, "whole seconds within"},
		{"origin hold vs parts", func(x *Timings) { x.PartDuration = 500 * time.Millisecond }, "origin hold 600ms must span three parts"},
		{"origin hold vs response timeout", func(x *Timings) { x.OriginHold = 800 * time.Millisecond }, "exceeds the CDN's origin response timeout 1s"},
		{"origin hold positive", func(x *Timings) { x.OriginHold = 0 }, "OriginHold must be positive"},
		{"hook vs drain", func(x *Timings) { x.LifecycleHookTimeout = 60 * time.Second }, "must outlast the drain deadline"},
		{"drain vs NLB detection", func(x *Timings) { x.NLBUnhealthyThreshold = 10; x.NLBHealthCheckInterval = 10 * time.Second }, "shorter than a drain needs"},
		{"hook maximum", func(x *Timings) { x.LifecycleHookTimeout = 3 * time.Hour }, "7200 s"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := DefaultTimings
			c.mutate(&tm)
			err := tm.Validate()
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("want an error containing %q, got %v", c.want, err)
			}
		})
	}
}

func TestScalingValidate(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Scaling)
		want   string
	}{
		{"target", func(s *Scaling) { s.TargetUtilisation = 0.95 }, "target utilisation"},
		{"launch", func(s *Scaling) { s.LaunchDelay = 0 }, "must be positive"},
		{"grace", func(s *Scaling) { s.HealthCheckGrace = time.Minute }, "must cover the slowest launch"},
		{"refresh minimum", func(s *Scaling) { s.RefreshMinHealthyPercentage = 20 }, "minimum healthy"},
		{"refresh maximum", func(s *Scaling) { s.RefreshMaxHealthyPercentage = 100 }, "maximum healthy"},
	}
	for _, c := range cases {
		s := DefaultScaling
		c.mutate(&s)
		if err := s.Validate(); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: want %q, got %v", c.name, c.want, err)
		}
	}
}

func TestWorstCaseDefaults(t *testing.T) {
	// The default timings' tables, worked out by hand from the rules in
	// worstcase.go and fencing.go, so that a change of timing or formula
	// shows here. "fenced" is production as shipped (DefaultFencing, the
	// slate off); "fenced and slated" the slate's what-if (-slate);
	// "health checks only" is zonecast before them (-no-fencing).
	type row struct{ stall, lost, redundant time.Duration }
	part := 200 * time.Millisecond
	slate := time.Second + part // SlateAfter (the 1 s relay timeout) and a part
	slated := DefaultTimings.AWSRouting()
	slated.Slate = true
	tables := []struct {
		name    string
		routing Routing
		want    map[Fault]row
	}{
		{"health checks only", DefaultTimings.AWSRouting().WithoutFencing(), map[Fault]row{
			NodeLoss:         {12 * time.Second, 10 * time.Second, part},             // reconnect at 6 s hits the dead node, again at 10 s; +2 s keyframe; a backup encoder: the standby goes on
			StandbyLoss:      {0, 0, 0},                                              // viewers see nothing
			ZoneLoss:         {44 * time.Second, 42 * time.Second, part},             // NLB 10 s + GA 30 s, attempts every 4 s from 6 s: 42 s
			RedisPrimaryLoss: {0, 0, 0},                                              // leases outlive the promotion
			RedisPairLoss:    {0, 0, 0},                                              // leaders keep serving
			RegionLoss:       {44 * time.Second, 42 * time.Second, 44 * time.Second}, // as a zone, but no lease wait in the new region
			Partition:        {12 * time.Second, 10 * time.Second, part},             // a 10 s cut is a node loss
			LeaderFreeze:     {12 * time.Second, 10 * time.Second, part},             // likewise
			RollingUpdate:    {3 * time.Second, 1 * time.Second, part},               // retry 1 s + keyframe 2 s
			RedisPartition:   {part, 0, part},                                        // the relay keeps feeding the standby
		}},
		{"fenced", DefaultTimings.AWSRouting(), map[Fault]row{
			// The standby's early pass fences the dead node at 2 + 1 s; the
			// broadcaster notices at 5 s, its retry at 6 s lands live; its
			// first keyframe 2 s later: 8 s of stall, 6 s lost.
			NodeLoss:         {8 * time.Second, 6 * time.Second, part},
			StandbyLoss:      {0, 0, 0},
			ZoneLoss:         {8 * time.Second, 6 * time.Second, part},
			RedisPrimaryLoss: {0, 0, 0},
			RedisPairLoss:    {0, 0, 0},
			RegionLoss:       {44 * time.Second, 42 * time.Second, 44 * time.Second},
			Partition:        {8 * time.Second, 6 * time.Second, part},
			LeaderFreeze:     {8 * time.Second, 6 * time.Second, part},
			RollingUpdate:    {3 * time.Second, 1 * time.Second, part},
			RedisPartition:   {part, 0, part},
		}},
		{"fenced and slated", slated, map[Fault]row{
			// As fenced; the standby's copy slates from 1 s on: 1.2 s of
			// stall.
			NodeLoss:         {slate, 6 * time.Second, part},
			StandbyLoss:      {0, 0, 0},
			ZoneLoss:         {slate, 6 * time.Second, part}, // quiet 2 s, but Redis back only after the 4 s promotion; weight 0 by 6 s: the reconnection at 6 s lands in the twin
			RedisPrimaryLoss: {0, 0, 0},
			RedisPairLoss:    {0, 0, 0},
			RegionLoss:       {44 * time.Second, 42 * time.Second, 44 * time.Second}, // nobody left in the region to fence or slate
			Partition:        {slate, 6 * time.Second, part},                         // frozen past the fence: as a node loss
			LeaderFreeze:     {slate, 6 * time.Second, part},
			RollingUpdate:    {slate, 1 * time.Second, part}, // the new leader slates while the broadcaster reconnects
			RedisPartition:   {part, 0, part},                // its relay is live: nobody fences it
		}},
	}
	for _, tc := range tables {
		t.Run(tc.name, func(t *testing.T) {
			table := WorstCaseVia(DefaultTimings, 10*time.Second, tc.routing)
			if len(table) != len(Faults) {
				t.Fatalf("table has %d rows for %d faults", len(table), len(Faults))
			}
			for i, b := range table {
				if b.Fault != Faults[i] || b.How == "" {
					t.Fatalf("row %d is %v, want %v with an explanation", i, b.Fault, Faults[i])
				}
				w := tc.want[b.Fault]
				if b.Stall != w.stall || b.MediaLost != w.lost || b.RedundantStall != w.redundant {
					t.Errorf("%v: stall %v lost %v redundant %v; want %v %v %v", b.Fault, b.Stall, b.MediaLost, b.RedundantStall, w.stall, w.lost, w.redundant)
				}
			}
		})
	}
	if got, want := WorstCase(DefaultTimings, 10*time.Second), WorstCaseVia(DefaultTimings, 10*time.Second, DefaultTimings.AWSRouting()); got[0] != want[0] {
		t.Fatalf("WorstCase is not the shipped AWS routing's table")
	}
}

// TestFencedNodeLoss: the goals for a node lost behind the load balancer
// (stall ≤ 2 s, media lost ≤ 1 s). The slate meets the first; the second
// is out of reach while the broadcaster notices the loss only after its
// SRT peer-idle timeout, whatever the fencing: a rehashed flow is ignored
// by the node it lands on.
func TestFencedNodeLoss(t *testing.T) {
	cases := []struct {
		name      string
		peerIdle  time.Duration
		stall     time.Duration
		lost      time.Duration
		goalsBoth bool
	}{
		// Fenced at 3 s (the standby's early pass): the broadcaster
		// notices at 5 s and its retry at 6 s lands on a live node.
		{"libsrt's 5 s peer idle", 5 * time.Second, 8 * time.Second, 6 * time.Second, false},
		// An encoder at 2 s: noticed at 2 s, its attempt at 3 s comes as
		// the fence lands and goes to a live node.
		{"2 s peer idle", 2 * time.Second, 5 * time.Second, 3 * time.Second, false},
		// The retry at 7 s: long after the fence.
		{"6 s peer idle", 6 * time.Second, 9 * time.Second, 7 * time.Second, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tm := DefaultTimings
			tm.SRTPeerIdleTimeout = c.peerIdle
			b := WorstCase(tm, 10*time.Second)[0]
			if b.Fault != NodeLoss || b.Stall != c.stall || b.MediaLost != c.lost {
				t.Fatalf("%v: stall %v lost %v, want %v %v", b.Fault, b.Stall, b.MediaLost, c.stall, c.lost)
			}
			if met := b.Stall <= 2*time.Second && b.MediaLost <= time.Second; met != c.goalsBoth {
				t.Fatalf("goals met = %v", met)
			}
		})
	}
}

func TestFreezeImpact(t *testing.T) {
	slate := DefaultTimings.SlateAfter() + DefaultTimings.PartDuration
	slated := DefaultTimings.AWSRouting()
	slated.Slate = true
	cases := []struct {
		routing        Routing
		d, stall, lost time.Duration
	}{
		{DefaultTimings.AWSRouting().WithoutFencing(), 1 * time.Second, 1 * time.Second, 1 * time.Second},    // SRT and the lease survive
		{DefaultTimings.AWSRouting().WithoutFencing(), 4 * time.Second, 4 * time.Second, 4 * time.Second},    // still under the peer-idle timeout
		{DefaultTimings.AWSRouting().WithoutFencing(), 6 * time.Second, 8 * time.Second, 6 * time.Second},    // reconnect at 6 s lands on the woken node; lease lapsed at 6 s; +2 s keyframe
		{DefaultTimings.AWSRouting().WithoutFencing(), 30 * time.Second, 12 * time.Second, 10 * time.Second}, // a node loss
		{slated, 1 * time.Second, 1 * time.Second, 1 * time.Second},                                          // shorter than the slate's wait
		{slated, 4 * time.Second, slate, 4 * time.Second},                                                    // the standby slates; nothing is fenced
		{slated, 6 * time.Second, slate, 6 * time.Second},                                                    // woken before the fence's agreement (lease lapse at 6 s)
		{slated, 30 * time.Second, slate, 6 * time.Second},                                                   // fenced as a dead node
		{DefaultTimings.AWSRouting(), 30 * time.Second, 8 * time.Second, 6 * time.Second},                    // as shipped (no slate): the broadcast's keyframe after the retry
	}
	for _, c := range cases {
		stall, lost := DefaultTimings.FreezeImpactVia(c.d, c.routing)
		if stall != c.stall || lost != c.lost {
			t.Errorf("%s freeze %v (fencing %v): stall %v lost %v, want %v %v", c.routing.Name, c.d, c.routing.Fencing.Enabled, stall, lost, c.stall, c.lost)
		}
	}
}

func TestReconnectAt(t *testing.T) {
	tm := DefaultTimings
	never := func(time.Duration) bool { return false }
	cases := []struct {
		name                    string
		noticed, healthy, moved time.Duration
		hitsDead                func(time.Duration) bool
		want                    time.Duration
	}{
		{"lucky", 5 * time.Second, 100 * time.Second, 0, never, 6 * time.Second},
		{"healthy already", 5 * time.Second, 0, 0, always, 6 * time.Second},
		{"unlucky until 11 s", 5 * time.Second, 11 * time.Second, 0, always, 14 * time.Second},
		{"caught, moved at 7 s", 5 * time.Second, 7 * time.Second, 7 * time.Second, always, 7 * time.Second},
		{"caught, moved between resends", 5 * time.Second, 7100 * time.Millisecond, 7100 * time.Millisecond, always, 7250 * time.Millisecond},
		{"moved after the attempt gave up", 1 * time.Second, 6 * time.Second, 6 * time.Second, always, 6 * time.Second}, // caught 2–5 s, the retry at 6 s lands live
	}
	for _, c := range cases {
		if got := tm.ReconnectMovedAt(c.noticed, c.healthy, c.moved, c.hitsDead); got != c.want {
			t.Errorf("%s: back at %v, want %v", c.name, got, c.want)
		}
		if c.moved == 0 {
			if got := tm.ReconnectAt(c.noticed, c.healthy, c.hitsDead); got != c.want {
				t.Errorf("%s: ReconnectAt %v, want %v", c.name, got, c.want)
			}
		}
	}
}

func TestFaultNames(t *testing.T) {
	for _, f := range Faults {
		g, err := ParseFault(f.String())
		if err != nil || g != f {
			t.Fatalf("%v round trip: %v %v", f, g, err)
		}
	}
	if _, err := ParseFault("meteor"); err == nil {
		t.Fatal("unknown fault accepted")
	}
}

// TestLocalTimings pins what the local chaos set-up runs with: valid, its
// relay timeout shortened under its 1 s segments as every edge packaging
// them does (ForCadence).
func TestLocalTimings(t *testing.T) {
	lt := LocalTimings
	if lt.SegmentDuration != time.Second || lt.SRTPeerIdleTimeout != time.Second || lt.BroadcasterRetry != 100*time.Millisecond || lt.RelayTimeout != 800*time.Millisecond {
		t.Fatalf("local timings %+v", lt)
	}
	if err := lt.Validate(); err != nil {
		t.Fatal(err)
	}
}

// TestShippedCadence: an edge packaging at the shipped cadence runs with
// DefaultTimings unchanged, so the chaos suite's shipped profile and the
// simulator's prediction for it can use DefaultTimings as they are.
func TestShippedCadence(t *testing.T) {
	if got := DefaultTimings.ForCadence(DefaultTimings.SegmentDuration, DefaultTimings.PartDuration); got != DefaultTimings {
		t.Fatalf("ForCadence changes the shipped timings:\n%+v\n%+v", got, DefaultTimings)
	}
}

func TestForCadence(t *testing.T) {
	cases := []struct {
		name          string
		segment, part time.Duration
		wantRelay     time.Duration
	}{
		{"default cadence keeps the relay timeout", 2 * time.Second, 200 * time.Millisecond, DefaultTimings.RelayTimeout},
		{"1 s segments: under a segment", time.Second, 200 * time.Millisecond, 800 * time.Millisecond},
		{"long parts: still two parts", time.Second, 500 * time.Millisecond, time.Second},
		{"1 s parts: two parts", 6 * time.Second, time.Second, 2 * time.Second},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := DefaultTimings.ForCadence(c.segment, c.part)
			if got.RelayTimeout != c.wantRelay || got.SegmentDuration != c.segment || got.PartDuration != c.part {
				t.Fatalf("got relay %v segment %v part %v, want relay %v", got.RelayTimeout, got.SegmentDuration, got.PartDuration, c.wantRelay)
			}
			if c.segment > 2*c.part {
				if err := got.Validate(); err != nil && strings.Contains(err.Error(), "relay timeout") {
					t.Fatalf("the relay rules still fail: %v", err)
				}
			}
		})
	}
}
