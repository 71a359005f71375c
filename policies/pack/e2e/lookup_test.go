package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/auto"
	"github.com/pulumi/pulumi/sdk/v3/go/auto/optpreview"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// TestPackDirectoryLookup previews a one-resource program (a Redis
// replication group of one node, through the stand-in AWS provider) with
// the pack given as the directory policies/pack and the plugin reachable in
// exactly one of the places the CLI v3.259.0 looks for
// pulumi-analyzer-policy-zonecast: PATH, the project's plugins.analyzers,
// the plugin cache. With none of them the pack fails to load. (Next to the
// CLI is not one of them: v3.259.0 looks beside itself only for bundled
// language hosts.)
func TestPackDirectoryLookup(t *testing.T) {
	root, bin := tools(t)
	pluginBin := filepath.Join(bin, "pulumi-analyzer-policy-zonecast")
	cases := []struct {
		name     string
		setup    func(t *testing.T, home string) (path string, proj *workspace.Plugins)
		wantLoad bool
	}{
		{"PATH", func(t *testing.T, home string) (string, *workspace.Plugins) {
			return onlyPlugin(t), nil
		}, true},
		{"project plugins", func(t *testing.T, home string) (string, *workspace.Plugins) {
			return "", &workspace.Plugins{Analyzers: []workspace.PluginOptions{{Name: "policy-zonecast", Path: bin}}}
		}, true},
		{"plugin cache", func(t *testing.T, home string) (string, *workspace.Plugins) {
			dir := filepath.Join(home, "plugins", "analyzer-policy-zonecast-v0.1.0")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			copyFile(t, pluginBin, filepath.Join(dir, "pulumi-analyzer-policy-zonecast"))
			return "", nil
		}, true},
		// bin/ holds the plugin beside bin/pulumi, but bin/ is not on PATH.
		{"only next to the CLI", func(t *testing.T, home string) (string, *workspace.Plugins) { return "", nil }, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			work := t.TempDir()
			home := filepath.Join(work, "home")
			extraPath, plugins := tc.setup(t, home)
			// The stand-in provider, alone in its own PATH directory.
			provDir := t.TempDir()
			copyFile(t, filepath.Join(bin, "pulumi-resource-aws"), filepath.Join(provDir, "pulumi-resource-aws"))
			path := provDir + string(os.PathListSeparator) + "/usr/bin:/bin"
			if extraPath != "" {
				path = extraPath + string(os.PathListSeparator) + path
			}
			out, err := previewMinimal(t, root, work, home, path, plugins)
			if !tc.wantLoad {
				if err == nil || !strings.Contains(err.Error(), "pulumi-analyzer-policy-zonecast") {
					t.Fatalf("pack loaded with the plugin nowhere, or another failure: %v\n%s", err, out)
				}
				return
			}
			if err == nil {
				t.Fatalf("the pack's violation did not fail the preview:\n%s", out)
			}
			if !strings.Contains(err.Error(), "[mandatory]") || !strings.Contains(err.Error(), "redis-replication-group") {
				t.Fatalf("pack did not run or did not refuse: %v\n%s", err, out)
			}
		})
	}
}

// onlyPlugin is a PATH directory holding only the plugin.
func onlyPlugin(t *testing.T) string {
	dir := t.TempDir()
	_, bin := tools(t)
	copyFile(t, filepath.Join(bin, "pulumi-analyzer-policy-zonecast"), filepath.Join(dir, "pulumi-analyzer-policy-zonecast"))
	return dir
}

func copyFile(t *testing.T, from, to string) {
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o755); err != nil {
		t.Fatal(err)
	}
}

// minimalProgram registers one replication group of one node.
func minimalProgram(ctx *pulumi.Context) error {
	var rg struct{ pulumi.CustomResourceState }
	return ctx.RegisterResource("aws:elasticache/replicationGroup:ReplicationGroup", "lone-redis", pulumi.Map{
		"description": pulumi.String("lookup test"), "engine": pulumi.String("redis"), "nodeType": pulumi.String("cache.t4g.micro"),
		"numCacheClusters": pulumi.Int(1), "automaticFailoverEnabled": pulumi.Bool(true), "multiAzEnabled": pulumi.Bool(true),
		"transitEncryptionEnabled": pulumi.Bool(true), "atRestEncryptionEnabled": pulumi.Bool(true),
		"authToken": pulumi.ToSecret(pulumi.String("0123456789abcdef0123")),
	}, &rg)
}

// previewMinimal previews minimalProgram with the pack directory.
func previewMinimal(t *testing.T, root, work, home, path string, plugins *workspace.Plugins) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	for _, d := range []string{home, filepath.Join(work, "backend"), filepath.Join(work, "ws")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cmd, err := auto.NewPulumiCommand(&auto.PulumiCommandOptions{Root: root, SkipVersionCheck: true})
	if err != nil {
		t.Fatal(err)
	}
	backend := "file://" + filepath.Join(work, "backend")
	st, err := auto.UpsertStackInlineSource(ctx, "lookup", "zonecast-lookup", minimalProgram,
		auto.WorkDir(filepath.Join(work, "ws")),
		auto.Pulumi(cmd),
		auto.PulumiHome(home),
		auto.EnvVars(map[string]string{
			"PATH": path, "PULUMI_HOME": home, "PULUMI_BACKEND_URL": backend,
			"PULUMI_CONFIG_PASSPHRASE": "zonecast-test", "PULUMI_SKIP_UPDATE_CHECK": "true",
			"PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
		}),
		auto.Project(workspace.Project{
			Name:    tokens.PackageName("zonecast-lookup"),
			Runtime: workspace.NewProjectRuntimeInfo("go", nil),
			Backend: &workspace.ProjectBackend{URL: backend},
			Plugins: plugins,
		}),
	)
	if err != nil {
		t.Fatalf("stack: %v", err)
	}
	if err := st.SetConfig(ctx, "aws:region", auto.ConfigValue{Value: "eu-west-1"}); err != nil {
		t.Fatal(err)
	}
	res, err := st.Preview(ctx, optpreview.PolicyPacks(filepath.Join(root, "policies", "pack")))
	return res.StdOut, err
}
