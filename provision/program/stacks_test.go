package program

import (
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
)

// secrets stand in for what operators set with `pulumi config set --secret`.
var secrets = map[string]string{
	Namespace + ":redisAuthToken": "unit-test-auth-token-0123456789",
	Namespace + ":streams":        "cam1:correct-horse-battery",
}

// stackNames lists the stacks shipped in stacks/.
func stackNames(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../../stacks/Pulumi.*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no stack files in stacks/ (%v)", err)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "Pulumi."), ".yaml"))
	}
	sort.Strings(names)
	return names
}

// stackConfig reads stacks/Pulumi.<stack>.yaml's config.
func stackConfig(t *testing.T, stack string) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("../../stacks/Pulumi." + stack + ".yaml")
	if err != nil {
		t.Fatal(err)
	}
	var file struct {
		Config map[string]any `yaml:"config"`
	}
	if err := yaml.Unmarshal(raw, &file); err != nil {
		t.Fatalf("stacks/Pulumi.%s.yaml: %v", stack, err)
	}
	cfg := map[string]string{}
	for k, v := range file.Config {
		switch v := v.(type) {
		case string:
			cfg[k] = v
		default:
			b, _ := json.Marshal(v)
			cfg[k] = string(b)
		}
	}
	return cfg
}

// setConfig hands cfg (plus the secrets, marked secret) to the mocked run.
func setConfig(t *testing.T, cfg map[string]string, withSecrets bool) {
	t.Helper()
	all := map[string]string{}
	for k, v := range cfg {
		all[k] = v
	}
	var secretKeys []string
	if withSecrets {
		for k, v := range secrets {
			all[k] = v
			secretKeys = append(secretKeys, k)
		}
	}
	b, _ := json.Marshal(all)
	t.Setenv("PULUMI_CONFIG", string(b))
	s, _ := json.Marshal(secretKeys)
	t.Setenv("PULUMI_CONFIG_SECRET_KEYS", string(s))
}

// runStack runs the program for a shipped stack; a regional stack first
// runs the global one and reads its listener ARNs, as the StackReference
// does.
func runStack(t *testing.T, stack string, override map[string]string) (*mockaws.Mocks, error) {
	t.Helper()
	cfg := stackConfig(t, stack)
	for k, v := range override {
		cfg[k] = v
	}
	m := mockaws.New("zonecast", stack, cfg["aws:region"])
	if stack != KindGlobal {
		g, err := runStack(t, KindGlobal, nil)
		if err != nil {
			t.Fatalf("global stack: %v", err)
		}
		m.GlobalOutputs = map[string]any{}
		for out, name := range map[string]string{OutputSRTListener: "listener-srt", OutputHTTPSListener: "listener-https", OutputHTTP3Listener: "listener-http3"} {
			l, err := g.Get("aws:globalaccelerator/listener:Listener", name)
			if err != nil {
				t.Fatal(err)
			}
			m.GlobalOutputs[out] = mockaws.Str(l.Outputs, "arn")
		}
	}
	setConfig(t, cfg, stack != KindGlobal)
	return m, m.Run(Run)
}

func TestShippedStacks(t *testing.T) {
	names := stackNames(t)
	for _, want := range []string{"global", "dev"} {
		if !contains(names, want) {
			t.Fatalf("stacks %v lack %q", names, want)
		}
	}
	regions := 0
	for _, stack := range names {
		t.Run(stack, func(t *testing.T) {
			m, err := runStack(t, stack, nil)
			if err != nil {
				t.Fatal(err)
			}
			counts := m.Counts()
			if stack == KindGlobal {
				if counts["aws:globalaccelerator/accelerator:Accelerator"] != 1 || counts["aws:cloudfront/distribution:Distribution"] != 1 ||
					counts["aws:autoscaling/group:Group"] != 0 {
					t.Errorf("global stack resources %v", counts)
				}
				return
			}
			regions++
			z := failover.DefaultRedundancy.ZonesPerRegion
			if counts["aws:autoscaling/group:Group"] != z || counts["aws:elasticache/replicationGroup:ReplicationGroup"] != z ||
				counts["aws:globalaccelerator/endpointGroup:EndpointGroup"] != 3 || counts["aws:globalaccelerator/accelerator:Accelerator"] != 0 {
				t.Errorf("regional stack resources %v", counts)
			}
			// The endpoint groups attach to the global stack's listeners.
			for _, eg := range m.OfType("aws:globalaccelerator/endpointGroup:EndpointGroup") {
				arn := mockaws.Str(eg.Inputs, "listenerArn")
				found := false
				for _, v := range m.GlobalOutputs {
					found = found || v == arn
				}
				if !found {
					t.Errorf("%s on listener %q, not one of the global stack's", eg.Name, arn)
				}
				if mockaws.Str(eg.Inputs, "endpointGroupRegion") != stackConfig(t, stack)["aws:region"] {
					t.Errorf("%s in region %q", eg.Name, mockaws.Str(eg.Inputs, "endpointGroupRegion"))
				}
			}
			for _, tok := range []string{"aws:index/getAvailabilityZones:getAvailabilityZones", "aws:ssm/getParameter:getParameter"} {
				if !contains(m.Invokes(), tok) {
					t.Errorf("the program did not look up %s", tok)
				}
			}
			for _, p := range m.OfType("aws:ssm/parameter:Parameter") {
				if !mockaws.IsSecret(p.Inputs, "value") {
					t.Errorf("%s: edge settings not secret", p.Name)
				}
			}
			for _, rg := range m.OfType("aws:elasticache/replicationGroup:ReplicationGroup") {
				if !mockaws.IsSecret(rg.Inputs, "authToken") {
					t.Errorf("%s: auth token not secret", rg.Name)
				}
			}
		})
	}
	if regions < 3 {
		t.Errorf("%d regional stacks shipped, want at least three regions and dev", regions)
	}
}

func TestStackConfigErrors(t *testing.T) {
	tests := []struct {
		name     string
		override map[string]string
		secrets  bool
		want     string
	}{
		{"no secrets", nil, false, "redisAuthToken"},
		{"bad kind", map[string]string{"zonecast:kind": "zone"}, true, "kind"},
		{"no region", map[string]string{"aws:region": ""}, true, "aws:region"},
		{"CPU instances", map[string]string{"zonecast:instanceType": "c7i.8xlarge"}, true, "NVENC"},
		{"one node per zone", map[string]string{"zonecast:minNodesPerZone": "1"}, true, "minimum size"},
		{"one AZ", map[string]string{"zonecast:availabilityZones": `["eu-west-1a"]`}, true, "availability zones"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := stackConfig(t, "eu-west-1")
			for k, v := range tt.override {
				cfg[k] = v
			}
			m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
			m.GlobalOutputs = map[string]any{OutputSRTListener: "a", OutputHTTPSListener: "b", OutputHTTP3Listener: "c"}
			setConfig(t, cfg, tt.secrets)
			err := m.Run(Run)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.want)
			}
		})
	}
}

func TestShortAuthTokenRefused(t *testing.T) {
	cfg := stackConfig(t, "eu-west-1")
	m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
	m.GlobalOutputs = map[string]any{OutputSRTListener: "a", OutputHTTPSListener: "b", OutputHTTP3Listener: "c"}
	old := secrets[Namespace+":redisAuthToken"]
	secrets[Namespace+":redisAuthToken"] = "short"
	defer func() { secrets[Namespace+":redisAuthToken"] = old }()
	setConfig(t, cfg, true)
	if err := m.Run(Run); err == nil || !strings.Contains(err.Error(), "16–128") {
		t.Fatalf("got %v, want the token length error", err)
	}
}

func contains(list []string, s string) bool {
	for _, e := range list {
		if e == s {
			return true
		}
	}
	return false
}
