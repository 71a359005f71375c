// Package cluster coordinates zonecast nodes through Redis (reached through
// Sentinel): the node registry with TTL heartbeats, one lease per stream with
// a monotonically increasing fencing token, fenced writes of the playlist
// state a successor needs, and the local lease deadline that makes a
// deposed or frozen leader stop publishing before anyone else can start.
//
// Redis keys (the {stream} hash tag keeps a stream's keys in one slot):
//
//	zc:node:<id>        hash  id, region, zone, capacity, load, http, quic, draining, ready,
//	                          target_groups, endpoint, seen_ms, ready_since_ms (TTL NodeTTL)
//	zc:nodes            set   ids seen (pruned when the hash has expired)
//	zc:seen:<id>        int   last heartbeat, Redis's clock in ms (TTL Fencing.RecordFor)
//	zc:fence:<id>       int   the token the node was fenced under (TTL Fencing.RecordFor)
//	zc:zonefence:<r>:<z> hash since_ms, endpoint, group, previous (a lost zone's weight)
//	zc:{s}:lease        hash  holder, token, standby (TTL LeaseTTL)
//	zc:{s}:token        int   last token issued; never expires, never decreases
//	zc:{s}:state        hash  blob (JSON successor state), token, holder, msn:<rendition>
package cluster
