package failover

// Redundancy holds the counts that keep a region from going black.
type Redundancy struct {
	// ZonesPerRegion is the number of availability zones ("twin zones") each
	// region spans. Exactly two: one to lead, one to stand by.
	ZonesPerRegion int
	// RedisPerRegion is the number of Redis instances in a region's one
	// replication group, which both twin zones share (one node registry,
	// one set of leases): a primary in one zone and a replica in its twin,
	// the second only for redundancy.
	RedisPerRegion int
	// MinNodesPerZone is the smallest auto-scaling group size a zone may have:
	// one node can die (or be drained in a rolling update) and the zone still
	// ingests.
	MinNodesPerZone int
	// StandbysPerStream is the number of warm standbys each live stream keeps
	// in the twin zone.
	StandbysPerStream int
	// StaticIPv4 is the number of static anycast addresses the accelerator
	// exposes to broadcasters.
	StaticIPv4 int
	// CDNOrigins is the number of origins in the CDN's failover origin group.
	CDNOrigins int
}

// DefaultRedundancy is the redundancy zonecast ships with.
var DefaultRedundancy = Redundancy{
	ZonesPerRegion:    2,
	RedisPerRegion:    2,
	MinNodesPerZone:   2,
	StandbysPerStream: 1,
	StaticIPv4:        2,
	CDNOrigins:        2,
}
