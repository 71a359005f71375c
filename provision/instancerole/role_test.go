package instancerole

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

func testArgs() Args {
	return Args{
		Partition: "aws", Region: "eu-west-1", AccountID: "123456789012",
		MetricNamespace:   "Zonecast/Edge",
		ConfigPathPrefix:  "/zonecast/eu-west-1/",
		AutoScalingGroups: []string{"zonecast-eu-west-1-zone-a", "zonecast-eu-west-1-zone-b"},
	}
}

func TestPolicyIsLeastPrivilege(t *testing.T) {
	doc, err := PolicyDocument(testArgs())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"cloudwatch:PutMetricData":            "*",
		"ssm:GetParameter":                    "arn:aws:ssm:eu-west-1:123456789012:parameter/zonecast/eu-west-1/*",
		"autoscaling:CompleteLifecycleAction": "arn:aws:autoscaling:eu-west-1:123456789012:autoScalingGroup:*:autoScalingGroupName/zonecast-eu-west-1-zone-a",
	}
	seen := map[string]bool{}
	for _, st := range doc.Statement {
		if st.Effect != "Allow" {
			t.Errorf("%s: effect %s", st.Sid, st.Effect)
		}
		for _, a := range st.Action {
			if strings.Contains(a, "*") {
				t.Errorf("%s: wildcard action %q", st.Sid, a)
			}
			res, ok := want[a]
			if !ok {
				t.Errorf("%s: unexpected action %q", st.Sid, a)
				continue
			}
			seen[a] = true
			if st.Resource[0] != res {
				t.Errorf("%s: resource %q, want %q", a, st.Resource[0], res)
			}
		}
		if st.Resource[0] == "*" && st.Condition == nil {
			t.Errorf("%s: unscoped resource without a condition", st.Sid)
		}
	}
	if len(seen) != len(want) {
		t.Errorf("actions %v, want %v", seen, want)
	}
}

func TestRoleResources(t *testing.T) {
	m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
	err := m.Run(func(ctx *pulumi.Context) error {
		_, err := New(ctx, "edge-role", testArgs())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	role, err := m.Get("aws:iam/role:Role", "edge-role")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(mockaws.Str(role.Inputs, "assumeRolePolicy"), "ec2.amazonaws.com") {
		t.Error("role not assumable by EC2")
	}
	pol, err := m.Get("aws:iam/rolePolicy:RolePolicy", "edge-role-policy")
	if err != nil {
		t.Fatal(err)
	}
	var doc Document
	if err := json.Unmarshal([]byte(mockaws.Str(pol.Inputs, "policy")), &doc); err != nil || len(doc.Statement) != 3 {
		t.Fatalf("policy %q: %v", mockaws.Str(pol.Inputs, "policy"), err)
	}
	if mockaws.Str(pol.Inputs, "role") != mockaws.Str(role.Outputs, "name") {
		t.Error("policy not on the role")
	}
	if _, err := m.Get("aws:iam/instanceProfile:InstanceProfile", "edge-role-profile"); err != nil {
		t.Fatal(err)
	}
}

func TestRoleRefusesBadArgs(t *testing.T) {
	for name, change := range map[string]func(*Args){
		"no account":           func(a *Args) { a.AccountID = "" },
		"relative config path": func(a *Args) { a.ConfigPathPrefix = "zonecast/" },
		"no groups":            func(a *Args) { a.AutoScalingGroups = nil },
	} {
		t.Run(name, func(t *testing.T) {
			a := testArgs()
			change(&a)
			if _, err := PolicyDocument(a); err == nil {
				t.Fatal("accepted")
			}
		})
	}
}
