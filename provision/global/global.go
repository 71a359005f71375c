// Package global is the Global component: what every region shares, created
// once by the `global` stack — the Global Accelerator (two static IPv4
// addresses, the SRT, HTTPS and HTTP/3 listeners) and the CDN in front of it.
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
	// OriginDomain is the host name CloudFront fetches from over HTTPS. It
	// must be covered by the edge's TLS certificate and resolve to the
	// accelerator (CNAME or alias). Empty: the accelerator's own DNS name,
	// which only works if the edge's certificate covers it.
	OriginDomain string
	// SecondaryOriginDomain is the origin group's failover member. Empty: the
	// same host as OriginDomain under a second origin id — the retry opens a
	// new connection, which the accelerator may steer to another zone.
	SecondaryOriginDomain string
	// PriceClass is the CloudFront price class.
	PriceClass string
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
}

// New creates the accelerator, its listeners and the CDN.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*Global, error) {
	if args.Name == "" {
		return nil, fmt.Errorf("global: Args.Name is empty")
	}
	args.Redundancy = policydefault.Or(args.Redundancy, failover.DefaultRedundancy)
	args.Timings = policydefault.Or(args.Timings, failover.DefaultTimings)
	if args.PriceClass == "" {
		args.PriceClass = "PriceClass_All"
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
	cdn, err := newCDN(ctx, args, acc.dnsName, child)
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
	if err := ctx.RegisterResourceOutputs(g, pulumi.Map{
		"acceleratorArn":     g.AcceleratorArn,
		"acceleratorDnsName": g.AcceleratorDNSName,
		"staticIPv4":         g.StaticIPv4,
		"srtListenerArn":     g.SRTListenerArn,
		"httpsListenerArn":   g.HTTPSListenerArn,
		"http3ListenerArn":   g.HTTP3ListenerArn,
		"cdnDomainName":      g.CDNDomainName,
		"cdnDistributionId":  g.CDNDistributionID,
	}); err != nil {
		return nil, err
	}
	return g, nil
}
