package rules_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	. "github.com/zonecast/zonecast/policies/pack/internal/fixture"
	"github.com/zonecast/zonecast/policies/pack/rules"
)

const reg = "eu-west-1"

func p(name string) string { return reg + "-" + name }

func TestShippedShapePasses(t *testing.T) {
	vs := rules.Check(Shipped().Resources(), rules.DefaultConfig())
	for _, v := range vs {
		t.Errorf("unexpected violation: %s", v)
	}
	// And a stack of three regions, as the issue ships.
	s := Shipped()
	s.Region("us-east-1")
	s.Region("ap-southeast-1")
	if vs := rules.Check(s.Resources(), rules.DefaultConfig()); len(vs) != 0 {
		t.Errorf("three regions: %v", vs)
	}
}

func TestEachRuleRefusesItsViolation(t *testing.T) {
	for _, tc := range Violations {
		t.Run(tc.Name, func(t *testing.T) {
			s := Shipped()
			tc.Mutate(s)
			vs := rules.Check(s.Resources(), rules.DefaultConfig())
			want := tc.URN(s)
			found := false
			for _, v := range vs {
				if v.Policy != tc.Policy {
					continue
				}
				if v.URN == want {
					found = true
					if v.Level != tc.Level {
						t.Errorf("level %s, want %s", v.Level, tc.Level)
					}
					if !strings.Contains(v.Message, "Fix:") {
						t.Errorf("message says no fix: %q", v.Message)
					}
				}
			}
			if !found {
				t.Fatalf("no %s violation naming %q; got %v", tc.Policy, want, vs)
			}
			// The change breaks only the rule under test (cost is advisory
			// and may come along with a type change).
			for _, v := range vs {
				if v.Policy != tc.Policy && v.Level == rules.Mandatory && !slices.Contains(tc.Also, v.Policy) {
					t.Errorf("collateral violation: %s", v)
				}
			}
		})
	}
}

// Unknown values (a preview before the resources they come from exist) are
// never flagged.
func TestUnknownsAreNotFlagged(t *testing.T) {
	for _, tc := range Unknowns {
		t.Run(tc.Name, func(t *testing.T) {
			s := Shipped()
			tc.Mutate(s)
			for _, v := range rules.Check(s.Resources(), rules.DefaultConfig()) {
				t.Errorf("unknown value flagged: %s", v)
			}
		})
	}
}

// During a preview IDs are unknown and links come from the engine's
// property dependencies: the rules must follow them, both to pass a good
// stack and to refuse a bad one.
func TestPreviewLinksThroughPropertyDependencies(t *testing.T) {
	preview := func(s *Set) {
		for _, z := range []string{"a", "b"} {
			asg := s.Get(p(z + "-edges"))
			asg.Props["vpcZoneIdentifiers"] = []any{Unknown()}
			asg.Props["launchTemplate"] = map[string]any{"id": Unknown()}
			asg.PropDeps = map[string][]string{
				"vpcZoneIdentifiers": {s.Get(p(z + "-private")).URN()},
				"launchTemplate":     {s.Get(p(z + "-launch-template")).URN()},
			}
			nlb := s.Get(p(z + "-nlb"))
			nlb.Props["subnets"] = []any{Unknown()}
			nlb.PropDeps = map[string][]string{"subnets": {s.Get(p(z + "-public")).URN()}}
			delete(nlb.Props, "arn")
			delete(nlb.Props, "id")
		}
		eg := s.Get(p("srt"))
		for _, e := range eg.Props["endpointConfigurations"].([]any) {
			e.(map[string]any)["endpointId"] = Unknown()
		}
	}
	s := Shipped()
	preview(s)
	eg := s.Get(p("srt"))
	eg.PropDeps = map[string][]string{"endpointConfigurations": {s.Get(p("a-nlb")).URN(), s.Get(p("b-nlb")).URN()}}
	if vs := rules.Check(s.Resources(), rules.DefaultConfig()); len(vs) != 0 {
		t.Fatalf("preview of the shipped shape flagged: %v", vs)
	}
	eg.PropDeps = map[string][]string{"endpointConfigurations": {s.Get(p("a-nlb")).URN()}}
	vs := rules.MandatoryOnly(rules.Check(s.Resources(), rules.DefaultConfig()))
	if len(vs) != 1 || vs[0].Policy != "region-endpoint-groups" || vs[0].URN != eg.URN() ||
		!strings.Contains(vs[0].Message, "zone(s) b") {
		t.Fatalf("want one endpoint-group violation for zone b, got %v", vs)
	}
	// Both zones' subnets in one AZ is seen through the dependencies too.
	s = Shipped()
	preview(s)
	s.Get(p("srt")).PropDeps = map[string][]string{"endpointConfigurations": {s.Get(p("a-nlb")).URN(), s.Get(p("b-nlb")).URN()}}
	s.Get(p("b-private")).Props["availabilityZone"] = reg + "a"
	vs = rules.MandatoryOnly(rules.Check(s.Resources(), rules.DefaultConfig()))
	if len(vs) != 1 || vs[0].Policy != "region-two-zones" {
		t.Fatalf("want the shared-AZ violation, got %v", vs)
	}
}

func TestSecrets(t *testing.T) {
	cases := []struct {
		name  string
		token any
		flag  bool
	}{
		{"secret", Secret("0123456789abcdef0123"), false},
		{"secret and unknown", resource.MakeSecret(Unknown()), false},
		{"output marked secret", resource.NewProperty(resource.Output{Element: resource.NewProperty("x"), Known: true, Secret: true}), false},
		{"plain", "0123456789abcdef0123", true},
		{"plain output", resource.NewProperty(resource.Output{Element: resource.NewProperty("x"), Known: true}), true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Shipped()
			s.Get(p("redis")).Props["authToken"] = tc.token
			vs := rules.Check(s.Resources(), rules.DefaultConfig())
			if got := len(vs) > 0; got != tc.flag {
				t.Fatalf("flagged %v, want %v: %v", got, tc.flag, vs)
			}
		})
	}
	// Secret-wrapped tags and flags are read through.
	s := Shipped()
	s.Get(p("a-edges")).Props["tags"] = Secret(s.Get(p("a-edges")).Props["tags"])
	s.Get(p("redis")).Props["multiAzEnabled"] = Secret(false)
	vs := rules.Check(s.Resources(), rules.DefaultConfig())
	if len(vs) != 1 || vs[0].Policy != "redis-replication-group" || !strings.Contains(vs[0].Message, "multiAzEnabled") {
		t.Fatalf("want only the multiAzEnabled violation, got %v", vs)
	}
}

func TestConfiguredLevels(t *testing.T) {
	s := Shipped()
	s.Get(p("redis")).Props["automaticFailoverEnabled"] = false
	c := rules.DefaultConfig()
	c.Levels = map[string]rules.Level{"redis-replication-group": rules.Advisory}
	vs := rules.Check(s.Resources(), c)
	if len(vs) != 1 || vs[0].Level != rules.Advisory {
		t.Fatalf("want one advisory violation, got %v", vs)
	}
	c.Levels["redis-replication-group"] = rules.Disabled
	if vs := rules.Check(s.Resources(), c); len(vs) != 0 {
		t.Fatalf("disabled policy still reported: %v", vs)
	}
	// A budget in config.
	c = rules.DefaultConfig()
	c.Cost.MaxHourlyUSD = 1
	vs = rules.Check(Shipped().Resources(), c)
	if len(vs) != 1 || vs[0].Policy != "cost-budget" || vs[0].Level != rules.Advisory {
		t.Fatalf("want the budget advisory, got %v", vs)
	}
}

func TestEveryPolicyIsDescribed(t *testing.T) {
	seen := map[string]bool{}
	for _, pol := range rules.Policies() {
		if pol.Name == "" || pol.Description == "" || pol.Remediation == "" || seen[pol.Name] {
			t.Errorf("policy %+v lacks a name, description or remediation, or is duplicated", pol.Name)
		}
		seen[pol.Name] = true
		if (pol.Kind == rules.ResourceKind) != (pol.Resource != nil) || (pol.Kind == rules.StackKind) != (pol.Stack != nil) {
			t.Errorf("policy %s: kind and function disagree", pol.Name)
		}
	}
}

// docs/policy-pack.md documents every policy.
func TestDocsNameEveryPolicy(t *testing.T) {
	doc, err := os.ReadFile("../../../docs/policy-pack.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, pol := range rules.Policies() {
		if !strings.Contains(string(doc), "`"+pol.Name+"`") {
			t.Errorf("docs/policy-pack.md does not describe %s", pol.Name)
		}
	}
}
