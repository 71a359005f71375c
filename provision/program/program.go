// Package program is zonecast's Pulumi program: one function, Run, that
// provision/main.go hands to pulumi.Run for `pulumi up`/`pulumi preview` and
// that the preview harness (provision/preview) runs as an Automation API
// inline program. The stack's kind decides what it builds: the `global`
// stack the accelerator and CDN, every other stack one region.
package program

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/global"
	"github.com/zonecast/zonecast/provision/region"
	"github.com/zonecast/zonecast/provision/zone"
)

// Outputs of the global stack that regional stacks read.
const (
	OutputSRTListener   = "srtListenerArn"
	OutputHTTPSListener = "httpsListenerArn"
	OutputHTTP3Listener = "http3ListenerArn"
)

// Run is the program.
func Run(ctx *pulumi.Context) error {
	kind, err := Kind(ctx)
	if err != nil {
		return err
	}
	if kind == KindGlobal {
		cfg, err := LoadGlobal(ctx)
		if err != nil {
			return err
		}
		return runGlobal(ctx, cfg)
	}
	cfg, err := LoadRegion(ctx)
	if err != nil {
		return err
	}
	return runRegion(ctx, cfg)
}

func runGlobal(ctx *pulumi.Context, cfg GlobalConfig) error {
	g, err := global.New(ctx, "global", global.Args{
		Name:                  cfg.AcceleratorName,
		OriginDomain:          cfg.OriginDomain,
		SecondaryOriginDomain: cfg.SecondaryOriginDomain,
		PriceClass:            cfg.PriceClass,
		OriginShieldRegion:    cfg.OriginShieldRegion,
	})
	if err != nil {
		return err
	}
	ctx.Export("acceleratorArn", g.AcceleratorArn)
	ctx.Export("acceleratorDnsName", g.AcceleratorDNSName)
	ctx.Export("staticIPv4", g.StaticIPv4)
	ctx.Export(OutputSRTListener, g.SRTListenerArn)
	ctx.Export(OutputHTTPSListener, g.HTTPSListenerArn)
	ctx.Export(OutputHTTP3Listener, g.HTTP3ListenerArn)
	ctx.Export("cdnDomainName", g.CDNDomainName)
	ctx.Export("cdnDistributionId", g.CDNDistributionID)
	return nil
}

func runRegion(ctx *pulumi.Context, cfg RegionConfig) error {
	zones := cfg.AvailabilityZones
	if len(zones) == 0 {
		state := "available"
		res, err := aws.GetAvailabilityZones(ctx, &aws.GetAvailabilityZonesArgs{
			State:   &state,
			Filters: []aws.GetAvailabilityZonesFilter{{Name: "zone-type", Values: []string{"availability-zone"}}},
		})
		if err != nil {
			return fmt.Errorf("looking up the availability zones of %s: %w", cfg.Region, err)
		}
		n := failover.DefaultRedundancy.ZonesPerRegion
		if len(res.Names) < n {
			return fmt.Errorf("region %s has %d availability zones, zonecast needs %d", cfg.Region, len(res.Names), n)
		}
		zones = res.Names[:n]
	}
	ami, err := ssm.LookupParameter(ctx, &ssm.LookupParameterArgs{Name: cfg.AMIParameter})
	if err != nil {
		return fmt.Errorf("looking up the GPU AMI (SSM %s): %w", cfg.AMIParameter, err)
	}
	if !strings.HasPrefix(ami.Value, "ami-") {
		return fmt.Errorf("SSM %s holds %q, not an AMI id", cfg.AMIParameter, ami.Value)
	}
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{})
	if err != nil {
		return fmt.Errorf("looking up the AWS account: %w", err)
	}
	partition := "aws"
	if parts := strings.SplitN(caller.Arn, ":", 3); len(parts) == 3 && parts[1] != "" {
		partition = parts[1]
	}

	globalStack, err := pulumi.NewStackReference(ctx, cfg.GlobalStack, nil)
	if err != nil {
		return err
	}
	listener := func(name string) pulumi.StringOutput {
		return globalStack.GetStringOutput(pulumi.String(name)).ApplyT(func(arn string) (string, error) {
			if arn == "" {
				return "", fmt.Errorf("global stack %q has no output %s: run `pulumi up` on it first", cfg.GlobalStack, name)
			}
			return arn, nil
		}).(pulumi.StringOutput)
	}

	r, err := region.New(ctx, cfg.Region, region.Args{
		Region:            cfg.Region,
		Stack:             ctx.Stack(),
		AvailabilityZones: zones,
		VpcCidr:           cfg.VpcCidr,
		Partition:         partition,
		AccountID:         caller.AccountId,
		InstanceTypes:     cfg.InstanceTypes,
		SubnetsPerZone:    cfg.SubnetsPerZone,
		ImageID:           pulumi.String(ami.Value),
		MinNodesPerZone:   cfg.MinNodesPerZone,
		MaxNodesPerZone:   cfg.MaxNodesPerZone,
		RedisNodeType:     cfg.RedisNodeType,
		RedisAuthToken:    cfg.RedisAuthToken,
		RelayTLS:          region.RelayTLS{CA: cfg.RelayCA, Cert: cfg.RelayCert, Key: cfg.RelayKey},
		Edge: zone.EdgeSettings{
			Release:   cfg.EdgeRelease,
			Streams:   cfg.Streams,
			LoadGauge: cfg.EdgeLoadGauge,
		},
		Listeners: region.Listeners{
			SRT:   listener(OutputSRTListener),
			HTTPS: listener(OutputHTTPSListener),
			HTTP3: listener(OutputHTTP3Listener),
		},
	})
	if err != nil {
		return err
	}
	ctx.Export("availabilityZones", pulumi.ToStringArray(zones))
	ctx.Export("imageId", pulumi.String(ami.Value))
	ctx.Export("edgeVersion", pulumi.String(cfg.EdgeRelease.Version))
	ctx.Export("vpcId", r.VpcID)
	ctx.Export("loadBalancerDnsNames", r.LoadBalancerDNSNames)
	ctx.Export("redisEndpoints", r.RedisEndpoints)
	ctx.Export("autoScalingGroups", r.AutoScalingGroups)
	ctx.Export("endpointGroupArns", r.EndpointGroupArns)
	return nil
}
