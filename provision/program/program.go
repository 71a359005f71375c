// Package program is zonecast's Pulumi program: one function, Run, that
// provision/main.go hands to pulumi.Run for `pulumi up`/`pulumi preview` and
// that the preview harness (provision/preview) runs as an Automation API
// inline program. The stack's kind decides what it builds: the `global`
// stack the accelerator and CDN, every other stack one region.
package program

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

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
	// OutputOriginSecrets are the origin secrets the edges accept (a
	// secret list): the one CloudFront sends, then zonecast:originSecretNext
	// while a rotation is under way.
	OutputOriginSecrets = "originSecrets"
	// OutputCatalogTable and OutputCatalogRegions locate the stream
	// catalog's replicas.
	OutputCatalogTable   = "catalogTableName"
	OutputCatalogRegions = "catalogRegions"
	// OutputCatalogWriterPolicy is the admin path's policy (the catalog's
	// writes), attached to the operators' role or, with
	// zonecast:catalogAdmin, to a region's node role.
	OutputCatalogWriterPolicy = "catalogWriterPolicyArn"
	// OutputRecordingBuckets names each region's recording bucket.
	OutputRecordingBuckets = "recordingBuckets"
	// OutputDistributionArn is the CDN's ARN, which the recording buckets'
	// policies admit.
	OutputDistributionArn = "cdnDistributionArn"
)

// OriginSecretNextKey is the global stack's secret holding the next origin
// secret during a rotation: the edges accept it before CloudFront sends it
// (docs/provision.md, "Rotating the origin secret").
const OriginSecretNextKey = "zonecast:originSecretNext"

// partition is the AWS partition of the caller's ARN.
func partition(callerArn string) string {
	if parts := strings.SplitN(callerArn, ":", 3); len(parts) == 3 && parts[1] != "" {
		return parts[1]
	}
	return "aws"
}

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
	caller, err := aws.GetCallerIdentity(ctx, &aws.GetCallerIdentityArgs{})
	if err != nil {
		return fmt.Errorf("looking up the AWS account: %w", err)
	}
	g, err := global.New(ctx, "global", global.Args{
		Name:                  cfg.AcceleratorName,
		OriginDomain:          cfg.OriginDomain,
		SecondaryOriginDomain: cfg.SecondaryOriginDomain,
		PriceClass:            cfg.PriceClass,
		OriginShieldRegion:    cfg.OriginShieldRegion,
		Regions:               cfg.Regions,
		CatalogTable:          cfg.CatalogTable,
		Partition:             partition(caller.Arn),
		AccountID:             caller.AccountId,
	})
	if err != nil {
		return err
	}
	// The edges accept the secret CloudFront sends and, during a rotation,
	// the next one (which CloudFront sends only once every region's edges
	// have it).
	var secrets pulumi.StringArray
	for _, key := range []string{global.OriginSecretKey, OriginSecretNextKey} {
		if config.Get(ctx, key) != "" {
			secrets = append(secrets, config.GetSecret(ctx, key))
		}
	}
	if len(secrets) == 1 && config.Get(ctx, global.OriginSecretKey) == "" {
		return fmt.Errorf("%s is set without %s: CloudFront would send no secret", OriginSecretNextKey, global.OriginSecretKey)
	}
	ctx.Export(OutputOriginSecrets, pulumi.ToSecret(secrets.ToStringArrayOutput()))
	ctx.Export(OutputCatalogTable, g.CatalogTableName)
	ctx.Export(OutputCatalogRegions, g.CatalogRegions)
	ctx.Export(OutputCatalogWriterPolicy, g.CatalogWriterPolicyArn)
	ctx.Export(OutputRecordingBuckets, g.RecordingBuckets)
	ctx.Export(OutputDistributionArn, g.CDNDistributionArn)
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

	// Plain values, not outputs: they decide which resources exist.
	var catalog region.Catalog
	if catalog.Table, err = plainOutput[string](globalStack, OutputCatalogTable); err != nil {
		return err
	}
	if catalog.Replicas, err = plainOutput[[]string](globalStack, OutputCatalogRegions); err != nil {
		return err
	}
	if cfg.CatalogAdmin {
		if catalog.WriterPolicyArn, err = plainOutput[string](globalStack, OutputCatalogWriterPolicy); err != nil {
			return err
		}
		if catalog.WriterPolicyArn == "" {
			return fmt.Errorf("%s:catalogAdmin is set but global stack %q has no output %s: `pulumi up` it first",
				Namespace, cfg.GlobalStack, OutputCatalogWriterPolicy)
		}
	}
	originSecrets, err := plainOutput[[]string](globalStack, OutputOriginSecrets)
	if err != nil {
		return err
	}
	buckets, err := plainOutput[map[string]string](globalStack, OutputRecordingBuckets)
	if err != nil {
		return err
	}
	if buckets[cfg.Region] == "" {
		ctx.Log.Warn(fmt.Sprintf("global stack %q names no recording bucket for %s: this region records nothing "+
			"(add it to the global stack's zonecast:regions)", cfg.GlobalStack, cfg.Region), nil)
	}

	r, err := region.New(ctx, cfg.Region, region.Args{
		Region:            cfg.Region,
		Stack:             ctx.Stack(),
		AvailabilityZones: zones,
		VpcCidr:           cfg.VpcCidr,
		Partition:         partition(caller.Arn),
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
			Release:       cfg.EdgeRelease,
			Streams:       optional(cfg.Streams),
			AdminToken:    optional(cfg.AdminToken),
			OriginSecrets: pulumi.ToSecret(pulumi.ToStringArray(originSecrets)).(pulumi.StringArrayOutput),
			LoadGauge:     cfg.EdgeLoadGauge,
		},
		Catalog: catalog,
		Recording: region.Recording{
			Bucket:          buckets[cfg.Region],
			DistributionArn: globalStack.GetStringOutput(pulumi.String(OutputDistributionArn)),
			ExpiryDays:      cfg.RecordingExpiryDays,
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
	ctx.Export("redisEndpoint", r.RedisEndpoint)
	ctx.Export("autoScalingGroups", r.AutoScalingGroups)
	ctx.Export("endpointGroupArns", r.EndpointGroupArns)
	ctx.Export("recordingBucket", r.RecordingBucket)
	return nil
}

// plainOutput reads one of the global stack's outputs as a plain value;
// a missing output (a global stack from before it existed) is the zero
// value.
func plainOutput[T any](ref *pulumi.StackReference, name string) (T, error) {
	var out T
	d, err := ref.GetOutputDetails(name)
	if err != nil {
		return out, fmt.Errorf("global stack output %s: %w", name, err)
	}
	v := d.Value
	if v == nil {
		v = d.SecretValue
	}
	if v == nil {
		return out, nil
	}
	// Outputs arrive as JSON-like values; JSON turns them into T.
	b, err := json.Marshal(v)
	if err != nil {
		return out, err
	}
	if err := json.Unmarshal(b, &out); err != nil {
		return out, fmt.Errorf("global stack output %s: %w", name, err)
	}
	return out, nil
}

// optional is nil for an unset secret setting.
func optional(s pulumi.StringOutput) pulumi.StringInput {
	if s == (pulumi.StringOutput{}) {
		return nil
	}
	return s
}
