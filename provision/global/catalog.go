package global

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// DefaultCatalogTable is the stream catalog's table name, the edge's
// contract default (catalog.dynamodb.table).
const DefaultCatalogTable = "zonecast-streams"

// CatalogKey is the table's partition key: one item per stream, by name
// (dataplane/internal/catalog).
const CatalogKey = "name"

// DynamoDB's own rule for table names.
var tableName = regexp.MustCompile(`^[A-Za-z0-9_.-]{3,255}$`)

// awsRegion is an AWS region name (eu-west-1, ap-southeast-1, us-gov-west-1).
var awsRegion = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]$`)

// ValidateRegions checks the global stack's list of regions with a region
// stack: the catalog's replicas and the recording buckets follow it.
func ValidateRegions(regions []string) error {
	if len(regions) == 0 {
		return fmt.Errorf("zonecast:regions is required: the regions that have a region stack " +
			"(the stream catalog has a replica in each, and /vod/* reads their recording buckets)")
	}
	seen := map[string]bool{}
	for _, r := range regions {
		if !awsRegion.MatchString(r) {
			return fmt.Errorf("zonecast:regions: %q is not an AWS region name", r)
		}
		if seen[r] {
			return fmt.Errorf("zonecast:regions lists %s twice", r)
		}
		seen[r] = true
	}
	return nil
}

// CatalogTableArn is the ARN of the table's replica in region (a global
// table's replicas share its name).
func CatalogTableArn(partition, region, account, table string) string {
	return fmt.Sprintf("arn:%s:dynamodb:%s:%s:table/%s", partition, region, account, table)
}

// CatalogWriterActions are what the admin path needs: the control API's
// create, update, rotate and delete are conditional writes, and it reads
// back what it wrote.
var CatalogWriterActions = []string{
	"dynamodb:ConditionCheckItem", "dynamodb:DeleteItem", "dynamodb:DescribeTable",
	"dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:Query", "dynamodb:Scan", "dynamodb:UpdateItem",
}

type catalog struct {
	tableName      pulumi.StringOutput
	regions        []string
	writerPolicyID pulumi.StringOutput
}

// newCatalog creates the stream catalog: a DynamoDB global table whose
// home is the first listed region, a replica in every other (a region
// stack's nodes read their own region's copy), each with point-in-time
// recovery and deletion protection, all encrypted with DynamoDB's KMS key
// (aws/dynamodb), and the writer policy of the admin path.
func newCatalog(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*catalog, error) {
	if err := ValidateRegions(args.Regions); err != nil {
		return nil, err
	}
	name := args.CatalogTable
	if name == "" {
		name = DefaultCatalogTable
	}
	if !tableName.MatchString(name) {
		return nil, fmt.Errorf("zonecast:catalogTable %q must be 3–255 of A-Z a-z 0-9 _ . - (DynamoDB's rule)", name)
	}
	if args.Partition == "" || args.AccountID == "" {
		return nil, fmt.Errorf("global: the partition and account are required for the catalog's writer policy")
	}
	providers := map[string]pulumi.ProviderResource{}
	for _, r := range args.Regions {
		// One provider per region: a replica is created in its own region.
		p, err := aws.NewProvider(ctx, "region-"+r, &aws.ProviderArgs{Region: pulumi.String(r)}, opts...)
		if err != nil {
			return nil, err
		}
		providers[r] = p
	}
	home := args.Regions[0]
	tags := pulumi.StringMap{"zonecast:purpose": pulumi.String("stream catalog")}
	table, err := dynamodb.NewTable(ctx, "catalog", &dynamodb.TableArgs{
		Name:        pulumi.String(name),
		BillingMode: pulumi.String("PAY_PER_REQUEST"),
		HashKey:     pulumi.String(CatalogKey),
		Attributes:  dynamodb.TableAttributeArray{dynamodb.TableAttributeArgs{Name: pulumi.String(CatalogKey), Type: pulumi.String("S")}},
		// A global table replicates through the table's stream.
		StreamEnabled:             pulumi.Bool(true),
		StreamViewType:            pulumi.String("NEW_AND_OLD_IMAGES"),
		PointInTimeRecovery:       &dynamodb.TablePointInTimeRecoveryArgs{Enabled: pulumi.Bool(true)},
		DeletionProtectionEnabled: pulumi.Bool(true),
		// Enabled without a key ARN: DynamoDB's AWS-managed KMS key, which
		// every replica region has, so no key per region to keep.
		ServerSideEncryption: &dynamodb.TableServerSideEncryptionArgs{Enabled: pulumi.Bool(true)},
		Tags:                 tags,
	}, append(slices.Clone(opts), pulumi.Provider(providers[home]),
		// The replicas are their own resources (below), not this list.
		pulumi.IgnoreChanges([]string{"replicas"}))...)
	if err != nil {
		return nil, err
	}
	for _, r := range args.Regions[1:] {
		if _, err := dynamodb.NewTableReplica(ctx, "catalog-"+r, &dynamodb.TableReplicaArgs{
			GlobalTableArn:            table.Arn,
			PointInTimeRecovery:       pulumi.Bool(true),
			DeletionProtectionEnabled: pulumi.Bool(true),
			Tags:                      tags,
		}, append(slices.Clone(opts), pulumi.Provider(providers[r]))...); err != nil {
			return nil, err
		}
	}

	// The admin path: whoever may change the catalog (the operator's
	// role, or a region's nodes when their control API is the admin path)
	// gets this policy attached; the nodes' own role only reads.
	var arns []string
	for _, r := range args.Regions {
		arns = append(arns, CatalogTableArn(args.Partition, r, args.AccountID, name))
	}
	doc, err := json.Marshal(map[string]any{
		"Version": "2012-10-17",
		"Statement": []map[string]any{{
			"Sid": "WriteStreamCatalog", "Effect": "Allow",
			"Action": CatalogWriterActions, "Resource": arns,
		}},
	})
	if err != nil {
		return nil, err
	}
	writer, err := iam.NewPolicy(ctx, "catalog-writer", &iam.PolicyArgs{
		Description: pulumi.String("zonecast: write the stream catalog (" + name + ") in every region; the admin path's"),
		Policy:      pulumi.String(string(doc)),
	}, opts...)
	if err != nil {
		return nil, err
	}
	return &catalog{tableName: table.Name, regions: args.Regions, writerPolicyID: writer.Arn}, nil
}
