package zone

import (
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

const (
	secretToken   = "zone-test-auth-token-0123456789"
	secretStreams = "cam1:correct-horse-battery"
)

func testArgs() Args {
	return Args{
		Region: "eu-west-1", Stack: "eu-west-1", Key: "a", AvailabilityZone: "eu-west-1a",
		VpcID:                pulumi.String("vpc-1"),
		PublicSubnetID:       pulumi.String("subnet-public-a"),
		PrivateSubnetID:      pulumi.String("subnet-private-a"),
		SecurityGroupID:      pulumi.String("sg-edge"),
		InstanceProfileArn:   pulumi.String("arn:aws:iam::123456789012:instance-profile/edge"),
		InstanceType:         "g6.xlarge",
		ImageID:              pulumi.String("ami-0123"),
		MinSize:              failover.DefaultRedundancy.MinNodesPerZone,
		MaxSize:              failover.DefaultProvisioning.MaxNodesPerZone,
		AutoScalingGroupName: "zonecast-eu-west-1-zone-a",
		ConfigParameter:      "/zonecast/eu-west-1/zone-a/edge.env",
		Edge: EdgeSettings{
			ArtifactURL:    "https://example.com/edge",
			Streams:        pulumi.ToSecret(pulumi.String(secretStreams)).(pulumi.StringOutput),
			RedisAddress:   pulumi.String("master.redis.example"),
			RedisAuthToken: pulumi.ToSecret(pulumi.String(secretToken)).(pulumi.StringOutput),
		},
	}
}

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
		Type:                                    1,
		"aws:ssm/parameter:Parameter":           1,
		"aws:ec2/launchTemplate:LaunchTemplate": 1,
		"aws:autoscaling/group:Group":           1,
		"aws:autoscaling/policy:Policy":         1,
		"aws:lb/loadBalancer:LoadBalancer":      1,
		"aws:lb/targetGroup:TargetGroup":        len(Listeners()),
		"aws:lb/listener:Listener":              len(Listeners()),
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
	if got := mockaws.Strings(asg.Inputs, "vpcZoneIdentifiers"); len(got) != 1 || got[0] != "subnet-private-a" {
		t.Errorf("group subnets %v, want only the zone's private subnet", got)
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
	tests := []struct {
		name, protocol string
		port           int
	}{
		{"zone-a-srt", "UDP", ports.SRT.Number},
		{"zone-a-https", "TCP_UDP", ports.HTTPS.Number},
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
			if got := mockaws.Num(in, "deregistrationDelay"); got != tim.DrainDeadline.Seconds() {
				t.Errorf("deregistration delay %v, want the drain deadline %v", got, tim.DrainDeadline)
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
	if mockaws.Str(asg, "healthCheckType") != "ELB" {
		t.Error("group does not use the load balancer's health")
	}
	if got := mockaws.Str(asg, "initialLifecycleHooks", 0, "lifecycleTransition"); got != "autoscaling:EC2_INSTANCE_TERMINATING" {
		t.Errorf("lifecycle hook on %q, want termination", got)
	}
	if got := time.Duration(mockaws.Num(asg, "initialLifecycleHooks", 0, "heartbeatTimeout")) * time.Second; got < tim.DrainDeadline || got != tim.LifecycleHookTimeout {
		t.Errorf("lifecycle hook %v, want the policy's %v (≥ drain deadline %v)", got, tim.LifecycleHookTimeout, tim.DrainDeadline)
	}
	if mockaws.Str(asg, "instanceRefresh", "strategy") != "Rolling" ||
		int(mockaws.Num(asg, "instanceRefresh", "preferences", "minHealthyPercentage")) != prov.RefreshMinHealthyPercent {
		t.Errorf("instance refresh %v", mockaws.Path(asg, "instanceRefresh"))
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
		"TimeoutStopSec=70", "/zonecast/eu-west-1/zone-a/edge.env", "https://example.com/edge",
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
	if mockaws.Str(p.Inputs, "type") != "SecureString" || mockaws.Str(p.Inputs, "name") != "/zonecast/eu-west-1/zone-a/edge.env" {
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
	} {
		if !strings.Contains(env, want) {
			t.Errorf("edge environment lacks %s:\n%s", want, env)
		}
	}
}

func TestEnvFileQuoting(t *testing.T) {
	env, err := EnvFile("r", "a", "h", `to"k\en`, "s", failover.DefaultTimings)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(env, `ZONECAST_CLUSTER_REDIS_PASSWORD="to\"k\\en"`) {
		t.Errorf("quoting:\n%s", env)
	}
	if _, err := EnvFile("r", "a", "h", "tok", "cam\nEVIL=1", failover.DefaultTimings); err == nil {
		t.Error("a line break in a setting was accepted")
	}
}

func TestZoneRefusesBadArgs(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Args)
		want   string
	}{
		{"no NVENC", func(a *Args) { a.InstanceType = "c7i.4xlarge" }, "NVENC"},
		{"below policy minimum", func(a *Args) { a.MinSize = failover.DefaultRedundancy.MinNodesPerZone - 1 }, "minimum size"},
		{"max below min", func(a *Args) { a.MaxSize = a.MinSize - 1 }, "maximum size"},
		{"plain http artifact", func(a *Args) { a.Edge.ArtifactURL = "http://example.com/edge" }, "https"},
		{"shell in artifact", func(a *Args) { a.Edge.ArtifactURL = "https://x/$(reboot)" }, "shell"},
		{"hook shorter than drain", func(a *Args) {
			tm := failover.DefaultTimings
			tm.LifecycleHookTimeout = tm.DrainDeadline
			a.Timings = &tm
		}, "lifecycle hook"},
		{"no group name", func(a *Args) { a.AutoScalingGroupName = "" }, "auto-scaling group name"},
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
