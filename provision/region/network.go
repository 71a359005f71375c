package region

import (
	"strconv"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// zoneSubnets are one zone's subnets, all in the zone's AZ: one public,
// and one or more private ones for its nodes.
type zoneSubnets struct {
	public  *ec2.Subnet
	private []*ec2.Subnet
}

type network struct {
	vpc   *ec2.Vpc
	zones []zoneSubnets
}

// Subnet layout of the VPC (/20s of a /16): public subnets from index 0,
// one per zone; private ones from index 8, the first of every zone, then
// the second of every zone, and so on (so the first ones keep their
// ranges when a zone gets more).
const (
	subnetBits     = 4
	privateOffset  = 8
	privateSlots   = 8
	anywhereIPv4   = "0.0.0.0/0"
	allProtocols   = "-1"
	zoneKeyLetters = "abcdefgh"
)

// newNetwork creates the VPC over the region's zones: per zone a public
// subnet (the zone's NLB and NAT gateway) and SubnetsPerZone private ones
// (its nodes; the first also holds Redis), each zone with its own NAT gateway so a zone outage never cuts the
// twin's egress.
func newNetwork(ctx *pulumi.Context, args *Args, opts ...pulumi.ResourceOption) (*network, error) {
	vpc, err := ec2.NewVpc(ctx, "vpc", &ec2.VpcArgs{
		CidrBlock:          pulumi.String(args.VpcCidr),
		EnableDnsSupport:   pulumi.Bool(true),
		EnableDnsHostnames: pulumi.Bool(true),
		Tags:               pulumi.StringMap{"Name": pulumi.String("zonecast-" + args.Stack)},
	}, opts...)
	if err != nil {
		return nil, err
	}
	igw, err := ec2.NewInternetGateway(ctx, "igw", &ec2.InternetGatewayArgs{VpcId: vpc.ID()}, opts...)
	if err != nil {
		return nil, err
	}
	public, err := ec2.NewRouteTable(ctx, "public", &ec2.RouteTableArgs{
		VpcId:  vpc.ID(),
		Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String(anywhereIPv4), GatewayId: igw.ID()}},
	}, opts...)
	if err != nil {
		return nil, err
	}

	n := &network{vpc: vpc}
	for i, az := range args.AvailabilityZones {
		key := ZoneKey(i)
		pubCIDR, err := Subnet(args.VpcCidr, subnetBits, i)
		if err != nil {
			return nil, err
		}
		pub, err := ec2.NewSubnet(ctx, "public-"+key, &ec2.SubnetArgs{
			VpcId:               vpc.ID(),
			CidrBlock:           pulumi.String(pubCIDR),
			AvailabilityZone:    pulumi.String(az),
			MapPublicIpOnLaunch: pulumi.Bool(false),
			Tags:                pulumi.StringMap{"Name": pulumi.String("zonecast-" + args.Stack + "-public-" + key)},
		}, opts...)
		if err != nil {
			return nil, err
		}
		if _, err := ec2.NewRouteTableAssociation(ctx, "public-"+key, &ec2.RouteTableAssociationArgs{
			SubnetId: pub.ID(), RouteTableId: public.ID(),
		}, opts...); err != nil {
			return nil, err
		}
		eip, err := ec2.NewEip(ctx, "nat-"+key, &ec2.EipArgs{Domain: pulumi.String("vpc")}, opts...)
		if err != nil {
			return nil, err
		}
		nat, err := ec2.NewNatGateway(ctx, "nat-"+key, &ec2.NatGatewayArgs{
			AllocationId: eip.ID(), SubnetId: pub.ID(),
		}, append(opts, pulumi.DependsOn([]pulumi.Resource{igw}))...)
		if err != nil {
			return nil, err
		}
		rt, err := ec2.NewRouteTable(ctx, "private-"+key, &ec2.RouteTableArgs{
			VpcId:  vpc.ID(),
			Routes: ec2.RouteTableRouteArray{ec2.RouteTableRouteArgs{CidrBlock: pulumi.String(anywhereIPv4), NatGatewayId: nat.ID()}},
		}, opts...)
		if err != nil {
			return nil, err
		}
		zs := zoneSubnets{public: pub}
		for j := 0; j < args.SubnetsPerZone; j++ {
			name := "private-" + key // the first keeps its original name
			if j > 0 {
				name += strconv.Itoa(j + 1)
			}
			cidr, err := Subnet(args.VpcCidr, subnetBits, privateOffset+j*len(args.AvailabilityZones)+i)
			if err != nil {
				return nil, err
			}
			priv, err := ec2.NewSubnet(ctx, name, &ec2.SubnetArgs{
				VpcId:            vpc.ID(),
				CidrBlock:        pulumi.String(cidr),
				AvailabilityZone: pulumi.String(az),
				Tags:             pulumi.StringMap{"Name": pulumi.String("zonecast-" + args.Stack + "-" + name)},
			}, opts...)
			if err != nil {
				return nil, err
			}
			if _, err := ec2.NewRouteTableAssociation(ctx, name, &ec2.RouteTableAssociationArgs{
				SubnetId: priv.ID(), RouteTableId: rt.ID(),
			}, opts...); err != nil {
				return nil, err
			}
			zs.private = append(zs.private, priv)
		}
		n.zones = append(n.zones, zs)
	}
	return n, nil
}

// ZoneKey is the short name of the i-th zone: "a", "b", …
func ZoneKey(i int) string { return zoneKeyLetters[i : i+1] }
