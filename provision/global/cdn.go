package global

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi/config"

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

// Distribution is the CDN zonecast declares, as plain values: newCDN gives
// them to CloudFront and VCL renders the local stand-in (Varnish) from
// them, so that the two cannot drift apart.
type Distribution struct {
	// Origins are the origin group's members, the primary first.
	Origins [2]Origin
	// GroupID names the origin group every behaviour targets.
	GroupID string
	// FailoverStatusCodes send a request on to the second origin.
	FailoverStatusCodes []int
	// Behaviors are matched in order, the first match wins; Default takes
	// what none matches.
	Behaviors []Behavior
	Default   Behavior
	// SecretHeader is the custom origin header carrying the origin secret
	// (its value is a stack secret, never part of this description).
	SecretHeader string
	// ErrorCaching is CloudFront's error caching minimum TTL, in seconds,
	// by origin status: 0 lets the edge's no-store decide (it never wants
	// an error kept once the media exists).
	ErrorCaching map[int]int
	// NegativeTTL is how long the stand-in keeps an error: CloudFront
	// keeps none here, but Varnish's waiting list hands an object to the
	// viewers collapsed on its fetch only if the object is cached, so the
	// stand-in keeps errors for a part's duration, no longer.
	NegativeTTL time.Duration
}

// Origin is one origin of the group.
type Origin struct {
	ID                 string
	ConnectionAttempts int           // CloudFront: 1–3
	ConnectionTimeout  time.Duration // CloudFront: 1–10 s
	// ResponseTimeout is the origin response (read) timeout: the policy's
	// OriginResponseTimeout, which the edge's holds stay under.
	ResponseTimeout  time.Duration
	KeepaliveTimeout time.Duration
	HTTPSPort        int
	// ShieldRegion is where Origin Shield sits: every CloudFront cache
	// (edge locations, regional edge caches) fetches through that one
	// cache, so the origin sees one request per object instead of one per
	// regional edge cache. Empty: no shield (the policy pack refuses it).
	ShieldRegion string
}

// Behavior is one cache behaviour.
type Behavior struct {
	PathPattern    string // CloudFront's pattern: * any characters, ? one
	Policy         CachePolicy
	AllowedMethods []string
	CachedMethods  []string
	Compress       bool
}

// CachePolicy is a cache policy: its TTL bounds and the query strings in
// its cache key (forwarded to the origin too); none: the query string is
// dropped.
type CachePolicy struct {
	Name         string
	TTLs         CacheTTLs
	QueryStrings []string
}

// DefaultSecretHeader is the origin secret's header, the edge's default
// (origin.secret_header).
const DefaultSecretHeader = "X-Origin-Secret"

// NewDistribution is the CDN for the policy's timings.
func NewDistribution(t failover.Timings) Distribution {
	playlists := CachePolicy{Name: "playlists", TTLs: PlaylistTTLs(t), QueryStrings: LLHLSQueryStrings}
	segments := CachePolicy{Name: "segments", TTLs: SegmentTTLs()}
	readOnly := []string{"GET", "HEAD", "OPTIONS"} // origin groups serve only these
	cached := []string{"GET", "HEAD"}
	behavior := func(pattern string, p CachePolicy) Behavior {
		return Behavior{PathPattern: pattern, Policy: p, AllowedMethods: readOnly, CachedMethods: cached, Compress: true}
	}
	origin := func(id string) Origin {
		return Origin{
			ID: id,
			// One attempt, short timeout: a dead origin fails over fast.
			ConnectionAttempts: 1,
			ConnectionTimeout:  2 * time.Second,
			// The policy's origin response timeout: what a frozen origin
			// (which still accepts connections) costs before failover.
			ResponseTimeout:  t.OriginResponseTimeout,
			KeepaliveTimeout: 5 * time.Second,
			HTTPSPort:        ports.HTTPS.Number,
		}
	}
	errorCaching := map[int]int{}
	for _, code := range []int{400, 403, 404, 405, 500, 502, 503, 504} {
		errorCaching[code] = 0
	}
	return Distribution{
		Origins:             [2]Origin{origin(primaryOriginID), origin(secondaryOriginID)},
		GroupID:             originGroupID,
		FailoverStatusCodes: FailoverStatusCodes,
		// Playlists first: CloudFront takes the first matching pattern.
		Behaviors: []Behavior{
			behavior("*.m3u8", playlists),
			behavior("*.m4s", segments),
			behavior("*.mp4", segments),
			behavior("*.ts", segments),
		},
		// Everything else (the player page) is not cached long.
		Default:      behavior("*", playlists),
		SecretHeader: DefaultSecretHeader,
		ErrorCaching: errorCaching,
		NegativeTTL:  t.PartDuration,
	}
}

// OriginShieldRegions are the regions CloudFront offers Origin Shield in
// (its developer guide, "Choosing the AWS Region for Origin Shield").
var OriginShieldRegions = []string{
	"us-east-1", "us-east-2", "us-west-2", "ap-south-1", "ap-northeast-1", "ap-northeast-2",
	"ap-southeast-1", "ap-southeast-2", "eu-central-1", "eu-west-1", "eu-west-2", "sa-east-1",
}

// DefaultOriginShieldRegion is the shield's region unless configured: the
// first region of the default deployments (failover.Catalogue), where
// streams are led and so where the origin answers from. The shield must
// be near the origin: its misses, not the viewers', cross the distance.
var DefaultOriginShieldRegion = failover.Catalogue[0].Name

// ValidateShieldRegion checks an Origin Shield region.
func ValidateShieldRegion(region string) error {
	if !slices.Contains(OriginShieldRegions, region) {
		return fmt.Errorf("zonecast:originShieldRegion %q is not a region CloudFront offers Origin Shield in (%s)",
			region, strings.Join(OriginShieldRegions, ", "))
	}
	return nil
}

// Shielded is the distribution with Origin Shield in region on both
// origins.
func (d Distribution) Shielded(region string) Distribution {
	for i := range d.Origins {
		d.Origins[i].ShieldRegion = region
	}
	return d
}

// Policies are the distinct cache policies of the behaviours, in order of
// first use.
func (d Distribution) Policies() []CachePolicy {
	var out []CachePolicy
	seen := map[string]bool{}
	for _, b := range append(append([]Behavior(nil), d.Behaviors...), d.Default) {
		if !seen[b.Policy.Name] {
			seen[b.Policy.Name] = true
			out = append(out, b.Policy)
		}
	}
	return out
}

type cdn struct {
	id, arn, domainName pulumi.StringOutput
}

func newCachePolicy(ctx *pulumi.Context, p CachePolicy, opts ...pulumi.ResourceOption) (*cloudfront.CachePolicy, error) {
	name := "cache-" + p.Name
	qs := &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigArgs{
		QueryStringBehavior: pulumi.String("none"),
	}
	if len(p.QueryStrings) > 0 {
		qs.QueryStringBehavior = pulumi.String("whitelist")
		qs.QueryStrings = &cloudfront.CachePolicyParametersInCacheKeyAndForwardedToOriginQueryStringsConfigQueryStringsArgs{
			Items: pulumi.ToStringArray(p.QueryStrings),
		}
	}
	return cloudfront.NewCachePolicy(ctx, name, &cloudfront.CachePolicyArgs{
		Comment:    pulumi.String("zonecast " + name),
		MinTtl:     pulumi.Int(p.TTLs.Min),
		DefaultTtl: pulumi.Int(p.TTLs.Default),
		MaxTtl:     pulumi.Int(p.TTLs.Max),
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

// OriginSecretKey is the global stack's secret configuration key holding
// the origin secret CloudFront sends; unset, it sends none (and the edges,
// whose origin.secrets must then be empty, check none).
const OriginSecretKey = "zonecast:originSecret"

func newCDN(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*cdn, error) {
	if args.Redundancy.CDNOrigins != 2 {
		return nil, fmt.Errorf("global: policy asks for %d CDN origins; a CloudFront origin group has exactly 2", args.Redundancy.CDNOrigins)
	}
	d := NewDistribution(*args.Timings).Shielded(args.OriginShieldRegion)
	policyIDs := map[string]pulumi.IDOutput{}
	for _, p := range d.Policies() {
		res, err := newCachePolicy(ctx, p, opts...)
		if err != nil {
			return nil, err
		}
		policyIDs[p.Name] = res.ID()
	}

	// ValidateOrigins (in global.go) made both names required and distinct.
	primary := pulumi.String(args.OriginDomain).ToStringOutput()
	secondary := pulumi.String(args.SecondaryOriginDomain).ToStringOutput()
	var headers cloudfront.DistributionOriginCustomHeaderArray
	if config.Get(ctx, OriginSecretKey) != "" {
		headers = cloudfront.DistributionOriginCustomHeaderArray{cloudfront.DistributionOriginCustomHeaderArgs{
			Name: pulumi.String(d.SecretHeader), Value: config.GetSecret(ctx, OriginSecretKey),
		}}
	}
	origin := func(o Origin, domain pulumi.StringOutput) cloudfront.DistributionOriginArgs {
		return cloudfront.DistributionOriginArgs{
			OriginId:           pulumi.String(o.ID),
			DomainName:         domain,
			ConnectionAttempts: pulumi.Int(o.ConnectionAttempts),
			ConnectionTimeout:  pulumi.Int(int(o.ConnectionTimeout / time.Second)),
			CustomHeaders:      headers,
			OriginShield: &cloudfront.DistributionOriginOriginShieldArgs{
				Enabled:            pulumi.Bool(o.ShieldRegion != ""),
				OriginShieldRegion: pulumi.StringPtr(o.ShieldRegion),
			},
			CustomOriginConfig: &cloudfront.DistributionOriginCustomOriginConfigArgs{
				HttpPort:               pulumi.Int(80),
				HttpsPort:              pulumi.Int(o.HTTPSPort),
				OriginProtocolPolicy:   pulumi.String("https-only"),
				OriginSslProtocols:     pulumi.ToStringArray([]string{"TLSv1.2"}),
				OriginReadTimeout:      pulumi.Int(int(o.ResponseTimeout / time.Second)),
				OriginKeepaliveTimeout: pulumi.Int(int(o.KeepaliveTimeout / time.Second)),
			},
		}
	}
	behavior := func(b Behavior) cloudfront.DistributionOrderedCacheBehaviorArgs {
		return cloudfront.DistributionOrderedCacheBehaviorArgs{
			PathPattern:          pulumi.String(b.PathPattern),
			TargetOriginId:       pulumi.String(d.GroupID),
			AllowedMethods:       pulumi.ToStringArray(b.AllowedMethods),
			CachedMethods:        pulumi.ToStringArray(b.CachedMethods),
			CachePolicyId:        policyIDs[b.Policy.Name],
			Compress:             pulumi.Bool(b.Compress),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
		}
	}
	// Finished recordings first: /vod/…/index.m3u8 would match *.m3u8.
	vod, err := newVOD(ctx, args, opts...)
	if err != nil {
		return nil, err
	}
	ordered := cloudfront.DistributionOrderedCacheBehaviorArray{vod.behavior}
	for _, b := range d.Behaviors {
		ordered = append(ordered, behavior(b))
	}
	var errorResponses cloudfront.DistributionCustomErrorResponseArray
	for _, code := range sortedKeys(d.ErrorCaching) {
		errorResponses = append(errorResponses, cloudfront.DistributionCustomErrorResponseArgs{
			ErrorCode:          pulumi.Int(code),
			ErrorCachingMinTtl: pulumi.Int(d.ErrorCaching[code]),
		})
	}

	dist, err := cloudfront.NewDistribution(ctx, "cdn", &cloudfront.DistributionArgs{
		Enabled:       pulumi.Bool(true),
		Comment:       pulumi.String("zonecast HLS delivery"),
		HttpVersion:   pulumi.String("http2and3"),
		IsIpv6Enabled: pulumi.Bool(true),
		PriceClass:    pulumi.String(args.PriceClass),
		Origins: append(cloudfront.DistributionOriginArray{
			origin(d.Origins[0], primary),
			origin(d.Origins[1], secondary),
		}, vod.origins...),
		OriginGroups: append(cloudfront.DistributionOriginGroupArray{cloudfront.DistributionOriginGroupArgs{
			OriginId: pulumi.String(d.GroupID),
			FailoverCriteria: &cloudfront.DistributionOriginGroupFailoverCriteriaArgs{
				StatusCodes: pulumi.ToIntArray(d.FailoverStatusCodes),
			},
			Members: cloudfront.DistributionOriginGroupMemberArray{
				cloudfront.DistributionOriginGroupMemberArgs{OriginId: pulumi.String(d.Origins[0].ID)},
				cloudfront.DistributionOriginGroupMemberArgs{OriginId: pulumi.String(d.Origins[1].ID)},
			},
		}}, vod.groups...),
		OrderedCacheBehaviors: ordered,
		DefaultCacheBehavior: &cloudfront.DistributionDefaultCacheBehaviorArgs{
			TargetOriginId:       pulumi.String(d.GroupID),
			AllowedMethods:       pulumi.ToStringArray(d.Default.AllowedMethods),
			CachedMethods:        pulumi.ToStringArray(d.Default.CachedMethods),
			CachePolicyId:        policyIDs[d.Default.Policy.Name],
			Compress:             pulumi.Bool(d.Default.Compress),
			ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
		},
		CustomErrorResponses: errorResponses,
		Restrictions: &cloudfront.DistributionRestrictionsArgs{
			GeoRestriction: &cloudfront.DistributionRestrictionsGeoRestrictionArgs{RestrictionType: pulumi.String("none")},
		},
		ViewerCertificate: &cloudfront.DistributionViewerCertificateArgs{CloudfrontDefaultCertificate: pulumi.Bool(true)},
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &cdn{id: dist.ID().ToStringOutput(), arn: dist.Arn, domainName: dist.DomainName}, nil
}
