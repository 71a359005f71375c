package catalog

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
	"golang.org/x/time/rate"

	"github.com/zonecast/zonecast/dataplane/internal/config"
	policy "github.com/zonecast/zonecast/policies/catalog"
)

// reader is the part of a store the resolver uses.
type reader interface {
	Get(ctx context.Context, name string) (Stream, error)
}

// Resolver answers "which stream is this publisher's, and with what key?"
// on the SRT handshake path, from memory whenever it can:
//   - a found stream is trusted for policy.PositiveTTL, "no such stream"
//     for NegativeTTL, so that every node sees a change within
//     policy.Freshness;
//   - concurrent handshakes for one name share one read;
//   - reads for names not known to exist come from a token bucket
//     (MissRate, MissBurst), so a flood of random names costs the store a
//     bounded rate and never delays a known stream's handshake;
//   - while the store is unreachable, streams read before keep being
//     answered (for up to StaleLimit) and unknown ones are refused with
//     ErrUnavailable; the store is retried every RetryAfterError.
type Resolver struct {
	store  reader
	policy policy.Cache
	now    func() time.Time
	misses *rate.Limiter
	// missSlots holds a slot per read of an unknown name in flight
	// (MissConcurrency).
	missSlots chan struct{}
	reads     singleflight.Group

	mu        sync.Mutex
	found     map[string]entry
	missing   map[string]time.Time // when the read that found nothing started
	downUntil time.Time            // the store failed: not asked again before
	lastErr   error

	stats struct{ hits, reads, throttled, stale, unavailable atomic.Int64 }
}

type entry struct {
	stream Stream
	read   time.Time // when the read that returned it started
}

// NewResolver answers from store under the cache policy p (normally
// policies/catalog.DefaultCache).
func NewResolver(store reader, p policy.Cache) *Resolver {
	return &Resolver{
		store:     store,
		policy:    p,
		now:       time.Now,
		misses:    rate.NewLimiter(rate.Limit(p.MissRate), p.MissBurst),
		missSlots: make(chan struct{}, max(1, p.MissConcurrency)),
		found:     map[string]entry{},
		missing:   map[string]time.Time{},
	}
}

// ResolverStats counts the resolver's answers since it started.
type ResolverStats struct {
	Hits        int64 // answered from memory, fresh
	Reads       int64 // reads that reached the store
	Throttled   int64 // unknown names refused because the miss budget was spent
	Stale       int64 // answered from memory past the TTL because the store failed
	Unavailable int64 // refused because the store failed and the name was not known
}

// Stats returns the counters.
func (r *Resolver) Stats() ResolverStats {
	return ResolverStats{
		Hits: r.stats.hits.Load(), Reads: r.stats.reads.Load(), Throttled: r.stats.throttled.Load(),
		Stale: r.stats.stale.Load(), Unavailable: r.stats.unavailable.Load(),
	}
}

// Resolve returns the stream called name. Errors: ErrNotFound (the catalog
// has no such stream), ErrThrottled (too many unknown names right now),
// ErrUnavailable (the catalog is unreachable and the node did not know the
// stream); each says which name.
func (r *Resolver) Resolve(ctx context.Context, name string) (Stream, error) {
	// A name no stream can have never costs a read.
	if !config.ValidStreamName(name) {
		return Stream{}, fmt.Errorf("%w: %q is not a valid stream name", ErrNotFound, name)
	}
	if s, err, ok := r.fromMemory(name); ok {
		return s, err
	}
	ch := r.reads.DoChan(name, func() (any, error) { return r.read(name) })
	select {
	case res := <-ch:
		if res.Err != nil {
			return Stream{}, res.Err
		}
		return res.Val.(Stream), nil
	case <-ctx.Done():
		return Stream{}, ctx.Err()
	}
}

// Cached reports whether Resolve answers name at once, without reading the
// store: a name no stream can have, a fresh answer, or a store known to be
// down. The SRT listener handles other handshakes off its ordered path.
func (r *Resolver) Cached(name string) bool {
	if !config.ValidStreamName(name) {
		return true
	}
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.found[name]; ok && now.Sub(e.read) < r.policy.PositiveTTL {
		return true
	}
	if t, ok := r.missing[name]; ok && now.Sub(t) < r.policy.NegativeTTL {
		return true
	}
	return now.Before(r.downUntil)
}

// fromMemory answers when the cache may: ok is false when the store must
// be asked.
func (r *Resolver) fromMemory(name string) (Stream, error, bool) {
	now := r.now()
	r.mu.Lock()
	defer r.mu.Unlock()
	if e, ok := r.found[name]; ok && now.Sub(e.read) < r.policy.PositiveTTL {
		r.stats.hits.Add(1)
		return e.stream, nil, true
	}
	if t, ok := r.missing[name]; ok && now.Sub(t) < r.policy.NegativeTTL {
		r.stats.hits.Add(1)
		return Stream{}, fmt.Errorf("%w: %q", ErrNotFound, name), true
	}
	if now.Before(r.downUntil) {
		s, err := r.whileDown(name, now)
		return s, err, true
	}
	return Stream{}, nil, false
}

// read asks the store, once for all the handshakes waiting on name.
func (r *Resolver) read(name string) (Stream, error) {
	start := r.now()
	r.mu.Lock()
	_, known := r.found[name]
	// The limiter is taken here, inside the shared read, so handshakes
	// joining a read spend no token.
	if !known && !r.misses.AllowN(start, 1) {
		r.mu.Unlock()
		r.stats.throttled.Add(1)
		return Stream{}, fmt.Errorf("%w: %q not looked up", ErrThrottled, name)
	}
	r.mu.Unlock()
	if !known {
		select {
		case r.missSlots <- struct{}{}:
			defer func() { <-r.missSlots }()
		default:
			r.stats.throttled.Add(1)
			return Stream{}, fmt.Errorf("%w: %q not looked up (%d reads in flight)", ErrThrottled, name, cap(r.missSlots))
		}
	}

	// Not the handshake's context: the read is shared, and one caller
	// giving up must not fail the others.
	ctx, cancel := context.WithTimeout(context.Background(), r.policy.ReadTimeout)
	s, err := r.store.Get(ctx, name)
	cancel()
	r.stats.reads.Add(1)

	r.mu.Lock()
	defer r.mu.Unlock()
	switch {
	case err == nil:
		r.remember(name, entry{stream: s, read: start})
		delete(r.missing, name)
		return s, nil
	case errors.Is(err, ErrNotFound):
		delete(r.found, name)
		r.forget(name, start)
		return Stream{}, err
	default:
		r.downUntil = r.now().Add(r.policy.RetryAfterError)
		r.lastErr = err
		return r.whileDown(name, start)
	}
}

// whileDown answers while the store is failing: a stream read before, for
// up to StaleLimit, and otherwise ErrUnavailable. Called with mu held.
func (r *Resolver) whileDown(name string, now time.Time) (Stream, error) {
	if e, ok := r.found[name]; ok && now.Sub(e.read) < r.policy.StaleLimit {
		r.stats.stale.Add(1)
		return e.stream, nil
	}
	r.stats.unavailable.Add(1)
	return Stream{}, fmt.Errorf("%w: stream %q is not known to this node (%v)", ErrUnavailable, name, r.lastErr)
}

// remember keeps a found stream. At the bound, entries past StaleLimit go
// first, then arbitrary ones (Go's map order), a hundredth at a time, so a
// full cache costs one sweep per hundredth of its size, not one per insert.
// Called with mu held.
func (r *Resolver) remember(name string, e entry) {
	if _, ok := r.found[name]; !ok && len(r.found) >= r.policy.MaxEntries {
		for n, old := range r.found {
			if e.read.Sub(old.read) >= r.policy.StaleLimit {
				delete(r.found, n)
			}
		}
		for n := range r.found {
			if len(r.found) < r.policy.MaxEntries-r.policy.MaxEntries/100 {
				break
			}
			delete(r.found, n)
		}
	}
	r.found[name] = e
}

// forget remembers that name has no stream. At the bound, expired answers
// go; when all are fresh (the store answers faster than the policy allows
// for), the answer is not kept. Called with mu held.
func (r *Resolver) forget(name string, at time.Time) {
	if _, ok := r.missing[name]; !ok && len(r.missing) >= r.policy.MaxNegative {
		for n, t := range r.missing {
			if at.Sub(t) >= r.policy.NegativeTTL {
				delete(r.missing, n)
			}
		}
		if len(r.missing) >= r.policy.MaxNegative {
			return
		}
	}
	r.missing[name] = at
}
