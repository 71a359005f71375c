package program

import (
	"errors"
	"fmt"
	"time"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/global"
	"github.com/zonecast/zonecast/provision/redis"
	"github.com/zonecast/zonecast/provision/relaytls"
	"github.com/zonecast/zonecast/provision/release"
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
	DefaultSubnetsPerZone  = 1
	// DefaultRecordingExpiryDays keeps a season's recordings.
	DefaultRecordingExpiryDays = 365
)

// GlobalConfig is the global stack's configuration.
type GlobalConfig struct {
	AcceleratorName       string
	OriginDomain          string
	SecondaryOriginDomain string
	PriceClass            string
	// OriginShieldRegion: zonecast:originShieldRegion, default
	// global.DefaultOriginShieldRegion (near the primary region).
	OriginShieldRegion string
	// Regions are the regions that have a region stack, the catalog's
	// home first (zonecast:regions).
	Regions      []string
	CatalogTable string
}

// RegionConfig is a regional stack's configuration.
type RegionConfig struct {
	Region            string
	GlobalStack       string
	AvailabilityZones []string // empty: the region's first zones
	VpcCidr           string
	// InstanceTypes are the NVENC types the zones may launch, preferred
	// first: zonecast:instanceTypes, or zonecast:instanceType followed by
	// the policy's other types.
	InstanceTypes   []string
	SubnetsPerZone  int
	MinNodesPerZone int
	MaxNodesPerZone int
	AMIParameter    string
	RedisNodeType   string
	RedisAuthToken  pulumi.StringOutput // secret
	// Streams is the static stream list (secret); nil: the catalog alone.
	Streams pulumi.StringOutput
	// AdminToken is the control API's bearer token (secret); nil: none.
	AdminToken pulumi.StringOutput
	// RecordingExpiryDays is how long recordings are kept.
	RecordingExpiryDays int
	// CatalogAdmin attaches the global stack's catalog-writer policy to
	// the node role: the region's nodes serve the control API's writes.
	CatalogAdmin bool
	// RelayCA, RelayCert and RelayKey are the relay's TLS material
	// (secrets, checked together).
	RelayCA, RelayCert, RelayKey pulumi.StringOutput
	EdgeRelease                  release.Pin
	EdgeLoadGauge                string
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
func LoadGlobal(ctx *pulumi.Context) (GlobalConfig, error) {
	cfg := config.New(ctx, Namespace)
	c := GlobalConfig{
		AcceleratorName:       or(cfg.Get("acceleratorName"), DefaultAcceleratorName),
		OriginDomain:          cfg.Get("originDomain"),
		SecondaryOriginDomain: cfg.Get("secondaryOriginDomain"),
		PriceClass:            or(cfg.Get("priceClass"), DefaultPriceClass),
		OriginShieldRegion:    or(cfg.Get("originShieldRegion"), global.DefaultOriginShieldRegion),
		CatalogTable:          or(cfg.Get("catalogTable"), global.DefaultCatalogTable),
	}
	if err := global.ValidateShieldRegion(c.OriginShieldRegion); err != nil {
		return c, err
	}
	if err := cfg.TryObject("regions", &c.Regions); err != nil && !errors.Is(err, config.ErrMissingVar) {
		return c, fmt.Errorf("%s:regions: %w", Namespace, err)
	}
	if err := global.ValidateRegions(c.Regions); err != nil {
		return c, err
	}
	return c, global.ValidateOrigins(c.OriginDomain, c.SecondaryOriginDomain)
}

// LoadRegion reads a regional stack's configuration; secrets stay secret.
func LoadRegion(ctx *pulumi.Context) (RegionConfig, error) {
	cfg := config.New(ctx, Namespace)
	aws := config.New(ctx, "aws")
	c := RegionConfig{
		Region:          aws.Get("region"),
		GlobalStack:     or(cfg.Get("globalStack"), DefaultGlobalStack),
		VpcCidr:         or(cfg.Get("vpcCidr"), DefaultVpcCidr),
		SubnetsPerZone:  or(cfg.GetInt("subnetsPerZone"), DefaultSubnetsPerZone),
		MinNodesPerZone: or(cfg.GetInt("minNodesPerZone"), failover.DefaultRedundancy.MinNodesPerZone),
		MaxNodesPerZone: or(cfg.GetInt("maxNodesPerZone"), failover.DefaultProvisioning.MaxNodesPerZone),
		AMIParameter:    or(cfg.Get("amiParameter"), DefaultAMIParameter),
		RedisNodeType:   or(cfg.Get("redisNodeType"), DefaultRedisNodeType),
		EdgeRelease: release.Pin{
			Version:     cfg.Get("edgeVersion"),
			SHA256:      cfg.Get("edgeSha256"),
			URLTemplate: cfg.Get("edgeArtifactUrl"),
		},
		EdgeLoadGauge:       cfg.Get("edgeLoadGauge"),
		RecordingExpiryDays: or(cfg.GetInt("recordingExpiryDays"), DefaultRecordingExpiryDays),
		CatalogAdmin:        cfg.GetBool("catalogAdmin"),
	}
	if c.RecordingExpiryDays < 1 {
		return c, fmt.Errorf("%s:recordingExpiryDays %d must be at least 1", Namespace, c.RecordingExpiryDays)
	}
	if c.Region == "" {
		return c, fmt.Errorf("aws:region is not set: a regional stack needs `pulumi config set aws:region <region>`")
	}
	if err := cfg.TryObject("availabilityZones", &c.AvailabilityZones); err != nil && !errors.Is(err, config.ErrMissingVar) {
		return c, fmt.Errorf("%s:availabilityZones: %w", Namespace, err)
	}
	if err := cfg.TryObject("instanceTypes", &c.InstanceTypes); err != nil && !errors.Is(err, config.ErrMissingVar) {
		return c, fmt.Errorf("%s:instanceTypes: %w", Namespace, err)
	}
	switch primary := cfg.Get("instanceType"); {
	case len(c.InstanceTypes) > 0 && primary != "":
		return c, fmt.Errorf("%s:instanceType and %s:instanceTypes are both set: keep one (instanceTypes lists every type, preferred first)", Namespace, Namespace)
	case len(c.InstanceTypes) == 0:
		c.InstanceTypes = failover.DefaultProvisioning.FleetTypes(or(primary, DefaultInstanceType))
	}
	if cfg.Get("edgeArtifactSha256") != "" {
		return c, fmt.Errorf("%s:edgeArtifactSha256 is now %s:edgeSha256, with %s:edgeVersion beside it", Namespace, Namespace, Namespace)
	}
	if err := c.EdgeRelease.Validate(); err != nil {
		return c, err
	}
	var err error
	if c.RedisAuthToken, err = cfg.TrySecret("redisAuthToken"); err != nil {
		return c, fmt.Errorf("%s:redisAuthToken is not set: `pulumi config set --secret %s:redisAuthToken <16–128 characters>`", Namespace, Namespace)
	}
	// Optional: the stream catalog is every region's source of streams;
	// a static list is added to it.
	if s, err := cfg.TrySecret("streams"); err == nil {
		c.Streams = s
	}
	if t, err := cfg.TrySecret("adminToken"); err == nil {
		c.AdminToken = t
	}
	c.RedisAuthToken = c.RedisAuthToken.ApplyT(func(t string) (string, error) {
		return t, redis.ValidateAuthToken(t)
	}).(pulumi.StringOutput)
	relay := map[string]*pulumi.StringOutput{"relayCa": &c.RelayCA, "relayCert": &c.RelayCert, "relayKey": &c.RelayKey}
	for _, key := range []string{"relayCa", "relayCert", "relayKey"} {
		if *relay[key], err = cfg.TrySecret(key); err != nil {
			return c, fmt.Errorf("%s:%s is not set: the relay's TLS material (scripts/certs.sh DIR makes ca.pem, node.pem, node-key.pem); "+
				"`%s config set --secret %s:relayCa < DIR/ca.pem`, relayCert < DIR/node.pem, relayKey < DIR/node-key.pem", Namespace, key, "pulumi", Namespace)
		}
	}
	// Checked together: the key must match the certificate, the CA sign it.
	checked := pulumi.All(c.RelayCA, c.RelayCert, c.RelayKey).ApplyT(func(v []any) ([]string, error) {
		m := relaytls.Material{CA: v[0].(string), Cert: v[1].(string), Key: v[2].(string)}
		return []string{m.CA, m.Cert, m.Key}, m.Validate(time.Now())
	}).(pulumi.StringArrayOutput)
	c.RelayCA, c.RelayCert, c.RelayKey = checked.Index(pulumi.Int(0)), checked.Index(pulumi.Int(1)), checked.Index(pulumi.Int(2))
	return c, nil
}
