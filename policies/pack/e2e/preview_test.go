package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/elasticache"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/globalaccelerator"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/preview"
	"github.com/zonecast/zonecast/provision/program"
)

// breaking wraps the shipped program with a stack transformation that
// changes one resource's inputs before it is registered: the stack is the
// shipped one but for that change.
func breaking(change func(args *pulumi.ResourceTransformationArgs)) pulumi.RunFunc {
	return func(ctx *pulumi.Context) error {
		if err := ctx.RegisterStackTransformation(func(args *pulumi.ResourceTransformationArgs) *pulumi.ResourceTransformationResult {
			change(args)
			return &pulumi.ResourceTransformationResult{Props: args.Props, Opts: args.Opts}
		}); err != nil {
			return err
		}
		return program.Run(ctx)
	}
}

// TestPreviewWithPolicyPack previews the shipped stacks through the real
// engine (provision's harness: Automation API inline program, the stand-in
// AWS provider, a local file backend) with `--policy-pack policies/pack`:
// they pass; a region with one zone, one Redis node or no endpoint group
// fails with the mandatory violation naming the resource.
func TestPreviewWithPolicyPack(t *testing.T) {
	root, _ := tools(t)
	if err := preview.CheckTools(root); err != nil {
		t.Fatalf("preview harness tools: %v", err)
	}
	cases := []struct {
		name     string
		stack    string
		program  pulumi.RunFunc
		config   map[string]string
		pack     string // default: the directory policies/pack
		policy   string // "" = must pass
		resource string // logical name the violation names
	}{
		{name: "global", stack: "global"},
		{name: "eu-west-1", stack: "eu-west-1"},
		{name: "us-east-1", stack: "us-east-1"},
		{name: "ap-southeast-1", stack: "ap-southeast-1"},
		{name: "dev", stack: "dev"},
		{"one zone (stack setting)", "eu-west-1", nil, map[string]string{"zonecast:availabilityZones": `["eu-west-1a"]`},
			"", "region-two-zones", "zone-a-edges"},
		{"one zone (zone b's fleet tagged into zone a)", "eu-west-1", breaking(func(a *pulumi.ResourceTransformationArgs) {
			if g, ok := a.Props.(*autoscaling.GroupArgs); ok && a.Name == "zone-b-edges" {
				g.Tags = autoscaling.GroupTagArray{autoscaling.GroupTagArgs{
					Key: pulumi.String("zonecast:zone"), Value: pulumi.String("eu-west-1/a"), PropagateAtLaunch: pulumi.Bool(true)}}
			}
		}), nil, "", "region-two-zones", "zone-a-edges"},
		{"one Redis", "eu-west-1", breaking(func(a *pulumi.ResourceTransformationArgs) {
			if r, ok := a.Props.(*elasticache.ReplicationGroupArgs); ok && a.Name == "redis" {
				r.NumCacheClusters = pulumi.Int(1)
				r.AutomaticFailoverEnabled = pulumi.Bool(false)
				r.MultiAzEnabled = pulumi.Bool(false)
			}
		}), nil, "", "redis-replication-group", "redis"},
		{"zone of one node (stack setting)", "eu-west-1", nil, map[string]string{"zonecast:minNodesPerZone": "1"},
			"", "asg-min-size", "zone-a-edges"},
		{"slow health check", "eu-west-1", breaking(func(a *pulumi.ResourceTransformationArgs) {
			if tg, ok := a.Props.(*lb.TargetGroupArgs); ok && a.Name == "zone-b-srt" {
				tg.HealthCheck = &lb.TargetGroupHealthCheckArgs{Protocol: pulumi.String("HTTPS"), Path: pulumi.String("/readyz"),
					Interval: pulumi.Int(30), UnhealthyThreshold: pulumi.Int(3)}
			}
		}), nil, "", "lb-health-check-speed", "zone-b-srt"},
		{"fleet outside its load balancer", "eu-west-1", breaking(func(a *pulumi.ResourceTransformationArgs) {
			if g, ok := a.Props.(*autoscaling.GroupArgs); ok && a.Name == "zone-a-edges" {
				g.TargetGroupArns = pulumi.StringArray{}
			}
		}), nil, "", "zone-fleet-behind-load-balancer", "zone-a-edges"},
		{"missing endpoint group", "eu-west-1", breaking(func(a *pulumi.ResourceTransformationArgs) {
			// Every endpoint group serves another region: eu-west-1 has none.
			if g, ok := a.Props.(*globalaccelerator.EndpointGroupArgs); ok {
				g.EndpointGroupRegion = pulumi.String("us-west-2")
			}
		}), nil, "", "region-endpoint-groups", "zone-a-nlb"},
		{"missing endpoint group, executable pack", "eu-west-1", breaking(func(a *pulumi.ResourceTransformationArgs) {
			if g, ok := a.Props.(*globalaccelerator.EndpointGroupArgs); ok {
				g.EndpointGroupRegion = pulumi.String("us-west-2")
			}
		}), nil, "bin/zonecast-policy-pack", "region-endpoint-groups", "zone-b-nlb"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// Every preview has a work directory (backend, PULUMI_HOME) of
			// its own, and mostly waits on its plugins: they overlap.
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			pack := tc.pack
			if pack == "" {
				pack = "policies/pack"
			}
			res, err := preview.Run(ctx, preview.Options{
				Root: root, Stack: tc.stack, Program: tc.program, Config: tc.config,
				PolicyPacks: []string{pack},
			})
			if res == nil {
				t.Fatalf("preview did not run: %v", err)
			}
			if tc.policy == "" {
				// The engine lists the packs it ran: "✅ zonecast@v0.1.0" in the
				// progress display, "Policy Packs run: zonecast|local|… 0.1.0"
				// in the diff display.
				ran := strings.Contains(res.StdOut, "zonecast@v0.1.0") ||
					(strings.Contains(res.StdOut, "Policy Packs run") && strings.Contains(res.StdOut, "policies/pack"))
				if !ran {
					t.Fatalf("the pack did not run (not listed under Policy Packs run):\n%s\n%s\n%v", res.StdOut, res.StdErr, err)
				}
				if err != nil {
					t.Fatalf("shipped stack %s refused: %v\n%s", tc.stack, err, res.StdOut)
				}
				for _, v := range res.Violations {
					t.Errorf("diagnostic on the shipped stack: %s", v)
				}
				if len(res.Resources) == 0 {
					t.Fatal("preview created nothing")
				}
				return
			}
			if err == nil {
				t.Fatalf("preview passed; want a mandatory %s violation\n%s", tc.policy, res.StdOut)
			}
			found := false
			for _, v := range res.Violations {
				if v.Level == "mandatory" && v.Policy == tc.policy && strings.HasSuffix(v.URN, "::"+tc.resource) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no mandatory %s violation naming %s: %v", tc.policy, tc.resource, res.Violations)
			}
			shown := false
			// On failure the Automation API carries the engine's output in
			// the error.
			output := res.StdOut + "\n" + err.Error()
			for _, line := range strings.Split(output, "\n") {
				shown = shown || (strings.Contains(line, "[mandatory]") && strings.Contains(line, tc.policy) &&
					strings.Contains(line, tc.resource))
			}
			if !shown {
				t.Fatalf("the engine's output has no [mandatory] %s line naming %s:\n%s", tc.policy, tc.resource, output)
			}
		})
	}
}
