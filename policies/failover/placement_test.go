package failover

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"
)

// twoRegions builds eu-west-1 and eu-central-1 with zone a freer than zone
// b in each; up says, per zone in order (r0a r0b r1a r1b), whether it is up.
func twoRegions(up [4]bool) Topology {
	mk := func(name string, loc Location, zi int) Region {
		r := Region{Name: name, Location: loc,
			Redis: RedisPair{Primary: RedisInstance{Zone: name + "a", Up: true}, Replica: RedisInstance{Zone: name + "b", Up: true}}}
		for i, suffix := range []string{"a", "b"} {
			load := 2
			if i == 1 {
				load = 5
			}
			z := Zone{
				Name: name + suffix, Up: up[zi+i],
				Nodes: []Node{{ID: name + suffix + "-1", Capacity: 10, Load: load, Up: true}},
			}
			r.Zones = append(r.Zones, z)
		}
		return r
	}
	return Topology{Regions: []Region{
		mk("eu-west-1", Location{53.35, -6.26}, 0),
		mk("eu-central-1", Location{50.11, 8.68}, 2),
	}}
}

var dublinBroadcaster = Broadcaster{Location: Location{53.0, -7.0}}

func TestPlaceEveryZoneHealthCombination(t *testing.T) {
	// Every combination of the four zones' health (a region is down when
	// both its zones are). Expected: leader zone ("" = no capacity), the
	// standby zone ("" = none), whether the twin zone took it as fallback.
	cases := []struct {
		up                      [4]bool
		leader, standby         string
		rank                    int
		zoneFallback, errNoRoom bool
	}{
		{[4]bool{true, true, true, true}, "eu-west-1a", "eu-west-1b", 0, false, false},
		{[4]bool{true, true, true, false}, "eu-west-1a", "eu-west-1b", 0, false, false},
		{[4]bool{true, true, false, true}, "eu-west-1a", "eu-west-1b", 0, false, false},
		{[4]bool{true, true, false, false}, "eu-west-1a", "eu-west-1b", 0, false, false},
		{[4]bool{true, false, true, true}, "eu-west-1a", "", 0, true, false},
		{[4]bool{true, false, true, false}, "eu-west-1a", "", 0, true, false},
		{[4]bool{true, false, false, true}, "eu-west-1a", "", 0, true, false},
		{[4]bool{true, false, false, false}, "eu-west-1a", "", 0, true, false},
		{[4]bool{false, true, true, true}, "eu-west-1b", "", 0, true, false},
		{[4]bool{false, true, true, false}, "eu-west-1b", "", 0, true, false},
		{[4]bool{false, true, false, true}, "eu-west-1b", "", 0, true, false},
		{[4]bool{false, true, false, false}, "eu-west-1b", "", 0, true, false},
		{[4]bool{false, false, true, true}, "eu-central-1a", "eu-central-1b", 1, false, false},
		{[4]bool{false, false, true, false}, "eu-central-1a", "", 1, true, false},
		{[4]bool{false, false, false, true}, "eu-central-1b", "", 1, true, false},
		{[4]bool{false, false, false, false}, "", "", 0, false, true},
	}
	if len(cases) != 16 {
		t.Fatalf("table must cover all 16 combinations, has %d", len(cases))
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.up), func(t *testing.T) {
			p, err := Place(twoRegions(c.up), dublinBroadcaster)
			if c.errNoRoom {
				if !errors.Is(err, ErrNoCapacity) {
					t.Fatalf("want ErrNoCapacity, got %+v, %v", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Zone != c.leader || p.StandbyZone != c.standby || p.RegionRank != c.rank || p.ZoneFallback != c.zoneFallback {
				t.Fatalf("got leader %q standby %q rank %d fallback %v; want %q %q %d %v",
					p.Zone, p.StandbyZone, p.RegionRank, p.ZoneFallback, c.leader, c.standby, c.rank, c.zoneFallback)
			}
			if p.Node != p.Zone+"-1" {
				t.Fatalf("leader node %q not in zone %q", p.Node, p.Zone)
			}
		})
	}
}

func TestPlaceHealthBeyondZoneUp(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(*Topology)
		b      Broadcaster
		want   string
	}{
		{"freer zone b wins", func(tp *Topology) { tp.Regions[0].Zones[0].Nodes[0].Load = 9 }, dublinBroadcaster, "eu-west-1b"},
		{"full zone counts as down", func(tp *Topology) { tp.Regions[0].Zones[0].Nodes[0].Load = 10 }, dublinBroadcaster, "eu-west-1b"},
		{"draining node counts as down", func(tp *Topology) { tp.Regions[0].Zones[0].Nodes[0].Draining = true }, dublinBroadcaster, "eu-west-1b"},
		{"dead node counts as down", func(tp *Topology) { tp.Regions[0].Zones[0].Nodes[0].Up = false }, dublinBroadcaster, "eu-west-1b"},
		// Both zones share the region's Redis: without it neither can hand
		// out a lease, and the region is left.
		{"region without Redis counts as down", func(tp *Topology) {
			tp.Regions[0].Redis.Primary.Up, tp.Regions[0].Redis.Replica.Up = false, false
		}, dublinBroadcaster, "eu-central-1a"},
		{"replica alone keeps the region", func(tp *Topology) { tp.Regions[0].Redis.Primary.Up = false }, dublinBroadcaster, "eu-west-1a"},
		{"both zones full leaves the region", func(tp *Topology) {
			tp.Regions[0].Zones[0].Nodes[0].Load, tp.Regions[0].Zones[1].Nodes[0].Load = 10, 10
		}, dublinBroadcaster, "eu-central-1a"},
		{"RTT table beats distance", func(*Topology) {}, Broadcaster{Location: dublinBroadcaster.Location,
			RTT: map[string]time.Duration{"eu-west-1": 40 * time.Millisecond, "eu-central-1": 12 * time.Millisecond}}, "eu-central-1a"},
		{"measured region beats unmeasured", func(*Topology) {}, Broadcaster{Location: dublinBroadcaster.Location,
			RTT: map[string]time.Duration{"eu-central-1": 90 * time.Millisecond}}, "eu-central-1a"},
		{"distance decides near Frankfurt", func(*Topology) {}, Broadcaster{Location: Location{50, 10}}, "eu-central-1a"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tp := twoRegions([4]bool{true, true, true, true})
			c.mutate(&tp)
			p, err := Place(tp, c.b)
			if err != nil {
				t.Fatal(err)
			}
			if p.Zone != c.want {
				t.Fatalf("placed in %s, want %s", p.Zone, c.want)
			}
		})
	}
}

func TestChooseNodePacksAndSkips(t *testing.T) {
	z := Zone{Up: true, Nodes: []Node{
		{ID: "n0", Capacity: 10, Load: 2, Up: true},
		{ID: "n1", Capacity: 10, Load: 7, Up: true},
		{ID: "n2", Capacity: 10, Load: 9, Up: false},
		{ID: "n3", Capacity: 10, Load: 10, Up: true},
	}}
	if n, ok := ChooseNode(z, -1); !ok || n != 1 {
		t.Fatalf("want the fullest node with room (1), got %d %v", n, ok)
	}
	if n, ok := ChooseNode(z, 1); !ok || n != 0 {
		t.Fatalf("excluding 1 want 0, got %d %v", n, ok)
	}
}

// randomTopology draws a topology of 1–6 catalogue regions whose zones,
// nodes and Redis instances (one pair per region) are up or down at random.
func randomTopology(rng *rand.Rand) Topology {
	n := 1 + rng.IntN(6)
	var tp Topology
	for _, info := range Catalogue[:n] {
		zones := info.Zones()
		r := Region{Name: info.Name, Location: info.Location,
			Redis: RedisPair{Primary: RedisInstance{Zone: zones[0], Up: rng.IntN(4) > 0}, Replica: RedisInstance{Zone: zones[1], Up: rng.IntN(4) > 0}}}
		for _, zn := range zones {
			z := Zone{Name: zn, Up: rng.IntN(4) > 0}
			for k := range rng.IntN(5) {
				c := 1 + rng.IntN(30)
				z.Nodes = append(z.Nodes, Node{ID: fmt.Sprintf("%s-%d", zn, k), Capacity: c, Load: rng.IntN(c + 1),
					Up: rng.IntN(5) > 0, Draining: rng.IntN(8) == 0})
			}
			r.Zones = append(r.Zones, z)
		}
		tp.Regions = append(tp.Regions, r)
	}
	return tp
}

func TestPlacementProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const iterations = 20000
	placed, fallbacks, regionMoves, sameZone := 0, 0, 0, 0
	for i := range iterations {
		tp := randomTopology(rng)
		if err := tp.Validate(); err != nil {
			t.Fatalf("iteration %d: random topology invalid: %v", i, err)
		}
		b := Broadcaster{Location: Location{Lat: rng.Float64()*180 - 90, Lon: rng.Float64()*360 - 180}}
		if rng.IntN(3) == 0 { // sometimes a measured RTT table, for some regions
			b.RTT = map[string]time.Duration{}
			for _, r := range tp.Regions {
				if rng.IntN(2) == 0 {
					b.RTT[r.Name] = time.Duration(1+rng.IntN(300)) * time.Millisecond
				}
			}
		}
		p, err := Place(tp, b)
		anyAccepting := false
		for _, r := range tp.Regions {
			anyAccepting = anyAccepting || r.Accepting()
		}
		if err != nil {
			if anyAccepting {
				t.Fatalf("iteration %d: refused although a zone accepts: %v", i, err)
			}
			continue
		}
		placed++
		r := tp.Regions[p.RegionIndex]
		z := r.Zones[p.ZoneIndex]
		// Never an unhealthy zone, and never a worse zone while a better
		// one of the same region accepts.
		if !z.Accepting() {
			t.Fatalf("iteration %d: placed in zone %s that does not accept", i, z.Name)
		}
		for k, other := range r.Zones {
			if k != p.ZoneIndex && other.Free() > z.Free() {
				t.Fatalf("iteration %d: zone %s has more room than chosen %s", i, other.Name, z.Name)
			}
		}
		if p.ZoneFallback {
			fallbacks++
		}
		if !z.Nodes[p.NodeIndex].Accepting() {
			t.Fatalf("iteration %d: leader node %s does not accept", i, z.Nodes[p.NodeIndex].ID)
		}
		// Never leave a region before both its zones are down: every
		// closer region has no accepting zone.
		rank := RankRegions(tp, b)
		for _, ri := range rank[:p.RegionRank] {
			if tp.Regions[ri].Accepting() {
				t.Fatalf("iteration %d: skipped region %s which still accepts", i, tp.Regions[ri].Name)
			}
		}
		if rank[p.RegionRank] != p.RegionIndex {
			t.Fatalf("iteration %d: rank %d does not name region %d", i, p.RegionRank, p.RegionIndex)
		}
		// The ranking itself: measured regions first by RTT, then by distance.
		for k := 1; k < len(rank); k++ {
			a, c := tp.Regions[rank[k-1]], tp.Regions[rank[k]]
			ra, okA := b.RTT[a.Name]
			rc, okC := b.RTT[c.Name]
			switch {
			case !okA && okC:
				t.Fatalf("iteration %d: unmeasured %s ranked before measured %s", i, a.Name, c.Name)
			case okA && okC && ra > rc:
				t.Fatalf("iteration %d: %s (%v) ranked before %s (%v)", i, a.Name, ra, c.Name, rc)
			case !okA && !okC && DistanceKm(b.Location, a.Location) > DistanceKm(b.Location, c.Location):
				t.Fatalf("iteration %d: farther %s ranked before %s", i, a.Name, c.Name)
			}
		}
		if p.RegionRank > 0 {
			regionMoves++
		}
		// The standby is in the twin zone whenever the twin accepts; else
		// on another node of the leader's zone when one accepts.
		twin := 1 - p.ZoneIndex
		_, otherHere := ChooseNode(r.Zones[p.ZoneIndex], p.NodeIndex)
		switch {
		case p.StandbyZoneIndex == -1 && (r.Zones[twin].Accepting() || otherHere):
			t.Fatalf("iteration %d: no standby although twin %s accepts or the leader's zone has room", i, r.Zones[twin].Name)
		case p.StandbyZoneIndex == twin && (p.StandbySameZone || !r.Zones[twin].Nodes[p.StandbyNodeIndex].Accepting()):
			t.Fatalf("iteration %d: bad twin-zone standby %+v", i, p)
		case p.StandbyZoneIndex == p.ZoneIndex && (!p.StandbySameZone || r.Zones[twin].Accepting() || p.StandbyNodeIndex == p.NodeIndex):
			t.Fatalf("iteration %d: bad same-zone standby %+v", i, p)
		}
		if p.StandbySameZone {
			sameZone++
		}
	}
	// The generator must exercise every branch, or the properties are empty.
	if placed < iterations/2 || fallbacks < iterations/20 || regionMoves < iterations/20 || sameZone < iterations/100 {
		t.Fatalf("random topologies too tame: placed %d, zone fallbacks %d, region moves %d, same-zone standbys %d of %d",
			placed, fallbacks, regionMoves, sameZone, iterations)
	}
}

func TestRankRegionsByDistance(t *testing.T) {
	var tp Topology
	for _, r := range Catalogue[:6] {
		tp.Regions = append(tp.Regions, Region{Name: r.Name, Location: r.Location})
	}
	cases := []struct {
		city          string
		at            Location
		first, second string
	}{
		{"Lisbon", Location{38.72, -9.14}, "eu-west-1", "eu-central-1"},
		{"New York", Location{40.71, -74.01}, "us-east-1", "us-west-2"},
		{"Jakarta", Location{-6.2, 106.8}, "ap-southeast-1", "ap-northeast-1"},
		{"Seoul", Location{37.57, 126.98}, "ap-northeast-1", "ap-southeast-1"},
		{"Los Angeles", Location{34.05, -118.24}, "us-west-2", "us-east-1"},
	}
	for _, c := range cases {
		rank := RankRegions(tp, Broadcaster{Location: c.at})
		if got := [2]string{tp.Regions[rank[0]].Name, tp.Regions[rank[1]].Name}; got != [2]string{c.first, c.second} {
			t.Errorf("%s: ranked %v, want %s then %s", c.city, got, c.first, c.second)
		}
	}
}
