package global

import (
	"fmt"
	"regexp"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudfront"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// VODPathPattern is the behaviour of finished recordings: the edge's
// recording URLs (/vod/<stream>/<id>/index.m3u8) name the bucket's keys.
const VODPathPattern = "/vod/*"

// RecordingPrefix is the key prefix every recorded object is under: the
// /vod/* behaviour asks the bucket for the viewer's path as it is.
const RecordingPrefix = "vod"

// VODFailoverStatusCodes send a VOD request to the second bucket: through
// origin access control, S3 answers a missing key with 403 (CloudFront may
// not list the bucket) or 404.
var VODFailoverStatusCodes = []int{403, 404}

const vodGroupID = "vod-failover"

// bucketName is S3's rule for a bucket name without dots (virtual-hosted
// HTTPS, which CloudFront uses, cannot take dots).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$`)

// RecordingBucket is the name of a region's recording bucket. The global
// stack names every region's bucket, so that the CDN's origins need no
// region stack (which comes after it) and the region stack creates the
// bucket under the name it reads back; the account makes it unique in S3,
// the stack's accelerator name apart from another deployment's.
func RecordingBucket(name, account, region string) (string, error) {
	b := fmt.Sprintf("%s-rec-%s-%s", name, account, region)
	if len(b) > 63 || !bucketName.MatchString(b) {
		return "", fmt.Errorf("recording bucket name %q is not a valid S3 bucket name (3–63 lower-case letters, digits, hyphens)", b)
	}
	return b, nil
}

// RecordingBuckets names every region's recording bucket.
func RecordingBuckets(name, account string, regions []string) (map[string]string, error) {
	out := map[string]string{}
	for _, r := range regions {
		b, err := RecordingBucket(name, account, r)
		if err != nil {
			return nil, err
		}
		out[r] = b
	}
	return out, nil
}

// vodOrigins are the S3 origins of /vod/*: the recording buckets of the
// first two regions (an origin group has two members; the first region
// first, the second on a missing key), read through origin access control.
// A recording made in a third region is not reachable through /vod/*.
type vod struct {
	origins  cloudfront.DistributionOriginArray
	groups   cloudfront.DistributionOriginGroupArray
	behavior cloudfront.DistributionOrderedCacheBehaviorArgs
}

func newVOD(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*vod, error) {
	buckets, err := RecordingBuckets(args.Name, args.AccountID, args.Regions)
	if err != nil {
		return nil, err
	}
	oac, err := cloudfront.NewOriginAccessControl(ctx, "vod-oac", &cloudfront.OriginAccessControlArgs{
		Name:                          pulumi.String(args.Name + "-recordings"),
		Description:                   pulumi.String("zonecast: CloudFront reads the recording buckets (/vod/*)"),
		OriginAccessControlOriginType: pulumi.String("s3"),
		SigningBehavior:               pulumi.String("always"),
		SigningProtocol:               pulumi.String("sigv4"),
	}, opts...)
	if err != nil {
		return nil, err
	}
	// Recorded segments never change; a recording's playlists change
	// until it is closed, so the recorder's Cache-Control decides within
	// these bounds, a segment's duration when it says nothing.
	policy, err := newCachePolicy(ctx, CachePolicy{Name: "vod", TTLs: CacheTTLs{Min: 0, Default: 2, Max: 31536000}}, opts...)
	if err != nil {
		return nil, err
	}
	v := &vod{}
	var ids []string
	for i, r := range args.Regions {
		if i == 2 {
			break
		}
		id := "recordings-" + r
		ids = append(ids, id)
		v.origins = append(v.origins, cloudfront.DistributionOriginArgs{
			OriginId:              pulumi.String(id),
			DomainName:            pulumi.String(buckets[r] + ".s3." + r + ".amazonaws.com"),
			OriginAccessControlId: oac.ID(),
			// With origin access control the S3 origin has no identity.
			S3OriginConfig: &cloudfront.DistributionOriginS3OriginConfigArgs{OriginAccessIdentity: pulumi.String("")},
			// Through the shield like the live origins: a finished match
			// replayed by many viewers is fetched from the bucket once.
			OriginShield: &cloudfront.DistributionOriginOriginShieldArgs{
				Enabled:            pulumi.Bool(true),
				OriginShieldRegion: pulumi.StringPtr(args.OriginShieldRegion),
			},
		})
	}
	target := ids[0]
	if len(ids) == 2 {
		target = vodGroupID
		v.groups = cloudfront.DistributionOriginGroupArray{cloudfront.DistributionOriginGroupArgs{
			OriginId:         pulumi.String(vodGroupID),
			FailoverCriteria: &cloudfront.DistributionOriginGroupFailoverCriteriaArgs{StatusCodes: pulumi.ToIntArray(VODFailoverStatusCodes)},
			Members: cloudfront.DistributionOriginGroupMemberArray{
				cloudfront.DistributionOriginGroupMemberArgs{OriginId: pulumi.String(ids[0])},
				cloudfront.DistributionOriginGroupMemberArgs{OriginId: pulumi.String(ids[1])},
			},
		}}
	}
	v.behavior = cloudfront.DistributionOrderedCacheBehaviorArgs{
		PathPattern:          pulumi.String(VODPathPattern),
		TargetOriginId:       pulumi.String(target),
		AllowedMethods:       pulumi.ToStringArray([]string{"GET", "HEAD", "OPTIONS"}),
		CachedMethods:        pulumi.ToStringArray([]string{"GET", "HEAD"}),
		CachePolicyId:        policy.ID(),
		Compress:             pulumi.Bool(true),
		ViewerProtocolPolicy: pulumi.String("redirect-to-https"),
	}
	return v, nil
}
