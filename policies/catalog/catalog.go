// Package catalog holds the numbers of the stream catalog's cache on each
// node: how long an answer is trusted, how fast unknown names may reach the
// store, and how long a node keeps serving what it knows while the store is
// unreachable. Validate ties them to the freshness rule every node promises.
//
// It is pure, like policies/failover: no I/O, no clocks.
package catalog

import (
	"errors"
	"fmt"
	"time"
)

// Freshness is the promise: a stream created through any node can be
// published on every node, and a deleted stream or a rotated passphrase is
// refused on every node, within this time of the change.
const Freshness = 2 * time.Second

// Ending is the second promise: a deleted stream's live publisher is
// disconnected, and its viewers see the stream end, within this time of the
// deletion.
const Ending = 5 * time.Second

// Recheck is how often a node asks its resolver about every stream it has
// wired, so that a deletion ends the stream's publisher and playlists
// within Ending: the answer is at most Staleness old, and the check comes
// at most Recheck later. Each check costs a read per stream per
// PositiveTTL, not per Recheck (the resolver answers from memory between).
const Recheck = 500 * time.Millisecond

// IdleUnwire is how long a node keeps a catalog stream wired with no
// publisher and no role in the cluster: long enough for a broadcaster's
// reconnection or a short break to find its playlists where they were,
// short enough that a node that saw a night's matches does not keep them
// all. The streams: list's streams are never unwired.
const IdleUnwire = 10 * time.Minute

// RetiredSegments is how long, in segments, a rendition that a ladder
// change removed keeps serving its playlist and media after it left the
// multivariant playlist: a player on it holds back three target durations
// (HOLD-BACK) and fetches what its last playlist promised; after that it
// gets 404 and switches to a rendition still listed.
const RetiredSegments = 3

// Cache is the resolver's policy: how a node's SRT handshake finds a stream.
type Cache struct {
	// PositiveTTL is how long a found stream is answered from memory. A
	// deletion or rotation is seen at most this long (plus a read) later.
	PositiveTTL time.Duration
	// NegativeTTL is how long "no such stream" is answered from memory, so a
	// publisher retrying an unknown name costs one read per TTL. A creation
	// is seen at most this long (plus a read) later.
	NegativeTTL time.Duration
	// ReadTimeout bounds one strongly consistent read on the handshake path;
	// a slower store is treated as unreachable.
	ReadTimeout time.Duration
	// ReplicationLag is what a write made in another region may take to
	// reach this region's replica: AWS documents global tables as
	// replicating "typically within a second". Local tests have one region.
	ReplicationLag time.Duration
	// RetryAfterError: after a failed read the store is not asked again for
	// this long; known names are answered from memory at once meanwhile, so
	// an outage costs at most one handshake per interval a ReadTimeout.
	RetryAfterError time.Duration
	// StaleLimit bounds how long a stream read before an outage keeps being
	// answered while the store stays unreachable: longer than the longest
	// event (a football match with extra time and the pre-show is under
	// four hours), so no live event is cut by a catalog outage.
	StaleLimit time.Duration
	// MissRate and MissBurst bound the reads per second that names not
	// known to be live may cause (a token bucket): a flood of handshakes
	// for random names costs the store at most this. MissBurst covers a
	// whole node's worth of publishers reconnecting at once after a fault.
	MissRate  float64
	MissBurst int
	// MissConcurrency bounds the reads for names not known to be live that
	// are in flight at once: a burst spends MissBurst tokens at once, and
	// that many simultaneous reads would make the store slow for the
	// known streams' refreshes (a read past ReadTimeout counts as the
	// store being down).
	MissConcurrency int
	// MaxEntries bounds the found streams kept in memory (100,000 streams
	// at a few hundred bytes each is tens of MB); MaxNegative the
	// remembered unknown names.
	MaxEntries  int
	MaxNegative int
}

// DefaultCache is what every node runs.
var DefaultCache = Cache{
	PositiveTTL:     750 * time.Millisecond,
	NegativeTTL:     750 * time.Millisecond,
	ReadTimeout:     250 * time.Millisecond,
	ReplicationLag:  time.Second,
	RetryAfterError: time.Second,
	StaleLimit:      6 * time.Hour,
	MissRate:        200,
	MissBurst:       1000,
	MissConcurrency: 32,
	MaxEntries:      200_000,
	MaxNegative:     10_000,
}

// Staleness is the oldest state of the catalog a handshake can be answered
// from while the store is reachable: an entry is trusted for its TTL from
// the start of the read that filled it, a handshake may join a read started
// up to ReadTimeout before it, and a write made in another region reaches
// this one up to ReplicationLag late.
func (c Cache) Staleness() time.Duration {
	return max(c.PositiveTTL, c.NegativeTTL) + c.ReadTimeout + c.ReplicationLag
}

// Validate checks that the numbers keep the freshness promise and bound the
// store's load.
func (c Cache) Validate() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	for _, d := range []struct {
		name string
		v    time.Duration
	}{{"PositiveTTL", c.PositiveTTL}, {"NegativeTTL", c.NegativeTTL}, {"ReadTimeout", c.ReadTimeout}, {"RetryAfterError", c.RetryAfterError}, {"StaleLimit", c.StaleLimit}} {
		if d.v <= 0 {
			bad("%s %v must be positive", d.name, d.v)
		}
	}
	if c.ReplicationLag < 0 {
		bad("ReplicationLag %v must not be negative", c.ReplicationLag)
	}
	if s := c.Staleness(); s > Freshness {
		bad("a handshake may see the catalog %v old (TTL %v + read %v + replication %v), beyond the %v freshness promise",
			s, max(c.PositiveTTL, c.NegativeTTL), c.ReadTimeout, c.ReplicationLag, Freshness)
	}
	if e := c.Staleness() + Recheck + c.ReadTimeout; e > Ending {
		bad("a deleted stream may live on %v (staleness %v + recheck %v + read %v), beyond the %v ending promise",
			e, c.Staleness(), Recheck, c.ReadTimeout, Ending)
	}
	if c.StaleLimit < c.PositiveTTL {
		bad("StaleLimit %v must be at least PositiveTTL %v", c.StaleLimit, c.PositiveTTL)
	}
	if c.MissRate <= 0 || c.MissBurst < 1 || c.MissConcurrency < 1 {
		bad("MissRate %v, MissBurst %d and MissConcurrency %d must be positive", c.MissRate, c.MissBurst, c.MissConcurrency)
	}
	if c.MaxEntries < 1 {
		bad("MaxEntries %d must be positive", c.MaxEntries)
	}
	// Every answer the store gives within one negative TTL fits, so a name
	// repeated in a flood does not read the store again.
	if need := c.MissBurst + int(c.MissRate*c.NegativeTTL.Seconds()+0.5); c.MaxNegative < need {
		bad("MaxNegative %d must hold the misses of one NegativeTTL (%d)", c.MaxNegative, need)
	}
	return errors.Join(errs...)
}
