// Package instancerole is the InstanceRole component: the least-privilege
// IAM role of edge nodes. An edge node may publish its load metric (one
// CloudWatch namespace), read its configuration (SSM parameters under the
// stack's path), finish its own termination lifecycle action after
// draining (its zone's auto-scaling groups), read the stream catalog in its
// own region's replica, and write recordings under its region's bucket
// prefix. Nothing else; no wildcard actions. Writing the catalog is the
// admin path's (the global stack's catalog-writer policy). Fast fencing's
// permissions are a second policy (fencing.go), rendered once the target
// groups and endpoint group it names exist.
package instancerole

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Type is the component's Pulumi type token.
const Type = "zonecast:provision:InstanceRole"

// Args configures the role.
type Args struct {
	Partition string // "aws", "aws-cn", …
	Region    string
	AccountID string
	// MetricNamespace is the only CloudWatch namespace the nodes may write.
	MetricNamespace string
	// ConfigPathPrefix is the SSM parameter path the nodes may read, for
	// example "/zonecast/eu-west-1/" (must start and end with "/").
	ConfigPathPrefix string
	// AutoScalingGroups are the names of the groups whose termination
	// lifecycle actions the nodes may complete.
	AutoScalingGroups []string
	// CatalogTable is the stream catalog's table, read (never written) in
	// Region's replica only; CatalogReplicas are the regions that have one,
	// kept on the role's tags for the policy pack. Empty: no catalog.
	CatalogTable    string
	CatalogReplicas []string
	// RecordingBucket is the region's recording bucket, written under
	// RecordingPrefix only. Empty: no recording.
	RecordingBucket string
	RecordingPrefix string
}

// Tags on the role that say which catalog its nodes read, for the policy
// pack's catalog-replica rule (policies/pack/rules).
const (
	TagRegion          = "zonecast:region"
	TagCatalogTable    = "zonecast:catalogTable"
	TagCatalogReplicas = "zonecast:catalogReplicas" // space-separated regions
)

// CatalogReadActions are what a node's catalog needs: a strongly
// consistent GetItem on a miss, Scan and Query for the listing.
var CatalogReadActions = []string{"dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan"}

// RecordingActions are what the recorder does with its bucket's objects:
// uploads (single and multipart, aborted when a node gives up), and reads
// of the index and manifests it keeps beside the media.
var RecordingActions = []string{"s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"}

// InstanceRole is the component.
type InstanceRole struct {
	pulumi.ResourceState

	RoleArn            pulumi.StringOutput
	RoleName           pulumi.StringOutput
	InstanceProfileArn pulumi.StringOutput
	// Policy is the role's inline policy document (JSON), for review.
	Policy pulumi.StringOutput
	// Grants are the resources that give the role its permissions (its
	// inline policy), for what must not start before the role can act:
	// named directly, since depending on the component waits only for the
	// children registered by then.
	Grants []pulumi.Resource
}

// Statement is one IAM policy statement.
type Statement struct {
	Sid       string         `json:"Sid"`
	Effect    string         `json:"Effect"`
	Action    []string       `json:"Action"`
	Resource  []string       `json:"Resource"`
	Condition map[string]any `json:"Condition,omitempty"`
}

// Document is an IAM policy document.
type Document struct {
	Version   string      `json:"Version"`
	Statement []Statement `json:"Statement"`
}

// PolicyDocument builds the role's permissions from args.
func PolicyDocument(args Args) (Document, error) {
	if args.Partition == "" || args.Region == "" || args.AccountID == "" {
		return Document{}, fmt.Errorf("instancerole: partition, region and account are required")
	}
	if !strings.HasPrefix(args.ConfigPathPrefix, "/") || !strings.HasSuffix(args.ConfigPathPrefix, "/") {
		return Document{}, fmt.Errorf("instancerole: config path %q must start and end with /", args.ConfigPathPrefix)
	}
	if args.MetricNamespace == "" || len(args.AutoScalingGroups) == 0 {
		return Document{}, fmt.Errorf("instancerole: metric namespace and auto-scaling groups are required")
	}
	arn := func(service, resource string) string {
		return fmt.Sprintf("arn:%s:%s:%s:%s:%s", args.Partition, service, args.Region, args.AccountID, resource)
	}
	var groups []string
	for _, g := range args.AutoScalingGroups {
		groups = append(groups, arn("autoscaling", "autoScalingGroup:*:autoScalingGroupName/"+g))
	}
	statements := []Statement{
		{
			// PutMetricData has no resource-level permissions; the
			// namespace condition is how AWS scopes it.
			Sid: "PublishLoadMetric", Effect: "Allow",
			Action:    []string{"cloudwatch:PutMetricData"},
			Resource:  []string{"*"},
			Condition: map[string]any{"StringEquals": map[string]string{"cloudwatch:namespace": args.MetricNamespace}},
		},
		{
			Sid: "ReadEdgeConfig", Effect: "Allow",
			Action:   []string{"ssm:GetParameter"},
			Resource: []string{arn("ssm", "parameter"+args.ConfigPathPrefix+"*")},
		},
		{
			Sid: "FinishDrain", Effect: "Allow",
			Action:   []string{"autoscaling:CompleteLifecycleAction"},
			Resource: groups,
		},
	}
	if args.CatalogTable != "" {
		statements = append(statements, Statement{
			Sid: "ReadStreamCatalog", Effect: "Allow",
			Action:   CatalogReadActions,
			Resource: []string{arn("dynamodb", "table/"+args.CatalogTable)},
		})
	}
	if args.RecordingBucket != "" {
		if args.RecordingPrefix == "" || strings.Contains(args.RecordingPrefix, "*") {
			return Document{}, fmt.Errorf("instancerole: recording prefix %q must be set and hold no wildcard", args.RecordingPrefix)
		}
		bucket := fmt.Sprintf("arn:%s:s3:::%s", args.Partition, args.RecordingBucket)
		statements = append(statements, Statement{
			Sid: "WriteRecordings", Effect: "Allow",
			Action:   RecordingActions,
			Resource: []string{bucket + "/" + args.RecordingPrefix + "/*"},
		}, Statement{
			Sid: "ListRecordings", Effect: "Allow",
			Action:   []string{"s3:ListBucket"},
			Resource: []string{bucket},
			// Listing is scoped by the prefix the request asks for.
			Condition: map[string]any{"StringLike": map[string]any{"s3:prefix": []string{args.RecordingPrefix + "/*"}}},
		})
	}
	return Document{Version: "2012-10-17", Statement: statements}, nil
}

const assumeRoleEC2 = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}`

// New creates the role, its inline policy and its instance profile.
func New(ctx *pulumi.Context, name string, args Args, opts ...pulumi.ResourceOption) (*InstanceRole, error) {
	doc, err := PolicyDocument(args)
	if err != nil {
		return nil, err
	}
	policy, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	r := &InstanceRole{}
	if err := ctx.RegisterComponentResource(Type, name, r, opts...); err != nil {
		return nil, err
	}
	child := pulumi.Parent(r)
	tags := pulumi.StringMap{TagRegion: pulumi.String(args.Region)}
	if args.CatalogTable != "" {
		tags[TagCatalogTable] = pulumi.String(args.CatalogTable)
		tags[TagCatalogReplicas] = pulumi.String(strings.Join(args.CatalogReplicas, " "))
	}
	role, err := iam.NewRole(ctx, name, &iam.RoleArgs{
		Description:      pulumi.String("zonecast edge nodes"),
		AssumeRolePolicy: pulumi.String(assumeRoleEC2),
		Tags:             tags,
	}, child)
	if err != nil {
		return nil, err
	}
	grant, err := iam.NewRolePolicy(ctx, name+"-policy", &iam.RolePolicyArgs{
		Role:   role.Name,
		Policy: pulumi.String(string(policy)),
	}, child)
	if err != nil {
		return nil, err
	}
	r.Grants = append(r.Grants, grant)
	profile, err := iam.NewInstanceProfile(ctx, name+"-profile", &iam.InstanceProfileArgs{Role: role.Name}, child)
	if err != nil {
		return nil, err
	}
	r.RoleArn = role.Arn
	r.RoleName = role.Name
	r.InstanceProfileArn = profile.Arn
	r.Policy = pulumi.String(string(policy)).ToStringOutput()
	if err := ctx.RegisterResourceOutputs(r, pulumi.Map{
		"roleArn":            r.RoleArn,
		"instanceProfileArn": r.InstanceProfileArn,
		"policy":             r.Policy,
	}); err != nil {
		return nil, err
	}
	return r, nil
}
