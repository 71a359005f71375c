package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/zonecast/zonecast/dataplane/e2e/redistest"
	"github.com/zonecast/zonecast/policies/failover"
)

var streamSeq atomic.Int64

// newStream gives each case its own stream name on a shared cluster.
func newStream(t *testing.T) string {
	return fmt.Sprintf("s%d-%d", time.Now().UnixNano()%1e6, streamSeq.Add(1))
}

func newTestLedger(t *testing.T, c *redistest.Cluster, tm failover.Timings) *Ledger {
	t.Helper()
	rdb, err := NewRedis(RedisEndpoint{Sentinels: c.SentinelAddrs(), Master: c.Master}, tm)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rdb.Close() })
	return NewLedger(rdb, tm)
}

// fastTimings shortens the lease so that expiry cases run quickly; they keep
// Validate's proportions.
func fastTimings() failover.Timings {
	tm := failover.DefaultTimings
	tm.LeaseTTL = 1200 * time.Millisecond
	tm.LeaseRenew = 200 * time.Millisecond
	return tm
}

// TestLeaseScripts runs each step of a lease's life against real Redis.
func TestLeaseScripts(t *testing.T) {
	c := redistest.StartT(t)
	s := newTestLedger(t, c, fastTimings())
	ctx := context.Background()

	type step struct {
		op      string // acquire, renew, release, handover, put, expire
		node    string
		token   uint64 // for renew/release/handover/put; 0 = last token of node
		floor   uint64
		msn     uint64
		to      string
		wantErr error
		wantOK  bool   // acquire: Held; release: released
		wantTok uint64 // acquire/handover: the token
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"first acquire gets token 1, same node again keeps it", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
		}},
		{"second node is refused while held", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "acquire", node: "b", wantOK: false, wantTok: 1},
			{op: "renew", node: "b", token: 1, wantErr: ErrStale},
		}},
		{"release then acquire increases the token", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "release", node: "a", wantOK: true},
			{op: "release", node: "a", wantOK: false},
			{op: "acquire", node: "b", wantOK: true, wantTok: 2},
			{op: "renew", node: "a", token: 1, wantErr: ErrStale},
			{op: "put", node: "a", token: 1, msn: 5, wantErr: ErrStale},
			{op: "put", node: "b", token: 2, msn: 5},
		}},
		{"floor lifts the token above what Redis knows", []step{
			{op: "acquire", node: "a", floor: 41, wantOK: true, wantTok: 42},
		}},
		{"media sequence never goes back, even for the holder", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "put", node: "a", msn: 10},
			{op: "put", node: "a", msn: 10},
			{op: "put", node: "a", msn: 9, wantErr: ErrMSNBack},
			{op: "put", node: "a", msn: 11},
		}},
		{"expired lease: holder takes it back if no newer token", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "expire"},
			{op: "renew", node: "a", token: 1},
			{op: "acquire", node: "b", wantOK: false, wantTok: 1},
		}},
		{"expired lease taken by another: old holder is stale", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "expire"},
			{op: "acquire", node: "b", wantOK: true, wantTok: 2},
			{op: "renew", node: "a", token: 1, wantErr: ErrStale},
			{op: "put", node: "a", token: 1, msn: 1, wantErr: ErrStale},
			{op: "release", node: "b", wantOK: true},
			{op: "renew", node: "a", token: 1, wantErr: ErrStale}, // token 2 was issued since
		}},
		{"handover moves the lease under a new token", []step{
			{op: "acquire", node: "a", wantOK: true, wantTok: 1},
			{op: "handover", node: "a", to: "b", wantTok: 2},
			{op: "put", node: "a", token: 1, msn: 1, wantErr: ErrStale},
			{op: "renew", node: "b", token: 2},
			{op: "put", node: "b", token: 2, msn: 1},
			{op: "handover", node: "a", token: 1, to: "c", wantErr: ErrStale},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			stream := newStream(t)
			last := map[string]uint64{}
			for i, st := range tc.steps {
				tok := st.token
				if tok == 0 {
					tok = last[st.node]
				}
				var err error
				switch st.op {
				case "acquire":
					var g Grant
					g, err = s.Acquire(ctx, stream, st.node, st.floor)
					if err == nil && (g.Held != st.wantOK || g.Current.Token != st.wantTok) {
						t.Fatalf("step %d acquire by %s: held=%v token=%d, want %v %d", i, st.node, g.Held, g.Current.Token, st.wantOK, st.wantTok)
					}
					if g.Held {
						last[st.node] = g.Token
					}
				case "renew":
					err = s.Renew(ctx, stream, st.node, tok)
				case "release":
					var ok bool
					ok, err = s.Release(ctx, stream, st.node, tok)
					if err == nil && ok != st.wantOK {
						t.Fatalf("step %d release: %v, want %v", i, ok, st.wantOK)
					}
				case "handover":
					var nt uint64
					nt, err = s.Handover(ctx, stream, st.node, tok, st.to)
					if err == nil {
						if nt != st.wantTok {
							t.Fatalf("step %d handover token %d, want %d", i, nt, st.wantTok)
						}
						last[st.to] = nt
					}
				case "put":
					err = s.PutState(ctx, stream, st.node, tok, []byte(`{"x":1}`), map[string]uint64{"source": st.msn})
				case "expire":
					err = s.rdb.Del(ctx, keyLease(stream)).Err() // what TTL expiry does
				}
				if st.wantErr == nil && err != nil {
					t.Fatalf("step %d %s by %s: %v", i, st.op, st.node, err)
				}
				if st.wantErr != nil && !errors.Is(err, st.wantErr) {
					t.Fatalf("step %d %s by %s: err %v, want %v", i, st.op, st.node, err, st.wantErr)
				}
			}
		})
	}

	t.Run("state round trip", func(t *testing.T) {
		stream := newStream(t)
		g, err := s.Acquire(ctx, stream, "a", 0)
		if err != nil || !g.Held {
			t.Fatal(g, err)
		}
		if err := s.PutState(ctx, stream, "a", g.Token, []byte(`{"stream":"x"}`), map[string]uint64{"source": 7, "720p": 7}); err != nil {
			t.Fatal(err)
		}
		st, ok, err := s.State(ctx, stream)
		if err != nil || !ok {
			t.Fatal(ok, err)
		}
		if string(st.Blob) != `{"stream":"x"}` || st.MSN["source"] != 7 || st.MSN["720p"] != 7 || st.Token != g.Token || st.Holder != "a" {
			t.Fatalf("state %+v", st)
		}
		if _, ok, _ := s.State(ctx, "never-"+stream); ok {
			t.Fatal("state for an unknown stream")
		}
		if err := s.SetStandby(ctx, stream, "a", g.Token, "b"); err != nil {
			t.Fatal(err)
		}
		if err := s.SetStandby(ctx, stream, "z", g.Token, "b"); !errors.Is(err, ErrStale) {
			t.Fatalf("standby by a non-holder: %v", err)
		}
		l, err := s.Lease(ctx, stream)
		if err != nil || l.Holder != "a" || l.Standby != "b" || l.Token != g.Token || l.TTL <= 0 {
			t.Fatalf("lease %+v %v", l, err)
		}
	})
}

// TestKeeperDeadlineBeforeExpiry checks the clock-safety rule: the local
// deadline always falls before Redis lets anyone else acquire, and a keeper
// that stopped renewing (frozen) is not leading when its successor is.
func TestKeeperDeadlineBeforeExpiry(t *testing.T) {
	c := redistest.StartT(t)
	tm := fastTimings()
	s := newTestLedger(t, c, tm)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := newStream(t)

	a := NewKeeper(s, stream, "a", nil)
	sent := time.Now()
	if g, err := a.Acquire(ctx, 0); err != nil || !g.Held {
		t.Fatal(g, err)
	}
	answered := time.Now()
	l, err := s.Lease(ctx, stream)
	if err != nil {
		t.Fatal(err)
	}
	a.mu.Lock()
	local := time.Until(a.deadline)
	a.mu.Unlock()
	if local >= l.TTL {
		t.Fatalf("local deadline in %v, redis expiry in %v: the local one must come first", local, l.TTL)
	}
	// a is "frozen": it never renews. b waits for the lease.
	b := NewKeeper(s, stream, "b", nil)
	g, err := b.AwaitLease(ctx, a.Token, nil)
	if err != nil || !g.Held {
		t.Fatal(g, err)
	}
	// Redis expired the lease between sent+TTL and answered+TTL; the
	// standby must have taken it within one part duration of that.
	if late := time.Since(answered.Add(tm.LeaseTTL)); late > tm.PartDuration {
		t.Fatalf("takeover %v after the lease expired, more than a part (%v)", late, tm.PartDuration)
	}
	if early := time.Since(sent.Add(tm.LeaseTTL)); early < 0 {
		t.Fatalf("takeover %v before the lease could have expired", -early)
	}
	if _, leading := a.Leading(); leading {
		t.Fatal("a still believes it leads while b holds the lease")
	}
	if tok, leading := b.Leading(); !leading || tok <= a.Token() {
		t.Fatalf("b: token %d leading %v (a had %d)", tok, leading, a.Token())
	}
	if err := s.PutState(ctx, stream, "a", a.Token(), []byte("{}"), nil); !errors.Is(err, ErrStale) {
		t.Fatalf("woken leader's write: %v, want ErrStale", err)
	}
}

// TestKeeperRun: renewals keep the lease; losing it to a handover is
// noticed by the old keeper on its next renewal.
func TestKeeperRun(t *testing.T) {
	c := redistest.StartT(t)
	tm := fastTimings()
	s := newTestLedger(t, c, tm)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	stream := newStream(t)
	a := NewKeeper(s, stream, "a", nil)
	lost := make(chan string, 1)
	a.OnLost = func(r string) { lost <- r }
	if _, err := a.Acquire(ctx, 0); err != nil {
		t.Fatal(err)
	}
	go a.Run(ctx)
	time.Sleep(3 * tm.LeaseTTL)
	if _, ok := a.Leading(); !ok {
		t.Fatal("renewals did not keep the lease")
	}
	// Someone moves the lease away behind a's back (as a bug or operator would).
	if _, err := s.Handover(ctx, stream, "a", a.Token(), "b"); err != nil {
		t.Fatal(err)
	}
	select {
	case r := <-lost:
		if r != "stale" {
			t.Fatalf("lost for %q, want stale", r)
		}
	case <-time.After(2 * tm.LeaseRenew * 3):
		t.Fatal("keeper did not notice its stale token")
	}
	if _, ok := a.Leading(); ok {
		t.Fatal("still leading after losing the lease")
	}
}

var _ = redis.Nil
