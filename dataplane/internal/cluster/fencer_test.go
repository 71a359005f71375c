package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/policies/failover"
)

// fakeLB is a load balancer that records deregistrations; its first fail
// calls answer an error, and while hold is set every call waits for it.
type fakeLB struct {
	mu    sync.Mutex
	fail  int
	hold  chan struct{}
	calls []string // "target group/instance" of the calls that succeeded
	tries int
}

func (l *fakeLB) DeregisterTargets(ctx context.Context, tg, instance string) error {
	l.mu.Lock()
	hold := l.hold
	l.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.tries++
	if l.fail > 0 {
		l.fail--
		return errors.New("Throttling: rate exceeded")
	}
	l.calls = append(l.calls, tg+"/"+instance)
	return nil
}

func (l *fakeLB) deregistered() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.calls...)
}

// fakeAccelerator is one endpoint group's weights.
type fakeAccelerator struct {
	mu      sync.Mutex
	weights map[string]int
	sets    int
}

func (a *fakeAccelerator) SetEndpointWeight(_ context.Context, _, endpoint string, weight int) (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	prev, ok := a.weights[endpoint]
	if !ok {
		return 0, fmt.Errorf("no endpoint %s", endpoint)
	}
	a.weights[endpoint] = weight
	a.sets++
	return prev, nil
}

func (a *fakeAccelerator) weight(endpoint string) (int, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.weights[endpoint], a.sets
}

// counted is the fencer's count of action with result.
func counted(f *Fencer, action, result string) float64 {
	var m dto.Metric
	if err := f.actions.WithLabelValues(action, result).Write(&m); err != nil {
		panic(err)
	}
	return m.GetCounter().GetValue()
}

// fenceTimings: heartbeats every 100 ms, quiet after five, so that a
// heartbeat late on a loaded test machine is not taken for a death (the
// shipped two heartbeats are 2 s).
func fenceTimings() (failover.Timings, failover.Fencing) {
	tm := fastTimings()
	tm.NodeHeartbeat = 100 * time.Millisecond
	tm.NodeTTL = 300 * time.Millisecond
	f := failover.DefaultFencing
	f.QuietAfter = 5 * tm.NodeHeartbeat
	f.Retry = 20 * time.Millisecond
	f.ZoneHealthyFor = 1500 * time.Millisecond
	return tm, f
}

// fenceNode is a node of the fencing tests: its registry record.
func fenceNode(id, zone string) NodeInfo {
	return NodeInfo{ID: id, Region: "local", Zone: zone, Capacity: 4, Ready: true,
		TargetGroups: []string{"tg-srt-" + zone, "tg-https-" + zone}, Endpoint: "nlb-" + zone}
}

// beat writes n's registry heartbeat once.
func beat(t *testing.T, s *Ledger, n NodeInfo) {
	t.Helper()
	if err := NewRegistry(s, func() NodeInfo { return n }, nil).Heartbeat(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// keepBeating heartbeats n every NodeHeartbeat until the returned stop.
func keepBeating(t *testing.T, s *Ledger, n NodeInfo) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			_ = NewRegistry(s, func() NodeInfo { return n }, nil).Heartbeat(ctx)
			select {
			case <-ctx.Done():
			case <-time.After(s.timings.NodeHeartbeat):
			}
		}
	}()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

// takeOver gives stream's lease to from, lets it lapse and gives it to to:
// the tokens of both terms.
func takeOver(t *testing.T, s *Ledger, stream, from, to string) (old, next uint64) {
	t.Helper()
	ctx := context.Background()
	g, err := s.Acquire(ctx, stream, from, 0)
	if err != nil || !g.Held {
		t.Fatalf("acquire by %s: %+v %v", from, g, err)
	}
	if err := s.rdb.Del(ctx, keyLease(stream)).Err(); err != nil { // the lease lapses
		t.Fatal(err)
	}
	n, err := s.Acquire(ctx, stream, to, g.Token)
	if err != nil || !n.Held {
		t.Fatalf("acquire by %s: %+v %v", to, n, err)
	}
	return g.Token, n.Token
}

func newTestFencer(t *testing.T, s *Ledger, self NodeInfo, lb LoadBalancer, acc Accelerator) *Fencer {
	f := NewFencer(FencerConfig{Ledger: s, Self: self, EndpointGroup: "group", LoadBalancer: lb, Accelerator: acc})
	t.Cleanup(f.cancel)
	return f
}

// TestFenceRule: the rule's cases against real Redis. Only a node that
// Redis has not heard for the quiet time, and whose lease was taken over,
// is deregistered, once; nobody else, ever.
func TestFenceRule(t *testing.T) {
	t.Parallel()
	c := redistest.StartT(t)
	tm, pol := fenceTimings()
	s := newTestLedger(t, c, tm).WithFencing(pol)
	ctx := context.Background()
	seq := 0
	cases := []struct {
		name   string
		fences bool // else nothing may be deregistered
		run    func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB)
	}{
		{"quiet and taken over: fenced, from each of its target groups", true, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			old, _ := takeOver(t, s, stream, d.ID, "S")
			if !f.Fence(ctx, stream, d.ID, old) {
				t.Fatal("not fenced")
			}
			want := []string{d.TargetGroups[0] + "/" + d.ID, d.TargetGroups[1] + "/" + d.ID}
			if got := lb.deregistered(); fmt.Sprint(got) != fmt.Sprint(want) {
				t.Fatalf("deregistered %v, want %v", got, want)
			}
			if n := counted(f, ActionDeregister, ResultOK); n != 2 {
				t.Fatalf("%v deregistrations counted ok, want 2", n)
			}
			// Repeated: idempotent, and counted as already done.
			if f.Fence(ctx, stream, d.ID, old) {
				t.Fatal("fenced twice")
			}
			if got := lb.deregistered(); len(got) != 2 {
				t.Fatalf("deregistered again: %v", got)
			}
			if n := counted(f, ActionDeregister, ResultAlready); n != 1 {
				t.Fatalf("%v counted already, want 1", n)
			}
			// It was only frozen: its next heartbeat clears the fence, so a
			// later death is fenced again, and for now it is alive.
			beat(t, s, d)
			if n, _ := s.rdb.Exists(ctx, keyFence(d.ID)).Result(); n != 0 {
				t.Fatal("a heartbeat left the fence in place")
			}
			if v, err := s.Fence(ctx, stream, d.ID, old); err != nil || v.Code != fenceFresh {
				t.Fatalf("after its heartbeat: %+v %v, want it fresh", v, err)
			}
		}},
		{"still heartbeating: never fenced", false, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			keepBeating(t, s, d)
			old, _ := takeOver(t, s, stream, d.ID, "S")
			if f.Fence(ctx, stream, d.ID, old) {
				t.Fatal("a node that heartbeats was fenced")
			}
		}},
		{"still holds the lease: never fenced", false, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			g, err := s.Acquire(ctx, stream, d.ID, 0)
			if err != nil || !g.Held {
				t.Fatal(g, err)
			}
			time.Sleep(2 * pol.QuietAfter) // quiet, but leading
			if f.Fence(ctx, stream, d.ID, g.Token) {
				t.Fatal("the lease's holder was fenced")
			}
		}},
		{"lease lapsed, no later token: never fenced", false, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			g, err := s.Acquire(ctx, stream, d.ID, 0)
			if err != nil || !g.Held {
				t.Fatal(g, err)
			}
			_ = s.rdb.Del(ctx, keyLease(stream))
			time.Sleep(2 * pol.QuietAfter)
			if f.Fence(ctx, stream, d.ID, g.Token) {
				t.Fatal("fenced while no node took the lease over")
			}
		}},
		{"left on purpose: never fenced", false, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			old, _ := takeOver(t, s, stream, d.ID, "S")
			if err := s.Deregister(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			if f.Fence(ctx, stream, d.ID, old) {
				t.Fatal("a node that deregistered was fenced")
			}
		}},
		{"cut off from Redis: cannot fence", false, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			old, _ := takeOver(t, s, stream, d.ID, "S")
			rdb, err := NewRedis(RedisEndpoint{Address: "127.0.0.1:1"}, tm) // nothing listens there
			if err != nil {
				t.Fatal(err)
			}
			defer rdb.Close()
			cut := newTestFencer(t, NewLedger(rdb, tm).WithFencing(pol), fenceNode("S", "a"), lb, nil)
			cut.known = f.known // it knew the node before it was cut off
			if cut.Fence(ctx, stream, d.ID, old) {
				t.Fatal("fenced without Redis")
			}
			if n, _ := s.rdb.Exists(ctx, keyFence(d.ID)).Result(); n != 0 {
				t.Fatal("a fence was recorded")
			}
		}},
		{"unknown here: not fenced by this node", false, func(t *testing.T, d NodeInfo, stream string, f *Fencer, lb *fakeLB) {
			old, _ := takeOver(t, s, stream, d.ID, "S")
			f.known = map[string]knownNode{}
			if f.Fence(ctx, stream, d.ID, old) {
				t.Fatal("fenced without knowing its target groups")
			}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seq++
			d := fenceNode(fmt.Sprintf("D%d-%d", seq, time.Now().UnixNano()%1e6), "b")
			beat(t, s, d)
			lb := &fakeLB{}
			f := newTestFencer(t, s, fenceNode("S", "a"), lb, nil)
			f.Refresh(ctx)
			tc.run(t, d, newStream(t), f, lb)
			if !t.Failed() && !tc.fences {
				if got := lb.deregistered(); len(got) != 0 {
					t.Fatalf("deregistered %v", got)
				}
			}
		})
	}
}

// TestFenceRace: two survivors that each took over one of a dead node's
// streams fence it at once; exactly one deregisters it.
func TestFenceRace(t *testing.T) {
	t.Parallel()
	c := redistest.StartT(t)
	tm, pol := fenceTimings()
	s := newTestLedger(t, c, tm).WithFencing(pol)
	ctx := context.Background()
	for round := range 5 {
		d := fenceNode(fmt.Sprintf("race%d-%d", round, time.Now().UnixNano()%1e6), "b")
		beat(t, s, d)
		s1, s2 := newStream(t), newStream(t)
		old1, _ := takeOver(t, s, s1, d.ID, "S1")
		old2, _ := takeOver(t, s, s2, d.ID, "S2")
		lb := &fakeLB{} // both survivors' calls land on the same load balancer
		f1 := newTestFencer(t, s, fenceNode("S1", "a"), lb, nil)
		f2 := newTestFencer(t, s, fenceNode("S2", "b"), lb, nil)
		f1.Refresh(ctx)
		f2.Refresh(ctx)
		time.Sleep(pol.QuietAfter)
		var wg sync.WaitGroup
		var won [2]bool
		wg.Add(2)
		go func() { defer wg.Done(); won[0] = f1.Fence(ctx, s1, d.ID, old1) }()
		go func() { defer wg.Done(); won[1] = f2.Fence(ctx, s2, d.ID, old2) }()
		wg.Wait()
		if won[0] == won[1] {
			t.Fatalf("round %d: fenced by %v, want exactly one", round, won)
		}
		if got := lb.deregistered(); len(got) != len(d.TargetGroups) {
			t.Fatalf("round %d: deregistered %v, want each target group once", round, got)
		}
	}
}

// TestFenceRetries: the load balancer's API fails; the deregistration is
// retried and every attempt counted, and the takeover goes on meanwhile:
// TookOver returns at once and the node's other leases are untouched.
func TestFenceRetries(t *testing.T) {
	t.Parallel()
	c := redistest.StartT(t)
	tm, pol := fenceTimings()
	s := newTestLedger(t, c, tm).WithFencing(pol)
	ctx := context.Background()
	d := fenceNode("retry-d", "b")
	beat(t, s, d)
	stream, other := newStream(t), newStream(t)
	old, _ := takeOver(t, s, stream, d.ID, "S")
	lb := &fakeLB{fail: 3, hold: make(chan struct{})}
	f := newTestFencer(t, s, fenceNode("S", "a"), lb, nil)
	f.Refresh(ctx)
	runCtx, stop := context.WithCancel(ctx)
	ran := make(chan struct{})
	go func() { defer close(ran); f.Run(runCtx) }()
	f.TookOver(stream, d.ID, old) // returns at once: the API is held
	// Another stream's lease is taken and renewed while the fence waits.
	g, err := s.Acquire(ctx, other, "S", 0)
	if err != nil || !g.Held {
		t.Fatalf("another stream's lease: %+v %v", g, err)
	}
	if err := s.Renew(ctx, other, "S", g.Token); err != nil {
		t.Fatal(err)
	}
	if got := lb.deregistered(); len(got) != 0 {
		t.Fatalf("deregistered before the API answered: %v", got)
	}
	lb.mu.Lock()
	close(lb.hold)
	lb.hold = nil
	lb.mu.Unlock()
	deadline := time.Now().Add(20 * time.Second)
	for len(lb.deregistered()) < len(d.TargetGroups) && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	stop()
	<-ran
	if got := lb.deregistered(); len(got) != len(d.TargetGroups) {
		t.Fatalf("deregistered %v after the API recovered", got)
	}
	errs := counted(f, ActionDeregister, ResultError)
	oks := counted(f, ActionDeregister, ResultOK)
	if errs != 3 || oks != 2 || lb.tries != 5 {
		t.Fatalf("counted %v errors and %v ok in %d tries, want 3, 2 and 5", errs, oks, lb.tries)
	}
}

// TestZoneWeight: every node of zone b dies; once one is fenced, exactly
// one survivor sets b's endpoint weight to 0, and exactly one puts the
// weight it had back once a node of b has said ready for ZoneHealthyFor.
// A zone emptied without a fence (its nodes left) keeps its weight.
func TestZoneWeight(t *testing.T) {
	t.Parallel()
	c := redistest.StartT(t)
	tm, pol := fenceTimings()
	s := newTestLedger(t, c, tm).WithFencing(pol)
	ctx := context.Background()
	region := fmt.Sprintf("zw%d", time.Now().UnixNano()%1e6)
	node := func(id, zone string) NodeInfo {
		n := fenceNode(id+"-"+region, zone)
		n.Region = region
		return n
	}
	acc := &fakeAccelerator{weights: map[string]int{"nlb-a": 128, "nlb-b": 100, "nlb-c": 128}}
	a1, a2 := node("a1", "a"), node("a2", "a")
	b1, b2 := node("b1", "b"), node("b2", "b")
	c1 := node("c1", "c")
	for _, n := range []NodeInfo{a1, a2} {
		keepBeating(t, s, n)
	}
	stopB1, stopB2, stopC1 := keepBeating(t, s, b1), keepBeating(t, s, b2), keepBeating(t, s, c1)
	time.Sleep(2 * tm.NodeHeartbeat)
	f1 := newTestFencer(t, s, a1, &fakeLB{}, acc)
	f2 := newTestFencer(t, s, a2, &fakeLB{}, acc)
	for _, f := range []*Fencer{f1, f2} {
		f.Refresh(ctx)
	}
	both := func() {
		for _, f := range []*Fencer{f1, f2} {
			f.zones(ctx)
		}
	}
	// Zone c's only node leaves on purpose: no fence, no weight change.
	stopC1()
	_ = s.Deregister(ctx, c1.ID)
	// Zone b dies; a1 takes over a stream of b1 and fences it.
	stopB1()
	stopB2()
	stream := newStream(t)
	old, _ := takeOver(t, s, stream, b1.ID, a1.ID)
	if !f1.Fence(ctx, stream, b1.ID, old) {
		t.Fatal("b1 not fenced")
	}
	deadline := time.Now().Add(10 * time.Second)
	for w, _ := acc.weight("nlb-b"); w != 0 && time.Now().Before(deadline); w, _ = acc.weight("nlb-b") {
		both()
		time.Sleep(tm.NodeHeartbeat)
	}
	both()
	if w, sets := acc.weight("nlb-b"); w != 0 || sets != 1 {
		t.Fatalf("zone b weight %d after %d calls, want 0 after 1", w, sets)
	}
	if w, _ := acc.weight("nlb-c"); w != 128 {
		t.Fatalf("zone c, left on purpose, weighted %d", w)
	}
	if w, _ := acc.weight("nlb-a"); w != 128 {
		t.Fatalf("zone a, alive, weighted %d", w)
	}
	// A node of b comes back; its weight returns only once it has been
	// ready for ZoneHealthyFor.
	b3 := node("b3", "b")
	keepBeating(t, s, b3)
	for _, f := range []*Fencer{f1, f2} {
		f.Refresh(ctx)
	}
	both()
	if w, _ := acc.weight("nlb-b"); w != 0 {
		t.Fatalf("zone b weighted %d before it was healthy for %v", w, pol.ZoneHealthyFor)
	}
	deadline = time.Now().Add(10 * time.Second)
	for w, _ := acc.weight("nlb-b"); w == 0 && time.Now().Before(deadline); w, _ = acc.weight("nlb-b") {
		both()
		time.Sleep(tm.NodeHeartbeat)
	}
	both()
	if w, sets := acc.weight("nlb-b"); w != 100 || sets != 2 {
		t.Fatalf("zone b weight %d after %d calls, want its 100 back after 2", w, sets)
	}
	for _, f := range []*Fencer{f1, f2} {
		for _, a := range []string{ActionZoneWeight, ActionZoneRestore} {
			if n := counted(f, a, ResultError); n != 0 {
				t.Errorf("%s errors counted: %v", a, n)
			}
		}
	}
	oks := counted(f1, ActionZoneWeight, ResultOK) + counted(f2, ActionZoneWeight, ResultOK)
	restores := counted(f1, ActionZoneRestore, ResultOK) + counted(f2, ActionZoneRestore, ResultOK)
	if oks != 1 || restores != 1 {
		t.Fatalf("counted %v zone weights and %v restores, want 1 each", oks, restores)
	}
}
