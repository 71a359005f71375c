package preview

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/program"
)

// root finds the repository and fails loudly, with the fix, when the CLI or
// the stand-in provider has not been built.
func root(t testing.TB) string {
	t.Helper()
	r, err := FindRoot(".")
	if err != nil {
		t.Fatal(err)
	}
	if err := CheckTools(r); err != nil {
		t.Fatalf("the end-to-end preview needs the real Pulumi engine: %v", err)
	}
	return r
}

// regionResources is what a regional stack creates, components, stack and
// providers included.
const regionResources = 70

func run(t *testing.T, opts Options) (*Result, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	start := time.Now()
	res, err := Run(ctx, opts)
	t.Logf("preview of %s: %v", opts.Stack, time.Since(start).Round(time.Millisecond))
	return res, err
}

func TestPreviewGlobalThroughTheEngine(t *testing.T) {
	t.Parallel()
	res, err := run(t, Options{Root: root(t), Stack: "global"})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"aws:cloudfront/cachePolicy:CachePolicy cache-playlists",
		"aws:cloudfront/cachePolicy:CachePolicy cache-segments",
		"aws:cloudfront/cachePolicy:CachePolicy cache-vod",
		"aws:cloudfront/distribution:Distribution cdn",
		"aws:cloudfront/originAccessControl:OriginAccessControl vod-oac",
		// The stream catalog: at home in the first region, a replica in
		// every other one, each through its own region's provider.
		"aws:dynamodb/table:Table catalog",
		"aws:dynamodb/tableReplica:TableReplica catalog-ap-southeast-1",
		"aws:dynamodb/tableReplica:TableReplica catalog-us-east-1",
		"aws:globalaccelerator/accelerator:Accelerator accelerator",
		"aws:globalaccelerator/listener:Listener listener-http3",
		"aws:globalaccelerator/listener:Listener listener-https",
		"aws:globalaccelerator/listener:Listener listener-srt",
		"aws:iam/policy:Policy catalog-writer",
		"pulumi:providers:aws default_6_83_4",
		"pulumi:providers:aws region-ap-southeast-1",
		"pulumi:providers:aws region-eu-west-1",
		"pulumi:providers:aws region-us-east-1",
		"pulumi:pulumi:Stack zonecast-global",
		"zonecast:provision:Global global",
	}
	if got := res.Lines(); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("preview lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// The engine's checked inputs carry the policy's values.
	for _, r := range res.Resources {
		if r.Name == "listener-srt" && (r.Inputs["clientAffinity"] != "SOURCE_IP" || r.Inputs["protocol"] != "UDP") {
			t.Errorf("SRT listener inputs %v", r.Inputs)
		}
		if r.Name == "catalog" && (r.Inputs["deletionProtectionEnabled"] != true || r.Inputs["name"] != "zonecast-streams") {
			t.Errorf("catalog table inputs %v", r.Inputs)
		}
		if r.Type == "aws:dynamodb/tableReplica:TableReplica" && (r.Inputs["pointInTimeRecovery"] != true || r.Inputs["deletionProtectionEnabled"] != true) {
			t.Errorf("replica %s inputs %v", r.Name, r.Inputs)
		}
	}
}

func TestPreviewRegionThroughTheEngine(t *testing.T) {
	t.Parallel()
	res, err := run(t, Options{Root: root(t), Stack: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	lines := "\n" + strings.Join(res.Lines(), "\n") + "\n"
	for _, z := range []string{"a", "b"} {
		for _, want := range []string{
			"aws:autoscaling/group:Group zone-" + z + "-edges",
			"aws:autoscaling/policy:Policy zone-" + z + "-load",
			"aws:ec2/launchTemplate:LaunchTemplate zone-" + z + "-launch-template",
			"aws:lb/loadBalancer:LoadBalancer zone-" + z + "-nlb",
			"aws:lb/targetGroup:TargetGroup zone-" + z + "-srt",
			"aws:lb/targetGroup:TargetGroup zone-" + z + "-https",
			"aws:ssm/parameter:Parameter zone-" + z + "-edge-config",
			"aws:ec2/subnet:Subnet private-" + z,
			"aws:ec2/natGateway:NatGateway nat-" + z,
			"aws:autoscaling/lifecycleHook:LifecycleHook zone-" + z + "-drain",
			"aws:cloudwatch/metricAlarm:MetricAlarm zone-" + z + "-unhealthy",
		} {
			if !strings.Contains(lines, "\n"+want+"\n") {
				t.Errorf("preview lacks %q", want)
			}
		}
	}
	// One Redis for the region, which both zones' nodes share.
	if n := strings.Count(lines, "\naws:elasticache/replicationGroup:ReplicationGroup "); n != 1 ||
		!strings.Contains(lines, "\naws:elasticache/replicationGroup:ReplicationGroup redis\n") {
		t.Errorf("preview has %d replication groups, want the region's one, redis", n)
	}
	for _, l := range []string{"srt", "https", "http3"} {
		if !strings.Contains(lines, "\naws:globalaccelerator/endpointGroup:EndpointGroup endpoints-"+l+"\n") {
			t.Errorf("preview lacks the %s endpoint group", l)
		}
	}
	for _, want := range []string{
		"aws:ec2/securityGroup:SecurityGroup nlb-sg",
		"aws:ec2/securityGroupRule:SecurityGroupRule nlb-https-from-cloudfront",
		"aws:ec2/securityGroupRule:SecurityGroupRule nlb-srt-from-accelerator",
		"aws:ec2/securityGroupRule:SecurityGroupRule nlb-to-nodes",
		"aws:ssm/parameter:Parameter relay-ca", "aws:ssm/parameter:Parameter relay-cert", "aws:ssm/parameter:Parameter relay-key",
		"aws:s3/bucketV2:BucketV2 recordings",
		"aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock recordings-public-access",
		"aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2 recordings-encryption",
		"aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2 recordings-lifecycle",
		"aws:s3/bucketPolicy:BucketPolicy recordings-policy",
	} {
		if !strings.Contains(lines, "\n"+want+"\n") {
			t.Errorf("preview lacks %q", want)
		}
	}
	if strings.Contains(lines, "Accelerator accelerator") {
		t.Error("a regional stack creates an accelerator")
	}
	if n := len(res.Resources); n != regionResources {
		t.Errorf("%d resources, want %d:%s", n, regionResources, lines)
	}
	// Unknown until apply, but the ARNs from the global stack are known.
	for _, r := range res.Resources {
		if r.Type == "aws:globalaccelerator/endpointGroup:EndpointGroup" {
			if arn, _ := r.Inputs["listenerArn"].(string); !strings.HasPrefix(arn, "arn:aws:globalaccelerator:") {
				t.Errorf("%s listener %v: the StackReference did not resolve", r.Name, r.Inputs["listenerArn"])
			}
		}
		if r.Type == "aws:autoscaling/group:Group" {
			if min, _ := r.Inputs["minSize"].(float64); int(min) < failover.DefaultRedundancy.MinNodesPerZone {
				t.Errorf("%s minSize %v", r.Name, r.Inputs["minSize"])
			}
		}
		// Security groups are given when the load balancer is created.
		if r.Type == "aws:lb/loadBalancer:LoadBalancer" {
			if sgs, _ := r.Inputs["securityGroups"].([]any); len(sgs) != 1 {
				t.Errorf("%s security groups %v", r.Name, r.Inputs["securityGroups"])
			}
		}
		// The accelerator's group is looked up once the endpoint groups
		// exist, so in a first preview it is not known yet.
		if r.Name == "nlb-srt-from-accelerator" && r.Inputs["sourceSecurityGroupId"] != "<computed>" {
			t.Errorf("SRT rule source %v, want the accelerator's group, computed after the endpoint groups", r.Inputs["sourceSecurityGroupId"])
		}
	}
}

// policyPack is the PACK area's pack, which must have been built.
func policyPack(t *testing.T, root string) string {
	t.Helper()
	pack := filepath.Join(root, "policies", "pack")
	if _, err := os.Stat(filepath.Join(pack, "PulumiPolicy.yaml")); err != nil {
		t.Fatalf("policy pack missing at %s: %v", pack, err)
	}
	if _, err := os.Stat(filepath.Join(root, "bin", "pulumi-analyzer-policy-zonecast")); err != nil {
		t.Fatalf("the policy pack's plugin is not built: run `make policy` (%v)", err)
	}
	return pack
}

func TestShippedRegionPassesThePolicyPack(t *testing.T) {
	t.Parallel()
	r := root(t)
	res, err := run(t, Options{Root: r, Stack: "dev", PolicyPacks: []string{policyPack(t, r)}})
	if err != nil {
		t.Fatalf("%v\n%s", err, res.StdOut)
	}
	for _, v := range res.Violations {
		t.Logf("%s", v)
	}
	if len(res.Resources) != regionResources {
		t.Errorf("%d resources, want %d", len(res.Resources), regionResources)
	}
}

// TestPolicyPackRefusesBrokenRedis edits the program the way a careless
// change would (Redis without automatic failover) and expects the engine to
// refuse the preview with the pack's mandatory violation.
func TestPolicyPackRefusesBrokenRedis(t *testing.T) {
	t.Parallel()
	r := root(t)
	broken := func(ctx *pulumi.Context) error {
		err := ctx.RegisterResourceTransform(func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
			if a.Type != "aws:elasticache/replicationGroup:ReplicationGroup" {
				return nil
			}
			a.Props["automaticFailoverEnabled"] = pulumi.Bool(false)
			return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
		})
		if err != nil {
			return err
		}
		return program.Run(ctx)
	}
	res, err := run(t, Options{Root: r, Stack: "eu-west-1", Program: broken, PolicyPacks: []string{policyPack(t, r)}})
	if err == nil {
		t.Fatal("the preview of a region whose Redis cannot fail over succeeded")
	}
	found := false
	for _, v := range res.Violations {
		found = found || (v.Level == "mandatory" && strings.HasSuffix(v.URN, "::redis"))
	}
	if !found {
		t.Errorf("no mandatory violation naming the region's redis; violations %v, error %v", res.Violations, err)
	}
}

func TestPreviewErrors(t *testing.T) {
	t.Parallel()
	r := root(t)
	if _, err := run(t, Options{Root: r, Stack: "no-such-stack"}); err == nil || !strings.Contains(err.Error(), "no settings file") {
		t.Errorf("unknown stack: %v", err)
	}
	// A setting the program cannot build fails the preview with its message.
	_, err := run(t, Options{Root: r, Stack: "dev", Config: map[string]string{"zonecast:vpcCidr": "10.49.0.0/33"}})
	if err == nil || !strings.Contains(err.Error(), "CIDR") {
		t.Errorf("bad VPC range: %v", err)
	}
	// A below-policy setting is previewed with a warning (the pack judges it).
	res, err := run(t, Options{Root: r, Stack: "dev", Config: map[string]string{"zonecast:instanceType": "c7i.4xlarge"}})
	if err != nil || !strings.Contains(strings.Join(res.Warnings, "\n"), "NVENC") {
		t.Errorf("CPU instance type without the pack: %v; warnings lack NVENC: %q", err, res.Warnings)
	}
}

// TestPolicyPackRefusesBelowPolicySetting is the `make preview` refusal
// path: a stack setting below the redundancy policy passes the program in a
// preview (with a warning) and the pack refuses it.
func TestPolicyPackRefusesBelowPolicySetting(t *testing.T) {
	t.Parallel()
	r := root(t)
	res, err := run(t, Options{Root: r, Stack: "dev", Config: map[string]string{"zonecast:minNodesPerZone": "1"},
		PolicyPacks: []string{policyPack(t, r)}})
	if err == nil {
		t.Fatal("a zone of one node passed the policy pack")
	}
	found := false
	for _, v := range res.Violations {
		found = found || (v.Level == "mandatory" && v.Policy == "asg-min-size" && strings.Contains(v.URN, "zone-a-edges"))
	}
	if !found {
		t.Errorf("no mandatory asg-min-size violation naming zone-a-edges: %v (%v)", res.Violations, err)
	}
}

// TestPreviewReusesWorkDir previews a region twice in one backend: the
// second `up` of the global stack finds it unchanged (the stand-in's Diff),
// and the stacks' secrets still decrypt.
func TestPreviewReusesWorkDir(t *testing.T) {
	t.Parallel()
	r := root(t)
	dir := t.TempDir()
	for i := 0; i < 2; i++ {
		res, err := run(t, Options{Root: r, Stack: "us-east-1", WorkDir: dir})
		if err != nil {
			t.Fatalf("run %d: %v", i+1, err)
		}
		if i == 0 && len(res.Resources) != regionResources {
			t.Errorf("run 1: %d resources", len(res.Resources))
		}
	}
}

// refused runs a preview that the policy pack must refuse with a mandatory
// violation of policy naming resource.
func refused(t *testing.T, opts Options, policy, resource string) {
	t.Helper()
	opts.PolicyPacks = []string{policyPack(t, opts.Root)}
	res, err := run(t, opts)
	if err == nil {
		t.Fatalf("the preview passed; want a mandatory %s violation naming %s", policy, resource)
	}
	if res == nil {
		t.Fatalf("the preview did not run: %v", err)
	}
	for _, v := range res.Violations {
		if v.Level == "mandatory" && v.Policy == policy && strings.HasSuffix(v.URN, "::"+resource) {
			return
		}
	}
	t.Fatalf("no mandatory %s violation naming %s; violations %v, error %v", policy, resource, res.Violations, err)
}

// TestPolicyPackRefusesRegionWithoutReplica: a region stack whose region
// the global stack gives no catalog replica (it is missing from
// zonecast:regions) is refused, through the real engine: the global stack
// is brought up from the altered settings first, as an operator would.
func TestPolicyPackRefusesRegionWithoutReplica(t *testing.T) {
	t.Parallel()
	r := root(t)
	raw, err := os.ReadFile(filepath.Join(r, "stacks", "Pulumi.global.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	shipped := `zonecast:regions: ["eu-west-1", "us-east-1", "ap-southeast-1"]`
	if !strings.Contains(string(raw), shipped) {
		t.Fatalf("stacks/Pulumi.global.yaml no longer lists %s", shipped)
	}
	altered := filepath.Join(t.TempDir(), "Pulumi.global.yaml")
	withoutEU := strings.Replace(string(raw), shipped, `zonecast:regions: ["us-east-1", "ap-southeast-1"]`, 1)
	if err := os.WriteFile(altered, []byte(withoutEU), 0o644); err != nil {
		t.Fatal(err)
	}
	refused(t, Options{Root: r, Stack: "eu-west-1", GlobalStackFile: altered}, "catalog-replica", "edge-role")
}

// TestPolicyPackRefusesOpenRecordingBucket: a recording bucket left open
// to public policies, or without its default encryption, is refused.
func TestPolicyPackRefusesOpenRecordingBucket(t *testing.T) {
	t.Parallel()
	r := root(t)
	tests := []struct {
		name   string
		change func(a *pulumi.ResourceTransformArgs) bool
	}{
		{"public policies allowed", func(a *pulumi.ResourceTransformArgs) bool {
			if a.Type != "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock" {
				return false
			}
			a.Props["blockPublicPolicy"] = pulumi.Bool(false)
			return true
		}},
		{"encryption without a rule", func(a *pulumi.ResourceTransformArgs) bool {
			if a.Type != "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2" {
				return false
			}
			a.Props["rules"] = pulumi.Array{}
			return true
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			broken := func(ctx *pulumi.Context) error {
				err := ctx.RegisterResourceTransform(func(_ context.Context, a *pulumi.ResourceTransformArgs) *pulumi.ResourceTransformResult {
					if !tt.change(a) {
						return nil
					}
					return &pulumi.ResourceTransformResult{Props: a.Props, Opts: a.Opts}
				})
				if err != nil {
					return err
				}
				return program.Run(ctx)
			}
			refused(t, Options{Root: r, Stack: "eu-west-1", Program: broken}, "recording-bucket-private", "recordings")
		})
	}
}
