package instancerole

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

const (
	srtGroup   = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/zone-a-srt-1a2b3c4/0123456789abcdef"
	httpsGroup = "arn:aws:elasticloadbalancing:eu-west-1:123456789012:targetgroup/zone-a-https-1a2b3c4/0123456789abcdef"
	endpoints  = "arn:aws:globalaccelerator::123456789012:accelerator/1234/listener/5678/endpoint-group/9abc"
)

func fencingArgs() FencingArgs {
	return FencingArgs{Partition: "aws", Region: "eu-west-1",
		TargetGroups: []string{srtGroup, httpsGroup}, EndpointGroups: []string{endpoints}}
}

func TestFencingDocument(t *testing.T) {
	doc, err := FencingDocument(fencingArgs())
	if err != nil {
		t.Fatal(err)
	}
	on := map[string][]string{}
	for _, s := range doc.Statement {
		if s.Effect != "Allow" || s.Condition != nil {
			t.Errorf("statement %s: effect %s, condition %v", s.Sid, s.Effect, s.Condition)
		}
		for _, a := range s.Action {
			on[a] = append(on[a], s.Resource...)
		}
	}
	tests := []struct {
		action string
		want   []string
	}{
		{DeregisterTargetsAction, []string{srtGroup, httpsGroup}},
		{DescribeEndpointGroupAction, []string{endpoints}},
		{UpdateEndpointGroupAction, []string{endpoints}},
		// No resource-level permissions exist for it.
		{DescribeTargetHealthAction, []string{"*"}},
	}
	for _, tt := range tests {
		if !slices.Equal(on[tt.action], tt.want) {
			t.Errorf("%s on %q, want %q", tt.action, on[tt.action], tt.want)
		}
	}
	if len(on) != len(tests) {
		t.Errorf("actions %v, want exactly fencing's", on)
	}
}

func TestFencingDocumentRefuses(t *testing.T) {
	tests := []struct {
		name   string
		change func(*FencingArgs)
		want   string
	}{
		{"no target groups", func(a *FencingArgs) { a.TargetGroups = nil }, "needs"},
		{"no endpoint group", func(a *FencingArgs) { a.EndpointGroups = nil }, "needs"},
		{"every target group", func(a *FencingArgs) { a.TargetGroups = []string{"*"} }, "not a target group"},
		{"another region's group", func(a *FencingArgs) {
			a.TargetGroups = []string{strings.Replace(srtGroup, "eu-west-1", "us-east-1", 1)}
		}, "not a target group of eu-west-1"},
		{"a load balancer, not a group", func(a *FencingArgs) {
			a.TargetGroups = []string{"arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/net/zone-a/1"}
		}, "not a target group"},
		{"wildcard endpoint group", func(a *FencingArgs) {
			a.EndpointGroups = []string{"arn:aws:globalaccelerator::123456789012:accelerator/*/listener/*/endpoint-group/*"}
		}, "not an accelerator endpoint group"},
		{"a listener, not a group", func(a *FencingArgs) {
			a.EndpointGroups = []string{"arn:aws:globalaccelerator::123456789012:accelerator/1234/listener/5678"}
		}, "not an accelerator endpoint group"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := fencingArgs()
			tt.change(&a)
			if _, err := FencingDocument(a); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

// TestFencingPolicyRendersFromOutputs: the policy is rendered once the
// ARNs it names are known, and attached to the role it is given.
func TestFencingPolicyRendersFromOutputs(t *testing.T) {
	m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := NewFencingPolicy(ctx, "edge-role-fencing", pulumi.String("edge-role"), "aws", "eu-west-1",
			pulumi.ToStringArray([]string{srtGroup, httpsGroup}).ToStringArrayOutput(),
			pulumi.ToStringArray([]string{endpoints}).ToStringArrayOutput())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	rp, err := m.Get("aws:iam/rolePolicy:RolePolicy", "edge-role-fencing")
	if err != nil {
		t.Fatal(err)
	}
	if got := mockaws.Str(rp.Inputs, "role"); got != "edge-role" {
		t.Errorf("attached to %q", got)
	}
	var doc Document
	if err := json.Unmarshal([]byte(mockaws.Str(rp.Inputs, "policy")), &doc); err != nil {
		t.Fatal(err)
	}
	want, _ := FencingDocument(fencingArgs())
	got, _ := json.Marshal(doc)
	w, _ := json.Marshal(want)
	if string(got) != string(w) {
		t.Errorf("policy\n%s\nwant\n%s", got, w)
	}
}
