package cluster

import (
	"context"
	"reflect"
	"sync/atomic"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/policies/failover"
)

// watchLeading samples k.Leading every 10 ms and counts the samples where the
// keeper was not leading.
func watchLeading(ctx context.Context, k *Keeper) *atomic.Int64 {
	var gaps atomic.Int64
	go func() {
		for ctx.Err() == nil {
			if _, ok := k.Leading(); !ok {
				gaps.Add(1)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return &gaps
}

// TestLeaseSurvivesSentinelFailover: with the shipped timings, killing the
// Redis primary does not depose a healthy leader, and its fenced writes
// resume once Sentinel has promoted the replica.
func TestLeaseSurvivesSentinelFailover(t *testing.T) {
	c := redistest.StartT(t)
	tm := failover.DefaultTimings
	s := newTestLedger(t, c, tm)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	stream := newStream(t)
	k := NewKeeper(s, stream, "a", nil)
	if g, err := k.Acquire(ctx, 0); err != nil || !g.Held {
		t.Fatal(g, err)
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go k.Run(rctx)
	gaps := watchLeading(rctx, k)

	old, err := c.KillPrimary(ctx)
	if err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	msn := uint64(1)
	var resumed time.Duration
	for ctx.Err() == nil {
		wctx, wc := context.WithTimeout(ctx, 300*time.Millisecond)
		err := s.PutState(wctx, stream, "a", k.Token(), []byte("{}"), map[string]uint64{"source": msn})
		wc()
		if err == nil {
			resumed = time.Since(killed)
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resumed == 0 {
		t.Fatal("fenced writes never resumed after the failover")
	}
	if _, err := c.WaitFailover(ctx, old.Addr()); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * tm.LeaseRenew)
	if n := gaps.Load(); n != 0 {
		t.Fatalf("leader stopped leading for %d samples during a Redis failover", n)
	}
	t.Logf("fenced writes resumed %v after SIGKILL of the primary; leadership never lapsed", resumed.Round(time.Millisecond))
}

// TestRedisGoneEntirely kills both Redis instances for 10 s. A leader whose
// standby confirms that Redis is gone for it too keeps leading (nobody can
// acquire without Redis); one without that confirmation stops at its local
// deadline. When Redis returns (AOF kept the token counter) the first one
// takes its lease back with the same token.
func TestRedisGoneEntirely(t *testing.T) {
	c := redistest.StartT(t)
	tm := failover.DefaultTimings
	s := newTestLedger(t, c, tm)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()

	confirmed := NewKeeper(s, newStream(t), "a", nil)
	confirmed.CanKeepWithoutRedis = func() bool { return true }
	alone := NewKeeper(s, newStream(t), "a", nil)
	alone.CanKeepWithoutRedis = func() bool { return false }
	lostAlone := make(chan time.Time, 1)
	alone.OnLost = func(string) { lostAlone <- time.Now() }
	for _, k := range []*Keeper{confirmed, alone} {
		if g, err := k.Acquire(ctx, 0); err != nil || !g.Held {
			t.Fatal(g, err)
		}
	}
	rctx, stop := context.WithCancel(ctx)
	defer stop()
	go confirmed.Run(rctx)
	go alone.Run(rctx)
	gaps := watchLeading(rctx, confirmed)
	time.Sleep(tm.LeaseRenew + 100*time.Millisecond)
	tok := confirmed.Token()

	c.Primary.Kill()
	c.Replica.Kill()
	down := time.Now()
	// Leading() turns false at the local deadline, before the lease could
	// expire in Redis; OnLost follows after one last renewal attempt.
	for {
		if _, ok := alone.Leading(); !ok {
			break
		}
		if time.Since(down) > tm.LeaseTTL {
			t.Fatalf("unconfirmed leader still leading %v after Redis died (lease TTL %v)", time.Since(down), tm.LeaseTTL)
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case <-lostAlone:
	case <-time.After(tm.LeaseRenew + time.Second):
		t.Fatal("unconfirmed leader's OnLost never came")
	}
	time.Sleep(10*time.Second - time.Since(down))
	if !confirmed.Autonomous() {
		t.Fatal("confirmed leader is not in autonomous mode with Redis gone")
	}
	if err := c.Primary.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Replica.Start(); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	for ctx.Err() == nil && confirmed.Autonomous() {
		time.Sleep(50 * time.Millisecond)
	}
	if n := gaps.Load(); n != 0 {
		t.Fatalf("confirmed leader lapsed for %d samples", n)
	}
	l, err := s.Lease(ctx, confirmed.stream)
	if err != nil || l.Holder != "a" || l.Token != tok {
		t.Fatalf("after Redis returned: lease %+v (%v), want a/%d", l, err, tok)
	}
	t.Logf("lease confirmed again %v after Redis restarted; token %d kept", time.Since(back).Round(time.Millisecond), tok)
}

// TestRegistry: nodes appear with their fields and vanish after the TTL.
func TestRegistry(t *testing.T) {
	c := redistest.StartT(t)
	tm := fastTimings()
	tm.NodeHeartbeat = 100 * time.Millisecond
	tm.NodeTTL = 400 * time.Millisecond
	s := newTestLedger(t, c, tm)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	nodes := []NodeInfo{
		{ID: "a1", Region: "local", Zone: "a", Capacity: 8, Load: 1, HTTP: "127.0.0.1:8080", QUIC: "127.0.0.1:9100", Ready: true,
			TargetGroups: []string{"arn:aws:elasticloadbalancing:local:0:targetgroup/srt-a/1", "arn:aws:elasticloadbalancing:local:0:targetgroup/https-a/2"},
			Endpoint:     "arn:aws:elasticloadbalancing:local:0:loadbalancer/net/a/3"},
		{ID: "b1", Region: "local", Zone: "b", Capacity: 8, Load: 0, HTTP: "127.0.0.1:8081", QUIC: "127.0.0.1:9101"},
	}
	cancels := map[string]context.CancelFunc{}
	for _, n := range nodes {
		n := n
		rctx, rc := context.WithCancel(ctx)
		cancels[n.ID] = rc
		go NewRegistry(s, func() NodeInfo { return n }, nil).Run(rctx)
	}
	var got []NodeInfo
	for ctx.Err() == nil {
		got, _ = s.Nodes(ctx)
		if len(got) == 2 {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	for i := range nodes {
		if len(got) != 2 {
			t.Fatalf("nodes %+v, want %+v", got, nodes)
		}
		// ReadySince is Redis's clock: set exactly for a ready node.
		if got[i].ReadySince.IsZero() == nodes[i].Ready {
			t.Errorf("%s: ready %v but ready since %v", got[i].ID, nodes[i].Ready, got[i].ReadySince)
		}
		got[i].ReadySince = time.Time{}
		if !reflect.DeepEqual(got[i], nodes[i]) {
			t.Fatalf("node %+v, want %+v", got[i], nodes[i])
		}
	}
	// b1 dies without deregistering: its entry expires with the TTL.
	cancels["a1"]()
	time.Sleep(2 * tm.NodeTTL)
	got, err := s.Nodes(ctx)
	if err != nil || len(got) != 1 || got[0].ID != "b1" {
		t.Fatalf("after a1 stopped: %+v %v", got, err)
	}
	cancels["b1"]()
}
