package failover

import (
	"errors"
	"fmt"
)

// Node is one edge server. Capacity and Load are in stream units: a
// stream's leader costs one unit, its standby the share the
// caller chooses (the simulator uses 1000 units per stream so that a
// fractional standby cost stays integral).
type Node struct {
	ID       string
	Capacity int
	Load     int
	// Up is false when the node is dead, frozen or partitioned away.
	Up bool
	// Draining is true from SIGTERM until exit: /readyz is unready, so the
	// node takes no new work.
	Draining bool
}

// Free is the capacity the node can still give to new work.
func (n *Node) Free() int {
	if !n.Accepting() {
		return 0
	}
	return n.Capacity - n.Load
}

// Accepting reports whether the node takes new ingests or standbys: it is
// up, not draining and not full (a full node fails /readyz on purpose, so
// that the NLB and Global Accelerator steer new flows elsewhere).
func (n *Node) Accepting() bool {
	return n.Up && !n.Draining && n.Load < n.Capacity
}

// RedisInstance is one of a region's two Redis instances.
type RedisInstance struct {
	Zone string // the availability zone it runs in
	Up   bool
}

// RedisPair is a region's coordination store, which both of its twin zones
// share (one node registry, one set of leases): one replication group with
// its primary in one zone and a replica in the twin (Multi-AZ, as
// ElastiCache places them), watched by Sentinel or ElastiCache's own
// failover. The replica takes over when the primary dies.
type RedisPair struct {
	Primary RedisInstance
	Replica RedisInstance
}

// Available reports whether the pair can coordinate: at least one instance
// is up (after a promotion when it is the replica).
func (p RedisPair) Available() bool { return p.Primary.Up || p.Replica.Up }

// Zone is one availability zone of a region: its load balancer and its
// auto-scaling group of edge nodes.
type Zone struct {
	Name string
	// Up is false when the availability zone (or its load balancer) is gone.
	Up    bool
	Nodes []Node
}

// Free is the capacity the zone can give to new work (its region's Redis
// aside: see Region.Accepting).
func (z Zone) Free() int {
	if !z.Up {
		return 0
	}
	free := 0
	for i := range z.Nodes { // by index: no copy of each Node
		free += z.Nodes[i].Free()
	}
	return free
}

// Accepting reports whether the zone takes a new ingest as far as the zone
// itself goes: it is up and some node has room. A zone that is not
// accepting counts as down for placement; this is what its load
// balancer's target health tells Global Accelerator. Its region's Redis
// must also be available (Region.Accepting): without it no zone of the
// region can hand out leases.
func (z Zone) Accepting() bool {
	if !z.Up {
		return false
	}
	for i := range z.Nodes {
		if z.Nodes[i].Accepting() {
			return true
		}
	}
	return false
}

// Region is one AWS region of the deployment.
type Region struct {
	Name     string
	Location Location
	Zones    []Zone
	// Redis is the region's one replication group, which both zones use.
	Redis RedisPair
}

// Accepting reports whether the region takes a new ingest: its Redis can
// hand out leases and some zone accepts.
func (r Region) Accepting() bool {
	if !r.Redis.Available() {
		return false
	}
	for _, z := range r.Zones {
		if z.Accepting() {
			return true
		}
	}
	return false
}

// Topology is the whole deployment as placement sees it.
type Topology struct {
	Regions []Region
}

// Validate reports every structural problem of the topology: unknown or
// duplicate names, a zone count other than the policy's, bad coordinates,
// negative or exceeded capacities.
func (t Topology) Validate() error {
	var errs []error
	if len(t.Regions) == 0 {
		errs = append(errs, errors.New("topology has no region"))
	}
	names := map[string]bool{}
	for _, r := range t.Regions {
		if r.Name == "" || names[r.Name] {
			errs = append(errs, fmt.Errorf("region name %q is empty or repeated", r.Name))
		}
		names[r.Name] = true
		if !r.Location.Valid() {
			errs = append(errs, fmt.Errorf("region %s: invalid location %+v", r.Name, r.Location))
		}
		if len(r.Zones) != DefaultRedundancy.ZonesPerRegion {
			errs = append(errs, fmt.Errorf("region %s has %d zones, the policy wants %d", r.Name, len(r.Zones), DefaultRedundancy.ZonesPerRegion))
		}
		for _, z := range r.Zones {
			if z.Name == "" || names[z.Name] {
				errs = append(errs, fmt.Errorf("region %s: zone name %q is empty or repeated", r.Name, z.Name))
			}
			names[z.Name] = true
			for _, n := range z.Nodes {
				if n.Capacity < 0 || n.Load < 0 {
					errs = append(errs, fmt.Errorf("node %s: negative capacity %d or load %d", n.ID, n.Capacity, n.Load))
				}
			}
		}
	}
	return errors.Join(errs...)
}
