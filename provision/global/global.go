// Package global is the Global component: what every region shares, created
// once by the `global` stack — the Global Accelerator (two static IPv4
// addresses, the SRT, HTTPS and HTTP/3 listeners), the CDN in front of it
// (with /vod/* reading the recording buckets), the stream catalog (a
// DynamoDB global table with a replica in every region) and the names of
// the regions' recording buckets.
// The regional stacks read its outputs through a StackReference and attach
// their load balancers to its listeners.
package global

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/provision/internal/policydefault"
)

// Type is the component's Pulumi type token.
const Type = "zonecast:provision:Global"

// Args configures the Global component.
type Args struct {
	// Name names the accelerator (and prefixes what needs a unique AWS name).
	Name string
	// OriginDomain is the host name CloudFront fetches from over HTTPS
	// first. The operator owns it: the edges' TLS certificate must cover
	// it (CloudFront checks), and it points (CNAME or alias) at the
	// accelerator. See ValidateOrigins.
	OriginDomain string
	// SecondaryOriginDomain is the origin group's failover member: another
	// name the certificate covers, reaching the edges by another path (a
	// Route 53 latency record over each region's zone-b load balancer, for
	// example), so that a failover does not ask the same path again.
	SecondaryOriginDomain string
	// PriceClass is the CloudFront price class.
	PriceClass string
	// OriginShieldRegion is where CloudFront's Origin Shield sits, near the
	// primary region; default DefaultOriginShieldRegion.
	OriginShieldRegion string
	// Regions are the regions that have a region stack, the catalog's
	// home first: each gets a catalog replica and a recording bucket name.
	Regions []string
	// CatalogTable names the stream catalog's table (default
	// DefaultCatalogTable).
	CatalogTable string
	// Partition and AccountID make the ARNs and bucket names.
	Partition, AccountID string
	// Redundancy and Timings default to policies/failover's defaults.
	Redundancy *failover.Redundancy
	Timings    *failover.Timings
}

// Global is the component; its fields are its registered outputs.
type Global struct {
	pulumi.ResourceState

	AcceleratorArn     pulumi.StringOutput
	AcceleratorDNSName pulumi.StringOutput
	StaticIPv4         pulumi.StringArrayOutput
	SRTListenerArn     pulumi.StringOutput
	HTTPSListenerArn   pulumi.StringOutput
	HTTP3ListenerArn   pulumi.StringOutput
	CDNDomainName      pulumi.StringOutput
	CDNDistributionID  pulumi.StringOutput
	CDNDistributionArn pulumi.StringOutput
	// CatalogTableName and CatalogRegions locate the stream catalog's
	// replicas; CatalogWriterPolicyArn is the admin path's policy.
	CatalogTableName       pulumi.StringOutput
	CatalogRegions         pulumi.StringArrayOutput
	CatalogWriterPolicyArn pulumi.StringOutput
	// RecordingBuckets name each region's recording bucket.
	RecordingBuckets pulumi.StringMapOutput
}

// New creates the accelerator, its listeners and the CDN.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Global, error) {
	if args.Name == "" {
		return nil, fmt.Errorf("global: Args.Name is empty")
	}
	if err := ValidateOrigins(args.OriginDomain, args.SecondaryOriginDomain); err != nil {
		return nil, fmt.Errorf("global: %w", err)
	}
	if err := ValidateRegions(args.Regions); err != nil {
		return nil, fmt.Errorf("global: %w", err)
	}
	args.Redundancy = policydefault.Or(args.Redundancy, failover.DefaultRedundancy)
	args.Timings = policydefault.Or(args.Timings, failover.DefaultTimings)
	if args.PriceClass == "" {
		args.PriceClass = "PriceClass_All"
	}
	if args.OriginShieldRegion == "" {
		args.OriginShieldRegion = DefaultOriginShieldRegion
	}
	if err := ValidateShieldRegion(args.OriginShieldRegion); err != nil {
		return nil, fmt.Errorf("global: %w", err)
	}
	g := &Global{}
	if err := ctx.RegisterComponentResource(Type, name, g, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(g)

	acc, err := newAccelerator(ctx, args, child)
	if err != nil {
		return nil, err
	}
	cdn, err := newCDN(ctx, args, child)
	if err != nil {
		return nil, err
	}
	cat, err := newCatalog(ctx, args, child)
	if err != nil {
		return nil, err
	}
	buckets, err := RecordingBuckets(args.Name, args.AccountID, args.Regions)
	if err != nil {
		return nil, err
	}

	g.AcceleratorArn = acc.arn
	g.AcceleratorDNSName = acc.dnsName
	g.StaticIPv4 = acc.staticIPv4
	g.SRTListenerArn = acc.srt
	g.HTTPSListenerArn = acc.https
	g.HTTP3ListenerArn = acc.http3
	g.CDNDomainName = cdn.domainName
	g.CDNDistributionID = cdn.id
	g.CDNDistributionArn = cdn.arn
	g.CatalogTableName = cat.tableName
	g.CatalogRegions = pulumi.ToStringArray(cat.regions).ToStringArrayOutput()
	g.CatalogWriterPolicyArn = cat.writerPolicyID
	g.RecordingBuckets = pulumi.ToStringMap(buckets).ToStringMapOutput()
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{
		"acceleratorArn":         g.AcceleratorArn,
		"acceleratorDnsName":     g.AcceleratorDNSName,
		"staticIPv4":             g.StaticIPv4,
		"srtListenerArn":         g.SRTListenerArn,
		"httpsListenerArn":       g.HTTPSListenerArn,
		"http3ListenerArn":       g.HTTP3ListenerArn,
		"cdnDomainName":          g.CDNDomainName,
		"cdnDistributionId":      g.CDNDistributionID,
		"cdnDistributionArn":     g.CDNDistributionArn,
		"catalogTableName":       g.CatalogTableName,
		"catalogRegions":         g.CatalogRegions,
		"catalogWriterPolicyArn": g.CatalogWriterPolicyArn,
		"recordingBuckets":       g.RecordingBuckets,
	}); err != nil {
		return nil, err
	}
	return g, nil
}
