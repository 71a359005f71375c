// Package redis is the Redis component: one zone's coordination store, an
// ElastiCache replication group of policies/failover.RedisPerZone nodes — a
// primary in the zone's own availability zone and a replica in the twin's,
// the second only for redundancy — with automatic failover, Multi-AZ and
// encryption in transit and at rest, behind an auth token kept secret.
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

// Args configures one zone's Redis.
type Args struct {
	// AvailabilityZones are the zone's own AZ first (primary), then the twin
	// zone's (replica).
	AvailabilityZones []string
	SubnetGroupName   pulumi.StringInput
	SecurityGroupID   pulumi.StringInput
	NodeType          string
	EngineVersion     string
	// AuthToken must be a Pulumi secret (16–128 printable characters).
	AuthToken pulumi.StringInput
	// Zone is the "<region>/<zone>" tag value placing the group in its zone.
	Zone       string
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
	if args.Redundancy.RedisPerZone < 1 {
		return nil, fmt.Errorf("redis %s: policy asks for %d nodes", name, args.Redundancy.RedisPerZone)
	}
	if len(args.AvailabilityZones) != 2 {
		return nil, fmt.Errorf("redis %s: want the zone's AZ and its twin's, got %q", name, args.AvailabilityZones)
	}
	var violation error
	switch {
	case args.Redundancy.RedisPerZone < 2:
		violation = fmt.Errorf("redis %s: policy asks for %d nodes; automatic failover needs a replica", name, args.Redundancy.RedisPerZone)
	case args.AvailabilityZones[0] == args.AvailabilityZones[1]:
		violation = fmt.Errorf("redis %s: primary and replica both in %s; the replica belongs in the twin zone", name, args.AvailabilityZones[0])
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
	// The primary in the zone's AZ, every further node alternating with the
	// twin's, so a single AZ outage always leaves a node to promote.
	azs := make([]string, args.Redundancy.RedisPerZone)
	for i := range azs {
		azs[i] = args.AvailabilityZones[i%2]
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
		NumCacheClusters:         pulumi.Int(args.Redundancy.RedisPerZone),
		PreferredCacheClusterAzs: pulumi.ToStringArray(azs),
		AutomaticFailoverEnabled: pulumi.Bool(true),
		MultiAzEnabled:           pulumi.Bool(true),
		TransitEncryptionEnabled: pulumi.Bool(true),
		AtRestEncryptionEnabled:  pulumi.Bool(true),
		AuthToken:                token,
		SubnetGroupName:          args.SubnetGroupName,
		SecurityGroupIds:         pulumi.StringArray{args.SecurityGroupID},
		ApplyImmediately:         pulumi.Bool(true),
		Tags:                     tags(args.Zone),
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

func tags(zone string) pulumi.StringMap {
	if zone == "" {
		return nil
	}
	return pulumi.StringMap{"zonecast:zone": pulumi.String(zone)}
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
