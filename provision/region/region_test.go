package region

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/fakeaws"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
	"github.com/zonecast/zonecast/provision/relaytls"
	"github.com/zonecast/zonecast/provision/release"
	"github.com/zonecast/zonecast/provision/zone"
)

var relayMaterial = func() relaytls.Material {
	m, err := relaytls.Generate()
	if err != nil {
		panic(err)
	}
	return m
}()

func secret(s string) pulumi.StringOutput {
	return pulumi.ToSecret(pulumi.String(s)).(pulumi.StringOutput)
}

func testArgs() Args {
	return Args{
		Region: "eu-west-1", Stack: "eu-west-1",
		AvailabilityZones: []string{"eu-west-1a", "eu-west-1b"},
		VpcCidr:           "10.40.0.0/16",
		Partition:         "aws", AccountID: "123456789012",
		InstanceTypes: failover.DefaultProvisioning.FleetTypes("g6.xlarge"), ImageID: pulumi.String("ami-0123"),
		MinNodesPerZone: 2, MaxNodesPerZone: 10,
		RedisNodeType:  "cache.r7g.large",
		RedisAuthToken: secret("region-test-token-0123456789"),
		RelayTLS:       RelayTLS{CA: secret(relayMaterial.CA), Cert: secret(relayMaterial.Cert), Key: secret(relayMaterial.Key)},
		Edge: zone.EdgeSettings{
			Release: release.Pin{Version: "1.2.3", SHA256: strings.Repeat("ab", 32)},
			Streams: secret("cam1:correct-horse-battery"),
		},
		Listeners: Listeners{
			SRT:   pulumi.String("arn:listener/srt"),
			HTTPS: pulumi.String("arn:listener/https"),
			HTTP3: pulumi.String("arn:listener/http3"),
		},
		Catalog: Catalog{Table: "zonecast-streams", Replicas: []string{"eu-west-1", "us-east-1"}},
		Recording: Recording{
			Bucket:          "zonecast-rec-123456789012-eu-west-1",
			DistributionArn: pulumi.String(testDistribution),
			ExpiryDays:      90,
		},
	}
}

const testDistribution = "arn:aws:cloudfront::123456789012:distribution/E2EXAMPLE"

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
		"zonecast:provision:Redis":        1,
		"zonecast:provision:InstanceRole": 1,
		"aws:ec2/vpc:Vpc":                 1,
		"aws:ec2/internetGateway:InternetGateway":                1,
		"aws:ec2/subnet:Subnet":                                  2 * z,
		"aws:ec2/routeTable:RouteTable":                          1 + z,
		"aws:ec2/routeTableAssociation:RouteTableAssociation":    2 * z,
		"aws:ec2/eip:Eip":                                        z,
		"aws:ec2/natGateway:NatGateway":                          z,
		"aws:ec2/securityGroup:SecurityGroup":                    3,
		"aws:ec2/securityGroupRule:SecurityGroupRule":            3,
		"aws:elasticache/subnetGroup:SubnetGroup":                1,
		"aws:elasticache/replicationGroup:ReplicationGroup":      1,
		"aws:iam/role:Role":                                      1,
		"aws:iam/rolePolicy:RolePolicy":                          2, // the role's, and fencing's (named ARNs)
		"aws:iam/instanceProfile:InstanceProfile":                1,
		"aws:ssm/parameter:Parameter":                            z + 3,
		"aws:ec2/launchTemplate:LaunchTemplate":                  z,
		"aws:autoscaling/group:Group":                            z,
		"aws:autoscaling/lifecycleHook:LifecycleHook":            z,
		"aws:cloudwatch/metricAlarm:MetricAlarm":                 z,
		"aws:autoscaling/policy:Policy":                          z,
		"aws:lb/loadBalancer:LoadBalancer":                       z,
		"aws:lb/targetGroup:TargetGroup":                         2 * z,
		"aws:lb/listener:Listener":                               2 * z,
		"aws:globalaccelerator/endpointGroup:EndpointGroup":      3,
		"aws:s3/bucketV2:BucketV2":                               1,
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": 1,
		"aws:s3/bucketOwnershipControls:BucketOwnershipControls": 1,
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2": 1,
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2":                       1,
		"aws:s3/bucketPolicy:BucketPolicy":                                                           1,
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

// TestEachZoneInItsOwnAZ follows every zone's fleet, NLB and NAT to the
// availability zone of the subnet it is placed in.
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
		})
	}
}

// TestOneRedisForBothZones: the data plane keeps one node registry and one
// set of leases per cluster, so the twin zones' nodes must all use the
// region's one replication group — primary in the first zone's AZ, replica
// in the twin's.
func TestOneRedisForBothZones(t *testing.T) {
	args := testArgs()
	m, err := runRegion(t, args)
	if err != nil {
		t.Fatal(err)
	}
	groups := m.OfType("aws:elasticache/replicationGroup:ReplicationGroup")
	if len(groups) != 1 {
		t.Fatalf("%d replication groups, want one for the region", len(groups))
	}
	rg := groups[0]
	azs := mockaws.Strings(rg.Inputs, "preferredCacheClusterAzs")
	if len(azs) != 2 || azs[0] != args.AvailabilityZones[0] || azs[1] != args.AvailabilityZones[1] {
		t.Errorf("Redis nodes in %v, want the primary in %s and the replica in the twin zone's %s",
			azs, args.AvailabilityZones[0], args.AvailabilityZones[1])
	}
	if !mockaws.Bool(rg.Inputs, "multiAzEnabled") || !mockaws.Bool(rg.Inputs, "automaticFailoverEnabled") {
		t.Error("the region's Redis has no Multi-AZ automatic failover")
	}
	endpoint := mockaws.Str(rg.Outputs, "primaryEndpointAddress")
	if endpoint == "" {
		t.Fatal("the replication group has no primary endpoint")
	}
	for i := range args.AvailabilityZones {
		name := ConfigParameter(args.Stack, ZoneKey(i))
		var env string
		for _, p := range m.OfType("aws:ssm/parameter:Parameter") {
			if mockaws.Str(p.Inputs, "name") == name {
				env = mockaws.Str(p.Inputs, "value")
			}
		}
		if want := fmt.Sprintf("ZONECAST_CLUSTER_REDIS_ADDRESS=\"%s:%d\"", endpoint, ports.Redis.Number); !strings.Contains(env, want) {
			t.Errorf("zone %s's environment (%s) lacks %s:\n%s", ZoneKey(i), name, want, env)
		}
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

// TestSecurityGroups: the load balancers' group admits SRT only from the
// accelerator's group and HTTPS only from CloudFront's prefix list; the
// nodes admit the public ports only from the load balancers, and the relay
// and node-to-node HTTPS only from the VPC. Nothing is open to the world.
func TestSecurityGroups(t *testing.T) {
	args := testArgs()
	m, err := runRegion(t, args)
	if err != nil {
		t.Fatal(err)
	}
	nlbSG, _ := m.Get("aws:ec2/securityGroup:SecurityGroup", "nlb-sg")
	nlbID := mockaws.Str(nlbSG.Outputs, "id")
	for _, lb := range m.OfType("aws:lb/loadBalancer:LoadBalancer") {
		if got := mockaws.Strings(lb.Inputs, "securityGroups"); len(got) != 1 || got[0] != nlbID {
			t.Errorf("%s created with security groups %v, want the load balancers' group", lb.Name, got)
		}
	}
	// The load balancers' group: rules as separate resources only.
	if !mockaws.Path(nlbSG.Inputs, "ingress").IsNull() || !mockaws.Path(nlbSG.Inputs, "egress").IsNull() {
		t.Error("the load balancers' group mixes inline rules with rule resources")
	}
	type rule struct{ kind, proto, port, source string }
	var got []rule
	for _, r := range m.OfType("aws:ec2/securityGroupRule:SecurityGroupRule") {
		in := r.Inputs
		if mockaws.Str(in, "securityGroupId") != nlbID {
			t.Errorf("%s on group %q", r.Name, mockaws.Str(in, "securityGroupId"))
		}
		source := strings.Join(append(append(mockaws.Strings(in, "cidrBlocks"), mockaws.Strings(in, "prefixListIds")...),
			mockaws.Str(in, "sourceSecurityGroupId")), "")
		got = append(got, rule{mockaws.Str(in, "type"), mockaws.Str(in, "protocol"), itoa(int(mockaws.Num(in, "fromPort"))) + "-" +
			itoa(int(mockaws.Num(in, "toPort"))), source})
	}
	want := []rule{
		{"egress", "-1", "0-0", args.VpcCidr},
		{"ingress", "tcp", "443-443", fakeaws.FakeCloudFrontPrefixList},
		{"ingress", "udp", "9000-9000", fakeaws.FakeAcceleratorGroup},
	}
	sort.Slice(got, func(i, j int) bool { return got[i].kind+got[i].port < got[j].kind+got[j].port })
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("load balancers' rules %v, want %v", got, want)
	}
	// The lookups: CloudFront's list by name, the accelerator's group in this VPC.
	for _, tok := range []string{"aws:ec2/getManagedPrefixList:getManagedPrefixList", "aws:ec2/getSecurityGroup:getSecurityGroup"} {
		if !slices.Contains(m.Invokes(), tok) {
			t.Errorf("no %s lookup", tok)
		}
	}

	edge, _ := m.Get("aws:ec2/securityGroup:SecurityGroup", "edge-sg")
	fromLB, fromVPC := map[string]bool{}, map[string]bool{}
	for i := range mockaws.Path(edge.Inputs, "ingress").ArrayValue() {
		key := mockaws.Str(edge.Inputs, "ingress", i, "protocol") + "/" + itoa(int(mockaws.Num(edge.Inputs, "ingress", i, "fromPort")))
		sgs, cidrs := mockaws.Strings(edge.Inputs, "ingress", i, "securityGroups"), mockaws.Strings(edge.Inputs, "ingress", i, "cidrBlocks")
		switch {
		case len(sgs) == 1 && sgs[0] == nlbID && len(cidrs) == 0:
			fromLB[key] = true
		case len(cidrs) == 1 && cidrs[0] == args.VpcCidr && len(sgs) == 0:
			fromVPC[key] = true
		default:
			t.Errorf("edge rule %s from %v %v", key, sgs, cidrs)
		}
	}
	for _, p := range ports.PublicPorts() {
		if !fromLB[p.Protocol+"/"+itoa(p.Number)] {
			t.Errorf("edge nodes do not admit %s/%d from the load balancers", p.Protocol, p.Number)
		}
	}
	admin := ports.Admin.Protocol + "/" + itoa(ports.Admin.Number)
	if len(fromLB) != len(ports.PublicPorts()) || !fromVPC["udp/9100"] || !fromVPC["tcp/443"] || !fromVPC[admin] || len(fromVPC) != 3 {
		t.Errorf("edge rules from the load balancers %v, from the VPC %v", fromLB, fromVPC)
	}
	for _, sg := range m.OfType("aws:ec2/securityGroup:SecurityGroup") {
		for _, dir := range []string{"ingress"} {
			for i := range entries(sg.Inputs, dir) {
				if slices.Contains(mockaws.Strings(sg.Inputs, dir, i, "cidrBlocks"), "0.0.0.0/0") {
					t.Errorf("%s admits the world", sg.Name)
				}
			}
		}
	}
}

// descriptionChars is what AWS accepts in security group and rule
// descriptions (up to 255 characters).
var descriptionChars = regexp.MustCompile(`^[a-zA-Z0-9 ._\-:/()#,@\[\]+=&;{}!$*]{0,255}$`)

// TestAWSLimits checks what AWS would refuse only at apply time: the
// characters and lengths of security group descriptions, the lengths of
// SSM parameter names and of names AWS caps.
func TestAWSLimits(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	for _, sg := range m.OfType("aws:ec2/securityGroup:SecurityGroup") {
		descs := []string{mockaws.Str(sg.Inputs, "description")}
		for _, dir := range []string{"ingress", "egress"} {
			for i := range entries(sg.Inputs, dir) {
				descs = append(descs, mockaws.Str(sg.Inputs, dir, i, "description"))
			}
		}
		for _, d := range descs {
			if !descriptionChars.MatchString(d) {
				t.Errorf("%s: description %q has characters or a length AWS refuses", sg.Name, d)
			}
		}
	}
	for _, r := range m.OfType("aws:ec2/securityGroupRule:SecurityGroupRule") {
		if d := mockaws.Str(r.Inputs, "description"); !descriptionChars.MatchString(d) {
			t.Errorf("%s: description %q has characters or a length AWS refuses", r.Name, d)
		}
	}
	for _, p := range m.OfType("aws:ssm/parameter:Parameter") {
		name := mockaws.Str(p.Inputs, "name")
		if len(name) > 1011 || strings.Count(name, "/") > 15 {
			t.Errorf("SSM parameter name %q too long or too deep", name)
		}
		if len(mockaws.Str(p.Inputs, "description")) > 1024 {
			t.Errorf("SSM parameter %s: description over 1024 characters", name)
		}
	}
	for _, c := range []struct {
		typ, key string
		max      int
	}{
		{"aws:autoscaling/group:Group", "name", 255},
		{"aws:autoscaling/lifecycleHook:LifecycleHook", "name", 255},
		{"aws:ec2/launchTemplate:LaunchTemplate", "description", 255},
		{"aws:lb/loadBalancer:LoadBalancer", "name", 32},
		{"aws:lb/targetGroup:TargetGroup", "name", 32},
		{"aws:cloudwatch/metricAlarm:MetricAlarm", "name", 255},
	} {
		for _, r := range m.OfType(c.typ) {
			if v := mockaws.Str(r.Inputs, c.key); v == "" || len(v) > c.max {
				t.Errorf("%s %s: %s %q empty or over %d characters", c.typ, r.Name, c.key, v, c.max)
			}
		}
	}
}

// TestRelayTLSParameters: the relay's material reaches the nodes through
// SSM, secret, and every zone's user data fetches it.
func TestRelayTLSParameters(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	names := RelayTLSParameters("eu-west-1")
	for _, c := range []struct{ resource, name, value string }{
		{"relay-ca", names.CA, relayMaterial.CA}, {"relay-cert", names.Cert, relayMaterial.Cert}, {"relay-key", names.Key, relayMaterial.Key},
	} {
		p, err := m.Get("aws:ssm/parameter:Parameter", c.resource)
		if err != nil {
			t.Fatal(err)
		}
		if mockaws.Str(p.Inputs, "name") != c.name || mockaws.Str(p.Inputs, "type") != "SecureString" ||
			!mockaws.IsSecret(p.Inputs, "value") || mockaws.Str(p.Inputs, "value") != c.value {
			t.Errorf("%s: %v", c.resource, p.Inputs)
		}
	}
	a := testArgs()
	a.RelayTLS.Key = secret(strings.Repeat("k", 4097))
	if _, err := runRegion(t, a); err == nil || !strings.Contains(err.Error(), "4096") {
		t.Errorf("an oversized key: %v", err)
	}
}

// TestMoreSubnetsPerZone: a zone's nodes may spread over several private
// subnets, all in the zone's AZ, the first keeping its range.
func TestMoreSubnetsPerZone(t *testing.T) {
	a := testArgs()
	a.SubnetsPerZone = 3
	m, err := runRegion(t, a)
	if err != nil {
		t.Fatal(err)
	}
	subnetAZ, cidrs := map[string]string{}, map[string]string{}
	for _, s := range m.OfType("aws:ec2/subnet:Subnet") {
		subnetAZ[mockaws.Str(s.Outputs, "id")] = mockaws.Str(s.Inputs, "availabilityZone")
		cidr := mockaws.Str(s.Inputs, "cidrBlock")
		if other, dup := cidrs[cidr]; dup {
			t.Errorf("%s and %s share %s", s.Name, other, cidr)
		}
		cidrs[cidr] = s.Name
	}
	if cidrs["10.40.128.0/20"] != "private-a" || cidrs["10.40.144.0/20"] != "private-b" {
		t.Errorf("the first private subnets moved: %v", cidrs)
	}
	for i, az := range a.AvailabilityZones {
		asg, _ := m.Get("aws:autoscaling/group:Group", "zone-"+ZoneKey(i)+"-edges")
		ids := mockaws.Strings(asg.Inputs, "vpcZoneIdentifiers")
		if len(ids) != 3 {
			t.Errorf("zone %s nodes in %d subnets, want 3", ZoneKey(i), len(ids))
		}
		for _, id := range ids {
			if subnetAZ[id] != az {
				t.Errorf("zone %s node subnet %s in %s", ZoneKey(i), id, subnetAZ[id])
			}
		}
	}
	a.SubnetsPerZone = 5
	if _, err := runRegion(t, a); err == nil || !strings.Contains(err.Error(), "private subnets per zone") {
		t.Errorf("five subnets per zone: %v", err)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

// entries are the elements of a list input, none when it is absent.
func entries(pm resource.PropertyMap, key string) []resource.PropertyValue {
	if v := mockaws.Path(pm, key); v.IsArray() {
		return v.ArrayValue()
	}
	return nil
}

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
		{"no relay TLS", func(a *Args) { a.RelayTLS = RelayTLS{} }, "relay"},
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

// TestNodesLaunchAfterWhatTheyReadAtBoot: a node that boots before the
// relay's parameters or its role's policy exist fails its boot script.
func TestNodesLaunchAfterWhatTheyReadAtBoot(t *testing.T) {
	m, err := runRegion(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, name := range []string{"relay-ca", "relay-cert", "relay-key"} {
		p, _ := m.Get("aws:ssm/parameter:Parameter", name)
		want = append(want, p.URN)
	}
	// Depending on the role component is depending on its children.
	policy, _ := m.Get("aws:iam/rolePolicy:RolePolicy", "edge-role-policy")
	want = append(want, policy.URN)
	for _, asg := range m.OfType("aws:autoscaling/group:Group") {
		for _, urn := range want {
			if !slices.Contains(asg.Dependencies, urn) {
				t.Errorf("%s does not wait for %s", asg.Name, urn)
			}
		}
	}
}
