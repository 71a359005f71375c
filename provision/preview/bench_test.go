package preview

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/internal/mockaws"
	"github.com/zonecast/zonecast/provision/program"
)

// benchStacks is the global stack plus three regions.
var benchStacks = []string{"global", "eu-west-1", "us-east-1", "ap-southeast-1"}

// BenchmarkPreviewGlobalPlusThreeRegions times the whole offline preview of
// the global stack and three regions through the real engine (each region
// includes the `up` of the global stack its StackReference reads), against
// a baseline measured in the same run: the same program under Pulumi's
// mocks, without the engine.
func BenchmarkPreviewGlobalPlusThreeRegions(b *testing.B) {
	r := root(b)
	for i := 0; i < b.N; i++ {
		total := time.Duration(0)
		for _, stack := range benchStacks {
			start := time.Now()
			res, err := Run(context.Background(), Options{Root: r, Stack: stack})
			if err != nil {
				b.Fatal(err)
			}
			d := time.Since(start)
			total += d
			fmt.Printf("preview %-15s %3d resources  %6.2f s\n", stack, len(res.Resources), d.Seconds())
		}
		mocked := mockedRuns(b, r)
		fmt.Printf("preview global+3 regions      %6.2f s (engine, file backend, stand-in provider)\n", total.Seconds())
		fmt.Printf("same program under mocks      %6.3f s (baseline) → engine/mocks ratio %.0f×\n", mocked.Seconds(), total.Seconds()/mocked.Seconds())
		b.ReportMetric(total.Seconds(), "s/preview-4-stacks")
		b.ReportMetric(total.Seconds()/mocked.Seconds(), "x-vs-mocks")
	}
}

// mockedRuns runs the program for the same stacks under mocks.
func mockedRuns(b *testing.B, root string) time.Duration {
	start := time.Now()
	for _, stack := range benchStacks {
		cfg := map[string]string{}
		raw, err := os.ReadFile(filepath.Join(root, "stacks", "Pulumi."+stack+".yaml"))
		if err != nil {
			b.Fatal(err)
		}
		if err := parseConfig(raw, cfg); err != nil {
			b.Fatal(err)
		}
		secret, plain, err := placeholders(settings(cfg).kind(stack))
		if err != nil {
			b.Fatal(err)
		}
		for _, set := range []map[string]string{secret, plain} {
			for k, v := range set {
				cfg[k] = v
			}
		}
		js, _ := json.Marshal(cfg)
		b.Setenv("PULUMI_CONFIG", string(js))
		m := mockaws.New(Project, stack, cfg["aws:region"])
		m.GlobalOutputs = map[string]any{program.OutputSRTListener: "arn:srt", program.OutputHTTPSListener: "arn:https", program.OutputHTTP3Listener: "arn:http3"}
		if err := pulumi.RunErr(program.Run, pulumi.WithMocks(Project, stack, m)); err != nil {
			b.Fatal(err)
		}
	}
	return time.Since(start)
}

// BenchmarkProvisionColdBuild times `go build ./provision/...` from an empty
// build cache (GOCACHE in a temporary directory; modules already
// downloaded), against the warm rebuild in the same run. Takes minutes: the
// pulumi-aws subpackages (aws/ec2 above all) dominate.
func BenchmarkProvisionColdBuild(b *testing.B) {
	r := root(b)
	for i := 0; i < b.N; i++ {
		cache := b.TempDir()
		cold := goBuild(b, r, cache)
		warm := goBuild(b, r, cache)
		fmt.Printf("go build ./provision/... cold cache %7.1f s, warm %5.2f s (ratio %.0f×)\n", cold.Seconds(), warm.Seconds(), cold.Seconds()/warm.Seconds())
		b.ReportMetric(cold.Seconds(), "s/cold-build")
		b.ReportMetric(warm.Seconds(), "s/warm-build")
	}
}

func goBuild(b *testing.B, root, cache string) time.Duration {
	cmd := exec.Command("go", "build", "./provision/...")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOCACHE="+cache, "GOFLAGS=-buildvcs=false")
	start := time.Now()
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	return time.Since(start)
}
