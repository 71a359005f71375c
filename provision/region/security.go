package region

import (
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/ports"
)

// newEdgeSecurityGroup opens the edge nodes to the world on the public ports
// of policies/ports only (the NLB preserves client addresses, so the nodes
// see broadcasters and viewers directly), and to the VPC on the relay port.
func newEdgeSecurityGroup(ctx *pulumi.Context, args *Args, vpc *ec2.Vpc, opts ...pulumi.ResourceOption) (*ec2.SecurityGroup, error) {
	var ingress ec2.SecurityGroupIngressArray
	for _, p := range ports.All {
		var cidr string
		switch {
		case p.Public:
			cidr = anywhereIPv4
		case p == ports.Relay:
			cidr = args.VpcCidr
		default:
			continue // Redis lives in its own group
		}
		ingress = append(ingress, ec2.SecurityGroupIngressArgs{
			Description: pulumi.String(p.Purpose),
			Protocol:    pulumi.String(strings.ToLower(p.Protocol)),
			FromPort:    pulumi.Int(p.Number),
			ToPort:      pulumi.Int(p.Number),
			CidrBlocks:  pulumi.ToStringArray([]string{cidr}),
		})
	}
	return ec2.NewSecurityGroup(ctx, "edge-sg", &ec2.SecurityGroupArgs{
		VpcId:       vpc.ID(),
		Description: pulumi.String("zonecast edge nodes: SRT, HTTPS, HTTP/3 from anywhere; QUIC relay inside the VPC"),
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
