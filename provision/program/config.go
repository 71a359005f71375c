package program

import (
	"errors"
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/zonecast/zonecast/policies/failover"
)

// Namespace is the project's configuration namespace (Pulumi.yaml name).
const Namespace = "zonecast"

// Kinds of stacks.
const (
	KindGlobal = "global"
	KindRegion = "region"
)

// Defaults of the settings, documented in stacks/*.yaml and docs/provision.md.
const (
	DefaultAcceleratorName = "zonecast"
	DefaultPriceClass      = "PriceClass_All"
	DefaultGlobalStack     = "global"
	DefaultVpcCidr         = "10.40.0.0/16"
	DefaultInstanceType    = "g6.xlarge"
	DefaultAMIParameter    = "/aws/service/deeplearning/ami/x86_64/base-oss-nvidia-driver-gpu-ubuntu-22.04/latest/ami-id"
	DefaultRedisNodeType   = "cache.r7g.large"
	DefaultEdgeArtifactURL = "https://github.com/zonecast/zonecast/releases/latest/download/edge-linux-amd64"
)

// GlobalConfig is the global stack's configuration.
type GlobalConfig struct {
	AcceleratorName       string
	OriginDomain          string
	SecondaryOriginDomain string
	PriceClass            string
}

// RegionConfig is a regional stack's configuration.
type RegionConfig struct {
	Region            string
	GlobalStack       string
	AvailabilityZones []string // empty: the region's first zones
	VpcCidr           string
	InstanceType      string
	MinNodesPerZone   int
	MaxNodesPerZone   int
	AMIParameter      string
	RedisNodeType     string
	RedisAuthToken    pulumi.StringOutput // secret
	Streams           pulumi.StringOutput // secret
	EdgeArtifactURL   string
	EdgeArtifactSHA   string
	EdgeLoadGauge     string
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Kind tells whether the running stack is the global one or a region.
func Kind(ctx *pulumi.Context) (string, error) {
	cfg := config.New(ctx, Namespace)
	def := KindRegion
	if ctx.Stack() == KindGlobal {
		def = KindGlobal
	}
	switch k := or(cfg.Get("kind"), def); k {
	case KindGlobal, KindRegion:
		return k, nil
	default:
		return "", fmt.Errorf("%s:kind %q must be %q or %q", Namespace, k, KindGlobal, KindRegion)
	}
}

// LoadGlobal reads the global stack's configuration.
func LoadGlobal(ctx *pulumi.Context) GlobalConfig {
	cfg := config.New(ctx, Namespace)
	return GlobalConfig{
		AcceleratorName:       or(cfg.Get("acceleratorName"), DefaultAcceleratorName),
		OriginDomain:          cfg.Get("originDomain"),
		SecondaryOriginDomain: cfg.Get("secondaryOriginDomain"),
		PriceClass:            or(cfg.Get("priceClass"), DefaultPriceClass),
	}
}

// LoadRegion reads a regional stack's configuration; secrets stay secret.
func LoadRegion(ctx *pulumi.Context) (RegionConfig, error) {
	cfg := config.New(ctx, Namespace)
	aws := config.New(ctx, "aws")
	c := RegionConfig{
		Region:          aws.Get("region"),
		GlobalStack:     or(cfg.Get("globalStack"), DefaultGlobalStack),
		VpcCidr:         or(cfg.Get("vpcCidr"), DefaultVpcCidr),
		InstanceType:    or(cfg.Get("instanceType"), DefaultInstanceType),
		MinNodesPerZone: or(cfg.GetInt("minNodesPerZone"), failover.DefaultRedundancy.MinNodesPerZone),
		MaxNodesPerZone: or(cfg.GetInt("maxNodesPerZone"), failover.DefaultProvisioning.MaxNodesPerZone),
		AMIParameter:    or(cfg.Get("amiParameter"), DefaultAMIParameter),
		RedisNodeType:   or(cfg.Get("redisNodeType"), DefaultRedisNodeType),
		EdgeArtifactURL: or(cfg.Get("edgeArtifactUrl"), DefaultEdgeArtifactURL),
		EdgeArtifactSHA: cfg.Get("edgeArtifactSha256"),
		EdgeLoadGauge:   cfg.Get("edgeLoadGauge"),
	}
	if c.Region == "" {
		return c, fmt.Errorf("aws:region is not set: a regional stack needs `pulumi config set aws:region <region>`")
	}
	if err := cfg.TryObject("availabilityZones", &c.AvailabilityZones); err != nil && !errors.Is(err, config.ErrMissingVar) {
		return c, fmt.Errorf("%s:availabilityZones: %w", Namespace, err)
	}
	var err error
	if c.RedisAuthToken, err = cfg.TrySecret("redisAuthToken"); err != nil {
		return c, fmt.Errorf("%s:redisAuthToken is not set: `pulumi config set --secret %s:redisAuthToken <16–128 characters>`", Namespace, Namespace)
	}
	if c.Streams, err = cfg.TrySecret("streams"); err != nil {
		return c, fmt.Errorf("%s:streams is not set: `pulumi config set --secret %s:streams name:passphrase,…`", Namespace, Namespace)
	}
	c.RedisAuthToken = c.RedisAuthToken.ApplyT(func(t string) (string, error) {
		if len(t) < 16 || len(t) > 128 {
			return "", fmt.Errorf("%s:redisAuthToken must be 16–128 characters (ElastiCache), got %d", Namespace, len(t))
		}
		return t, nil
	}).(pulumi.StringOutput)
	return c, nil
}
