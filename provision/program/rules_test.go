package program

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"

	"github.com/zonecast/zonecast/policies/pack/rules"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

// ruleResources hands the mocked stack to the policy pack's rules the way the
// engine would: checked inputs plus outputs, parents and dependencies.
func ruleResources(m *mockaws.Mocks, region string) []rules.Resource {
	var out []rules.Resource
	for _, r := range m.Resources() {
		out = append(out, rules.Resource{
			URN: r.URN, Type: r.Type, Name: r.Name, Parent: r.Parent,
			Properties:           r.Outputs,
			Dependencies:         r.Dependencies,
			PropertyDependencies: r.PropertyDependencies,
			ProviderRegion:       region,
		})
	}
	return out
}

func TestShippedStacksPassThePolicyPackRules(t *testing.T) {
	for _, stack := range stackNames(t) {
		t.Run(stack, func(t *testing.T) {
			m, err := runStack(t, stack, nil)
			if err != nil {
				t.Fatal(err)
			}
			region := stackConfig(t, stack)["aws:region"]
			c := rules.DefaultConfig()
			c.DefaultRegion = region
			rs := ruleResources(m, region)
			if len(rs) < 5 {
				t.Fatalf("only %d resources to judge", len(rs))
			}
			for _, v := range rules.Check(rs, c) {
				if v.Level == rules.Mandatory {
					t.Errorf("mandatory violation: %s", v)
				} else {
					t.Logf("advisory: %s", v)
				}
			}
		})
	}
}

// TestRulesCatchBrokenRegion breaks a mocked regional stack the way a bad
// edit would and checks the same rules refuse it: provision's output and the
// pack agree on what a healthy region looks like.
func TestRulesCatchBrokenRegion(t *testing.T) {
	tests := []struct {
		name   string
		break_ func([]rules.Resource) []rules.Resource
		policy string
	}{
		{"zone b's auto-scaling group gone", func(rs []rules.Resource) []rules.Resource {
			return drop(rs, "aws:autoscaling/group:Group", "zone-b-edges")
		}, "region-two-zones"},
		{"Redis without automatic failover", func(rs []rules.Resource) []rules.Resource {
			return set(rs, "aws:elasticache/replicationGroup:ReplicationGroup", "redis", "automaticFailoverEnabled", resource.NewBoolProperty(false))
		}, ""},
		{"endpoint groups gone", func(rs []rules.Resource) []rules.Resource {
			for _, l := range []string{"srt", "https", "http3"} {
				rs = drop(rs, "aws:globalaccelerator/endpointGroup:EndpointGroup", "endpoints-"+l)
			}
			return rs
		}, ""},
		{"endpoint group with one zone", func(rs []rules.Resource) []rules.Resource {
			for i, r := range rs {
				if r.Type == "aws:globalaccelerator/endpointGroup:EndpointGroup" && r.Name == "endpoints-srt" {
					p := r.Properties.Copy()
					p["endpointConfigurations"] = resource.NewArrayProperty(p["endpointConfigurations"].ArrayValue()[:1])
					rs[i].Properties = p
					// The engine would no longer see the dependency either.
					rs[i].PropertyDependencies = map[string][]string{}
					for k, urns := range r.PropertyDependencies {
						for _, u := range urns {
							if !strings.HasSuffix(u, "::zone-b-nlb") {
								rs[i].PropertyDependencies[k] = append(rs[i].PropertyDependencies[k], u)
							}
						}
					}
					rs[i].Dependencies = nil
					for _, u := range r.Dependencies {
						if !strings.HasSuffix(u, "::zone-b-nlb") {
							rs[i].Dependencies = append(rs[i].Dependencies, u)
						}
					}
				}
			}
			return rs
		}, ""},
		{"health check on /", func(rs []rules.Resource) []rules.Resource {
			return setIn(rs, "aws:lb/targetGroup:TargetGroup", "zone-a-srt", "healthCheck", "path", resource.NewStringProperty("/"))
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := runStack(t, "eu-west-1", nil)
			if err != nil {
				t.Fatal(err)
			}
			c := rules.DefaultConfig()
			c.DefaultRegion = "eu-west-1"
			vs := rules.MandatoryOnly(rules.Check(tt.break_(ruleResources(m, "eu-west-1")), c))
			if len(vs) == 0 {
				t.Fatal("the broken stack passes every mandatory rule")
			}
			if tt.policy != "" {
				found := false
				for _, v := range vs {
					found = found || v.Policy == tt.policy
				}
				if !found {
					t.Errorf("violations %v lack policy %s", vs, tt.policy)
				}
			}
			t.Logf("refused: %s", vs[0])
		})
	}
}

func drop(rs []rules.Resource, typ, name string) []rules.Resource {
	var out []rules.Resource
	for _, r := range rs {
		if r.Type == typ && r.Name == name {
			continue
		}
		out = append(out, r)
	}
	return out
}

func set(rs []rules.Resource, typ, name, key string, v resource.PropertyValue) []rules.Resource {
	for i, r := range rs {
		if r.Type == typ && r.Name == name {
			p := r.Properties.Copy()
			p[resource.PropertyKey(key)] = v
			rs[i].Properties = p
		}
	}
	return rs
}

func setIn(rs []rules.Resource, typ, name, obj, key string, v resource.PropertyValue) []rules.Resource {
	for i, r := range rs {
		if r.Type == typ && r.Name == name {
			p := r.Properties.Copy()
			inner := p[resource.PropertyKey(obj)].ObjectValue().Copy()
			inner[resource.PropertyKey(key)] = v
			p[resource.PropertyKey(obj)] = resource.NewObjectProperty(inner)
			rs[i].Properties = p
		}
	}
	return rs
}

// TestPreviewLetsThePackJudge: in a preview (dry run) the program lets
// below-policy settings through with a warning and the pack's rules refuse
// them; an update refuses them itself.
func TestPreviewLetsThePackJudge(t *testing.T) {
	tests := []struct {
		name     string
		override map[string]string
		policy   string
	}{
		{"one node per zone", map[string]string{"zonecast:minNodesPerZone": "1"}, "asg-min-size"},
		{"CPU instances", map[string]string{"zonecast:instanceType": "c7i.8xlarge"}, "gpu-video-encoder"},
		// H100-class GPUs have no NVENC: as a fallback type, too.
		{"H100 fallback", map[string]string{"zonecast:instanceType": "", "zonecast:instanceTypes": `["g6.xlarge","p5.48xlarge"]`}, "gpu-video-encoder"},
		{"one zone", map[string]string{"zonecast:availabilityZones": `["eu-west-1a"]`}, "region-two-zones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := runStack(t, "eu-west-1", tt.override); err == nil {
				t.Fatal("an update accepted the below-policy setting")
			}
			t.Setenv("PULUMI_DRY_RUN", "true")
			m, err := runStack(t, "eu-west-1", tt.override)
			if err != nil {
				t.Fatalf("preview refused before the pack could judge: %v", err)
			}
			c := rules.DefaultConfig()
			c.DefaultRegion = "eu-west-1"
			vs := rules.MandatoryOnly(rules.Check(ruleResources(m, "eu-west-1"), c))
			var names []string
			for _, v := range vs {
				names = append(names, v.Policy)
			}
			if !strings.Contains(strings.Join(names, " "), tt.policy) {
				t.Errorf("mandatory violations %v lack %s", names, tt.policy)
			}
		})
	}
}
