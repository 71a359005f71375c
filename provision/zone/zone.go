// Package zone is the Zone component: one availability zone's edge fleet —
// a GPU launch template (NVENC) on an AMI with the NVIDIA driver, an
// auto-scaling group pinned to the zone's subnet that scales on the edge's
// own load metric, rolls updates by instance refresh and lets `edge` drain
// through a termination lifecycle hook, and a network load balancer in the
// zone (UDP for SRT, TCP+UDP for HTTPS and HTTP/3), created with the
// region's load-balancer security group, whose target groups
// health-check `/readyz`. Global Accelerator judges the NLB by these target
// groups, so their timings are the zone's failover timings.
package zone

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/internal/policydefault"
	"github.com/zonecast/zonecast/provision/internal/policygate"
)

// Type is the component's Pulumi type token.
const Type = "zonecast:provision:Zone"

// Args configures one zone.
type Args struct {
	// Region and Stack name the deployment; Key is the zone's short name
	// ("a", "b") and AvailabilityZone the AWS zone it is pinned to.
	Region           string
	Stack            string
	Key              string
	AvailabilityZone string

	VpcID            pulumi.StringInput
	PublicSubnetID   pulumi.StringInput   // the NLB's subnet, in AvailabilityZone
	PrivateSubnetIDs []pulumi.StringInput // the nodes' subnets, all in AvailabilityZone
	SecurityGroupID  pulumi.StringInput   // the nodes'
	// LoadBalancerSecurityGroupID is the NLB's group; an NLB takes
	// security groups only when it is created.
	LoadBalancerSecurityGroupID pulumi.StringInput

	InstanceProfileArn pulumi.StringInput
	// InstanceTypes are the NVENC types (g4dn, g5, g6, g6e families) the
	// zone may launch, the preferred first.
	InstanceTypes    []string
	ImageID          pulumi.StringInput // AMI with the NVIDIA driver
	MinSize, MaxSize int

	// AutoScalingGroupName is set, not generated, so that the instance
	// role can name the group before it exists.
	AutoScalingGroupName string
	// ConfigParameter is the SSM parameter holding the edge's environment
	// file; the instance role may read it.
	ConfigParameter string

	Edge EdgeSettings
	// BootDependencies are what a node reads as it boots besides its own
	// zone's settings (the region's relay TLS parameters, its role's
	// policy): the group launches nodes only once they exist.
	BootDependencies []pulumi.Resource

	Redundancy   *failover.Redundancy
	Timings      *failover.Timings
	Provisioning *failover.Provisioning
	Fencing      *failover.Fencing
}

// Zone is the component.
type Zone struct {
	pulumi.ResourceState

	LoadBalancerArn      pulumi.StringOutput
	LoadBalancerDNSName  pulumi.StringOutput
	AutoScalingGroupName pulumi.StringOutput
	TargetGroupArns      pulumi.StringArrayOutput
}

func (a *Args) validate(name string) error {
	a.Redundancy = policydefault.Or(a.Redundancy, failover.DefaultRedundancy)
	a.Timings = policydefault.Or(a.Timings, failover.DefaultTimings)
	a.Provisioning = policydefault.Or(a.Provisioning, failover.DefaultProvisioning)
	a.Fencing = policydefault.Or(a.Fencing, failover.DefaultFencing)
	if err := a.Fencing.Validate(*a.Timings); err != nil {
		return fmt.Errorf("zone %s: fencing: %w", name, err)
	}
	switch {
	case a.Fencing.Enabled && a.Edge.EndpointGroup == nil:
		return fmt.Errorf("zone %s: fencing needs the region's accelerator endpoint group (Edge.EndpointGroup)", name)
	case a.Region == "" || a.Stack == "" || a.Key == "" || a.AvailabilityZone == "" || len(a.InstanceTypes) == 0:
		return fmt.Errorf("zone %s: region, stack, key, availability zone and instance types are required", name)
	case len(a.PrivateSubnetIDs) == 0 || a.LoadBalancerSecurityGroupID == nil:
		return fmt.Errorf("zone %s: the nodes' subnets and the load balancer's security group are required", name)
	case a.MaxSize < a.MinSize:
		return fmt.Errorf("zone %s: maximum size %d below minimum %d", name, a.MaxSize, a.MinSize)
	case a.AutoScalingGroupName == "" || a.ConfigParameter == "":
		return fmt.Errorf("zone %s: auto-scaling group name and config parameter are required", name)
	case a.Timings.LifecycleHookTimeout <= a.Timings.DrainDeadline:
		return fmt.Errorf("zone %s: lifecycle hook %v must outlast the drain deadline %v", name, a.Timings.LifecycleHookTimeout, a.Timings.DrainDeadline)
	}
	return a.Edge.validate()
}

// policyViolation reports what breaks the redundancy policy (see
// provision/internal/policygate).
func (a *Args) policyViolation(name string) error {
	for _, t := range a.InstanceTypes {
		if !failover.HasHardwareEncoder(t) {
			return fmt.Errorf("zone %s: instance type %q has no NVENC encoder (families: g4dn, g5, g6, g6e)", name, t)
		}
	}
	switch {
	case a.MinSize < a.Redundancy.MinNodesPerZone:
		return fmt.Errorf("zone %s: minimum size %d below the policy's %d nodes per zone", name, a.MinSize, a.Redundancy.MinNodesPerZone)
	}
	return nil
}

// LoadDimension is the value of the load metric's dimension for this zone.
func (a *Args) LoadDimension() string { return a.Region + "/" + a.Key }

// New creates the zone.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Zone, error) {
	if err := args.validate(name); err != nil {
		return nil, err
	}
	if err := policygate.Check(ctx, args.policyViolation(name)); err != nil {
		return nil, err
	}
	z := &Zone{}
	if err := ctx.RegisterComponentResource(Type, name, z, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(z)

	nlb, err := newLoadBalancer(ctx, name, &args, child)
	if err != nil {
		return nil, err
	}
	fleet, err := newFleet(ctx, name, &args, nlb, child)
	if err != nil {
		return nil, err
	}

	z.LoadBalancerArn = nlb.arn
	z.LoadBalancerDNSName = nlb.dnsName
	z.AutoScalingGroupName = fleet.groupName
	z.TargetGroupArns = nlb.targetGroupArns
	if err := ctx.RegisterResourceOutputs(z, pulumi.Map{
		"loadBalancerArn":      z.LoadBalancerArn,
		"loadBalancerDnsName":  z.LoadBalancerDNSName,
		"autoScalingGroupName": z.AutoScalingGroupName,
		"targetGroupArns":      z.TargetGroupArns,
	}); err != nil {
		return nil, err
	}
	return z, nil
}
