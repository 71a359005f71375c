package catalog

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zonecast/zonecast/dataplane/e2e/dynalite"
	"github.com/zonecast/zonecast/dataplane/internal/config"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

// counting counts the reads that reach a store, per name.
type counting struct {
	store reader
	mu    sync.Mutex
	reads map[string]int
	total int
}

func count(store reader) *counting { return &counting{store: store, reads: map[string]int{}} }

func (c *counting) Get(ctx context.Context, name string) (Stream, error) {
	c.mu.Lock()
	c.reads[name]++
	c.total++
	c.mu.Unlock()
	return c.store.Get(ctx, name)
}

func (c *counting) of(name string) int { c.mu.Lock(); defer c.mu.Unlock(); return c.reads[name] }
func (c *counting) all() int           { c.mu.Lock(); defer c.mu.Unlock(); return c.total }

// clock is a hand-moved clock for the resolver.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

func onClock(r *Resolver) *clock {
	c := &clock{t: time.Unix(1_700_000_000, 0)}
	r.now = c.now
	return c
}

// TestFreshnessAcrossNodes: two resolvers on one table are two nodes. A
// change written through one node is what the other answers within the
// policy's freshness promise, on the real clock.
func TestFreshnessAcrossNodes(t *testing.T) {
	ctx := context.Background()
	server := dynalite.StartT(t)
	nodeA := newTable(t, server) // the node whose API writes
	nodeB := NewResolver(nodeA, policy.DefaultCache)

	if _, err := nodeA.Create(ctx, Stream{Name: "existing", Passphrase: "the-first-key-1"}); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		stream string
		change func() error
		seen   func(Stream, error) bool
	}{
		{"created is publishable", "fresh", func() error {
			_, err := nodeA.Create(ctx, Stream{Name: "fresh", Passphrase: "correct-horse-battery"})
			return err
		}, func(s Stream, err error) bool { return err == nil && s.Passphrase == "correct-horse-battery" }},
		{"rotated refuses the old key", "existing", func() error {
			_, err := nodeA.Rotate(ctx, "existing", "the-second-key-2")
			return err
		}, func(s Stream, err error) bool { return err == nil && s.Passphrase == "the-second-key-2" }},
		{"deleted is refused", "existing", func() error { return nodeA.Delete(ctx, "existing") },
			func(_ Stream, err error) bool { return errors.Is(err, ErrNotFound) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Node B has an answer in memory before the change.
			_, before := nodeB.Resolve(ctx, tc.stream)
			if err := tc.change(); err != nil {
				t.Fatal(err)
			}
			changed := time.Now()
			for {
				s, err := nodeB.Resolve(ctx, tc.stream)
				if tc.seen(s, err) {
					t.Logf("seen after %v (answer before: %v)", time.Since(changed).Round(time.Millisecond), before)
					return
				}
				if time.Since(changed) > policy.Freshness {
					t.Fatalf("node B still answers %+v, %v after %v", s, err, policy.Freshness)
				}
				time.Sleep(20 * time.Millisecond)
			}
		})
	}
}

// TestCacheTTLs pins when the resolver reads, on a hand-moved clock: a
// found stream and a missing one are each answered from memory for their
// TTL and read again after it.
func TestCacheTTLs(t *testing.T) {
	ctx := context.Background()
	store := newTable(t, dynalite.StartT(t))
	if _, err := store.Create(ctx, Stream{Name: "cam1"}); err != nil {
		t.Fatal(err)
	}
	reads := count(store)
	r := NewResolver(reads, policy.DefaultCache)
	clk := onClock(r)
	p := policy.DefaultCache

	steps := []struct {
		name      string
		advance   time.Duration
		change    func() error
		resolve   string
		wantErr   error
		wantReads int // reads of that name so far
	}{
		{"first lookup reads", 0, nil, "cam1", nil, 1},
		{"again from memory", 0, nil, "cam1", nil, 1},
		{"deleted, still within the TTL", p.PositiveTTL - time.Millisecond, func() error { return store.Delete(ctx, "cam1") }, "cam1", nil, 1},
		{"at the TTL it reads and sees the deletion", time.Millisecond, nil, "cam1", ErrNotFound, 2},
		{"missing from memory", 0, nil, "cam1", ErrNotFound, 2},
		{"created, still within the negative TTL", p.NegativeTTL - time.Millisecond, func() error { _, err := store.Create(ctx, Stream{Name: "cam1"}); return err }, "cam1", ErrNotFound, 2},
		{"at the negative TTL it reads and finds it", time.Millisecond, nil, "cam1", nil, 3},
		{"a name no stream can have never reads", 0, nil, "../etc", ErrNotFound, 0},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				if err := st.change(); err != nil {
					t.Fatal(err)
				}
			}
			clk.advance(st.advance)
			// Cached says beforehand whether Resolve will read.
			cached, before := r.Cached(st.resolve), reads.of(st.resolve)
			_, err := r.Resolve(ctx, st.resolve)
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("err %v, want %v", err, st.wantErr)
			}
			if got := reads.of(st.resolve); got != st.wantReads {
				t.Fatalf("%d reads of %s, want %d", got, st.resolve, st.wantReads)
			}
			if read := reads.of(st.resolve) != before; cached == read {
				t.Fatalf("Cached said %v, and Resolve read: %v", cached, read)
			}
		})
	}
}

// gated holds every read until released, so that concurrent handshakes
// overlap for sure.
type gated struct {
	store   reader
	release chan struct{}
}

func (g gated) Get(ctx context.Context, name string) (Stream, error) {
	<-g.release
	return g.store.Get(ctx, name)
}

// TestConcurrentHandshakesShareARead: a publisher's reconnect storm for
// one name is one read.
func TestConcurrentHandshakesShareARead(t *testing.T) {
	ctx := context.Background()
	store := newTable(t, dynalite.StartT(t))
	if _, err := store.Create(ctx, Stream{Name: "cam1"}); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	reads := count(gated{store: store, release: release})
	r := NewResolver(reads, policy.DefaultCache)
	onClock(r)
	for _, name := range []string{"cam1", "missing"} {
		t.Run(name, func(t *testing.T) {
			var wg sync.WaitGroup
			errs := make(chan error, 50)
			for range 50 {
				wg.Go(func() {
					_, err := r.Resolve(ctx, name)
					errs <- err
				})
			}
			// Every handshake has joined the one read when it is let through.
			for reads.of(name) == 0 {
				time.Sleep(time.Millisecond)
			}
			time.Sleep(50 * time.Millisecond)
			release <- struct{}{}
			wg.Wait()
			close(errs)
			for err := range errs {
				if (name == "cam1") != (err == nil) {
					t.Fatalf("%s: %v", name, err)
				}
			}
			if got := reads.of(name); got != 1 {
				t.Fatalf("%d reads for 50 concurrent handshakes, want 1", got)
			}
		})
	}
}

// TestStoreUnreachable: with the store gone, streams the node knew keep
// resolving, unknown ones are refused with a clear error, and the store is
// retried once per RetryAfterError, not per handshake.
func TestStoreUnreachable(t *testing.T) {
	ctx := context.Background()
	server := dynalite.StartT(t)
	store := newTable(t, server)
	for _, name := range []string{"known", "known-but-not-here"} {
		if _, err := store.Create(ctx, Stream{Name: name, Passphrase: "correct-horse-battery"}); err != nil {
			t.Fatal(err)
		}
	}
	reads := count(store)
	r := NewResolver(reads, policy.DefaultCache)
	clk := onClock(r)
	p := policy.DefaultCache
	if _, err := r.Resolve(ctx, "known"); err != nil {
		t.Fatal(err)
	}
	server.Stop()

	steps := []struct {
		name      string
		advance   time.Duration
		resolve   string
		wantErr   error
		says      string
		wantReads int // reads of every name so far
	}{
		{"fresh entry from memory", 0, "known", nil, "", 1},
		{"expired entry: the read fails, the stale answer stands", p.PositiveTTL, "known", nil, "", 2},
		{"unknown name refused without a read", 0, "known-but-not-here", ErrUnavailable, `catalog unreachable: stream "known-but-not-here" is not known to this node`, 2},
		{"known again without a read", 0, "known", nil, "", 2},
		{"retried after RetryAfterError", p.RetryAfterError, "known-but-not-here", ErrUnavailable, "is not known to this node", 3},
		{"stale up to StaleLimit", p.StaleLimit - p.PositiveTTL - p.RetryAfterError - time.Millisecond, "known", nil, "", 4},
		{"refused past StaleLimit", p.RetryAfterError, "known", ErrUnavailable, `stream "known" is not known`, 5},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			clk.advance(st.advance)
			s, err := r.Resolve(ctx, st.resolve)
			if !errors.Is(err, st.wantErr) {
				t.Fatalf("err %v, want %v", err, st.wantErr)
			}
			if err != nil && !strings.Contains(err.Error(), st.says) {
				t.Fatalf("err %q does not say %q", err, st.says)
			}
			if err == nil && s.Passphrase != "correct-horse-battery" {
				t.Fatalf("stale answer %+v", s)
			}
			if got := reads.all(); got != st.wantReads {
				t.Fatalf("%d reads, want %d", got, st.wantReads)
			}
		})
	}
	if s := r.Stats(); s.Stale < 2 || s.Unavailable < 2 {
		t.Fatalf("stats %+v", s)
	}
}

// TestFloodOfUnknownNames: 10,000 handshakes for random names reach the
// store no more than the miss budget allows, and the known stream's
// handshakes among them are all answered from memory. Counted reads, not
// time: the clock stands still, then moves by whole seconds.
func TestFloodOfUnknownNames(t *testing.T) {
	ctx := context.Background()
	store := newTable(t, dynalite.StartT(t))
	if _, err := store.Create(ctx, Stream{Name: "cam1", Passphrase: "correct-horse-battery"}); err != nil {
		t.Fatal(err)
	}
	reads := count(store)
	p := policy.DefaultCache
	r := NewResolver(reads, p)
	clk := onClock(r)
	if _, err := r.Resolve(ctx, "cam1"); err != nil {
		t.Fatal(err)
	}

	const flood = 10_000
	rounds := []struct {
		name     string
		advance  time.Duration
		maxReads int // store reads this round may cause
	}{
		{"burst", 0, p.MissBurst - 1}, // cam1's own lookup took a token
		{"one second later", time.Second, int(p.MissRate)},
		{"one more second", time.Second, int(p.MissRate)},
	}
	for _, round := range rounds {
		t.Run(round.name, func(t *testing.T) {
			clk.advance(round.advance)
			before, beforeCam := reads.all(), reads.of("cam1")
			statsBefore := r.Stats()
			var wg sync.WaitGroup
			var mu sync.Mutex
			var knownFailures []error
			for w := range 8 {
				wg.Go(func() {
					rng := rand.New(rand.NewPCG(uint64(w), uint64(round.advance)))
					for i := range flood / 8 {
						_, _ = r.Resolve(ctx, fmt.Sprintf("rnd-%016x", rng.Uint64()))
						if i%50 == 0 {
							if _, err := r.Resolve(ctx, "cam1"); err != nil {
								mu.Lock()
								knownFailures = append(knownFailures, err)
								mu.Unlock()
							}
						}
					}
				})
			}
			wg.Wait()
			// cam1's entry expired when the clock moved: its refresh is a
			// read of a known stream, outside the miss budget.
			camReads := reads.of("cam1") - beforeCam
			got := reads.all() - before - camReads
			stats := r.Stats()
			t.Logf("%d handshakes: %d store reads, %d throttled", flood, got, stats.Throttled-statsBefore.Throttled)
			if got > round.maxReads {
				t.Fatalf("%d store reads, the budget allows %d", got, round.maxReads)
			}
			if got < round.maxReads/2 {
				t.Fatalf("only %d store reads: the budget (%d) is not being used", got, round.maxReads)
			}
			if len(knownFailures) > 0 || camReads > 1 {
				t.Fatalf("the known stream was refused %d times (%v) or read from the store %d times in a round", len(knownFailures), knownFailures, camReads)
			}
		})
	}
	// The budget is spent: a name the flood could not look up is refused
	// as throttled, with its name...
	_, err := r.Resolve(ctx, "never-seen")
	if !errors.Is(err, ErrThrottled) || !strings.Contains(err.Error(), `"never-seen"`) {
		t.Fatalf("err %v, want ErrThrottled naming the stream", err)
	}
	// ...while the known stream, due for a refresh, is still read and answered.
	clk.advance(p.PositiveTTL)
	for i := range 2 * p.MissBurst {
		_, _ = r.Resolve(ctx, fmt.Sprintf("spent-%d", i))
	}
	beforeCam := reads.of("cam1")
	if s, err := r.Resolve(ctx, "cam1"); err != nil || s.Passphrase != "correct-horse-battery" {
		t.Fatalf("known stream with the budget spent: %+v, %v", s, err)
	}
	if reads.of("cam1") != beforeCam+1 {
		t.Fatalf("the known stream's refresh did not read the store")
	}
}

// TestCacheBounds: the memory a resolver keeps stays within the policy's
// bounds, however many names pass through it.
func TestCacheBounds(t *testing.T) {
	ctx := context.Background()
	var list config.Streams
	for i := range 500 {
		list = append(list, config.Stream{Name: fmt.Sprintf("cam%d", i)})
	}
	p := policy.DefaultCache
	p.MaxEntries, p.MaxNegative, p.MissBurst = 100, 50, 10_000
	r := NewResolver(NewStatic(list), p)
	clk := onClock(r)
	for i := range 500 {
		if _, err := r.Resolve(ctx, fmt.Sprintf("cam%d", i)); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Resolve(ctx, fmt.Sprintf("other%d", i)); !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
		if i == 250 {
			clk.advance(p.NegativeTTL) // the first negatives expire
		}
	}
	r.mu.Lock()
	found, missing := len(r.found), len(r.missing)
	r.mu.Unlock()
	if found > p.MaxEntries || missing > p.MaxNegative {
		t.Fatalf("%d found and %d missing kept, bounds %d and %d", found, missing, p.MaxEntries, p.MaxNegative)
	}
	// The most recent answer is always kept.
	if _, ok := r.found["cam499"]; !ok {
		t.Fatal("the latest stream was evicted")
	}
}
