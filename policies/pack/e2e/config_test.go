package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/policies/pack/internal/fixture"
)

// TestPolicyPackConfigThroughCLI sets enforcement levels and the cost
// budget with --policy-pack-config, as an operator would.
func TestPolicyPackConfigThroughCLI(t *testing.T) {
	root, bin := tools(t)
	env := pulumiEnv(t, bin)
	s := fixture.Shipped()
	s.Get(p("redis")).Props["automaticFailoverEnabled"] = false
	state, err := s.Export(region)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "state.json")
	if err := os.WriteFile(file, state, 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, config string
		exit0        bool
		want         string
	}{
		{"redis advisory", `{"redis-replication-group": "advisory"}`, true, "[advisory]"},
		{"tight budget made mandatory", `{"redis-replication-group": "disabled", "cost-budget": {"enforcementLevel": "mandatory", "maxHourlyUSD": 1}}`,
			false, "cost-budget"},
		{"budget of the wrong type", `{"cost-budget": {"maxHourlyUSD": "lots"}}`, false, "maxHourlyUSD"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(cfg, []byte(c.config), 0o644); err != nil {
				t.Fatal(err)
			}
			out, code := run(t, dir, env, filepath.Join(bin, "pulumi"), "policy", "analyze", "--file", file,
				"--policy-pack", filepath.Join(root, "policies", "pack"), "--policy-pack-config", cfg)
			if (code == 0) != c.exit0 || !strings.Contains(out, c.want) {
				t.Fatalf("exit %d (want success %v), output lacks %q:\n%s", code, c.exit0, c.want, out)
			}
		})
	}
}
