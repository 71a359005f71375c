package failover

import "time"

// Bound is the worst a fault can do to one affected stream.
type Bound struct {
	Fault Fault
	// Detection is when the system has noticed the fault (the step that
	// starts the recovery), measured from the fault.
	Detection time.Duration
	// Stall is the longest time the stream's playlists stop advancing
	// (what an HLS reader following the stream measures; with the slate,
	// filler segments count as advancing).
	Stall time.Duration
	// MediaLost is the longest stretch of the broadcast that never reaches
	// viewers (a gap in PROGRAM-DATE-TIME): the "black screen". The slate
	// does not shorten it: filler is not the broadcast.
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
	return t.ReconnectMovedAt(noticed, healthyAt, 0, hitsDead)
}

// ReconnectMovedAt is ReconnectAt where the dead target is fenced at moved
// (0: never; otherwise no later than healthyAt): an attempt that landed on
// it keeps resending its handshake, and once the load balancer sends the
// fenced target's flows to a live node, that node answers the next resend
// (SRTHandshakeResend), so the attempt completes then instead of failing
// after SRTConnectTimeout.
func (t Timings) ReconnectMovedAt(noticed, healthyAt, moved time.Duration, hitsDead func(attempt time.Duration) bool) time.Duration {
	at := noticed + t.BroadcasterRetry
	for at < healthyAt && hitsDead(at) {
		if moved > at && moved < at+t.SRTConnectTimeout {
			return at + (moved-at+SRTHandshakeResend-1)/SRTHandshakeResend*SRTHandshakeResend
		}
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
// partition cutting it off) of length d causes its streams behind AWS's
// load balancers (FreezeImpactVia with AWSRouting).
func (t Timings) FreezeImpact(d time.Duration) (stall, lost time.Duration) {
	return t.FreezeImpactVia(d, t.AWSRouting())
}

// FreezeImpactVia is FreezeImpact for a routing. A short freeze keeps the
// SRT connection and the lease: the stream resumes when the node does. A
// longer one is a node loss whose reconnection may land on the node again
// once it is back.
//
// With fencing, a node still silent when a survivor has taken its lease
// over and Redis has not heard it for the quiet time is deregistered (the
// call is made even if it wakes meanwhile); with the slate, the standby
// serving its copy bounds the stall.
func (t Timings) FreezeImpactVia(d time.Duration, r Routing) (stall, lost time.Duration) {
	leaseHeld := t.LeaseTTL - t.LeaseRenew // the shortest a lease can still run at the freeze
	if d < t.SRTPeerIdleTimeout && d < leaseHeld {
		return t.slated(d, r), d
	}
	healthy, moved := min(r.NodeDetection, d), time.Duration(0)
	if fenced := r.Fencing.NodeFencedAfter(t); r.Fencing.Enabled && fenced-r.Fencing.Deregistration < d && fenced <= healthy {
		healthy, moved = fenced, fenced
	}
	noticed := min(t.SRTPeerIdleTimeout, d)
	if d > noticed {
		noticed += r.ProbeTimeout // the frozen node is still tried first
	}
	back := t.ReconnectMovedAt(noticed, healthy, moved, always)
	return t.slated(t.resume(back, t.LeaseTTL, r), r), back
}

// slated is the stall viewers see of an outage whose stream a surviving
// node keeps serving (the standby's copy, or the new leader's): with the
// slate its playlists advance with filler once no media arrived for
// SlateAfter, from the next part on.
func (t Timings) slated(stall time.Duration, r Routing) time.Duration {
	if !r.Slate {
		return stall
	}
	return min(stall, t.SlateAfter()+t.PartDuration)
}

// resume is the worst time a stream whose ingest is back at back publishes
// again when the old lease lapses at lapse: from the first keyframe if the
// reconnection reached the standby (it serves its own copy, lease or not),
// otherwise also no earlier than a part after the lapse (the node that got
// the ingest leads only then).
func (t Timings) resume(back, lapse time.Duration, r Routing) time.Duration {
	if r.ReconnectReachesStandby {
		if !r.ReconnectLandsOnStandby {
			back = max(back, t.FeedQuietAfter()) // the standby adopts the forward
		}
		return back + t.SegmentDuration
	}
	return max(back+t.SegmentDuration, lapse+t.PartDuration)
}

// redundantStall is the worst stall of a stream whose backup encoder feeds
// its standby when the leader goes and its lease lapses at lapse.
func (t Timings) redundantStall(lapse time.Duration, r Routing) time.Duration {
	if r.ReconnectReachesStandby {
		return t.PartDuration
	}
	return lapse + t.PartDuration
}

// DeathNoticed is when, after a node dies, its broadcasters notice: at once
// where the host answers for the dead process, else after the SRT
// peer-idle timeout.
func (t Timings) DeathNoticed(r Routing) time.Duration {
	if r.KillNoticedAtOnce {
		return 0
	}
	return t.SRTPeerIdleTimeout
}

// Routing is what stands between a reconnecting broadcaster and the nodes.
type Routing struct {
	Name string
	// NodeDetection is the worst time until new connections avoid a dead
	// or frozen node.
	NodeDetection time.Duration
	// ZoneShift is the further time until new connections leave a zone or
	// region with no healthy node.
	ZoneShift time.Duration
	// ProbeTimeout is what a reconnection loses trying a frozen node that
	// the routing does not yet avoid (0 when a load balancer routes).
	ProbeTimeout time.Duration
	// KillNoticedAtOnce: a killed node's host answers at once (ICMP port
	// unreachable), so the broadcaster's sender notices immediately instead
	// of after its peer-idle timeout. True on one machine; behind NLB and
	// Global Accelerator a dead instance is silent.
	KillNoticedAtOnce bool
	// ReconnectReachesStandby: the stream's standby gets the reconnected
	// ingest before the lease moves, and viewers reach the standby's own
	// copy of the playlists, which continues as soon as TS arrives; a backup
	// encoder feeding the standby then costs viewers only a part. Locally
	// the broadcaster reconnects to the standby itself. Behind NLB and
	// Global Accelerator the reconnection lands on a node of the leader's
	// zone (source-IP affinity to the endpoint), which forwards the ingest
	// to the standby recorded in the lease (dataplane cluster/forward.go,
	// half a relay timeout after the dead leader's relay fell silent, far
	// inside the broadcaster's own way back), and viewers reach the standby
	// through any node's viewer proxy. False is the what-if of neither:
	// the node that got the ingest publishes only once the dead leader's
	// lease has lapsed, and so does a standby fed by a backup encoder.
	ReconnectReachesStandby bool
	// ReconnectLandsOnStandby: the broadcaster reconnects to the standby
	// itself (locally), so no forward is needed; otherwise the node that
	// got the ingest asks Redis which node stands by before it forwards.
	ReconnectLandsOnStandby bool
	// Fencing is how the surviving nodes take a dead node out of its load
	// balancer, and a dead zone out of the accelerator, before their own
	// health checks would (Fencing.Enabled false: only the health checks).
	Fencing Fencing
	// Slate: the node serving a stream (the leader, or the standby serving
	// its copy) keeps its playlists advancing with filler once no media
	// arrived for SlateAfter, so viewers' players never freeze on a stall
	// longer than that and a part. It is here, beside the routing, because
	// the worst case and the simulator take both as one what-if.
	Slate bool
}

// AWSRouting is production's: the NLB marks a dead target unhealthy after
// its unhealthy threshold of checks; Global Accelerator then moves new
// flows away from an endpoint with no healthy target within its traffic
// shift. The nodes fence a dead node or zone sooner when DefaultFencing
// is enabled, and the serving node slates a gap when SlateShips.
func (t Timings) AWSRouting() Routing {
	return Routing{Name: "aws", NodeDetection: t.NLBDetection(), ZoneShift: t.GATrafficShift, ReconnectReachesStandby: true,
		Fencing: DefaultFencing, Slate: SlateShips}
}

// WithoutFencing is r as zonecast was before fast fencing and the slate:
// only the health checks move flows, and a stall freezes the players.
func (r Routing) WithoutFencing() Routing {
	r.Fencing.Enabled, r.Slate = false, false
	return r
}

// DirectRouting is the local twin-zone set-up's (make run, make chaos):
// the broadcaster itself tries the nodes in turn, skips one whose /readyz
// does not answer within 300 ms, and so reaches the standby; a killed
// node's port is refused at once. No load balancer, so nothing to fence;
// no slate, as the kept chaos measurements were taken without one.
var DirectRouting = Routing{Name: "direct", ProbeTimeout: 300 * time.Millisecond, KillNoticedAtOnce: true, ReconnectReachesStandby: true, ReconnectLandsOnStandby: true}

// LocalTimings are the timings of the local twin-zone set-up that
// `make chaos` measures: DefaultTimings with the set-up's 1 s segments and
// its broadcaster's SRT sender (gosrt with 1 s peer-idle and connection
// timeouts, retrying every 100 ms). The chaos harness configures these
// itself; they are restated here so the simulator predicts what it
// measures. (With 1 s segments the relay timeout is shortened to 0.8 s,
// as every edge packaging 1 s segments does: ForCadence.)
var LocalTimings = func() Timings {
	t := DefaultTimings.ForCadence(time.Second, DefaultTimings.PartDuration)
	t.SRTPeerIdleTimeout = time.Second
	t.SRTConnectTimeout = time.Second
	t.BroadcasterRetry = 100 * time.Millisecond
	return t
}()

// WorstCase is the worst-case failover table the timings imply behind
// AWS's load balancers, one row per fault (WorstCaseVia with AWSRouting).
func WorstCase(t Timings, outage time.Duration) []Bound {
	return WorstCaseVia(t, outage, t.AWSRouting())
}

// WorstCaseVia is the worst-case table for a routing. Outage is the length
// of the timed faults (both Redis down, a partition, a freeze); region and
// zone losses are assumed to last longer than their recovery. Capacity is
// assumed sufficient (the simulator measures what scale-out adds when it
// is not).
func WorstCaseVia(t Timings, outage time.Duration, r Routing) []Bound {
	seg, part := t.SegmentDuration, t.PartDuration
	nlb := r.NodeDetection
	gaMoved := nlb + r.ZoneShift

	// Where new flows go only to live targets, and when an attempt caught
	// on the dead node is moved (0: never).
	nodeHealthy, nodeMoved, zoneHealthy, zoneDetection := nlb, time.Duration(0), gaMoved, nlb
	nodeHow, zoneHow := "", ""
	if f := r.Fencing; f.Enabled {
		if fenced := f.NodeFencedAfter(t); fenced <= nlb {
			nodeHealthy, nodeMoved = fenced, fenced
			nodeHow = "; fenced: the standby takes the lease as it lapses (≤ LeaseTTL), Redis agrees once the node is quiet, and the deregistration moves its flows, so a reconnection caught on it completes at its next handshake resend"
		}
		// The worst zone held the region's Redis primary: the agreement
		// waits for the replica's promotion.
		if shifted := f.ZoneFencedAt(0, t.RedisFailover); shifted < gaMoved {
			zoneHealthy, zoneDetection = shifted, min(nlb, max(f.QuietAfter, t.RedisFailover))
			zoneHow = "; fenced: once Redis (after the promotion) has heard none of the zone's nodes for the quiet time, a survivor sets the zone's endpoint weight to 0, which the accelerator applies within its weight shift"
		}
	}
	slateHow := ""
	if r.Slate {
		slateHow = "; the serving node slates the gap after SlateAfter, so players never freeze longer"
	}

	nodeBack := t.ReconnectMovedAt(t.DeathNoticed(r), nodeHealthy, nodeMoved, always)
	zoneBack := t.ReconnectAt(t.SRTPeerIdleTimeout, zoneHealthy, always)
	regionBack := t.ReconnectAt(t.SRTPeerIdleTimeout, gaMoved, always) // no survivor in the region to fence it
	zoneLease := max(t.LeaseTTL, t.RedisFailover)
	freezeStall, freezeLost := t.FreezeImpactVia(outage, r)
	drainBack := t.BroadcasterRetry // the draining node closes the connection: noticed at once

	return []Bound{
		{
			Fault: NodeLoss, Detection: min(t.DeathNoticed(r), nodeHealthy),
			Stall: t.slated(t.resume(nodeBack, t.LeaseTTL, r), r), MediaLost: nodeBack,
			RedundantStall: t.redundantStall(t.LeaseTTL, r), Unprotected: t.StandbyRestore(),
			How: "broadcaster notices after the SRT peer-idle timeout, retries until the NLB has marked the node unhealthy; the standby leads (a part after) the lease lapses, publishing the reconnected ingest from its first keyframe" + nodeHow + slateHow,
		},
		{
			Fault: StandbyLoss, Detection: t.NodeTTL,
			Unprotected: t.StandbyRestore(),
			How:         "viewers see nothing; the leader picks a new standby once the registry drops the dead node",
		},
		{
			Fault: ZoneLoss, Detection: zoneDetection,
			Stall: t.slated(t.resume(zoneBack, zoneLease, r), r), MediaLost: zoneBack,
			RedundantStall: t.redundantStall(zoneLease, r), Unprotected: 0,
			How: "the zone's NLB has no healthy target after the unhealthy threshold; Global Accelerator moves new flows to the twin zone within its traffic shift; the standby there leads once the lease lapses and, when the region's Redis primary was in the lost zone, its replica in the twin is promoted. Streams whose standby was in the lost zone run unprotected until it returns" + zoneHow + slateHow,
		},
		{
			Fault: RedisPrimaryLoss, Detection: t.SentinelDownAfter,
			How: "leaders keep their leases (the lease TTL outlives a missed renewal plus the promotion); new ingests and takeovers in both zones of the region (one Redis for both) wait at most the Redis failover budget",
		},
		{
			Fault: RedisPairLoss, Detection: t.SentinelDownAfter,
			How: "leaders keep serving what they lead; new ingests go to another region (both zones share the Redis); a takeover in the region waits for Redis",
		},
		{
			Fault: RegionLoss, Detection: nlb,
			Stall: regionBack + seg, MediaLost: regionBack, RedundantStall: regionBack + seg,
			How: "both endpoints of the region's group are unhealthy; Global Accelerator sends new flows to the nearest other region, where the stream starts afresh under a new lease (no lease wait) and a new standby; no node of the region survives to fence it or to slate",
		},
		{
			Fault: Partition, Detection: min(t.SRTPeerIdleTimeout, nlb),
			Stall: freezeStall, MediaLost: freezeLost, RedundantStall: min(freezeStall, t.redundantStall(t.LeaseTTL, r)),
			Unprotected: t.StandbyRestore(),
			How:         "as a node loss for the outage; the node comes back deposed (its fencing token is stale) and publishes nothing",
		},
		{
			Fault: LeaderFreeze, Detection: min(t.SRTPeerIdleTimeout, nlb),
			Stall: freezeStall, MediaLost: freezeLost, RedundantStall: min(freezeStall, t.redundantStall(t.LeaseTTL, r)),
			Unprotected: t.StandbyRestore(),
			How:         "as a partition: a freeze shorter than the SRT peer-idle timeout and the lease only delays the stream",
		},
		{
			Fault: RollingUpdate, Detection: 0,
			Stall: t.slated(max(part, drainBack+seg), r), MediaLost: drainBack, RedundantStall: part,
			Unprotected: seg,
			How:         "the draining node hands each stream to its standby (within a part), waits until the NLB stops sending it new flows, then closes the broadcaster's connection, which comes back at once on another node",
		},
		{
			Fault: RedisPartition, Detection: t.LeaseTTL - t.LeaseClockMargin(),
			Stall: part, RedundantStall: part, Unprotected: t.StandbyRestore(),
			How: "the leader cannot renew and stops at its local lease deadline; it still relays the ingest to its standby, which takes the lease as it lapses and publishes within a part",
		},
	}
}
