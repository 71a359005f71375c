package failover

import (
	"errors"
	"slices"
	"time"
)

// Broadcaster is where a new ingest comes from.
type Broadcaster struct {
	Location Location
	// RTT optionally holds measured round-trip times to regions by name.
	// When given, regions are ranked by it; regions missing from the table
	// rank after every measured one, by distance.
	RTT map[string]time.Duration
}

// Placement is where a stream goes: a leader node in one zone and its hot
// standby in the twin zone of the same region (or, while the twin zone
// accepts none, on another node of the leader's zone).
type Placement struct {
	RegionIndex, ZoneIndex, NodeIndex int
	Region, Zone, Node                string
	// StandbyZoneIndex and StandbyNodeIndex are −1 (and the names empty)
	// when no node can take a standby: the stream then runs unprotected
	// until one can.
	StandbyZoneIndex, StandbyNodeIndex int
	StandbyZone, StandbyNode           string
	// StandbySameZone is true when the standby is in the leader's zone
	// because the twin zone accepts none (see Standby).
	StandbySameZone bool
	// RegionRank is 0 for the closest region, 1 for the second-closest...
	RegionRank int
	// ZoneFallback is true when the twin zone took the ingest because the
	// other zone of the region was not accepting.
	ZoneFallback bool
}

// ErrNoCapacity means no zone of any region accepts the ingest.
var ErrNoCapacity = errors.New("failover: no zone in any region accepts a new ingest")

// Place chooses where a new ingest goes: the closest region that has an
// accepting zone (great-circle distance, or the broadcaster's RTT table);
// in it the accepting zone with the most free capacity (ties go to the
// first zone, so placement is deterministic); the leader on a node of that
// zone (see ChooseNode); the standby on a node of the twin zone. A region
// is left only when both its zones are down or full, or its Redis is down.
func Place(t Topology, b Broadcaster) (Placement, error) {
	for rank, ri := range RankRegions(t, b) {
		r := t.Regions[ri]
		zi, ok := ChooseZone(r)
		if !ok {
			continue
		}
		ni, _ := ChooseNode(r.Zones[zi], -1)
		p := Placement{
			RegionIndex: ri, ZoneIndex: zi, NodeIndex: ni,
			Region: r.Name, Zone: r.Zones[zi].Name, Node: r.Zones[zi].Nodes[ni].ID,
			StandbyZoneIndex: -1, StandbyNodeIndex: -1,
			RegionRank: rank,
		}
		for other := range r.Zones {
			if other != zi && !r.Zones[other].Accepting() {
				p.ZoneFallback = true
			}
		}
		if sz, sn, same, ok := Standby(r, zi, ni); ok {
			p.StandbyZoneIndex, p.StandbyNodeIndex, p.StandbySameZone = sz, sn, same
			p.StandbyZone, p.StandbyNode = r.Zones[sz].Name, r.Zones[sz].Nodes[sn].ID
		}
		return p, nil
	}
	return Placement{}, ErrNoCapacity
}

// RankRegions orders the topology's regions (as indices) from the closest
// to the farthest for the broadcaster. Ties keep the topology's order.
func RankRegions(t Topology, b Broadcaster) []int {
	idx := make([]int, len(t.Regions))
	for i := range idx {
		idx[i] = i
	}
	type key struct {
		measured bool
		rtt      time.Duration
		km       float64
	}
	keys := make([]key, len(t.Regions))
	for i, r := range t.Regions {
		rtt, ok := b.RTT[r.Name]
		keys[i] = key{measured: ok, rtt: rtt, km: DistanceKm(b.Location, r.Location)}
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		a, c := keys[x], keys[y]
		switch {
		case a.measured && !c.measured:
			return -1
		case !a.measured && c.measured:
			return 1
		case a.measured && a.rtt != c.rtt:
			if a.rtt < c.rtt {
				return -1
			}
			return 1
		case a.km < c.km:
			return -1
		case a.km > c.km:
			return 1
		}
		return 0
	})
	return idx
}

// ChooseZone picks the better zone of a region for a new ingest: the
// accepting zone with the most free capacity. It reports false when no
// zone of the region accepts.
func ChooseZone(r Region) (int, bool) {
	if !r.Redis.Available() {
		return -1, false // no zone of the region can hand out a lease
	}
	best, bestFree := -1, 0
	for i, z := range r.Zones {
		if f := z.Free(); f > bestFree {
			best, bestFree = i, f
		}
	}
	return best, best >= 0
}

// Standby picks the hot standby of a stream led by node leaderNode of zone
// leaderZone (−1: the leader is not among the zone's nodes): a node of the
// twin zone. While the twin zone accepts none (lost, or its only node dead),
// another node of the leader's own zone, which survives the leader's death
// though not its zone's; sameZone reports that fallback, which the leader
// replaces as soon as the twin zone accepts again. False when neither zone
// has a node to take it.
func Standby(r Region, leaderZone, leaderNode int) (zone, node int, sameZone, ok bool) {
	if !r.Redis.Available() {
		return -1, -1, false, false // a standby is recorded in the lease
	}
	for i, z := range r.Zones {
		if i == leaderZone || !z.Accepting() {
			continue
		}
		if n, ok := ChooseNode(z, -1); ok {
			return i, n, false, true
		}
	}
	if leaderZone >= 0 && leaderZone < len(r.Zones) && r.Zones[leaderZone].Accepting() {
		if n, ok := ChooseNode(r.Zones[leaderZone], leaderNode); ok {
			return leaderZone, n, true, true
		}
	}
	return -1, -1, false, false
}

// ChooseNode picks the node of a zone that takes new work: the accepting
// node with the least free capacity that still has room (bin packing, ties
// to the lowest index), skipping the node at index exclude. Packing rather
// than spreading leaves whole nodes idle, so the auto-scaling group can
// scale in without moving streams (busy nodes carry scale-in protection);
// a node loss costs each of its streams a takeover either way.
func ChooseNode(z Zone, exclude int) (int, bool) {
	best, bestFree := -1, 0
	for i := range z.Nodes {
		if i == exclude {
			continue
		}
		if f := z.Nodes[i].Free(); f > 0 && (best < 0 || f < bestFree) {
			best, bestFree = i, f
		}
	}
	return best, best >= 0
}
