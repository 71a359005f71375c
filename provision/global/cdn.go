package global

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
)

const (
	primaryOriginID   = "edge-primary"
	secondaryOriginID = "edge-secondary"
	originGroupID     = "edge-failover"
)

// FailoverStatusCodes are the origin responses on which CloudFront retries
// the request on the origin group's second member (cache misses only):
// the server-side errors an edge returns while it is draining, restarting
// or has lost a stream to its twin.
var FailoverStatusCodes = []int{500, 502, 503, 504}

// LLHLSQueryStrings are the LL-HLS delivery directives a blocking playlist
// request carries; they must be part of the cache key, otherwise every
// viewer waiting for the next part would get the cached old playlist.
var LLHLSQueryStrings = []string{"_HLS_msn", "_HLS_part", "_HLS_skip"}

// CacheTTLs are the CloudFront TTL bounds, in seconds, of one cache policy.
// CloudFront follows the origin's Cache-Control max-age within [Min, Max]
// and uses Default when the origin sends none.
type CacheTTLs struct{ Min, Default, Max int }

// PlaylistTTLs keep playlists at most half a segment old: the edge sends a
// short max-age on playlists; the bound holds even if it sent a longer one.
func PlaylistTTLs(t failover.Timings) CacheTTLs {
	return CacheTTLs{Min: 0, Default: 1, Max: max(1, int(t.SegmentDuration/2/time.Second))}
}

// SegmentTTLs let segments, parts and init sections live as long as the
// edge's `immutable` Cache-Control says: a media file's name (its media
// sequence number) never names different bytes.
func SegmentTTLs() CacheTTLs {
	return CacheTTLs{Min: 0, Default: 86400, Max: 31536000}
}

type cdn struct {
	id, domainName pulumi.StringOutput
}

func newCachePolicy(ctx *pulumi.Context, name string, ttl CacheTTLs, queryStrings []string, opts ...pulumi.ResourceOption) (*cloudfront.CachePolicy, error) {
	qs := &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{
		QueryStringBehavior: pulumi.String("none"),
	}
	if len(queryStrings) > 0 {
		qs.QueryStringBehavior = pulumi.String("whitelist")
		qs.QueryStrings = &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigQueryStringsArgs{
			Items: pulumi.ToStringArray(queryStrings),
		}
	}
	return cloudfront.NewCachePolicy(ctx, name, &cloudfront.CachePolicyArgs{
		Comment:    pulumi.String("zonecast " + name),
		MinTtl:     pulumi.Int(ttl.Min),
		DefaultTtl: pulumi.Int(ttl.Default),
		MaxTtl:     pulumi.Int(ttl.Max),
		ParametersInCacheKeyAndForwardedToOrigin: &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginArgs{
			CookiesConfig:              &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginCookiesConfigArgs{CookieBehavior: pulumi.String("none")},
			HeadersConfig:              &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginHeadersConfigArgs{HeaderBehavior: pulumi.String("none")},
			QueryStringsConfig:         qs,
			EnableAcceptEncodingGzip:   pulumi.Bool(true),
			EnableAcceptEncodingBrotli: pulumi.Bool(true),
		},
	}, opts...)
}

// hostName is a DNS name CloudFront takes as a custom origin: labels of
// letters, digits and hyphens, at least two of them.
var hostName = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$`)

// ValidateOrigins checks the CDN's two origin names. Both are required:
// there is no name zonecast could default to that an edge certificate can
// cover (the accelerator's own *.awsglobalaccelerator.com name is AWS's, so
// CloudFront's TLS check against it fails and every request would be a
// 502), and a failover member with the same name would only ask the same
// path again.
func ValidateOrigins(primary, secondary string) error {
	for _, o := range []struct{ setting, name string }{
		{"zonecast:originDomain", primary}, {"zonecast:secondaryOriginDomain", secondary},
	} {
		switch {
		case o.name == "":
			return fmt.Errorf("%s is required: a host name the edges' TLS certificate covers "+
				"(originDomain points at the accelerator, secondaryOriginDomain reaches the edges another way; docs/provision.md)", o.setting)
		case len(o.name) > 253 || !hostName.MatchString(o.name):
			return fmt.Errorf("%s %q is not a DNS host name", o.setting, o.name)
		case strings.HasSuffix(o.name, ".awsglobalaccelerator.com") || strings.HasSuffix(o.name, ".amazonaws.com"):
			return fmt.Errorf("%s %q is an AWS name no certificate of yours can cover: CloudFront would refuse the edges' TLS", o.setting, o.name)
		}
	}
	if primary == secondary {
		return fmt.Errorf("zonecast:secondaryOriginDomain must differ from zonecast:originDomain (%q): "+
			"the origin group's failover would ask the same name again", primary)
	}
	return nil
}

func newCDN(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*cdn, error) {
	if args.Redundancy.CDNOrigins != 2 {
		return nil, fmt.Errorf("global: policy asks for %d CDN origins; a CloudFront origin group has exactly 2", args.Redundancy.CDNOrigins)
	}
	playlists, err := newCachePolicy(ctx, "cache-playlists", PlaylistTTLs(*args.Timings), LLHLSQueryStrings, opts...)
	if err != nil {
		return nil, err
	}
	segments, err := newCachePolicy(ctx, "cache-segments", SegmentTTLs(), nil, opts...)
	if err != nil {
		return nil, err
	}

	primary, secondary := pulumi.String(args.OriginDomain), pulumi.String(args.SecondaryOriginDomain)
	origin := func(id string, domain pulumi.StringInput) cloudfront.DistributionOriginArgs {
		return cloudfront.DistributionOriginArgs{
			OriginId:   pulumi.String(id),
			DomainName: domain,
			// One attempt, short timeout: a dead origin fails over fast.
			ConnectionAttempts: pulumi.Int(1),
			ConnectionTimeout:  pulumi.Int(2),
			CustomOriginConfig: &cloudfront.DistributionOriginCustomOriginConfigArgs{
				HttpPort:             pulumi.Int(80),
				HttpsPort:            pulumi.Int(ports.HTTPS.Number),
				OriginProtocolPolicy: pulumi.String("https-only"),
				OriginSslProtocols:   pulumi.ToStringArray([]string{"TLSv1.2"}),
				// The policy's origin response timeout: what a frozen origin
				// (which still accepts connections) costs before failover.
				OriginReadTimeout:      pulumi.Int(int(args.Timings.OriginResponseTimeout / time.Second)),
				OriginKeepaliveTimeout: pulumi.Int(5),
			},
		}
	}
	readOnly := pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS"}) // origin groups serve only these
	cached := pulumi.ToStringArray([]string{"GET", "HEAD"})
	behavior := func(pattern string, policy *cloudfront.CachePolicy) cloudfront.DistributionOrderedCacheBehaviorArgs {
		return cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:          pulumi.String(pattern),
			TargetOriginId:       pulumi.String(originGroupID),
			AllowedMethods:       readOnly,
			CachedMethods:        cached,
			CachePolicyId:        policy.ID(),
			Compress:             pulumi.Bool(true),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
		}
	}

	dist, err := cloudfront.NewDistribution(ctx, "cdn", &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		Comment:       pulumi.String("zonecast HLS delivery"),
		HttpVersion:   pulumi.String("http2and3"),
		IsIpv6Enabled: pulumi.Bool(true),
		PriceClass:    pulumi.String(args.PriceClass),
		Origins: cloudfront.DistributionOriginArray{
			origin(primaryOriginID, primary),
			origin(secondaryOriginID, secondary),
		},
		OriginGroups: cloudfront.DistributionOriginGroupArray{cloudfront.DistributionOriginGroupArgs{
			OriginId: pulumi.String(originGroupID),
			FailoverCriteria: &cloudfront.DistributionOriginGroupFailoverCriteriaArgs{
				StatusCodes: pulumi.ToIntArray(FailoverStatusCodes),
			},
			Members: cloudfront.DistributionOriginGroupMemberArray{
				cloudfront.DistributionOriginGroupMemberArgs{OriginId: pulumi.String(primaryOriginID)},
				cloudfront.DistributionOriginGroupMemberArgs{OriginId: pulumi.String(secondaryOriginID)},
			},
		}},
		// Playlists first: CloudFront takes the first matching pattern.
		OrderedCacheBehaviors: cloudfront.DistributionOrderedCacheBehaviorArray{
			behavior("*.m3u8", playlists),
			behavior("*.m4s", segments),
			behavior("*.mp4", segments),
			behavior("*.ts", segments),
		},
		// Everything else (the player page, the API) is not cached long.
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:       pulumi.String(originGroupID),
			AllowedMethods:       readOnly,
			CachedMethods:        cached,
			CachePolicyId:        playlists.ID(),
			Compress:             pulumi.Bool(true),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
		},
		Restrictions: &cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)},
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &cdn{id: dist.ID().ToStringOutput(), domainName: dist.DomainName}, nil
}
