package region

import (
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
	"github.com/zonecast/zonecast/provision/zone"
)

func testArgs() Args {
	return Args{
		Region: "eu-west-1", Stack: "eu-west-1",
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"},
		VpcCidr:           "10.40.0.0/16",
		Partition:         "aws", AccountID: "123456789012",
		InstanceType: "g6.xlarge", ImageID: pulumi.String("ami-0123"),
		MinNodesPerZone: 2, MaxNodesPerZone: 10,
		RedisNodeType:  "cache.r7g.large",
		RedisAuthToken: pulumi.ToSecret(pulumi.String("region-test-token-0123456789")).(pulumi.StringOutput),
		Edge: zone.EdgeSettings{
			ArtifactURL: "https://example.com/edge",
			Streams:     pulumi.ToSecret(pulumi.String("cam1:correct-horse-battery")).(pulumi.StringOutput),
		},
		Listeners: Listeners{
			SRT:   pulumi.String("arn:listener/srt"),
			HTTPS: pulumi.String("arn:listener/https"),
			HTTP3: pulumi.String("arn:listener/http3"),
		},
	}
}

func runRegion(t *testing.T, args Args) (*mockaws.Mocks, error) {
	t.Helper()
	m := mockaws.New("zonecast", args.Stack, args.Region)
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := New(ctx, args.Region, args)
		return err
	})
	return m, err
}

func TestRegionResourceCounts(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	z := failover.DefaultRedundancy.ZonesPerRegion
	want := map[string]int{
		Type:                              1,
		zone.Type:                         z,
		"zonecast:provision:Redis":        z,
		"zonecast:provision:InstanceRole": 1,
		"aws:ec2/vpc:Vpc":                 1,
		"aws:ec2/internetGateway:InternetGateway":             1,
		"aws:ec2/subnet:Subnet":                               2 * z,
		"aws:ec2/routeTable:RouteTable":                       1 + z,
		"aws:ec2/routeTableAssociation:RouteTableAssociation": 2 * z,
		"aws:ec2/eip:Eip":                                     z,
		"aws:ec2/natGateway:NatGateway":                       z,
		"aws:ec2/securityGroup:SecurityGroup":                 2,
		"aws:elasticache/subnetGroup:SubnetGroup":             1,
		"aws:elasticache/replicationGroup:ReplicationGroup":   z,
		"aws:iam/role:Role":                                   1,
		"aws:iam/rolePolicy:RolePolicy":                       1,
		"aws:iam/instanceProfile:InstanceProfile":             1,
		"aws:ssm/parameter:Parameter":                         z,
		"aws:ec2/launchTemplate:LaunchTemplate":               z,
		"aws:autoscaling/group:Group":                         z,
		"aws:autoscaling/policy:Policy":                       z,
		"aws:lb/loadBalancer:LoadBalancer":                    z,
		"aws:lb/targetGroup:TargetGroup":                      2 * z,
		"aws:lb/listener:Listener":                            2 * z,
		"aws:globalaccelerator/endpointGroup:EndpointGroup":   3,
	}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("types %v\nwant %v", got, want)
	}
}

// TestEachZoneInItsOwnAZ follows every zone's fleet, NLB, NAT and Redis
// primary to the availability zone of the subnet it is placed in.
func TestEachZoneInItsOwnAZ(t *testing.T) {
	args := testArgs()
	m, err := runRegion(t, args)
	if err != nil {
		t.Fatal(err)
	}
	subnetAZ := map[string]string{} // subnet id → AZ
	for _, s := range m.OfType("aws:ec2/subnet:Subnet") {
		subnetAZ[mockaws.Str(s.Outputs, "id")] = mockaws.Str(s.Inputs, "availabilityZone")
	}
	for i, az := range args.AvailabilityZones {
		key := ZoneKey(i)
		t.Run("zone-"+key, func(t *testing.T) {
			for _, c := range []struct {
				typ, name string
				subnets   []any
			}{
				{"aws:autoscaling/group:Group", "zone-" + key + "-edges", []any{"vpcZoneIdentifiers"}},
				{"aws:lb/loadBalancer:LoadBalancer", "zone-" + key + "-nlb", []any{"subnets"}},
			} {
				r, err := m.Get(c.typ, c.name)
				if err != nil {
					t.Fatal(err)
				}
				ids := mockaws.Strings(r.Inputs, c.subnets...)
				if len(ids) != 1 || subnetAZ[ids[0]] != az {
					t.Errorf("%s in subnets %v (AZ %q), want one subnet in %s", c.name, ids, subnetAZ[ids[0]], az)
				}
			}
			nat, err := m.Get("aws:ec2/natGateway:NatGateway", "nat-"+key)
			if err != nil {
				t.Fatal(err)
			}
			if got := subnetAZ[mockaws.Str(nat.Inputs, "subnetId")]; got != az {
				t.Errorf("NAT gateway in %q, want %s", got, az)
			}
			rg, err := m.Get("aws:elasticache/replicationGroup:ReplicationGroup", "zone-"+key+"-redis")
			if err != nil {
				t.Fatal(err)
			}
			azs := mockaws.Strings(rg.Inputs, "preferredCacheClusterAzs")
			if len(azs) != 2 || azs[0] != az || azs[1] == az {
				t.Errorf("Redis nodes in %v, want the primary in %s and the replica in the twin zone", azs, az)
			}
		})
	}
}

func TestEndpointGroupsCoverBothZones(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	var nlbs []string
	for _, lb := range m.OfType("aws:lb/loadBalancer:LoadBalancer") {
		nlbs = append(nlbs, mockaws.Str(lb.Outputs, "arn"))
	}
	prov, tim := failover.DefaultProvisioning, failover.DefaultTimings
	for _, l := range []string{"srt", "https", "http3"} {
		t.Run(l, func(t *testing.T) {
			eg, err := m.Get("aws:globalaccelerator/endpointGroup:EndpointGroup", "endpoints-"+l)
			if err != nil {
				t.Fatal(err)
			}
			in := eg.Inputs
			if mockaws.Str(in, "listenerArn") != "arn:listener/"+l {
				t.Errorf("on listener %q", mockaws.Str(in, "listenerArn"))
			}
			if mockaws.Str(in, "endpointGroupRegion") != "eu-west-1" || mockaws.Num(in, "trafficDialPercentage") != prov.TrafficDialPercent {
				t.Errorf("region %q dial %v", mockaws.Str(in, "endpointGroupRegion"), mockaws.Num(in, "trafficDialPercentage"))
			}
			if mockaws.Num(in, "healthCheckIntervalSeconds") != tim.GAHealthCheckInterval.Seconds() || int(mockaws.Num(in, "thresholdCount")) != tim.GAThreshold {
				t.Errorf("GA health check %v/%v", mockaws.Num(in, "healthCheckIntervalSeconds"), mockaws.Num(in, "thresholdCount"))
			}
			eps := mockaws.Path(in, "endpointConfigurations").ArrayValue()
			var got []string
			for i := range eps {
				got = append(got, mockaws.Str(in, "endpointConfigurations", i, "endpointId"))
				if int(mockaws.Num(in, "endpointConfigurations", i, "weight")) != prov.EndpointWeight {
					t.Errorf("endpoint %d weight %v", i, mockaws.Num(in, "endpointConfigurations", i, "weight"))
				}
			}
			if strings.Join(got, " ") != strings.Join(nlbs, " ") {
				t.Errorf("endpoints %v, want every zone's NLB %v", got, nlbs)
			}
		})
	}
}

func TestSecurityGroupsOpenOnlyPolicyPorts(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	public := map[string]bool{}
	for _, p := range ports.PublicPorts() {
		public[p.Protocol+"/"+itoa(p.Number)] = true
	}
	for _, sg := range m.OfType("aws:ec2/securityGroup:SecurityGroup") {
		rules := mockaws.Path(sg.Inputs, "ingress").ArrayValue()
		for i := range rules {
			proto := mockaws.Str(sg.Inputs, "ingress", i, "protocol")
			from, to := int(mockaws.Num(sg.Inputs, "ingress", i, "fromPort")), int(mockaws.Num(sg.Inputs, "ingress", i, "toPort"))
			cidrs := mockaws.Strings(sg.Inputs, "ingress", i, "cidrBlocks")
			world := len(cidrs) > 0 && cidrs[0] == "0.0.0.0/0"
			if from != to {
				t.Errorf("%s: port range %d–%d", sg.Name, from, to)
			}
			if world && !public[proto+"/"+itoa(from)] {
				t.Errorf("%s: %s/%d open to the world, not a public port", sg.Name, proto, from)
			}
			if !world && proto+"/"+itoa(from) != ports.Relay.Protocol+"/"+itoa(ports.Relay.Number) &&
				proto+"/"+itoa(from) != ports.Redis.Protocol+"/"+itoa(ports.Redis.Number) {
				t.Errorf("%s: unexpected private rule %s/%d", sg.Name, proto, from)
			}
		}
	}
	edge, _ := m.Get("aws:ec2/securityGroup:SecurityGroup", "edge-sg")
	if n := len(mockaws.Path(edge.Inputs, "ingress").ArrayValue()); n != len(ports.PublicPorts())+1 {
		t.Errorf("edge group has %d ingress rules, want the %d public ports and the relay", n, len(ports.PublicPorts()))
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestRegionRefusesBadTopology(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Args)
		want   string
	}{
		{"one zone", func(a *Args) { a.AvailabilityZones = a.AvailabilityZones[:1] }, "availability zones"},
		{"three zones", func(a *Args) { a.AvailabilityZones = append(a.AvailabilityZones, "eu-west-1c") }, "availability zones"},
		{"twins in one AZ", func(a *Args) { a.AvailabilityZones = []string{"eu-west-1a", "eu-west-1a"} }, "used twice"},
		{"no listeners", func(a *Args) { a.Listeners = Listeners{} }, "listener"},
		{"bad CIDR", func(a *Args) { a.VpcCidr = "10.40.0.0/33" }, "CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArgs()
			tt.change(&a)
			if _, err := runRegion(t, a); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestSubnet(t *testing.T) {
	tests := []struct {
		base        string
		bits, index int
		want        string
		err         bool
	}{
		{"10.40.0.0/16", 4, 0, "10.40.0.0/20", false},
		{"10.40.0.0/16", 4, 1, "10.40.16.0/20", false},
		{"10.40.0.0/16", 4, 8, "10.40.128.0/20", false},
		{"10.40.0.0/16", 4, 15, "10.40.240.0/20", false},
		{"10.40.0.0/16", 4, 16, "", true},
		{"fd00::/48", 4, 0, "", true},
		{"nonsense", 4, 0, "", true},
	}
	for _, tt := range tests {
		got, err := Subnet(tt.base, tt.bits, tt.index)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("Subnet(%s, %d, %d) = %q, %v; want %q (error %v)", tt.base, tt.bits, tt.index, got, err, tt.want, tt.err)
		}
	}
}
