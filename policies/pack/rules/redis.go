package rules

import (
	"fmt"

	"github.com/zonecast/zonecast/policies/failover"
)

var redisReplicationPolicy = Policy{
	Name: "redis-replication-group",
	Description: fmt.Sprintf("Each region's Redis is an ElastiCache replication group of at least %d nodes (one only "+
		"for redundancy) with automatic failover, Multi-AZ, encryption in transit and at rest, and an auth token "+
		"held as a Pulumi secret.", failover.DefaultRedundancy.RedisPerRegion),
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
	want := failover.DefaultRedundancy.RedisPerRegion
	if n, ok := r.get("numCacheClusters").Number(); ok {
		if int(n) < want {
			add("numCacheClusters is %d; each region needs %d Redis nodes.", int(n), want)
		}
	} else if rep := r.get("replicasPerNodeGroup"); rep.Presence != Absent {
		if n, ok := rep.Number(); ok && int(n)+1 < want {
			add("replicasPerNodeGroup is %d; each shard needs %d nodes.", int(n), want)
		}
	} else if r.get("numCacheClusters").Presence == Absent {
		add("numCacheClusters is not set (AWS default: 1 node); each region needs %d.", want)
	}
	return out
}

var regionRedisPolicy = Policy{
	Name: "region-redis",
	Description: "Every region that runs auto-scaling groups has exactly one Redis replication group, which all its " +
		"zones' nodes share: the edge keeps one node registry and one set of leases per cluster, so twin zones " +
		"with a Redis each could never stand by for each other.",
	Remediation: "give the region one replication group (primary in one zone's availability zone, replica in the " +
		"twin's) and point every zone's nodes at its primary endpoint; remove any per-zone group.",
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkRegionRedis,
}

func checkRegionRedis(s *Stack, _ *Config) []Finding {
	var out []Finding
	for _, reg := range s.regions() {
		if reg.name == unknownRegion || len(reg.asgs()) == 0 {
			continue
		}
		var groups []Resource
		for _, r := range reg.others {
			if r.typeIs(typeReplicationGroup) {
				groups = append(groups, r)
			}
		}
		switch {
		case len(groups) == 0:
			for _, a := range reg.asgs() {
				out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
					"region %s runs auto-scaling group %s but has no Redis replication group.", reg.name, a.Name)})
			}
		case len(groups) > 1:
			names := make([]string, len(groups))
			for i, g := range groups {
				names[i] = g.Name
			}
			for _, g := range groups {
				out = append(out, Finding{URN: g.URN, Problem: fmt.Sprintf(
					"region %s has %d Redis replication groups (%v): its twin zones would keep separate registries "+
						"and leases, so no stream could stand by or fail over across zones.", reg.name, len(groups), names)})
			}
		}
	}
	return out
}
