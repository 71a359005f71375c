// Package redis is the Redis component: one region's coordination store,
// shared by both twin zones' nodes (the data plane keeps one node registry
// and one set of leases per cluster, so the twin zones must meet in one
// Redis) — an ElastiCache replication group of
// policies/failover.RedisPerRegion nodes, the primary in the first zone's
// availability zone and the replica in its twin's, with automatic failover,
// Multi-AZ and encryption in transit and at rest, behind an auth token kept
// secret.
package redis

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/policydefault"
	"github.com/zonecast/zonecast/provision/internal/policygate"
)

// Type is the component's Pulumi type token.
const Type = "zonecast:provision:Redis"

// Args configures one region's Redis.
type Args struct {
	// AvailabilityZones are the region's zones' AZs: the primary's first,
	// then its twin's (the replica's).
	AvailabilityZones []string
	SubnetGroupName   pulumi.StringInput
	SecurityGroupID   pulumi.StringInput
	NodeType          string
	EngineVersion     string
	// AuthToken must be a Pulumi secret (16–128 printable characters).
	AuthToken pulumi.StringInput
	// Region is the zonecast:region tag value: the group serves the whole
	// region, no single zone.
	Region     string
	Redundancy *failover.Redundancy
}

// Redis is the component.
type Redis struct {
	pulumi.ResourceState

	PrimaryEndpoint pulumi.StringOutput
	ReaderEndpoint  pulumi.StringOutput
	Port            pulumi.IntOutput
	// AuthToken is the token, still secret.
	AuthToken pulumi.StringOutput
}

// New creates the replication group.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Redis, error) {
	args.Redundancy = policydefault.Or(args.Redundancy, failover.DefaultRedundancy)
	if args.Redundancy.RedisPerRegion < 1 {
		return nil, fmt.Errorf("redis %s: policy asks for %d nodes", name, args.Redundancy.RedisPerRegion)
	}
	if len(args.AvailabilityZones) == 0 {
		return nil, fmt.Errorf("redis %s: no availability zones", name)
	}
	var violation error
	switch {
	case args.Redundancy.RedisPerRegion < 2:
		violation = fmt.Errorf("redis %s: policy asks for %d nodes; automatic failover needs a replica", name, args.Redundancy.RedisPerRegion)
	case len(args.AvailabilityZones) < 2 || args.AvailabilityZones[0] == args.AvailabilityZones[1]:
		violation = fmt.Errorf("redis %s: every node in %s; the replica belongs in the twin zone", name, args.AvailabilityZones[0])
	}
	if err := policygate.Check(ctx, violation); err != nil {
		return nil, err
	}
	if args.AuthToken == nil || args.NodeType == "" {
		return nil, fmt.Errorf("redis %s: auth token and node type are required", name)
	}
	if args.EngineVersion == "" {
		args.EngineVersion = "7.1"
	}
	// The primary in the first zone's AZ, every further node alternating
	// with the twin's, so a single AZ outage always leaves a node to
	// promote.
	azs := make([]string, args.Redundancy.RedisPerRegion)
	for i := range azs {
		azs[i] = args.AvailabilityZones[i%len(args.AvailabilityZones)]
	}

	r := &Redis{}
	if err := ctx.RegisterComponentResource(Type, name, r, opts...); err != nil {
		return nil, err
	}
	token := pulumi.ToSecret(args.AuthToken).(pulumi.StringOutput)
	group, err := elasticache.NewReplicationGroup(ctx, name, &elasticache.ReplicationGroupArgs{
		Description:              pulumi.String("zonecast " + name + ": registry, leases, playlist state"),
		Engine:                   pulumi.String("redis"),
		EngineVersion:            pulumi.String(args.EngineVersion),
		NodeType:                 pulumi.String(args.NodeType),
		Port:                     pulumi.Int(ports.Redis.Number),
		NumCacheClusters:         pulumi.Int(args.Redundancy.RedisPerRegion),
		PreferredCacheClusterAzs: pulumi.ToStringArray(azs),
		AutomaticFailoverEnabled: pulumi.Bool(true),
		MultiAzEnabled:           pulumi.Bool(true),
		TransitEncryptionEnabled: pulumi.Bool(true),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		AuthToken:                token,
		SubnetGroupName:          args.SubnetGroupName,
		SecurityGroupIds:         pulumi.StringArray{args.SecurityGroupID},
		ApplyImmediately:         pulumi.Bool(true),
		Tags:                     tags(args.Region),
	}, pulumi.Parent(r))
	if err != nil {
		return nil, err
	}
	r.PrimaryEndpoint = group.PrimaryEndpointAddress
	r.ReaderEndpoint = group.ReaderEndpointAddress
	r.Port = group.Port.Elem()
	r.AuthToken = token
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"primaryEndpoint": r.PrimaryEndpoint,
		"readerEndpoint":  r.ReaderEndpoint,
		"port":            r.Port,
		"authToken":       r.AuthToken,
	}); err != nil {
		return nil, err
	}
	return r, nil
}

func tags(region string) pulumi.StringMap {
	if region == "" {
		return nil
	}
	return pulumi.StringMap{"zonecast:region": pulumi.String(region)}
}

// authTokenSpecials are the only characters besides letters and digits
// that ElastiCache accepts in an AUTH token (it refuses, among others, @,
// " and /, which also break Redis URLs and the edge's environment file).
const authTokenSpecials = "!&#$^<>-"

// ValidateAuthToken reports what ElastiCache would refuse in an AUTH
// token — 16 to 128 characters, letters, digits and !&#$^<>- only —
// before `pulumi up` sends it.
func ValidateAuthToken(token string) error {
	if n := len(token); n < 16 || n > 128 {
		return fmt.Errorf("zonecast:redisAuthToken must be 16–128 characters (ElastiCache), got %d", n)
	}
	for _, c := range token {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune(authTokenSpecials, c):
		default:
			return fmt.Errorf("zonecast:redisAuthToken holds %q: ElastiCache takes letters, digits and %s only", c, authTokenSpecials)
		}
	}
	return nil
}
