package failover

import "time"

// The cluster's takeover logic and the simulator's model of it act on the
// same derived clocks; each is named here once, so that both use one rule
// and Validate's proportions are what they depend on.

// FeedQuietAfter is how long a feed may deliver nothing before a node acts
// on it: a leader whose own feed is quiet hands over to the standby's
// backup feed, and a standby adopts a forwarded ingest once its leader's
// relay is quiet. Half the relay timeout: the broadcaster has evidently
// moved, so a whole timeout is not needed.
func (t Timings) FeedQuietAfter() time.Duration { return t.RelayTimeout / 2 }

// MediaFreshFor is how long after its last TS a node still counts its own
// publisher as live (it may take or keep the lease): a relay timeout plus
// a segment, since a cut may wait a whole GOP for the next keyframe. A
// leader without media for longer releases the lease.
func (t Timings) MediaFreshFor() time.Duration { return t.RelayTimeout + t.SegmentDuration }

// StandbyServesFor is how long a standby keeps serving its copy after its
// leader's relay last delivered: through the leader's death the (frozen)
// playlist stays up until a successor leads, a lease later, plus a segment.
func (t Timings) StandbyServesFor() time.Duration { return t.LeaseTTL + t.SegmentDuration }

// LeaderSilentAfter is how long after a relaying leader last said it leads
// its standby may take the lease over: a renewal plus a relay timeout, so
// that after a total Redis outage the leader, which kept leading, gets its
// lease back first.
func (t Timings) LeaderSilentAfter() time.Duration { return t.LeaseRenew + t.RelayTimeout }

// RedisUnreadyAfter is how long after a node last reached Redis its
// /readyz turns 503 (it refuses new ingests from the first failed
// heartbeat; readiness tells the load balancer). A whole Redis failover
// budget: a promotion within budget, or a lost heartbeat, never takes a
// node out of service, and with the NLB's 2 × 5 s checks a node cut off
// from Redis stops receiving new flows about 15 s later.
func (t Timings) RedisUnreadyAfter() time.Duration { return t.RedisFailover }

// SlateAfter is how long the node serving a stream (its leader, or the
// standby serving its copy) lets the stream's input be quiet before its
// playlists go on with filler (the last good frame, silent audio): the
// relay timeout, the same silence after which a standby counts its
// leader's relay as lost. Sooner, a publisher's ordinary jitter would
// flash the slate; later, players sitting a few parts behind the live
// edge have already stalled.
func (t Timings) SlateAfter() time.Duration { return t.RelayTimeout }

// SlateShips says whether nodes ship with the slate on (the edge's
// hls.slate default, which a test holds to this). Off: behind the load
// balancer a standby whose leader died mid-segment slated the segment it
// had only partly received under the media sequence number the leader had
// already listed whole, so two origins named one number for different
// media (measured in the production-routing chaos rows). The slate stays
// available for a single node (hls.slate: true), and the worst case and
// the simulator print what it would give (-slate).
const SlateShips = false
