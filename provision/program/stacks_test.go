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
	"github.com/zonecast/zonecast/policies/pack/rules"
	"github.com/zonecast/zonecast/provision/global"
	"github.com/zonecast/zonecast/provision/internal/fakeaws"
	"github.com/zonecast/zonecast/provision/internal/mockaws"
	"github.com/zonecast/zonecast/provision/relaytls"
)

// relay is throwaway relay TLS material, as scripts/certs.sh would make.
var relay = func() relaytls.Material {
	m, err := relaytls.Generate()
	if err != nil {
		panic(err)
	}
	return m
}()

// secrets stand in for what operators set with `pulumi config set --secret`
// on a regional stack.
var secrets = map[string]string{
	Namespace + ":redisAuthToken": "unit-test-auth-token-0123456789",
	Namespace + ":streams":        "cam1:correct-horse-battery",
	Namespace + ":relayCa":        relay.CA,
	Namespace + ":relayCert":      relay.Cert,
	Namespace + ":relayKey":       relay.Key,
}

// deployment stands in for the plain settings that belong to one
// deployment, not to the repository: the release a region runs (`make
// release` prints them) and the CDN's origin names of a global stack.
var deployment = map[string]map[string]string{
	KindRegion: {
		Namespace + ":edgeVersion": "1.2.3",
		Namespace + ":edgeSha256":  strings.Repeat("ab", 32),
	},
	KindGlobal: {
		Namespace + ":originDomain":          "origin.zonecast.example",
		Namespace + ":secondaryOriginDomain": "origin-b.zonecast.example",
	},
}

// kindOf is what a shipped stack builds.
func kindOf(t *testing.T, stack string) string {
	if k := stackConfig(t, stack)[Namespace+":kind"]; k != "" {
		return k
	}
	if stack == KindGlobal {
		return KindGlobal
	}
	return KindRegion
}

// globalOf is the global stack a regional stack's StackReference reads.
func globalOf(t *testing.T, stack string) string {
	if g := stackConfig(t, stack)[Namespace+":globalStack"]; g != "" {
		return g[strings.LastIndex(g, "/")+1:]
	}
	return DefaultGlobalStack
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

// runStack runs the program for a shipped stack with a deployment's
// settings; a regional stack first runs its global one and reads its
// listener ARNs, as the StackReference does.
func runStack(t *testing.T, stack string, override map[string]string) (*mockaws.Mocks, error) {
	t.Helper()
	kind := kindOf(t, stack)
	cfg := stackConfig(t, stack)
	for k, v := range deployment[kind] {
		cfg[k] = v
	}
	for k, v := range override {
		cfg[k] = v
	}
	m := mockaws.New("zonecast", stack, cfg["aws:region"])
	if kind != KindGlobal {
		g, err := runStack(t, globalOf(t, stack), nil)
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
		for k, v := range globalExports(t, g, globalOf(t, stack)) {
			m.GlobalOutputs[k] = v
		}
	}
	setConfig(t, cfg, kind != KindGlobal)
	return m, m.Run(Run)
}

// globalExports are the global stack's outputs a region reads besides the
// listeners, from what the mocked global stack registered.
func globalExports(t *testing.T, g *mockaws.Mocks, stack string) map[string]any {
	t.Helper()
	table, err := g.Get("aws:dynamodb/table:Table", "catalog")
	if err != nil {
		t.Fatal(err)
	}
	cdn, err := g.Get("aws:cloudfront/distribution:Distribution", "cdn")
	if err != nil {
		t.Fatal(err)
	}
	writer, err := g.Get("aws:iam/policy:Policy", "catalog-writer")
	if err != nil {
		t.Fatal(err)
	}
	cfg := stackConfig(t, stack)
	var regions []string
	if err := json.Unmarshal([]byte(cfg["zonecast:regions"]), &regions); err != nil {
		t.Fatalf("%s's zonecast:regions: %v", stack, err)
	}
	name := cfg["zonecast:acceleratorName"]
	if name == "" {
		name = DefaultAcceleratorName
	}
	buckets, err := global.RecordingBuckets(name, fakeaws.AccountID, regions)
	if err != nil {
		t.Fatal(err)
	}
	var list, bucketMap = []any{}, map[string]any{}
	for _, r := range regions {
		list = append(list, r)
		bucketMap[r] = buckets[r]
	}
	return map[string]any{
		OutputCatalogTable:        mockaws.Str(table.Inputs, "name"),
		OutputCatalogRegions:      list,
		OutputRecordingBuckets:    bucketMap,
		OutputDistributionArn:     mockaws.Str(cdn.Outputs, "arn"),
		OutputOriginSecrets:       []any{"an-origin-secret"},
		OutputCatalogWriterPolicy: mockaws.Str(writer.Outputs, "arn"),
	}
}

// TestCatalogAdminSetting: zonecast:catalogAdmin attaches the global
// stack's writer policy to the region's node role.
func TestCatalogAdminSetting(t *testing.T) {
	m, err := runStack(t, "eu-west-1", map[string]string{Namespace + ":catalogAdmin": "true"})
	if err != nil {
		t.Fatal(err)
	}
	attached := m.OfType("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
	if len(attached) != 1 || mockaws.Str(attached[0].Inputs, "policyArn") != m.GlobalOutputs[OutputCatalogWriterPolicy] {
		t.Fatalf("attachments %+v, want the global stack's %v", attached, m.GlobalOutputs[OutputCatalogWriterPolicy])
	}
	c := rules.DefaultConfig()
	c.DefaultRegion = "eu-west-1"
	if vs := rules.MandatoryOnly(rules.Check(ruleResources(m, "eu-west-1"), c)); len(vs) != 0 {
		t.Errorf("the policy pack refuses the admin region: %v", vs)
	}
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
			if kindOf(t, stack) == KindGlobal {
				if counts["aws:globalaccelerator/accelerator:Accelerator"] != 1 || counts["aws:cloudfront/distribution:Distribution"] != 1 ||
					counts["aws:autoscaling/group:Group"] != 0 {
					t.Errorf("global stack resources %v", counts)
				}
				return
			}
			regions++
			z := failover.DefaultRedundancy.ZonesPerRegion
			if counts["aws:autoscaling/group:Group"] != z || counts["aws:elasticache/replicationGroup:ReplicationGroup"] != 1 ||
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
			// The edge's environment names the relay material the user data fetches.
			env, _ := m.Get("aws:ssm/parameter:Parameter", "zone-a-edge-config")
			if !strings.Contains(mockaws.Str(env.Inputs, "value"), "ZONECAST_CLUSTER_TLS_CA=") {
				t.Error("the edge environment has no relay TLS")
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
		{"unpinned release", map[string]string{"zonecast:edgeVersion": ""}, true, "zonecast:edgeVersion and zonecast:edgeSha256"},
		{"release latest", map[string]string{"zonecast:edgeVersion": "latest"}, true, "not a version"},
		{"short checksum", map[string]string{"zonecast:edgeSha256": "abc"}, true, "64 lower-case hex"},
		{"old checksum key", map[string]string{"zonecast:edgeArtifactSha256": strings.Repeat("ab", 32)}, true, "zonecast:edgeSha256"},
		{"plain http artifact", map[string]string{"zonecast:edgeArtifactUrl": "http://example.com/{version}/edge"}, true, "https"},
		{"both type settings", map[string]string{"zonecast:instanceTypes": `["g5.xlarge"]`}, true, "both set"},
		{"H100 fallback", map[string]string{"zonecast:instanceType": "", "zonecast:instanceTypes": `["g6.xlarge","p5.48xlarge"]`}, true, "NVENC"},
		{"too many subnets", map[string]string{"zonecast:subnetsPerZone": "5"}, true, "private subnets per zone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := stackConfig(t, "eu-west-1")
			for k, v := range deployment[KindRegion] {
				cfg[k] = v
			}
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

// TestSecretsChecked: what ElastiCache or the relay would refuse only at
// apply time (or never, leaving relays that do not connect) is refused by
// the program with the setting named.
func TestSecretsChecked(t *testing.T) {
	other, err := relaytls.Generate()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, key, value, want string
	}{
		{"short token", "redisAuthToken", "short", "16–128"},
		{"token with @", "redisAuthToken", "unit-test-auth-token-@-0123", `'@'`},
		{"token with a quote", "redisAuthToken", `unit-test-auth-token-"-0123`, `'"'`},
		{"token with a slash", "redisAuthToken", "unit-test-auth-token-/-0123", `'/'`},
		{"relay key of another certificate", "relayKey", other.Key, "zonecast:relayKey"},
		{"relay certificate of another CA", "relayCa", other.CA, "zonecast:relayCert"},
		{"relay CA not PEM", "relayCa", "not a certificate", "zonecast:relayCa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := stackConfig(t, "eu-west-1")
			for k, v := range deployment[KindRegion] {
				cfg[k] = v
			}
			m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
			m.GlobalOutputs = map[string]any{OutputSRTListener: "a", OutputHTTPSListener: "b", OutputHTTP3Listener: "c"}
			key := Namespace + ":" + tt.key
			old := secrets[key]
			secrets[key] = tt.value
			defer func() { secrets[key] = old }()
			setConfig(t, cfg, true)
			if err := m.Run(Run); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want an error mentioning %s", err, tt.want)
			}
		})
	}
	// Unset relay material names the command that sets it.
	cfg := stackConfig(t, "eu-west-1")
	for k, v := range deployment[KindRegion] {
		cfg[k] = v
	}
	key := Namespace + ":relayKey"
	old := secrets[key]
	delete(secrets, key)
	defer func() { secrets[key] = old }()
	setConfig(t, cfg, true)
	m := mockaws.New("zonecast", "eu-west-1", "eu-west-1")
	if err := m.Run(Run); err == nil || !strings.Contains(err.Error(), "scripts/certs.sh") {
		t.Fatalf("no relay key: %v", err)
	}
}

// TestGlobalStacksNeedTheirOrigins: no CDN without two origin names.
func TestGlobalStacksNeedTheirOrigins(t *testing.T) {
	for _, o := range []string{"originDomain", "secondaryOriginDomain"} {
		_, err := runStack(t, KindGlobal, map[string]string{Namespace + ":" + o: ""})
		if err == nil || !strings.Contains(err.Error(), Namespace+":"+o+" is required") {
			t.Errorf("without %s: %v", o, err)
		}
	}
}

// TestDevHasItsOwnAccelerator reads every shipped stack file: the dev
// region must not join the production accelerator (real broadcasters and
// viewers near it would be sent to a two-node dev fleet), so its global
// stack is one no production region uses, with an accelerator of its own.
func TestDevHasItsOwnAccelerator(t *testing.T) {
	users := map[string][]string{} // global stack → regional stacks on it
	accelerators := map[string]string{}
	for _, stack := range stackNames(t) {
		if kindOf(t, stack) == KindGlobal {
			name := stackConfig(t, stack)[Namespace+":acceleratorName"]
			if name == "" {
				name = DefaultAcceleratorName
			}
			if other, dup := accelerators[name]; dup {
				t.Errorf("global stacks %s and %s both name their accelerator %q", other, stack, name)
			}
			accelerators[name] = stack
			continue
		}
		g := globalOf(t, stack)
		if kindOf(t, g) != KindGlobal {
			t.Errorf("%s reads global stack %q, which stacks/ does not ship as a global stack", stack, g)
		}
		users[g] = append(users[g], stack)
	}
	devGlobal := globalOf(t, "dev")
	if devGlobal == DefaultGlobalStack {
		t.Fatalf("dev joins the production global stack %q", DefaultGlobalStack)
	}
	if got := users[devGlobal]; len(got) != 1 || got[0] != "dev" {
		t.Errorf("dev's global stack %s is shared with %v", devGlobal, got)
	}
	if len(users[DefaultGlobalStack]) < 3 {
		t.Errorf("production regions on %s: %v", DefaultGlobalStack, users[DefaultGlobalStack])
	}
	// And the program puts dev's endpoint groups on dev's own listeners.
	m, err := runStack(t, "dev", nil)
	if err != nil {
		t.Fatal(err)
	}
	g, err := runStack(t, devGlobal, nil)
	if err != nil {
		t.Fatal(err)
	}
	prod, err := runStack(t, DefaultGlobalStack, nil)
	if err != nil {
		t.Fatal(err)
	}
	listeners := func(m *mockaws.Mocks) map[string]bool {
		out := map[string]bool{}
		for _, l := range m.OfType("aws:globalaccelerator/listener:Listener") {
			out[mockaws.Str(l.Outputs, "arn")] = true
		}
		return out
	}
	own, production := listeners(g), listeners(prod)
	for _, eg := range m.OfType("aws:globalaccelerator/endpointGroup:EndpointGroup") {
		arn := mockaws.Str(eg.Inputs, "listenerArn")
		if !own[arn] || production[arn] {
			t.Errorf("dev's %s is on listener %s, not on dev's own accelerator", eg.Name, arn)
		}
	}
	acc, _ := g.Get("aws:globalaccelerator/accelerator:Accelerator", "accelerator")
	if mockaws.Str(acc.Inputs, "name") == DefaultAcceleratorName {
		t.Errorf("dev's accelerator is named like production's")
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

// TestEveryStackPreviewedInCI: the pull-request workflow previews every
// stack shipped in stacks/, the dev global stack included.
func TestEveryStackPreviewedInCI(t *testing.T) {
	raw, err := os.ReadFile("../../.github/workflows/preview.yml")
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Jobs map[string]struct {
			Strategy struct {
				Matrix struct {
					Stack []string `yaml:"stack"`
				} `yaml:"matrix"`
			} `yaml:"strategy"`
		} `yaml:"jobs"`
	}
	if err := yaml.Unmarshal(raw, &wf); err != nil {
		t.Fatal(err)
	}
	for name, job := range wf.Jobs {
		got := append([]string(nil), job.Strategy.Matrix.Stack...)
		sort.Strings(got)
		if strings.Join(got, " ") != strings.Join(stackNames(t), " ") {
			t.Errorf("preview.yml job %s previews %v, stacks/ ships %v", name, got, stackNames(t))
		}
	}
}
