package rules

import (
	"fmt"

	"github.com/zonecast/zonecast/policies/failover"
)

var redisReplicationPolicy = Policy{
	Name: "redis-replication-group",
	Description: fmt.Sprintf("Each zone's Redis is an ElastiCache replication group of at least %d nodes (one only "+
		"for redundancy) with automatic failover, Multi-AZ, encryption in transit and at rest, and an auth token "+
		"held as a Pulumi secret.", failover.DefaultRedundancy.RedisPerZone),
	Remediation: "set automaticFailoverEnabled, multiAzEnabled, transitEncryptionEnabled and atRestEncryptionEnabled " +
		"to true, numCacheClusters to the policy count, and authToken from a secret (pulumi config set --secret).",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkRedis,
}

func checkRedis(r Resource, _ *Config) []Finding {
	switch {
	case r.typeIs(typeCacheCluster):
		// A lone cache cluster outside a replication group is one Redis
		// with nothing to fail over to.
		engine, _ := r.get("engine").String()
		if (engine == "redis" || engine == "valkey") && r.get("replicationGroupId").Presence == Absent {
			return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
				"%s is a single %s node outside any replication group.", describe(r), engine),
				Fix: "use an aws:elasticache/replicationGroup:ReplicationGroup with a replica instead."}}
		}
		return nil
	case !r.typeIs(typeReplicationGroup):
		return nil
	}
	var out []Finding
	add := func(format string, args ...any) {
		out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf("replication group %s: ", r.Name) + fmt.Sprintf(format, args...)})
	}
	for _, flag := range []string{"automaticFailoverEnabled", "multiAzEnabled", "transitEncryptionEnabled", "atRestEncryptionEnabled"} {
		v := r.get(flag)
		if b, ok := v.Bool(); (ok && !b) || v.Presence == Absent {
			state := "false"
			if v.Presence == Absent {
				state = "not set (AWS default: off)"
			}
			add("%s is %s.", flag, state)
		}
	}
	token := r.get("authToken")
	switch {
	case token.Presence == Absent:
		add("authToken is not set: any client in the VPC can read and write the stream state.")
	case !token.Secret && token.Presence == Known:
		add("authToken is a plain value, not a secret: it would be stored readable in the state.")
	}
	// Multi-AZ means nothing if every node is placed in one zone.
	if azs, all := r.get("preferredCacheClusterAzs").Strings(); all && len(azs) > 1 {
		same := true
		for _, az := range azs {
			same = same && az == azs[0]
		}
		if same {
			add("every node is placed in %s: one availability-zone outage takes the primary and its replica.", azs[0])
		}
	}
	// Node count: numCacheClusters (cluster mode disabled) or, in cluster
	// mode, 1 + replicasPerNodeGroup nodes per shard.
	want := failover.DefaultRedundancy.RedisPerZone
	if n, ok := r.get("numCacheClusters").Number(); ok {
		if int(n) < want {
			add("numCacheClusters is %d; each zone needs %d Redis nodes.", int(n), want)
		}
	} else if rep := r.get("replicasPerNodeGroup"); rep.Presence != Absent {
		if n, ok := rep.Number(); ok && int(n)+1 < want {
			add("replicasPerNodeGroup is %d; each shard needs %d nodes.", int(n), want)
		}
	} else if r.get("numCacheClusters").Presence == Absent {
		add("numCacheClusters is not set (AWS default: 1 node); each zone needs %d.", want)
	}
	return out
}

var zoneRedisPolicy = Policy{
	Name: "zone-redis",
	Description: "Every zone that runs an auto-scaling group has its own Redis replication group (tagged with the " +
		"zone, or preferring the zone's availability zone for its primary).",
	Remediation: fmt.Sprintf("add a replication group for the zone with the zone's availability zone first in "+
		"preferredCacheClusterAzs, or tag it %s=<region>/<zone> like the zone's auto-scaling group.", TagZone),
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkZoneRedis,
}

func checkZoneRedis(s *Stack, _ *Config) []Finding {
	have := map[zoneKey]bool{}
	unplaced := map[string]bool{} // regions with a replication group whose zone is not known
	for _, rg := range s.OfType(typeReplicationGroup) {
		region := s.Region(rg)
		if z, ok := s.Zone(rg); ok {
			have[zoneKey{region, z}] = true
		} else {
			unplaced[region] = true
		}
	}
	var out []Finding
	for _, reg := range s.regions() {
		if unplaced[reg.name] {
			continue
		}
		for _, z := range reg.zones() {
			if have[zoneKey{reg.name, z}] {
				continue
			}
			for _, a := range reg.asgsByZone[z] {
				out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
					"zone %s of region %s runs auto-scaling group %s but has no Redis replication group.", z, reg.name, a.Name)})
			}
		}
	}
	return out
}
