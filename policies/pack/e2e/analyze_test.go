package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zonecast/zonecast/policies/pack/internal/fixture"
)

// TestPolicyAnalyzeFile runs `pulumi policy analyze --file` on crafted stack
// exports with the pack given both ways the CLI loads it: the directory
// (runtime: zonecast → pulumi-analyzer-policy-zonecast on PATH) and the
// executable itself.
func TestPolicyAnalyzeFile(t *testing.T) {
	root, bin := tools(t)
	env := pulumiEnv(t, bin)
	packs := map[string]string{
		"directory":  filepath.Join(root, "policies", "pack"),
		"executable": filepath.Join(bin, "zonecast-policy-pack"),
	}
	for _, c := range analyzeCases {
		s := fixture.Shipped()
		if c.mutate != nil {
			c.mutate(s)
		}
		state, err := s.Export(region)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(t.TempDir(), c.name+".json")
		if err := os.WriteFile(file, state, 0o644); err != nil {
			t.Fatal(err)
		}
		for form, pack := range packs {
			t.Run(c.name+"/"+form, func(t *testing.T) {
				out, code := run(t, t.TempDir(), env, filepath.Join(bin, "pulumi"),
					"policy", "analyze", "--file", file, "--policy-pack", pack)
				if c.policy == "" {
					if code != 0 || !strings.Contains(out, "zonecast@v0.1.0") || strings.Contains(out, "[mandatory]") {
						t.Fatalf("shipped shape refused or pack not run (exit %d):\n%s", code, out)
					}
					return
				}
				if code == 0 {
					t.Fatalf("violation accepted (exit 0):\n%s", out)
				}
				if !strings.Contains(out, "mandatory policy violations") {
					t.Fatalf("CLI did not refuse for a mandatory violation:\n%s", out)
				}
				found := false
				for _, line := range strings.Split(out, "\n") {
					if strings.Contains(line, "[mandatory]") && strings.Contains(line, c.policy) &&
						strings.Contains(line, c.resource) {
						found = true
					}
				}
				if !found {
					t.Fatalf("no [mandatory] %s line naming %s:\n%s", c.policy, c.resource, out)
				}
			})
		}
	}
}

// TestPolicyAnalyzeEveryViolation runs every rule's violating change
// (fixture.Violations) through `pulumi policy analyze --file`: the engine
// feeds Analyze the state's inputs and AnalyzeStack its outputs, and must
// report each at its level naming the resource.
func TestPolicyAnalyzeEveryViolation(t *testing.T) {
	root, bin := tools(t)
	env := pulumiEnv(t, bin)
	pack := filepath.Join(root, "policies", "pack")
	for _, tc := range fixture.Violations {
		t.Run(tc.Name, func(t *testing.T) {
			s := fixture.Shipped()
			tc.Mutate(s)
			state, err := s.Export(region)
			if err != nil {
				t.Fatal(err)
			}
			file := filepath.Join(t.TempDir(), "state.json")
			if err := os.WriteFile(file, state, 0o644); err != nil {
				t.Fatal(err)
			}
			out, code := run(t, t.TempDir(), env, filepath.Join(bin, "pulumi"),
				"policy", "analyze", "--file", file, "--policy-pack", pack)
			mandatory := tc.Level == "mandatory"
			if mandatory == (code == 0) {
				t.Fatalf("exit %d for a %s violation:\n%s", code, tc.Level, out)
			}
			named := tc.Resource
			if named == "" {
				named = "zonecast-" + fixture.Stack // stack-level: the root stack
			}
			for _, line := range strings.Split(out, "\n") {
				if strings.Contains(line, "["+string(tc.Level)+"]") && strings.Contains(line, tc.Policy) &&
					strings.Contains(line, named) {
					return
				}
			}
			t.Fatalf("no [%s] %s line naming %s:\n%s", tc.Level, tc.Policy, named, out)
		})
	}
}
