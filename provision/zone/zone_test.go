package zone

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
	"github.com/zonecast/zonecast/provision/nodesetup"
	"github.com/zonecast/zonecast/provision/release"
)

const (
	secretToken   = "zone-test-auth-token-0123456789"
	secretStreams = "cam1:correct-horse-battery"
)

var testRelease = release.Pin{Version: "1.2.3", SHA256: strings.Repeat("ab", 32), URLTemplate: "https://example.com/v{version}/edge"}

func testArgs() Args {
	return Args{
		Region: "eu-west-1", Stack: "eu-west-1", Key: "a", AvailabilityZone: "eu-west-1a",
		VpcID:                       pulumi.String("vpc-1"),
		PublicSubnetID:              pulumi.String("subnet-public-a"),
		PrivateSubnetIDs:            []pulumi.StringInput{pulumi.String("subnet-private-a"), pulumi.String("subnet-private-a2")},
		SecurityGroupID:             pulumi.String("sg-edge"),
		LoadBalancerSecurityGroupID: pulumi.String("sg-nlb"),
		InstanceProfileArn:          pulumi.String("arn:aws:iam::123456789012:instance-profile/edge"),
		InstanceTypes:               failover.DefaultProvisioning.FleetTypes("g6.xlarge"),
		ImageID:                     pulumi.String("ami-0123"),
		MinSize:                     failover.DefaultRedundancy.MinNodesPerZone,
		MaxSize:                     failover.DefaultProvisioning.MaxNodesPerZone,
		AutoScalingGroupName:        "zonecast-eu-west-1-zone-a",
		ConfigParameter:             "/zonecast/eu-west-1/zone-a/edge.env",
		Edge: EdgeSettings{
			Release:        testRelease,
			Streams:        pulumi.ToSecret(pulumi.String(secretStreams)).(pulumi.StringOutput),
			RedisAddress:   pulumi.String("master.redis.example"),
			RedisAuthToken: pulumi.ToSecret(pulumi.String(secretToken)).(pulumi.StringOutput),
			RelayTLS: RelayTLSParameters{
				CA: "/zonecast/eu-west-1/relay/ca.pem", Cert: "/zonecast/eu-west-1/relay/cert.pem", Key: "/zonecast/eu-west-1/relay/key.pem",
			},
			EndpointGroup: pulumi.String(testEndpointGroup),
		},
	}
}

const testEndpointGroup = "arn:aws:globalaccelerator::123456789012:accelerator/1234/listener/5678/endpoint-group/9abc"

func runZone(t *testing.T, args Args) (*mockaws.Mocks, error) {
	t.Helper()
	m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "zone-a", args)
		return err
	})
	return m, err
}

func mustGet(t *testing.T, m *mockaws.Mocks, typ, name string) mockaws.Resource {
	t.Helper()
	r, err := m.Get(typ, name)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestZoneResources(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		Type:                                          1,
		"aws:ssm/parameter:Parameter":                 1,
		"aws:ec2/launchTemplate:LaunchTemplate":       1,
		"aws:autoscaling/group:Group":                 1,
		"aws:autoscaling/lifecycleHook:LifecycleHook": 1,
		"aws:autoscaling/policy:Policy":               1,
		"aws:cloudwatch/metricAlarm:MetricAlarm":      1,
		"aws:lb/loadBalancer:LoadBalancer":            1,
		"aws:lb/targetGroup:TargetGroup":              len(Listeners()),
		"aws:lb/listener:Listener":                    len(Listeners()),
	}
	got := m.Counts()
	for typ, n := range want {
		if got[typ] != n {
			t.Errorf("%s: %d, want %d", typ, got[typ], n)
		}
	}
	if len(got) != len(want) {
		t.Errorf("types %v, want %v", got, want)
	}
}

func TestZonePinnedToItsSubnets(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	asg := mustGet(t, m, "aws:autoscaling/group:Group", "zone-a-edges")
	if got := mockaws.Strings(asg.Inputs, "vpcZoneIdentifiers"); strings.Join(got, " ") != "subnet-private-a subnet-private-a2" {
		t.Errorf("group subnets %v, want the zone's private subnets", got)
	}
	nlb := mustGet(t, m, "aws:lb/loadBalancer:LoadBalancer", "zone-a-nlb")
	if got := mockaws.Strings(nlb.Inputs, "subnets"); len(got) != 1 || got[0] != "subnet-public-a" {
		t.Errorf("NLB subnets %v, want only the zone's public subnet", got)
	}
	if mockaws.Str(nlb.Inputs, "loadBalancerType") != "network" {
		t.Error("not a network load balancer")
	}
	for _, r := range []mockaws.Resource{asg, nlb} {
		tag := mockaws.Str(r.Inputs, "tags", "zonecast:zone")
		if r.Type == "aws:autoscaling/group:Group" {
			tag = mockaws.Str(r.Inputs, "tags", 0, "value")
		}
		if tag != "eu-west-1/a" {
			t.Errorf("%s zone tag %q, want eu-west-1/a", r.Name, tag)
		}
	}
}

func TestTargetGroupsMatchPolicy(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	tim := failover.DefaultTimings
	drain := failover.DefaultProvisioning.DeregistrationDelay(tim)
	tests := []struct {
		name, protocol string
		port           int
		// Both: the flows outlive the edge's drain (docs/provision.md,
		// "Draining"); fencing does not need them cut at once.
		delay time.Duration
	}{
		{"zone-a-srt", "UDP", ports.SRT.Number, drain},
		{"zone-a-https", "TCP_UDP", ports.HTTPS.Number, drain},
	}
	asg := mustGet(t, m, "aws:autoscaling/group:Group", "zone-a-edges")
	attached := strings.Join(mockaws.Strings(asg.Inputs, "targetGroupArns"), " ")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := mustGet(t, m, "aws:lb/targetGroup:TargetGroup", tt.name)
			in := tg.Inputs
			if got := mockaws.Str(in, "protocol"); got != tt.protocol {
				t.Errorf("protocol %q, want %q", got, tt.protocol)
			}
			if got := int(mockaws.Num(in, "port")); got != tt.port {
				t.Errorf("port %d, want %d", got, tt.port)
			}
			hc := func(k string) float64 { return mockaws.Num(in, "healthCheck", k) }
			if got := mockaws.Str(in, "healthCheck", "path"); got != tim.NLBHealthCheckPath {
				t.Errorf("health path %q, want %q", got, tim.NLBHealthCheckPath)
			}
			if hc("interval") != tim.NLBHealthCheckInterval.Seconds() || hc("healthyThreshold") != float64(tim.NLBHealthyThreshold) ||
				hc("unhealthyThreshold") != float64(tim.NLBUnhealthyThreshold) {
				t.Errorf("health check %v, want interval %v thresholds %d/%d", mockaws.Path(in, "healthCheck"),
					tim.NLBHealthCheckInterval, tim.NLBHealthyThreshold, tim.NLBUnhealthyThreshold)
			}
			if hc("timeout") >= hc("interval") {
				t.Errorf("timeout %v not below interval %v", hc("timeout"), hc("interval"))
			}
			if got := mockaws.Num(in, "deregistrationDelay"); got != tt.delay.Seconds() || !mockaws.Bool(in, "connectionTermination") {
				t.Errorf("deregistration delay %v s (termination %v), want %v with termination", got,
					mockaws.Bool(in, "connectionTermination"), tt.delay)
			}
			if !strings.Contains(attached, mockaws.Str(tg.Outputs, "arn")) {
				t.Errorf("target group not attached to the auto-scaling group (%s)", attached)
			}
			l := mustGet(t, m, "aws:lb/listener:Listener", tt.name)
			if mockaws.Str(l.Inputs, "defaultActions", 0, "targetGroupArn") != mockaws.Str(tg.Outputs, "arn") ||
				mockaws.Str(l.Inputs, "protocol") != tt.protocol || int(mockaws.Num(l.Inputs, "port")) != tt.port {
				t.Errorf("listener %v does not forward %s/%d to its target group", l.Inputs, tt.protocol, tt.port)
			}
		})
	}
}

func TestFleetScalingDrainAndRefresh(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	tim, prov := failover.DefaultTimings, failover.DefaultProvisioning
	asg := mustGet(t, m, "aws:autoscaling/group:Group", "zone-a-edges").Inputs
	if got := int(mockaws.Num(asg, "minSize")); got < failover.DefaultRedundancy.MinNodesPerZone {
		t.Errorf("min size %d below the policy's %d", got, failover.DefaultRedundancy.MinNodesPerZone)
	}
	// /readyz fails on a Redis outage: with the load balancer's health the
	// group would replace a whole zone's nodes for it.
	if got := mockaws.Str(asg, "healthCheckType"); got != "EC2" {
		t.Errorf("group health check type %q: the load balancer's readiness would replace every node on a Redis outage", got)
	}
	// AWS reads initialLifecycleHooks only when it creates the group.
	if !mockaws.Path(asg, "initialLifecycleHooks").IsNull() {
		t.Error("the drain hook is an initialLifecycleHooks entry, which a later change never reaches")
	}
	hook := mustGet(t, m, "aws:autoscaling/lifecycleHook:LifecycleHook", "zone-a-drain").Inputs
	if mockaws.Str(hook, "autoscalingGroupName") != "zonecast-eu-west-1-zone-a" || mockaws.Str(hook, "name") != LifecycleHookName ||
		mockaws.Str(hook, "lifecycleTransition") != "autoscaling:EC2_INSTANCE_TERMINATING" || mockaws.Str(hook, "defaultResult") != "CONTINUE" {
		t.Errorf("lifecycle hook %v", hook)
	}
	if got := time.Duration(mockaws.Num(hook, "heartbeatTimeout")) * time.Second; got < tim.DrainDeadline || got != tim.LifecycleHookTimeout {
		t.Errorf("lifecycle hook %v, want the policy's %v (≥ drain deadline %v)", got, tim.LifecycleHookTimeout, tim.DrainDeadline)
	}
	// `pulumi up` fails when the nodes never become healthy.
	if int(mockaws.Num(asg, "minElbCapacity")) != failover.DefaultRedundancy.MinNodesPerZone ||
		mockaws.Str(asg, "waitForCapacityTimeout") != strconv.Itoa(int(prov.CapacityWaitTimeout.Seconds()))+"s" {
		t.Errorf("capacity wait: minElbCapacity %v timeout %q", mockaws.Num(asg, "minElbCapacity"), mockaws.Str(asg, "waitForCapacityTimeout"))
	}
	if got := mockaws.Num(asg, "healthCheckGracePeriod"); got != prov.BootGracePeriod.Seconds() {
		t.Errorf("health check grace %v, want the boot grace %v", got, prov.BootGracePeriod)
	}
	pref := []any{"instanceRefresh", "preferences"}
	alarm := mustGet(t, m, "aws:cloudwatch/metricAlarm:MetricAlarm", "zone-a-unhealthy")
	if mockaws.Str(asg, "instanceRefresh", "strategy") != "Rolling" ||
		int(mockaws.Num(asg, append(pref, "minHealthyPercentage")...)) != prov.RefreshMinHealthyPercent ||
		int(mockaws.Num(asg, append(pref, "maxHealthyPercentage")...)) != prov.RefreshMaxHealthyPercent ||
		mockaws.Str(asg, append(pref, "checkpointDelay")...) != strconv.Itoa(int(prov.RefreshCheckpointDelay.Seconds())) ||
		fmt.Sprint(mockaws.Path(asg, append(pref, "checkpointPercentages")...).Mappable()) != fmt.Sprint(floats(prov.RefreshCheckpoints)) {
		t.Errorf("instance refresh %v", mockaws.Path(asg, "instanceRefresh"))
	}
	if got := mockaws.Strings(asg, append(pref, "alarmSpecification", "alarms")...); len(got) != 1 || got[0] != mockaws.Str(alarm.Outputs, "name") {
		t.Errorf("refresh alarms %v, want the zone's unhealthy-target alarm %q", got, mockaws.Str(alarm.Outputs, "name"))
	}
	srt := mustGet(t, m, "aws:lb/targetGroup:TargetGroup", "zone-a-srt")
	nlb := mustGet(t, m, "aws:lb/loadBalancer:LoadBalancer", "zone-a-nlb")
	a := alarm.Inputs
	if mockaws.Str(a, "namespace") != "AWS/NetworkELB" || mockaws.Str(a, "metricName") != "UnHealthyHostCount" ||
		mockaws.Str(a, "dimensions", "TargetGroup") != mockaws.Str(srt.Outputs, "arnSuffix") ||
		mockaws.Str(a, "dimensions", "LoadBalancer") != mockaws.Str(nlb.Outputs, "arnSuffix") ||
		int(mockaws.Num(a, "evaluationPeriods")) != prov.RollbackAlarmPeriods {
		t.Errorf("unhealthy alarm %v", a)
	}
	pol := mustGet(t, m, "aws:autoscaling/policy:Policy", "zone-a-load").Inputs
	spec := []any{"targetTrackingConfiguration", "customizedMetricSpecification"}
	if mockaws.Str(pol, "policyType") != "TargetTrackingScaling" ||
		mockaws.Num(pol, "targetTrackingConfiguration", "targetValue") != prov.ScalingTargetLoad ||
		mockaws.Str(pol, append(spec, "namespace")...) != prov.LoadMetricNamespace ||
		mockaws.Str(pol, append(spec, "metricName")...) != prov.LoadMetricName ||
		mockaws.Str(pol, append(spec, "metricDimensions", 0, "name")...) != prov.LoadMetricDimension ||
		mockaws.Str(pol, append(spec, "metricDimensions", 0, "value")...) != "eu-west-1/a" {
		t.Errorf("scaling policy %v does not track the zone's edge load", pol)
	}
	if mockaws.Str(pol, "autoscalingGroupName") != "zonecast-eu-west-1-zone-a" {
		t.Errorf("policy on group %q", mockaws.Str(pol, "autoscalingGroupName"))
	}
}

func floats(ns []int) []any {
	var out []any
	for _, n := range ns {
		out = append(out, float64(n))
	}
	return out
}

// TestMixedInstancesOverNVENCTypes: a GPU shortage of one type must not
// stall the zone, and every type the group may launch encodes in hardware.
func TestMixedInstancesOverNVENCTypes(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	asg := mustGet(t, m, "aws:autoscaling/group:Group", "zone-a-edges").Inputs
	lt := mustGet(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "zone-a-launch-template")
	mip := []any{"mixedInstancesPolicy"}
	var types []string
	for i := range mockaws.Path(asg, append(mip, "launchTemplate", "overrides")...).ArrayValue() {
		types = append(types, mockaws.Str(asg, append(mip, "launchTemplate", "overrides", i, "instanceType")...))
	}
	if strings.Join(types, " ") != "g6.xlarge g5.xlarge g4dn.xlarge" {
		t.Errorf("overrides %v, want L4, A10G, T4 in that order", types)
	}
	for _, it := range types {
		if !failover.HasHardwareEncoder(it) {
			t.Errorf("%s has no NVENC", it)
		}
	}
	if mockaws.Str(asg, append(mip, "instancesDistribution", "onDemandAllocationStrategy")...) != "prioritized" ||
		mockaws.Num(asg, append(mip, "instancesDistribution", "onDemandPercentageAboveBaseCapacity")...) != 100 {
		t.Errorf("instances distribution %v, want on-demand only, by priority", mockaws.Path(asg, append(mip, "instancesDistribution")...))
	}
	if mockaws.Bool(asg, "capacityRebalance") {
		t.Error("capacity rebalancing on an on-demand fleet")
	}
	if mockaws.Str(asg, append(mip, "launchTemplate", "launchTemplateSpecification", "launchTemplateId")...) != mockaws.Str(lt.Outputs, "id") {
		t.Error("the mixed instances policy does not launch the zone's template")
	}
	if !mockaws.Path(asg, "launchTemplate").IsNull() {
		t.Error("both launchTemplate and mixedInstancesPolicy set")
	}
}

// TestNewReleaseIsNewLaunchTemplateVersion: the release is part of the
// user data, so pinning another one changes the launch template (a new
// version, which the group follows and an instance refresh rolls out).
func TestNewReleaseIsNewLaunchTemplateVersion(t *testing.T) {
	userData := func(version string) (string, *mockaws.Mocks) {
		a := testArgs()
		a.Edge.Release.Version = version
		m, err := runZone(t, a)
		if err != nil {
			t.Fatal(err)
		}
		lt := mustGet(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "zone-a-launch-template")
		return mockaws.Str(lt.Inputs, "userData"), m
	}
	v1, m := userData("1.2.3")
	v2, _ := userData("1.3.0")
	if v1 == v2 {
		t.Fatal("a new release leaves the launch template unchanged: no instance refresh would roll it out")
	}
	lt := mustGet(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "zone-a-launch-template")
	asg := mustGet(t, m, "aws:autoscaling/group:Group", "zone-a-edges")
	follows := false
	for _, urn := range asg.PropertyDependencies["mixedInstancesPolicy"] {
		follows = follows || urn == lt.URN
	}
	if !follows || mockaws.Str(asg.Inputs, "mixedInstancesPolicy", "launchTemplate", "launchTemplateSpecification", "version") != "1" {
		t.Errorf("the group does not follow the template's latest version (%v)", asg.PropertyDependencies)
	}
}

func TestLaunchTemplateAndUserData(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	lt := mustGet(t, m, "aws:ec2/launchTemplate:LaunchTemplate", "zone-a-launch-template").Inputs
	if mockaws.Str(lt, "instanceType") != "g6.xlarge" || mockaws.Str(lt, "imageId") != "ami-0123" {
		t.Errorf("launch template %v", lt)
	}
	if mockaws.Str(lt, "metadataOptions", "httpTokens") != "required" {
		t.Error("IMDSv2 not required")
	}
	raw, err := base64.StdEncoding.DecodeString(mockaws.Str(lt, "userData"))
	if err != nil {
		t.Fatal(err)
	}
	ud := string(raw)
	for _, want := range []string{
		"zonecast-edge.service", "EnvironmentFile=/etc/zonecast/edge.env", "ExecStart=/usr/local/bin/edge",
		"TimeoutStopSec=70", "/zonecast/eu-west-1/zone-a/edge.env", "https://example.com/v1.2.3/edge",
		testRelease.SHA256 + "  /usr/local/bin/edge.new' | sha256sum --check", // the download is checked
		nodesetup.InstallFFmpeg(), // the transcoder's ffmpeg
		"ssm '/zonecast/eu-west-1/relay/ca.pem' > " + RelayCAFile, "ssm '/zonecast/eu-west-1/relay/cert.pem' > " + RelayCertFile,
		"ssm '/zonecast/eu-west-1/relay/key.pem' > " + RelayKeyFile,
		"--auto-scaling-group-name 'zonecast-eu-west-1-zone-a' --lifecycle-hook-name 'drain'",
		"--metric-name 'EncodeLoadPercent'", "'Zone=eu-west-1/a'", "NVIDIA_DRIVER_CAPABILITIES=compute,video,utility",
	} {
		if !strings.Contains(ud, want) {
			t.Errorf("user data lacks %q", want)
		}
	}
	if strings.Contains(ud, secretToken) || strings.Contains(ud, secretStreams) {
		t.Error("user data holds a secret (user data is readable by anyone who can describe the instance)")
	}
}

func TestEdgeConfigParameterIsSecret(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	p := mustGet(t, m, "aws:ssm/parameter:Parameter", "zone-a-edge-config")
	if mockaws.Str(p.Inputs, "type") != "SecureString" || mockaws.Str(p.Inputs, "name") != "/zonecast/eu-west-1/zone-a/edge.env" ||
		mockaws.Str(p.Inputs, "tier") != "Advanced" {
		t.Errorf("parameter %v", p.Inputs)
	}
	if !mockaws.IsSecret(p.Inputs, "value") {
		t.Fatal("edge environment (Redis token, stream passphrases) is not a Pulumi secret")
	}
	env := mockaws.Str(p.Inputs, "value")
	for _, want := range []string{
		`ZONECAST_CLUSTER_REDIS_ADDRESS="master.redis.example:6379"`, `ZONECAST_CLUSTER_REDIS_PASSWORD="` + secretToken + `"`,
		`ZONECAST_STREAMS="` + secretStreams + `"`, `ZONECAST_NODE_ZONE="a"`, `ZONECAST_SRT_LISTEN=":9000"`,
		`ZONECAST_CLUSTER_QUIC_LISTEN=":9100"`, `ZONECAST_CLUSTER_VIEWERS_PROXY="true"`,
		`ZONECAST_CLUSTER_TLS_CA="` + RelayCAFile + `"`, `ZONECAST_CLUSTER_TLS_CERT="` + RelayCertFile + `"`,
		`ZONECAST_CLUSTER_TLS_KEY="` + RelayKeyFile + `"`, `ZONECAST_CLUSTER_TLS_PEER_NAME="zonecast-node"`,
	} {
		if !strings.Contains(env, want) {
			t.Errorf("edge environment lacks %s:\n%s", want, env)
		}
	}
}

func TestEnvFileQuoting(t *testing.T) {
	env, err := EnvFile("r", "a", "h", `to"k\en`, "s", failover.DefaultTimings, Services{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(env, `ZONECAST_CLUSTER_REDIS_PASSWORD="to\"k\\en"`) {
		t.Errorf("quoting:\n%s", env)
	}
	if _, err := EnvFile("r", "a", "h", "tok", "cam\nEVIL=1", failover.DefaultTimings, Services{}); err == nil {
		t.Error("a line break in a setting was accepted")
	}
}

func TestZoneRefusesBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Args)
		want   string
	}{
		{"no NVENC", func(a *Args) { a.InstanceTypes = []string{"c7i.4xlarge"} }, "NVENC"},
		{"below policy minimum", func(a *Args) { a.MinSize = failover.DefaultRedundancy.MinNodesPerZone - 1 }, "minimum size"},
		{"max below min", func(a *Args) { a.MaxSize = a.MinSize - 1 }, "maximum size"},
		{"fallback without NVENC", func(a *Args) { a.InstanceTypes = append(a.InstanceTypes, "p5.48xlarge") }, "NVENC"},
		{"plain http artifact", func(a *Args) { a.Edge.Release.URLTemplate = "http://example.com/edge" }, "https"},
		{"shell in artifact", func(a *Args) { a.Edge.Release.URLTemplate = "https://x/$(reboot)" }, "shell"},
		{"unpinned release", func(a *Args) { a.Edge.Release.SHA256 = "" }, "zonecast:edgeSha256"},
		{"no relay TLS", func(a *Args) { a.Edge.RelayTLS.Key = "" }, "relay TLS"},
		{"no node subnet", func(a *Args) { a.PrivateSubnetIDs = nil }, "subnets"},
		{"NLB without security group", func(a *Args) { a.LoadBalancerSecurityGroupID = nil }, "security group"},
		{"hook shorter than drain", func(a *Args) {
			tm := failover.DefaultTimings
			tm.LifecycleHookTimeout = tm.DrainDeadline
			a.Timings = &tm
		}, "lifecycle hook"},
		{"no group name", func(a *Args) { a.AutoScalingGroupName = "" }, "auto-scaling group name"},
		{"fencing without endpoint group", func(a *Args) { a.Edge.EndpointGroup = nil }, "endpoint group"},
		{"fencing quieter than the node TTL", func(a *Args) {
			f := failover.DefaultFencing
			f.QuietAfter = 2 * failover.DefaultTimings.NodeTTL
			a.Fencing = &f
		}, "fencing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := testArgs()
			tt.change(&a)
			if _, err := runZone(t, a); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestLoadBalancerCreatedWithSecurityGroup: the accelerator preserves
// client addresses only for NLBs with security groups, which an NLB gets
// only when it is created.
func TestLoadBalancerCreatedWithSecurityGroup(t *testing.T) {
	m, err := runZone(t, testArgs())
	if err != nil {
		t.Fatal(err)
	}
	nlb := mustGet(t, m, "aws:lb/loadBalancer:LoadBalancer", "zone-a-nlb")
	if got := mockaws.Strings(nlb.Inputs, "securityGroups"); len(got) != 1 || got[0] != "sg-nlb" {
		t.Errorf("NLB security groups %v, want the region's load-balancer group", got)
	}
}
