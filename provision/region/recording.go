package region

import (
	"encoding/json"
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/s3"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/global"
)

// Recording is the region's recording bucket, as the global stack names it.
type Recording struct {
	// Bucket is the bucket's name (the global stack's recordingBuckets
	// entry for the region); empty: the region records nothing.
	Bucket string
	// DistributionArn is the CDN's, whose /vod/* behaviour reads the
	// bucket through origin access control.
	DistributionArn pulumi.StringInput
	// ExpiryDays is how long a recorded object is kept.
	ExpiryDays int
}

// RecordingSSEAlgorithm is the recording bucket's default encryption:
// S3-managed keys. CloudFront's origin access control can read objects
// under a KMS key only if the key's policy lets it, which AWS-managed keys
// (aws/s3) never do.
const RecordingSSEAlgorithm = "AES256"

// newRecordingBucket creates the region's recording bucket: every object
// encrypted, public access blocked, ACLs off (the bucket owner owns every
// object), objects expiring after the stack's expiry, incomplete multipart
// uploads aborted, and a policy that lets only the CDN's distribution read
// the recordings, over TLS.
func newRecordingBucket(ctx *pulumi.Context, args *Args, opts ...pulumi.ResourceOption) (*s3.BucketV2, error) {
	rec := args.Recording
	if rec.ExpiryDays < 1 {
		return nil, fmt.Errorf("region %s: recordings expire after %d days; at least 1", args.Region, rec.ExpiryDays)
	}
	if rec.DistributionArn == nil {
		return nil, fmt.Errorf("region %s: the recording bucket needs the CDN's distribution ARN", args.Region)
	}
	bucket, err := s3.NewBucketV2(ctx, "recordings", &s3.BucketV2Args{
		Bucket: pulumi.String(rec.Bucket),
		Tags: pulumi.StringMap{
			"zonecast:purpose": pulumi.String("recordings"),
			"zonecast:region":  pulumi.String(args.Region),
		},
	}, opts...)
	if err != nil {
		return nil, err
	}
	dependOn := append(opts, pulumi.DependsOn([]pulumi.Resource{bucket}))
	block, err := s3.NewBucketPublicAccessBlock(ctx, "recordings-public-access", &s3.BucketPublicAccessBlockArgs{
		Bucket:                bucket.ID(),
		BlockPublicAcls:       pulumi.Bool(true),
		BlockPublicPolicy:     pulumi.Bool(true),
		IgnorePublicAcls:      pulumi.Bool(true),
		RestrictPublicBuckets: pulumi.Bool(true),
	}, dependOn...)
	if err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketOwnershipControls(ctx, "recordings-ownership", &s3.BucketOwnershipControlsArgs{
		Bucket: bucket.ID(),
		Rule:   &s3.BucketOwnershipControlsRuleArgs{ObjectOwnership: pulumi.String("BucketOwnerEnforced")},
	}, dependOn...); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketServerSideEncryptionConfigurationV2(ctx, "recordings-encryption", &s3.BucketServerSideEncryptionConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketServerSideEncryptionConfigurationV2RuleArray{s3.BucketServerSideEncryptionConfigurationV2RuleArgs{
			ApplyServerSideEncryptionByDefault: &s3.BucketServerSideEncryptionConfigurationV2RuleApplyServerSideEncryptionByDefaultArgs{
				SseAlgorithm: pulumi.String(RecordingSSEAlgorithm),
			},
		}},
	}, dependOn...); err != nil {
		return nil, err
	}
	if _, err := s3.NewBucketLifecycleConfigurationV2(ctx, "recordings-lifecycle", &s3.BucketLifecycleConfigurationV2Args{
		Bucket: bucket.ID(),
		Rules: s3.BucketLifecycleConfigurationV2RuleArray{
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:         pulumi.String("expire-recordings"),
				Status:     pulumi.String("Enabled"),
				Filter:     &s3.BucketLifecycleConfigurationV2RuleFilterArgs{Prefix: pulumi.String(global.RecordingPrefix + "/")},
				Expiration: &s3.BucketLifecycleConfigurationV2RuleExpirationArgs{Days: pulumi.Int(rec.ExpiryDays)},
			},
			s3.BucketLifecycleConfigurationV2RuleArgs{
				Id:     pulumi.String("abort-incomplete-uploads"),
				Status: pulumi.String("Enabled"),
				Filter: &s3.BucketLifecycleConfigurationV2RuleFilterArgs{},
				AbortIncompleteMultipartUpload: &s3.BucketLifecycleConfigurationV2RuleAbortIncompleteMultipartUploadArgs{
					DaysAfterInitiation: pulumi.Int(args.Provisioning.AbortIncompleteUploadsDays),
				},
			},
		},
	}, dependOn...); err != nil {
		return nil, err
	}
	policy := pulumi.All(bucket.Arn, rec.DistributionArn).ApplyT(func(v []any) (string, error) {
		return RecordingBucketPolicy(v[0].(string), v[1].(string))
	}).(pulumi.StringOutput)
	// After the public access block: its BlockPublicPolicy judges this one.
	if _, err := s3.NewBucketPolicy(ctx, "recordings-policy", &s3.BucketPolicyArgs{
		Bucket: bucket.ID(),
		Policy: policy,
	}, append(opts, pulumi.DependsOn([]pulumi.Resource{block}))...); err != nil {
		return nil, err
	}
	return bucket, nil
}

// RecordingBucketPolicy lets the CDN's distribution, and nothing else
// outside the account, read the recordings (origin access control signs
// CloudFront's requests as the cloudfront.amazonaws.com service for that
// distribution), and refuses every request without TLS.
func RecordingBucketPolicy(bucketArn, distributionArn string) (string, error) {
	if bucketArn == "" || distributionArn == "" {
		return "", fmt.Errorf("the recording bucket's policy needs the bucket's and the distribution's ARN")
	}
	doc := map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{
			{
				"Sid": "CloudFrontReadsRecordings", "Effect": "Allow",
				"Principal": map[string]any{"Service": "cloudfront.amazonaws.com"},
				"Action":    "s3:GetObject",
				"Resource":  bucketArn + "/" + global.RecordingPrefix + "/*",
				"Condition": map[string]any{"StringEquals": map[string]any{"AWS:SourceArn": distributionArn}},
			},
			{
				"Sid": "TLSOnly", "Effect": "Deny",
				"Principal": "*",
				"Action":    "s3:*",
				"Resource":  []string{bucketArn, bucketArn + "/*"},
				"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
			},
		},
	}
	b, err := json.Marshal(doc)
	return string(b), err
}
