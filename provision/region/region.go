// Package region is the Region component: one AWS region of zonecast — a VPC
// over the policy's number of availability zones (two twin zones), security
// groups open only on policies/ports (the load balancers' admitting SRT only
// from the accelerator and HTTPS only from CloudFront; the nodes' only the
// load balancers and the VPC), the relay's TLS material in SSM, the
// recording bucket (read by the CDN only), the least-privilege instance
// role (its own replica of the stream catalog, its bucket's prefix), one
// Redis replication group shared by both twin zones (primary in the first
// zone's AZ, replica in the twin's: the data plane's one registry and one
// set of leases), per zone a Zone (fleet + NLB), and one endpoint group on each of the global
// accelerator's listeners with every zone's NLB as an endpoint. With fast
// fencing the nodes may deregister targets of the region's target groups
// and reweigh its SRT endpoint group, both named by ARN.
package region

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumix"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/global"
	"github.com/zonecast/zonecast/provision/instancerole"
	"github.com/zonecast/zonecast/provision/internal/policydefault"
	"github.com/zonecast/zonecast/provision/internal/policygate"
	"github.com/zonecast/zonecast/provision/redis"
	"github.com/zonecast/zonecast/provision/zone"
)

// Type is the component's Pulumi type token.
const Type = "zonecast:provision:Region"

// Args configures a region.
type Args struct {
	Region string // AWS region, e.g. "eu-west-1"
	Stack  string // stack name: prefixes SSM paths and group names
	// AvailabilityZones are the zones' AWS zones, exactly ZonesPerRegion of
	// them, distinct.
	AvailabilityZones []string
	VpcCidr           string

	Partition string
	AccountID string

	// InstanceTypes are the NVENC types every zone may launch, the
	// preferred first.
	InstanceTypes []string
	// SubnetsPerZone is the number of private subnets (for the nodes) in
	// each zone, all in the zone's AZ; 0 means 1.
	SubnetsPerZone  int
	ImageID         pulumi.StringInput
	MinNodesPerZone int
	MaxNodesPerZone int

	RedisNodeType  string
	RedisAuthToken pulumi.StringInput // secret

	// RelayTLS is the relay's mutual-TLS material (secrets), which the
	// region puts in SSM for its nodes.
	RelayTLS RelayTLS

	// Edge carries the release, streams and load gauge; the Redis and
	// relay TLS fields are filled here.
	Edge zone.EdgeSettings

	Listeners Listeners

	// Catalog is the stream catalog the global stack provisions.
	Catalog Catalog
	// Recording is the region's recording bucket.
	Recording Recording

	Redundancy   *failover.Redundancy
	Timings      *failover.Timings
	Provisioning *failover.Provisioning
	Fencing      *failover.Fencing
}

// Catalog locates the stream catalog: its table and the regions that have
// a replica, as the global stack exports them. The nodes read their own
// region's replica; a region without one is refused by the policy pack
// (catalog-replica), which reads Replicas off the instance role's tags.
type Catalog struct {
	Table    string
	Replicas []string
	// WriterPolicyArn, when set, is attached to the node role: this
	// region's nodes serve the control API that writes the catalog (the
	// admin path, behind admin.token on the admin listener).
	WriterPolicyArn string
}

// Region is the component.
type Region struct {
	pulumi.ResourceState

	VpcID                pulumi.StringOutput
	LoadBalancerArns     pulumi.StringArrayOutput
	LoadBalancerDNSNames pulumi.StringArrayOutput
	// RedisEndpoint is the primary endpoint of the region's Redis, which
	// every zone's nodes use.
	RedisEndpoint     pulumi.StringOutput
	AutoScalingGroups pulumi.StringArrayOutput
	EndpointGroupArns pulumi.StringArrayOutput
	// RecordingBucket is the region's recording bucket ("" without one).
	RecordingBucket pulumi.StringOutput
}

func (a *Args) defaults() error {
	a.Redundancy = policydefault.Or(a.Redundancy, failover.DefaultRedundancy)
	a.Timings = policydefault.Or(a.Timings, failover.DefaultTimings)
	a.Provisioning = policydefault.Or(a.Provisioning, failover.DefaultProvisioning)
	a.Fencing = policydefault.Or(a.Fencing, failover.DefaultFencing)
	if err := a.Timings.Validate(); err != nil {
		return fmt.Errorf("region %s: failover timings: %w", a.Region, err)
	}
	if err := a.Fencing.Validate(*a.Timings); err != nil {
		return fmt.Errorf("region %s: fencing: %w", a.Region, err)
	}
	if len(a.AvailabilityZones) == 0 || len(a.AvailabilityZones) > len(zoneKeyLetters) {
		return fmt.Errorf("region %s: %d availability zones", a.Region, len(a.AvailabilityZones))
	}
	if a.Listeners.SRT == nil || a.Listeners.HTTPS == nil || a.Listeners.HTTP3 == nil {
		return fmt.Errorf("region %s: the global stack's listener ARNs are required", a.Region)
	}
	if a.RelayTLS.CA == nil || a.RelayTLS.Cert == nil || a.RelayTLS.Key == nil {
		return fmt.Errorf("region %s: the relay's TLS material (CA, certificate, key) is required", a.Region)
	}
	if a.SubnetsPerZone == 0 {
		a.SubnetsPerZone = 1
	}
	if a.SubnetsPerZone < 0 || a.SubnetsPerZone*len(a.AvailabilityZones) > privateSlots {
		return fmt.Errorf("region %s: %d private subnets per zone; the VPC layout has room for %d over %d zones",
			a.Region, a.SubnetsPerZone, privateSlots, len(a.AvailabilityZones))
	}
	return nil
}

// policyViolation reports what breaks the redundancy policy (see
// provision/internal/policygate).
func (a *Args) policyViolation() error {
	if len(a.AvailabilityZones) != a.Redundancy.ZonesPerRegion {
		return fmt.Errorf("region %s: %d availability zones %q, the policy asks for %d",
			a.Region, len(a.AvailabilityZones), a.AvailabilityZones, a.Redundancy.ZonesPerRegion)
	}
	seen := map[string]bool{}
	for _, az := range a.AvailabilityZones {
		if seen[az] {
			return fmt.Errorf("region %s: availability zone %s used twice; twin zones must not share a zone", a.Region, az)
		}
		seen[az] = true
	}
	return nil
}

// AutoScalingGroupName is the fixed name of a zone's group.
func AutoScalingGroupName(stack, key string) string { return "zonecast-" + stack + "-zone-" + key }

// ConfigParameter is the SSM parameter of a zone's edge environment.
func ConfigParameter(stack, key string) string {
	return zone.ConfigPathPrefix(stack) + "zone-" + key + "/edge.env"
}

// New creates the region.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Region, error) {
	if err := args.defaults(); err != nil {
		return nil, err
	}
	if err := policygate.Check(ctx, args.policyViolation()); err != nil {
		return nil, err
	}
	r := &Region{}
	if err := ctx.RegisterComponentResource(Type, name, r, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(r)

	net, err := newNetwork(ctx, &args, child)
	if err != nil {
		return nil, err
	}
	nlbSG, err := newLoadBalancerSecurityGroup(ctx, &args, net.vpc, child)
	if err != nil {
		return nil, err
	}
	edgeSG, err := newEdgeSecurityGroup(ctx, &args, net.vpc, nlbSG, child)
	if err != nil {
		return nil, err
	}
	relayParams, err := newRelayTLSParameters(ctx, &args, child)
	if err != nil {
		return nil, err
	}
	redisSG, err := newRedisSecurityGroup(ctx, net.vpc, edgeSG, child)
	if err != nil {
		return nil, err
	}
	var private pulumi.StringArray
	var groups []string
	for i, z := range net.zones {
		for _, s := range z.private {
			private = append(private, s.ID())
		}
		groups = append(groups, AutoScalingGroupName(args.Stack, ZoneKey(i)))
	}
	subnetGroup, err := elasticache.NewSubnetGroup(ctx, "redis-subnets", &elasticache.SubnetGroupArgs{
		Description: pulumi.String("zonecast Redis, private subnets of every zone"),
		SubnetIds:   private,
	}, child)
	if err != nil {
		return nil, err
	}
	recordingBucket := pulumi.String("").ToStringOutput()
	if args.Recording.Bucket != "" {
		b, err := newRecordingBucket(ctx, &args, child)
		if err != nil {
			return nil, err
		}
		recordingBucket = b.Bucket
	}
	role, err := instancerole.New(ctx, "edge-role", instancerole.Args{
		Partition:         args.Partition,
		Region:            args.Region,
		AccountID:         args.AccountID,
		MetricNamespace:   args.Provisioning.LoadMetricNamespace,
		ConfigPathPrefix:  zone.ConfigPathPrefix(args.Stack),
		AutoScalingGroups: groups,
		CatalogTable:      args.Catalog.Table,
		CatalogReplicas:   args.Catalog.Replicas,
		RecordingBucket:   args.Recording.Bucket,
		RecordingPrefix:   global.RecordingPrefix,
	}, child)
	if err != nil {
		return nil, err
	}

	if args.Catalog.WriterPolicyArn != "" {
		if _, err := iam.NewRolePolicyAttachment(ctx, "edge-role-catalog-writer", &iam.RolePolicyAttachmentArgs{
			Role:      role.RoleName,
			PolicyArn: pulumi.String(args.Catalog.WriterPolicyArn),
		}, child); err != nil {
			return nil, err
		}
	}

	// One Redis for the region: the twin zones' nodes must meet in one
	// registry and one set of leases, or no stream gets a standby in the
	// twin zone and no viewer proxy reaches across zones.
	rd, err := redis.New(ctx, "redis", redis.Args{
		AvailabilityZones: args.AvailabilityZones,
		SubnetGroupName:   subnetGroup.Name,
		SecurityGroupID:   redisSG.ID(),
		NodeType:          args.RedisNodeType,
		AuthToken:         args.RedisAuthToken,
		Region:            args.Region,
		Redundancy:        args.Redundancy,
	}, child)
	if err != nil {
		return nil, err
	}
	// The nodes' settings name the endpoint group fencing acts on, which
	// can be created only once every zone's load balancer exists: each
	// zone is handed an output resolved below, when the group is created.
	endpointGroup, resolveEndpointGroup := pulumi.DeferredOutput[string](ctx.Context())
	resolved := false
	defer func() {
		if !resolved { // a failed program must not wait for it forever
			resolveEndpointGroup(pulumi.String("").ToStringOutput())
		}
	}()
	var nlbArns []pulumi.StringOutput
	var nlbArr, dnsArr, asgArr pulumi.StringArray
	var zoneTargetGroups []any
	for i, az := range args.AvailabilityZones {
		key := ZoneKey(i)
		edge := args.Edge
		edge.RedisAddress = rd.PrimaryEndpoint
		edge.RedisAuthToken = rd.AuthToken
		edge.RelayTLS = RelayTLSParameters(args.Stack)
		edge.EndpointGroup = pulumix.Cast[pulumi.StringOutput](endpointGroup)
		if args.Catalog.Table != "" {
			edge.Catalog = zone.CatalogSettings{Table: pulumi.String(args.Catalog.Table), Region: args.Region}
		}
		if args.Recording.Bucket != "" {
			edge.Recording = zone.RecordingSettings{Bucket: recordingBucket, Region: args.Region, Prefix: global.RecordingPrefix}
		}
		var nodeSubnets []pulumi.StringInput
		for _, s := range net.zones[i].private {
			nodeSubnets = append(nodeSubnets, s.ID())
		}
		z, err := zone.New(ctx, "zone-"+key, zone.Args{
			Region:                      args.Region,
			Stack:                       args.Stack,
			Key:                         key,
			AvailabilityZone:            az,
			VpcID:                       net.vpc.ID(),
			PublicSubnetID:              net.zones[i].public.ID(),
			PrivateSubnetIDs:            nodeSubnets,
			SecurityGroupID:             edgeSG.ID(),
			LoadBalancerSecurityGroupID: nlbSG.ID(),
			InstanceProfileArn:          role.InstanceProfileArn,
			InstanceTypes:               args.InstanceTypes,
			ImageID:                     args.ImageID,
			MinSize:                     args.MinNodesPerZone,
			MaxSize:                     args.MaxNodesPerZone,
			AutoScalingGroupName:        groups[i],
			ConfigParameter:             ConfigParameter(args.Stack, key),
			Edge:                        edge,
			BootDependencies:            append(append([]pulumi.Resource{role}, role.Grants...), relayParams...),
			Redundancy:                  args.Redundancy,
			Timings:                     args.Timings,
			Provisioning:                args.Provisioning,
			Fencing:                     args.Fencing,
		}, child)
		if err != nil {
			return nil, err
		}
		zoneTargetGroups = append(zoneTargetGroups, z.TargetGroupArns)
		nlbArns = append(nlbArns, z.LoadBalancerArn)
		nlbArr = append(nlbArr, z.LoadBalancerArn)
		dnsArr = append(dnsArr, z.LoadBalancerDNSName)
		asgArr = append(asgArr, z.AutoScalingGroupName)
	}
	egs, err := newEndpointGroups(ctx, &args, nlbArns, child)
	if err != nil {
		return nil, err
	}
	if err := allowAcceleratorSRT(ctx, net.vpc, nlbSG, egs, child); err != nil {
		return nil, err
	}
	var egArr pulumi.StringArray
	for _, g := range egs {
		egArr = append(egArr, g.Arn)
	}
	srtGroup := egs[srtEndpointGroup].Arn
	resolveEndpointGroup(srtGroup)
	resolved = true
	if args.Fencing.Enabled {
		// Every zone's target groups (a survivor in either zone fences a
		// node of the other) and the SRT endpoint group, by ARN.
		targetGroups := pulumi.All(zoneTargetGroups...).ApplyT(func(zones []any) []string {
			var out []string
			for _, z := range zones {
				out = append(out, z.([]string)...)
			}
			return out
		}).(pulumi.StringArrayOutput)
		if _, err := instancerole.NewFencingPolicy(ctx, "edge-role-fencing", role.RoleName, args.Partition, args.Region,
			targetGroups, pulumi.StringArray{srtGroup}, child); err != nil {
			return nil, err
		}
	}

	r.VpcID = net.vpc.ID().ToStringOutput()
	r.LoadBalancerArns = nlbArr.ToStringArrayOutput()
	r.LoadBalancerDNSNames = dnsArr.ToStringArrayOutput()
	r.RedisEndpoint = rd.PrimaryEndpoint
	r.AutoScalingGroups = asgArr.ToStringArrayOutput()
	r.EndpointGroupArns = egArr.ToStringArrayOutput()
	r.RecordingBucket = recordingBucket
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"vpcId":                r.VpcID,
		"loadBalancerArns":     r.LoadBalancerArns,
		"loadBalancerDnsNames": r.LoadBalancerDNSNames,
		"redisEndpoint":        r.RedisEndpoint,
		"autoScalingGroups":    r.AutoScalingGroups,
		"endpointGroupArns":    r.EndpointGroupArns,
		"recordingBucket":      r.RecordingBucket,
	}); err != nil {
		return nil, err
	}
	return r, nil
}
