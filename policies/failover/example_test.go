package failover_test

import (
	"fmt"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// A broadcaster in Lisbon while eu-west-1's zone a is down: the twin zone
// takes the ingest and no standby is possible in the region.
func ExamplePlace() {
	zone := func(name string, up bool, load int) failover.Zone {
		return failover.Zone{Name: name, Up: up,
			Nodes: []failover.Node{{ID: name + "-1", Capacity: 24, Load: load, Up: true}}}
	}
	redis := failover.RedisPair{Primary: failover.RedisInstance{Up: true}, Replica: failover.RedisInstance{Up: true}}
	dublin, _ := failover.LookupRegion("eu-west-1")
	frankfurt, _ := failover.LookupRegion("eu-central-1")
	topo := failover.Topology{Regions: []failover.Region{
		{Name: dublin.Name, Location: dublin.Location, Redis: redis, Zones: []failover.Zone{zone("eu-west-1a", false, 0), zone("eu-west-1b", true, 10)}},
		{Name: frankfurt.Name, Location: frankfurt.Location, Redis: redis, Zones: []failover.Zone{zone("eu-central-1a", true, 0), zone("eu-central-1b", true, 0)}},
	}}
	p, err := failover.Place(topo, failover.Broadcaster{Location: failover.Location{Lat: 38.72, Lon: -9.14}})
	fmt.Println(p.Node, p.ZoneFallback, p.StandbyZone == "", err)
	// Output: eu-west-1b-1 true true <nil>
}

// The worst a node loss does behind the load balancers with the default
// timings: fenced as shipped, and with the health checks only.
func ExampleWorstCase() {
	for _, r := range []failover.Routing{failover.DefaultTimings.AWSRouting(), failover.DefaultTimings.AWSRouting().WithoutFencing()} {
		b := failover.WorstCaseVia(failover.DefaultTimings, 10*time.Second, r)[0]
		fmt.Printf("%v (fencing %v): stall %v, lost %v, with a backup encoder %v\n", b.Fault, r.Fencing.Enabled, b.Stall, b.MediaLost, b.RedundantStall)
	}
	// Output:
	// node-loss (fencing true): stall 8s, lost 6s, with a backup encoder 200ms
	// node-loss (fencing false): stall 12s, lost 10s, with a backup encoder 200ms
}
