// Package e2e runs the policy pack through the real Pulumi engine
// (bin/pulumi, built from the Go module proxy) on crafted state exports and,
// through provision's preview harness, on the shipped programs.
package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot finds the module root from the test's directory.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("go.mod not found above the test directory")
		}
		dir = parent
	}
}

// TestMain builds the plugin into bin/ (as `make policy` does) before the
// tests: the CLI runs the plugin it finds there, and it must be built from
// the sources under test, not from whatever was built last.
func TestMain(m *testing.M) {
	if err := buildPlugin(); err != nil {
		fmt.Fprintln(os.Stderr, "building the policy pack plugin into bin/:", err)
		os.Exit(1)
	}
	os.Exit(m.Run())
}

func buildPlugin() error {
	wd, err := os.Getwd()
	if err != nil {
		return err
	}
	root := wd
	for {
		if _, err := os.Stat(filepath.Join(root, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(root) == root {
			return fmt.Errorf("go.mod not found above %s", wd)
		}
		root = filepath.Dir(root)
	}
	bin := filepath.Join(root, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		return err
	}
	plugin := filepath.Join(bin, "pulumi-analyzer-policy-zonecast")
	build := exec.Command("go", "build", "-o", plugin, "./policies/pack/cmd/pulumi-analyzer-policy-zonecast")
	build.Dir = root
	if out, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	b, err := os.ReadFile(plugin)
	if err != nil {
		return err
	}
	// Written aside and renamed, so a CLI starting it never sees half a file.
	exe := filepath.Join(bin, "zonecast-policy-pack")
	if err := os.WriteFile(exe+".tmp", b, 0o755); err != nil {
		return err
	}
	return os.Rename(exe+".tmp", exe)
}

// tools checks the binaries the end-to-end tests need and fails loudly,
// saying how to build them, when one is missing.
func tools(t *testing.T) (root, bin string) {
	t.Helper()
	root = repoRoot(t)
	bin = filepath.Join(root, "bin")
	need := map[string]string{
		"pulumi":                          "`make pulumi-cli` (the Pulumi CLI v3.259.0 from the Go module proxy, 5–12 min cold)",
		"pulumi-analyzer-policy-zonecast": "`make policy`",
		"zonecast-policy-pack":            "`make policy`",
	}
	for name, how := range need {
		if _, err := os.Stat(filepath.Join(bin, name)); err != nil {
			t.Fatalf("%s is missing from %s: build it with %s", name, bin, how)
		}
	}
	return root, bin
}

// pulumiEnv is an offline environment: a private PULUMI_HOME, no update
// check, no plugin downloads, bin/ first on PATH (where the CLI finds
// pulumi-analyzer-policy-zonecast for the pack directory).
func pulumiEnv(t *testing.T, bin string) []string {
	home := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PATH=") || strings.HasPrefix(kv, "PULUMI_") {
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"),
		"PULUMI_HOME="+home,
		"PULUMI_SKIP_UPDATE_CHECK=true",
		"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true",
		"PULUMI_CONFIG_PASSPHRASE=zonecast-test",
		"PULUMI_BACKEND_URL=file://"+home,
		"NO_COLOR=1",
	)
}

func run(t *testing.T, dir string, env []string, name string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	code := 0
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("%s %v: %v", name, args, err)
		}
		code = ee.ExitCode()
	}
	return string(out), code
}
