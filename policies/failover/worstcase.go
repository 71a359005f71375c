package failover

import "time"

// Bound is the worst a fault can do to one affected stream.
type Bound struct {
	Fault Fault
	// Detection is when the system has noticed the fault (the step that
	// starts the recovery), measured from the fault.
	Detection time.Duration
	// Stall is the longest time the stream's playlists stop advancing
	// (what an HLS reader following the stream measures).
	Stall time.Duration
	// MediaLost is the longest stretch of the broadcast that never reaches
	// viewers (a gap in PROGRAM-DATE-TIME): the "black screen".
	MediaLost time.Duration
	// RedundantStall is Stall for a stream with a backup encoder feeding the
	// twin zone (input redundancy); such streams lose no media unless
	// the whole region is lost.
	RedundantStall time.Duration
	// Unprotected is how long the stream runs without a standby afterwards
	// (0 when the standby is untouched).
	Unprotected time.Duration
	// How says in words what the figures are made of.
	How string
}

// ReconnectAt is when a broadcaster whose connection broke is ingesting
// again: it notices at noticed, waits BroadcasterRetry, and connects; an
// attempt that lands on a dead target (hitsDead reports whether it does)
// fails after SRTConnectTimeout and is retried after another
// BroadcasterRetry. From healthyAt on, new flows only go to healthy
// targets, so attempts succeed. The worst case passes a hitsDead that is
// always true; the simulator passes a seeded coin weighted by the share of
// dead targets.
func (t Timings) ReconnectAt(noticed, healthyAt time.Duration, hitsDead func(attempt time.Duration) bool) time.Duration {
	at := noticed + t.BroadcasterRetry
	for at < healthyAt && hitsDead(at) {
		at += t.SRTConnectTimeout + t.BroadcasterRetry
	}
	return at
}

func always(time.Duration) bool { return true }

// StandbyRestore is how long a stream runs unprotected after losing its
// standby: the registry notices the dead node (NodeTTL), the leader picks a
// new standby, which warms up for a segment.
func (t Timings) StandbyRestore() time.Duration { return t.NodeTTL + t.SegmentDuration }

// FreezeImpact is the worst stall and media loss a leader's freeze (or a
// partition cutting it off) of length d causes its streams. A short freeze
// keeps the SRT connection and the lease: the stream resumes when the
// node does. A longer one is a node loss whose reconnection may land on
// the node again once it is back.
func (t Timings) FreezeImpact(d time.Duration) (stall, lost time.Duration) {
	leaseHeld := t.LeaseTTL - t.LeaseRenew // the shortest a lease can still run at the freeze
	if d < t.SRTPeerIdleTimeout && d < leaseHeld {
		return d, d
	}
	healthy := min(t.NLBDetection(), d)
	back := t.ReconnectAt(min(t.SRTPeerIdleTimeout, d), healthy, always)
	return max(back, t.LeaseTTL) + t.SegmentDuration, back
}

// WorstCase is the worst-case failover table the timings imply, one row per
// fault. Outage is the length of the timed faults (both Redis down, a
// partition, a freeze); region and zone losses are assumed to last longer
// than their recovery. Capacity is assumed sufficient (the simulator
// measures what scale-out adds when it is not).
func WorstCase(t Timings, outage time.Duration) []Bound {
	seg, part := t.SegmentDuration, t.PartDuration
	nlb := t.NLBDetection()
	gaMoved := nlb + t.GATrafficShift

	nodeBack := t.ReconnectAt(t.SRTPeerIdleTimeout, nlb, always)
	zoneBack := t.ReconnectAt(t.SRTPeerIdleTimeout, gaMoved, always)
	zoneLease := max(t.LeaseTTL, t.RedisFailover)
	freezeStall, freezeLost := t.FreezeImpact(outage)
	drainBack := t.BroadcasterRetry // the draining node closes the connection: noticed at once

	return []Bound{
		{
			Fault: NodeLoss, Detection: min(t.SRTPeerIdleTimeout, nlb),
			Stall: max(nodeBack, t.LeaseTTL) + seg, MediaLost: nodeBack,
			RedundantStall: t.LeaseTTL + part, Unprotected: t.StandbyRestore(),
			How: "broadcaster notices after the SRT peer-idle timeout, retries until the NLB has marked the node unhealthy; the standby leads once the lease lapses; the first keyframe after the ingest is back starts a segment",
		},
		{
			Fault: StandbyLoss, Detection: t.NodeTTL,
			Unprotected: t.StandbyRestore(),
			How:         "viewers see nothing; the leader picks a new standby once the registry drops the dead node",
		},
		{
			Fault: ZoneLoss, Detection: nlb,
			Stall: max(zoneBack, zoneLease) + seg, MediaLost: zoneBack,
			RedundantStall: zoneLease + part, Unprotected: 0,
			How: "the zone's NLB has no healthy target after the unhealthy threshold; Global Accelerator moves new flows to the twin zone within its traffic shift; the standby there leads once the lease lapses and the zone's Redis replica is promoted. Streams whose standby was in the lost zone run unprotected until it returns",
		},
		{
			Fault: RedisPrimaryLoss, Detection: t.SentinelDownAfter,
			How: "leaders keep their leases (the lease TTL outlives a missed renewal plus the promotion); new ingests and takeovers in the zone wait at most the Redis failover budget",
		},
		{
			Fault: RedisPairLoss, Detection: t.SentinelDownAfter,
			How: "leaders keep serving what they lead; new ingests go to the twin zone; a takeover in the zone waits for Redis",
		},
		{
			Fault: RegionLoss, Detection: nlb,
			Stall: zoneBack + seg, MediaLost: zoneBack, RedundantStall: zoneBack + seg,
			How: "both endpoints of the region's group are unhealthy; Global Accelerator sends new flows to the nearest other region, where the stream starts afresh under a new lease (no lease wait) and a new standby",
		},
		{
			Fault: Partition, Detection: min(t.SRTPeerIdleTimeout, nlb),
			Stall: freezeStall, MediaLost: freezeLost, RedundantStall: min(freezeStall, t.LeaseTTL+part),
			Unprotected: t.StandbyRestore(),
			How:         "as a node loss for the outage; the node comes back deposed (its fencing token is stale) and publishes nothing",
		},
		{
			Fault: LeaderFreeze, Detection: min(t.SRTPeerIdleTimeout, nlb),
			Stall: freezeStall, MediaLost: freezeLost, RedundantStall: min(freezeStall, t.LeaseTTL+part),
			Unprotected: t.StandbyRestore(),
			How:         "as a partition: a freeze shorter than the SRT peer-idle timeout and the lease only delays the stream",
		},
		{
			Fault: RollingUpdate, Detection: 0,
			Stall: max(part, drainBack+seg), MediaLost: drainBack, RedundantStall: part,
			Unprotected: seg,
			How:         "the draining node hands each stream to its standby (within a part), waits until the NLB stops sending it new flows, then closes the broadcaster's connection, which comes back at once on another node",
		},
	}
}
