package region

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/globalaccelerator"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/ports"
)

// AWS-owned names the load balancers' group refers to.
const (
	// CloudFrontPrefixList is CloudFront's managed prefix list of the
	// addresses it fetches from origins with. It counts as about 55 rules
	// against a security group's quota (60 by default), which leaves room
	// for the accelerator's rule and little else.
	CloudFrontPrefixList = "com.amazonaws.global.cloudfront.origin-facing"
	// AcceleratorSecurityGroup is the group Global Accelerator creates in
	// a VPC (one per VPC, shared by every accelerator of the account) for
	// the network interfaces that carry client-address-preserving traffic
	// to the endpoints there. It exists once an endpoint group with such an
	// endpoint does.
	AcceleratorSecurityGroup = "GlobalAccelerator"
)

// newLoadBalancerSecurityGroup is the group every zone's NLB is created
// with. It admits HTTPS only from CloudFront (viewers reach the origins
// through the CDN only) and, once the endpoint groups exist, SRT only from
// the accelerator (allowAcceleratorSRT). Its rules are separate resources
// (the provider must not mix them with inline rules), so the accelerator's
// can follow the endpoint groups, which follow the load balancers.
func newLoadBalancerSecurityGroup(ctx *pulumi.Context, args *Args, vpc *ec2.Vpc, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	sg, err := ec2.NewSecurityGroup(ctx, "nlb-sg", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("zonecast load balancers: SRT from Global Accelerator, HTTPS from CloudFront"),
	}, opts...)
	if err != nil {
		return nil, err
	}
	cloudFront, err := ec2.LookupManagedPrefixList(ctx, &ec2.LookupManagedPrefixListArgs{Name: pulumi.StringRef(CloudFrontPrefixList)})
	if err != nil {
		return nil, err
	}
	if _, err := ec2.NewSecurityGroupRule(ctx, "nlb-https-from-cloudfront", &ec2.SecurityGroupRuleArgs{
		Type:            pulumi.String("ingress"),
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String(ports.HTTPS.Purpose + " from CloudFront"),
		Protocol:        pulumi.String(strings.ToLower(ports.HTTPS.Protocol)),
		FromPort:        pulumi.Int(ports.HTTPS.Number),
		ToPort:          pulumi.Int(ports.HTTPS.Number),
		PrefixListIds:   pulumi.StringArray{pulumi.String(cloudFront.Id)},
	}, opts...); err != nil {
		return nil, err
	}
	// To the nodes: forwarded flows and health checks.
	if _, err := ec2.NewSecurityGroupRule(ctx, "nlb-to-nodes", &ec2.SecurityGroupRuleArgs{
		Type:            pulumi.String("egress"),
		SecurityGroupId: sg.ID(),
		Description:     pulumi.String("to the edge nodes in the VPC"),
		Protocol:        pulumi.String(allProtocols),
		FromPort:        pulumi.Int(0),
		ToPort:          pulumi.Int(0),
		CidrBlocks:      pulumi.StringArray{pulumi.String(args.VpcCidr)},
	}, opts...); err != nil {
		return nil, err
	}
	return sg, nil
}

// allowAcceleratorSRT admits SRT into the load balancers' group from the
// accelerator's own group in the VPC, looked up once the endpoint groups
// (which make the accelerator create it) exist. With client addresses
// preserved a broadcaster's packets keep its address, so no address range
// could tell the accelerator's path from a direct one; the group can.
func allowAcceleratorSRT(ctx *pulumi.Context, vpc *ec2.Vpc, nlbSG *ec2.SecurityGroup, endpoints []*globalaccelerator.EndpointGroup, opts ...pulumi.ResourceOption) error {
	var deps []pulumi.Resource
	for _, g := range endpoints {
		deps = append(deps, g)
	}
	accelerator := ec2.LookupSecurityGroupOutput(ctx, ec2.LookupSecurityGroupOutputArgs{
		VpcId: vpc.ID(),
		Filters: ec2.GetSecurityGroupFilterArray{ec2.GetSecurityGroupFilterArgs{
			Name:   pulumi.String("group-name"),
			Values: pulumi.StringArray{pulumi.String(AcceleratorSecurityGroup)},
		}},
	}, pulumi.DependsOn(deps))
	_, err := ec2.NewSecurityGroupRule(ctx, "nlb-srt-from-accelerator", &ec2.SecurityGroupRuleArgs{
		Type:                  pulumi.String("ingress"),
		SecurityGroupId:       nlbSG.ID(),
		Description:           pulumi.String(ports.SRT.Purpose + " from Global Accelerator"),
		Protocol:              pulumi.String(strings.ToLower(ports.SRT.Protocol)),
		FromPort:              pulumi.Int(ports.SRT.Number),
		ToPort:                pulumi.Int(ports.SRT.Number),
		SourceSecurityGroupId: accelerator.Id(),
	}, opts...)
	return err
}

// newEdgeSecurityGroup admits, on the edge nodes, the public ports of
// policies/ports only from the zones' load balancers (their group: the
// flows keep the clients' addresses, and only the group tells them apart
// from direct traffic), and from the VPC the relay (QUIC between twin
// zones), HTTPS (a node fetching a stream it has no role for from its
// leader or standby) and the admin listener (operators and the platform's
// back end calling the control API; nothing outside the VPC).
func newEdgeSecurityGroup(ctx *pulumi.Context, args *Args, vpc *ec2.Vpc, nlbSG *ec2.SecurityGroup, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	var ingress ec2.SecurityGroupIngressArray
	rule := func(p ports.Port, description string) ec2.SecurityGroupIngressArgs {
		return ec2.SecurityGroupIngressArgs{
			Description: pulumi.String(description),
			Protocol:    pulumi.String(strings.ToLower(p.Protocol)),
			FromPort:    pulumi.Int(p.Number),
			ToPort:      pulumi.Int(p.Number),
		}
	}
	for _, p := range ports.PublicPorts() {
		r := rule(p, p.Purpose+" through the load balancers")
		r.SecurityGroups = pulumi.StringArray{nlbSG.ID()}
		ingress = append(ingress, r)
	}
	for _, p := range []struct {
		port    ports.Port
		purpose string
	}{
		{ports.Relay, ports.Relay.Purpose},
		{ports.HTTPS, "streams fetched from their leader by other nodes"},
		// The control API and /metrics: operators and the platform's back
		// end inside the VPC; never through the load balancers.
		{ports.Admin, ports.Admin.Purpose + " from inside the VPC"},
	} {
		r := rule(p.port, p.purpose)
		r.CidrBlocks = pulumi.StringArray{pulumi.String(args.VpcCidr)}
		ingress = append(ingress, r)
	}
	return ec2.NewSecurityGroup(ctx, "edge-sg", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("zonecast edge nodes: SRT and HTTPS through the load balancers, QUIC relay, HTTPS and the admin listener inside the VPC"),
		Ingress:     ingress,
		// Nodes fetch their binary, settings and AWS APIs through NAT.
		Egress: ec2.SecurityGroupEgressArray{ec2.SecurityGroupEgressArgs{
			Description: pulumi.String("outbound"),
			Protocol:    pulumi.String(allProtocols),
			FromPort:    pulumi.Int(0),
			ToPort:      pulumi.Int(0),
			CidrBlocks:  pulumi.ToStringArray([]string{anywhereIPv4}),
		}},
	}, opts...)
}

// newRedisSecurityGroup admits the edge nodes, and only them, to Redis.
func newRedisSecurityGroup(ctx *pulumi.Context, vpc *ec2.Vpc, edge *ec2.SecurityGroup, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	return ec2.NewSecurityGroup(ctx, "redis-sg", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("zonecast Redis: edge nodes only"),
		Ingress: ec2.SecurityGroupIngressArray{ec2.SecurityGroupIngressArgs{
			Description:    pulumi.String(ports.Redis.Purpose),
			Protocol:       pulumi.String(strings.ToLower(ports.Redis.Protocol)),
			FromPort:       pulumi.Int(ports.Redis.Number),
			ToPort:         pulumi.Int(ports.Redis.Number),
			SecurityGroups: pulumi.StringArray{edge.ID()},
		}},
	}, opts...)
}
