package rules_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/zonecast/zonecast/policies/failover"
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

// violations lists, per rule, a change that breaks it and the resource the
// violation must name.
var violations = []struct {
	name   string
	mutate func(s *Set)
	policy string
	urnOf  string // logical name of the resource named in the violation ("" = stack)
	level  rules.Level
	also   []string // other policies the change rightly breaks too
}{
	{"one zone in the region", func(s *Set) {
		s.Remove(p("b-edges"), p("b-nlb"), p("b-redis"), p("b-launch-template"))
	}, "region-two-zones", p("a-edges"), rules.Mandatory, nil},
	{"three zones in the region", func(s *Set) {
		r := s.Add("aws:autoscaling/group:Group", p("c-edges"), map[string]any{"minSize": 2,
			"availabilityZones": []any{reg + "c"},
			"tags":              []any{map[string]any{"key": rules.TagZone, "value": reg + "/c"}}})
		_ = r
	}, "region-two-zones", p("c-edges"), rules.Mandatory, []string{"asg-drain-hook", "region-endpoint-groups", "zone-redis"}},
	{"both zones in one AZ", func(s *Set) {
		s.Get(p("b-private")).Props["availabilityZone"] = reg + "a"
	}, "region-two-zones", p("b-edges"), rules.Mandatory, nil},
	{"zone group spans two AZs", func(s *Set) {
		s.Get(p("a-edges")).Props["vpcZoneIdentifiers"] = []any{p("a-private-id"), p("b-private-id")}
	}, "region-two-zones", p("a-edges"), rules.Mandatory, nil},
	{"minSize below policy", func(s *Set) {
		s.Get(p("a-edges")).Props["minSize"] = failover.DefaultRedundancy.MinNodesPerZone - 1
	}, "asg-min-size", p("a-edges"), rules.Mandatory, nil},
	{"CPU-only launch template", func(s *Set) {
		s.Get(p("a-launch-template")).Props["instanceType"] = "c6i.xlarge"
	}, "gpu-video-encoder", p("a-launch-template"), rules.Mandatory, nil},
	{"AMD GPU override", func(s *Set) {
		s.Get(p("b-edges")).Props["mixedInstancesPolicy"] = map[string]any{"launchTemplate": map[string]any{
			"overrides": []any{map[string]any{"instanceType": "g4ad.xlarge"}}}}
	}, "gpu-video-encoder", p("b-edges"), rules.Mandatory, nil},
	{"no termination hook", func(s *Set) {
		delete(s.Get(p("a-edges")).Props, "initialLifecycleHooks")
	}, "asg-drain-hook", p("a-edges"), rules.Mandatory, nil},
	{"hook shorter than the drain", func(s *Set) {
		s.Get(p("a-edges")).Props["initialLifecycleHooks"].([]any)[0].(map[string]any)["heartbeatTimeout"] =
			int(failover.DefaultTimings.DrainDeadline.Seconds()) - 1
	}, "asg-drain-hook", p("a-edges"), rules.Mandatory, nil},
	{"separate hook too short", func(s *Set) {
		delete(s.Get(p("a-edges")).Props, "initialLifecycleHooks")
		s.Add("aws:autoscaling/lifecycleHook:LifecycleHook", p("a-drain"), map[string]any{
			"autoscalingGroupName": p("a-edges"), "lifecycleTransition": "autoscaling:EC2_INSTANCE_TERMINATING",
			"heartbeatTimeout": 30})
	}, "asg-drain-hook", p("a-drain"), rules.Mandatory, nil},
	{"redis automatic failover off", func(s *Set) {
		s.Get(p("a-redis")).Props["automaticFailoverEnabled"] = false
	}, "redis-replication-group", p("a-redis"), rules.Mandatory, nil},
	{"redis multi-AZ unset", func(s *Set) {
		delete(s.Get(p("a-redis")).Props, "multiAzEnabled")
	}, "redis-replication-group", p("a-redis"), rules.Mandatory, nil},
	{"redis not encrypted in transit", func(s *Set) {
		s.Get(p("b-redis")).Props["transitEncryptionEnabled"] = false
	}, "redis-replication-group", p("b-redis"), rules.Mandatory, nil},
	{"redis not encrypted at rest", func(s *Set) {
		s.Get(p("b-redis")).Props["atRestEncryptionEnabled"] = false
	}, "redis-replication-group", p("b-redis"), rules.Mandatory, nil},
	{"redis auth token in plain text", func(s *Set) {
		s.Get(p("a-redis")).Props["authToken"] = "0123456789abcdef0123"
	}, "redis-replication-group", p("a-redis"), rules.Mandatory, nil},
	{"redis without auth token", func(s *Set) {
		delete(s.Get(p("a-redis")).Props, "authToken")
	}, "redis-replication-group", p("a-redis"), rules.Mandatory, nil},
	{"one Redis node", func(s *Set) {
		s.Get(p("a-redis")).Props["numCacheClusters"] = 1
	}, "redis-replication-group", p("a-redis"), rules.Mandatory, nil},
	{"redis nodes all in one AZ", func(s *Set) {
		s.Get(p("b-redis")).Props["preferredCacheClusterAzs"] = []any{reg + "b", reg + "b"}
	}, "redis-replication-group", p("b-redis"), rules.Mandatory, nil},
	{"standalone cache cluster", func(s *Set) {
		s.Add("aws:elasticache/cluster:Cluster", p("lone-redis"), map[string]any{"engine": "redis", "numCacheNodes": 1})
	}, "redis-replication-group", p("lone-redis"), rules.Mandatory, nil},
	{"zone without Redis", func(s *Set) {
		s.Remove(p("b-redis"))
	}, "zone-redis", p("b-edges"), rules.Mandatory, nil},
	{"accelerator disabled", func(s *Set) {
		s.Get("accelerator").Props["enabled"] = false
	}, "accelerator-ingest", "accelerator", rules.Mandatory, nil},
	{"accelerator with one address", func(s *Set) {
		s.Get("accelerator").Props["ipSets"] = []any{map[string]any{"ipFamily": "IPv4", "ipAddresses": []any{"198.51.100.1"}}}
	}, "accelerator-ingest", "accelerator", rules.Mandatory, nil},
	{"accelerator IPv6 only", func(s *Set) {
		s.Get("accelerator").Props["ipAddressType"] = "IPV6"
	}, "accelerator-ingest", "accelerator", rules.Mandatory, nil},
	{"no SRT listener (TCP only)", func(s *Set) {
		s.Get("srt").Props["protocol"] = "TCP"
	}, "accelerator-ingest", "accelerator", rules.Mandatory, nil},
	{"SRT listener on the wrong port", func(s *Set) {
		s.Get("srt").Props["portRanges"] = []any{map[string]any{"fromPort": 443, "toPort": 443}}
	}, "accelerator-ingest", "accelerator", rules.Mandatory, nil},
	{"SRT listener without client affinity", func(s *Set) {
		delete(s.Get("srt").Props, "clientAffinity")
	}, "accelerator-ingest", "srt", rules.Mandatory, nil},
	{"listener without an endpoint group for the region", func(s *Set) {
		s.Add("aws:globalaccelerator/listener:Listener", "https", map[string]any{
			"arn": "arn:aws:globalaccelerator::listener/https", "acceleratorArn": "arn:aws:globalaccelerator::accelerator/1",
			"protocol": "TCP", "portRanges": []any{map[string]any{"fromPort": 443, "toPort": 443}}})
	}, "region-endpoint-groups", "https", rules.Mandatory, nil},
	{"missing endpoint group", func(s *Set) {
		s.Remove(p("srt"))
	}, "region-endpoint-groups", p("a-nlb"), rules.Mandatory, nil},
	{"endpoint group misses zone b", func(s *Set) {
		eg := s.Get(p("srt"))
		eg.Props["endpointConfigurations"] = eg.Props["endpointConfigurations"].([]any)[:1]
	}, "region-endpoint-groups", p("srt"), rules.Mandatory, nil},
	{"endpoint group in another region", func(s *Set) {
		s.Get(p("srt")).Props["endpointGroupRegion"] = "us-west-2"
	}, "region-endpoint-groups", p("b-nlb"), rules.Mandatory, nil},
	{"zone without load balancer", func(s *Set) {
		s.Remove(p("b-nlb"))
	}, "region-endpoint-groups", p("b-edges"), rules.Mandatory, nil},
	{"slow health check", func(s *Set) {
		s.Get(p("a-srt")).Props["healthCheck"].(map[string]any)["interval"] = 30
	}, "lb-health-check-speed", p("a-srt"), rules.Mandatory, nil},
	{"default health check (30 s × 3, TCP)", func(s *Set) {
		delete(s.Get(p("a-srt")).Props, "healthCheck")
	}, "lb-health-check-speed", p("a-srt"), rules.Mandatory, []string{"lb-health-check-readyz"}},
	{"health check disabled", func(s *Set) {
		s.Get(p("a-srt")).Props["healthCheck"].(map[string]any)["enabled"] = false
	}, "lb-health-check-speed", p("a-srt"), rules.Mandatory, nil},
	{"TCP health check", func(s *Set) {
		s.Get(p("b-https")).Props["healthCheck"].(map[string]any)["protocol"] = "TCP"
	}, "lb-health-check-readyz", p("b-https"), rules.Mandatory, nil},
	{"health check on /", func(s *Set) {
		s.Get(p("b-https")).Props["healthCheck"].(map[string]any)["path"] = "/"
	}, "lb-health-check-readyz", p("b-https"), rules.Mandatory, nil},
	{"CDN without origin group", func(s *Set) {
		delete(s.Get("cdn").Props, "originGroups")
	}, "cdn-origin-failover", "cdn", rules.Mandatory, nil},
	{"CDN origin group without failover criteria", func(s *Set) {
		s.Get("cdn").Props["originGroups"].([]any)[0].(map[string]any)["failoverCriteria"] = map[string]any{"statusCodes": []any{}}
	}, "cdn-origin-failover", "cdn", rules.Mandatory, nil},
	{"CDN default behavior bypasses the group", func(s *Set) {
		s.Get("cdn").Props["defaultCacheBehavior"] = map[string]any{"targetOriginId": "origin-0"}
	}, "cdn-origin-failover", "cdn", rules.Mandatory, nil},
	{"SSH open to the world", func(s *Set) {
		sg := s.Get(p("edge-sg"))
		sg.Props["ingress"] = append(sg.Props["ingress"].([]any), map[string]any{
			"protocol": "tcp", "fromPort": 22, "toPort": 22, "cidrBlocks": []any{"0.0.0.0/0"}})
	}, "security-group-world-ingress", p("edge-sg"), rules.Mandatory, nil},
	{"all traffic open over IPv6", func(s *Set) {
		sg := s.Get(p("edge-sg"))
		sg.Props["ingress"] = append(sg.Props["ingress"].([]any), map[string]any{
			"protocol": "-1", "fromPort": 0, "toPort": 0, "ipv6CidrBlocks": []any{"::/0"}})
	}, "security-group-world-ingress", p("edge-sg"), rules.Mandatory, nil},
	{"Redis port open by a rule resource", func(s *Set) {
		s.Add("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule", p("redis-world"), map[string]any{
			"ipProtocol": "tcp", "fromPort": 6379, "toPort": 6379, "cidrIpv4": "0.0.0.0/0"})
	}, "security-group-world-ingress", p("redis-world"), rules.Mandatory, nil},
	{"port range around SRT", func(s *Set) {
		s.Add("aws:ec2/securityGroupRule:SecurityGroupRule", p("range"), map[string]any{
			"type": "ingress", "protocol": "udp", "fromPort": 9000, "toPort": 9100, "cidrBlocks": []any{"0.0.0.0/0"}})
	}, "security-group-world-ingress", p("range"), rules.Mandatory, nil},
	{"wildcard action", func(s *Set) {
		s.Get(p("edge-role-policy")).Props["policy"] = PolicyDoc([]string{"s3:*"})
	}, "iam-no-wildcard-actions", p("edge-role-policy"), rules.Mandatory, nil},
	{"star action as a string", func(s *Set) {
		s.Get(p("edge-role-policy")).Props["policy"] = `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`
	}, "iam-no-wildcard-actions", p("edge-role-policy"), rules.Mandatory, nil},
	{"administrator attachment", func(s *Set) {
		s.Add("aws:iam/rolePolicyAttachment:RolePolicyAttachment", p("admin"), map[string]any{
			"policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"})
	}, "iam-no-wildcard-actions", p("admin"), rules.Mandatory, nil},
	{"cost: family outside the budget", func(s *Set) {
		s.Get(p("a-launch-template")).Props["instanceType"] = "g6e.xlarge"
	}, "cost-budget", p("a-edges"), rules.Advisory, nil},
	{"cost: max size over the plan", func(s *Set) {
		s.Get(p("a-edges")).Props["maxSize"] = failover.DefaultASG.Max + 1
	}, "cost-budget", p("a-edges"), rules.Advisory, nil},
	{"cost: hourly budget exceeded", func(s *Set) {
		for _, r := range s.List {
			if r.Type == "aws:ec2/launchTemplate:LaunchTemplate" {
				r.Props["instanceType"] = "g5.8xlarge"
			}
		}
	}, "cost-budget", "", rules.Advisory, nil},
}

func TestEachRuleRefusesItsViolation(t *testing.T) {
	for _, tc := range violations {
		t.Run(tc.name, func(t *testing.T) {
			s := Shipped()
			tc.mutate(s)
			vs := rules.Check(s.Resources(), rules.DefaultConfig())
			want := ""
			if tc.urnOf != "" {
				r := s.Get(tc.urnOf)
				if r == nil {
					t.Fatalf("fixture has no %s", tc.urnOf)
				}
				want = r.URN()
			}
			found := false
			for _, v := range vs {
				if v.Policy != tc.policy {
					continue
				}
				if v.URN == want {
					found = true
					if v.Level != tc.level {
						t.Errorf("level %s, want %s", v.Level, tc.level)
					}
					if !strings.Contains(v.Message, "Fix:") {
						t.Errorf("message says no fix: %q", v.Message)
					}
				}
			}
			if !found {
				t.Fatalf("no %s violation naming %q; got %v", tc.policy, want, vs)
			}
			// The change breaks only the rule under test (cost is advisory
			// and may come along with a type change).
			for _, v := range vs {
				if v.Policy != tc.policy && v.Level == rules.Mandatory && !slices.Contains(tc.also, v.Policy) {
					t.Errorf("collateral violation: %s", v)
				}
			}
		})
	}
}

// Unknown values (a preview before the resources they come from exist) are
// never flagged.
func TestUnknownsAreNotFlagged(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *Set)
	}{
		{"ASG zone tag unknown", func(s *Set) {
			s.Get(p("b-edges")).Props["tags"] = Unknown()
			s.Remove(p("b-nlb"), p("b-redis"))
		}},
		{"ASG minSize unknown", func(s *Set) { s.Get(p("a-edges")).Props["minSize"] = Unknown() }},
		{"instance type unknown", func(s *Set) { s.Get(p("a-launch-template")).Props["instanceType"] = Unknown() }},
		{"hook timeout unknown", func(s *Set) {
			s.Get(p("a-edges")).Props["initialLifecycleHooks"].([]any)[0].(map[string]any)["heartbeatTimeout"] = Unknown()
		}},
		{"hooks unknown", func(s *Set) { s.Get(p("a-edges")).Props["initialLifecycleHooks"] = Unknown() }},
		{"redis flags unknown", func(s *Set) {
			for _, k := range []string{"automaticFailoverEnabled", "multiAzEnabled", "numCacheClusters"} {
				s.Get(p("a-redis")).Props[k] = Unknown()
			}
		}},
		{"auth token unknown", func(s *Set) { s.Get(p("a-redis")).Props["authToken"] = Unknown() }},
		{"accelerator addresses unknown", func(s *Set) { s.Get("accelerator").Props["ipSets"] = Unknown() }},
		{"listener protocol unknown", func(s *Set) { s.Get("srt").Props["protocol"] = Unknown() }},
		{"endpoint region unknown", func(s *Set) { s.Get(p("srt")).Props["endpointGroupRegion"] = Unknown() }},
		{"endpoint ids unknown, no dependencies", func(s *Set) {
			for _, e := range s.Get(p("srt")).Props["endpointConfigurations"].([]any) {
				e.(map[string]any)["endpointId"] = Unknown()
			}
		}},
		{"health check unknown", func(s *Set) { s.Get(p("a-srt")).Props["healthCheck"] = Unknown() }},
		{"health check interval unknown", func(s *Set) {
			s.Get(p("a-srt")).Props["healthCheck"].(map[string]any)["interval"] = Unknown()
		}},
		{"origin groups unknown", func(s *Set) { s.Get("cdn").Props["originGroups"] = Unknown() }},
		{"ingress port unknown", func(s *Set) {
			s.Add("aws:ec2/securityGroupRule:SecurityGroupRule", p("rule"), map[string]any{
				"type": "ingress", "protocol": "tcp", "fromPort": Unknown(), "toPort": Unknown(), "cidrBlocks": []any{"0.0.0.0/0"}})
		}},
		{"policy document unknown", func(s *Set) { s.Get(p("edge-role-policy")).Props["policy"] = Unknown() }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := Shipped()
			tc.mutate(s)
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
			s.Get(p("a-redis")).Props["authToken"] = tc.token
			vs := rules.Check(s.Resources(), rules.DefaultConfig())
			if got := len(vs) > 0; got != tc.flag {
				t.Fatalf("flagged %v, want %v: %v", got, tc.flag, vs)
			}
		})
	}
	// Secret-wrapped tags and flags are read through.
	s := Shipped()
	s.Get(p("a-edges")).Props["tags"] = Secret(s.Get(p("a-edges")).Props["tags"])
	s.Get(p("a-redis")).Props["multiAzEnabled"] = Secret(false)
	vs := rules.Check(s.Resources(), rules.DefaultConfig())
	if len(vs) != 1 || vs[0].Policy != "redis-replication-group" || !strings.Contains(vs[0].Message, "multiAzEnabled") {
		t.Fatalf("want only the multiAzEnabled violation, got %v", vs)
	}
}

func TestConfiguredLevels(t *testing.T) {
	s := Shipped()
	s.Get(p("a-redis")).Props["automaticFailoverEnabled"] = false
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
