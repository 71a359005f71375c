package fakeaws

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
)

func TestPluginInfoAndConfigure(t *testing.T) {
	p := New()
	info, err := p.GetPluginInfo(context.Background())
	if err != nil || info.Version.String() != Version {
		t.Fatalf("version %v (%v), want %s", info.Version, err, Version)
	}
	if _, err := p.Configure(context.Background(), plugin.ConfigureRequest{
		Inputs: resource.PropertyMap{"region": resource.NewStringProperty("ap-southeast-1")},
	}); err != nil || p.Region() != "ap-southeast-1" {
		t.Fatalf("region %q (%v)", p.Region(), err)
	}
}

func TestInvokes(t *testing.T) {
	tests := []struct {
		tok     string
		args    map[string]any
		key     string
		want    string
		wantErr string
	}{
		{"aws:index/getAvailabilityZones:getAvailabilityZones", nil, "names", "[eu-west-1a eu-west-1b eu-west-1c]", ""},
		{"aws:ssm/getParameter:getParameter", map[string]any{"name": "/aws/service/deeplearning/ami/x/ami-id"}, "value", FakeAMI, ""},
		{"aws:ssm/getParameter:getParameter", map[string]any{"name": "/zonecast/secret"}, "", "", "not found"},
		{"aws:index/getCallerIdentity:getCallerIdentity", nil, "accountId", AccountID, ""},
		{"aws:index/getRegion:getRegion", nil, "name", "eu-west-1", ""},
		{"aws:ec2/getManagedPrefixList:getManagedPrefixList", map[string]any{"name": CloudFrontPrefixListName}, "id", FakeCloudFrontPrefixList, ""},
		{"aws:ec2/getManagedPrefixList:getManagedPrefixList", map[string]any{"name": "com.amazonaws.eu-west-1.s3"}, "", "", "not found"},
		{"aws:ec2/getSecurityGroup:getSecurityGroup", map[string]any{"vpcId": "vpc-1", "filters": []any{
			map[string]any{"name": "group-name", "values": []any{AcceleratorGroupName}}}}, "id", FakeAcceleratorGroup, ""},
		{"aws:ec2/getSecurityGroup:getSecurityGroup", map[string]any{"vpcId": "vpc-1", "filters": []any{
			map[string]any{"name": "group-name", "values": []any{"default"}}}}, "", "", "not found"},
		{"aws:s3/getBucket:getBucket", nil, "", "", "not stood in for"},
	}
	for _, tt := range tests {
		t.Run(tt.tok, func(t *testing.T) {
			out, err := InvokeData(tt.tok, resource.NewPropertyMapFromMap(tt.args), "eu-west-1")
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(out[tt.key]); got != tt.want {
				t.Errorf("%s = %s, want %s", tt.key, got, tt.want)
			}
		})
	}
}

func TestCheckAutonamesLikeTheRealProvider(t *testing.T) {
	urn := resource.NewURN("s", "p", "", "aws:lb/targetGroup:TargetGroup", "zone-a-a-very-long-target-group-name")
	out := Checked("aws:lb/targetGroup:TargetGroup", "zone-a-a-very-long-target-group-name", string(urn), resource.PropertyMap{})
	name := out["name"].StringValue()
	if len(name) > 32 || !strings.HasSuffix(name, suffix(string(urn), 7)) {
		t.Errorf("name %q: want at most 32 characters ending in the URN's hash", name)
	}
	given := Checked("aws:iam/role:Role", "r", "urn", resource.PropertyMap{"name": resource.NewStringProperty("mine")})
	if given["name"].StringValue() != "mine" {
		t.Error("a given name was replaced")
	}
}

func TestCreatePreviewAndUpdate(t *testing.T) {
	p := New()
	typ := tokens.Type("aws:lb/loadBalancer:LoadBalancer")
	urn := resource.NewURN("s", "p", "", typ, "zone-a-nlb")
	in := resource.PropertyMap{"loadBalancerType": resource.NewStringProperty("network")}

	pre, err := p.Create(context.Background(), plugin.CreateRequest{URN: urn, Name: "zone-a-nlb", Type: typ, Properties: in, Preview: true})
	if err != nil {
		t.Fatal(err)
	}
	if pre.ID != "" || !pre.Properties["arn"].IsComputed() || !pre.Properties["dnsName"].IsComputed() ||
		pre.Properties["loadBalancerType"].StringValue() != "network" {
		t.Errorf("preview create: id %q props %v", pre.ID, pre.Properties)
	}
	up, err := p.Create(context.Background(), plugin.CreateRequest{URN: urn, Name: "zone-a-nlb", Type: typ, Properties: in})
	if err != nil {
		t.Fatal(err)
	}
	if up.ID == "" || !strings.HasPrefix(up.Properties["arn"].StringValue(), "arn:aws:elasticloadbalancing:") ||
		!strings.HasSuffix(up.Properties["dnsName"].StringValue(), ".amazonaws.com") {
		t.Errorf("create: id %q props %v", up.ID, up.Properties)
	}
	same, err := p.Diff(context.Background(), plugin.DiffRequest{OldInputs: in, NewInputs: in.Copy()})
	if err != nil || same.Changes != plugin.DiffNone {
		t.Errorf("diff of equal inputs: %v %v", same.Changes, err)
	}
	changed, _ := p.Diff(context.Background(), plugin.DiffRequest{OldInputs: in,
		NewInputs: resource.PropertyMap{"loadBalancerType": resource.NewStringProperty("application")}})
	if changed.Changes != plugin.DiffSome {
		t.Errorf("diff of changed inputs: %v", changed.Changes)
	}
}
