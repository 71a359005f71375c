package instancerole

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// Fast fencing's actions. Deregistering targets and changing endpoint
// weights take the target group's or the endpoint group's ARN as a
// resource; DescribeTargetHealth has no resource-level permissions in
// IAM (only "*"), and only reads.
const (
	DeregisterTargetsAction     = "elasticloadbalancing:DeregisterTargets"
	DescribeTargetHealthAction  = "elasticloadbalancing:DescribeTargetHealth"
	DescribeEndpointGroupAction = "globalaccelerator:DescribeEndpointGroup"
	UpdateEndpointGroupAction   = "globalaccelerator:UpdateEndpointGroup"
)

// FencingArgs names what a region's nodes may fence: every zone's target
// groups in the region, and the region's endpoint groups.
type FencingArgs struct {
	Partition, Region string
	TargetGroups      []string
	EndpointGroups    []string
}

// FencingDocument is the policy that lets a node fence a dead node of its
// region (DeregisterTargets on the region's zonecast target groups, named
// one by one) and a lost zone (the weight in the region's endpoint groups,
// named one by one). Global Accelerator's ARNs carry no region (its API
// lives in us-west-2 whatever the endpoints' region), so naming the
// region's own endpoint groups is the only way to keep a node off another
// region's.
func FencingDocument(a FencingArgs) (Document, error) {
	if a.Partition == "" || a.Region == "" || len(a.TargetGroups) == 0 || len(a.EndpointGroups) == 0 {
		return Document{}, fmt.Errorf("instancerole: fencing needs the partition, region, target groups and endpoint groups")
	}
	tgPrefix := fmt.Sprintf("arn:%s:elasticloadbalancing:%s:", a.Partition, a.Region)
	for _, arn := range a.TargetGroups {
		if !strings.HasPrefix(arn, tgPrefix) || !strings.Contains(arn, ":targetgroup/") || strings.Contains(arn, "*") {
			return Document{}, fmt.Errorf("instancerole: %q is not a target group of %s", arn, a.Region)
		}
	}
	egPrefix := fmt.Sprintf("arn:%s:globalaccelerator::", a.Partition)
	for _, arn := range a.EndpointGroups {
		if !strings.HasPrefix(arn, egPrefix) || !strings.Contains(arn, "/endpoint-group/") || strings.Contains(arn, "*") {
			return Document{}, fmt.Errorf("instancerole: %q is not an accelerator endpoint group", arn)
		}
	}
	return Document{Version: "2012-10-17", Statement: []Statement{
		{
			Sid: "FenceDeadNode", Effect: "Allow",
			Action:   []string{DeregisterTargetsAction},
			Resource: a.TargetGroups,
		},
		{
			// No resource-level permissions exist for it; read only.
			Sid: "ReadTargetHealth", Effect: "Allow",
			Action:   []string{DescribeTargetHealthAction},
			Resource: []string{"*"},
		},
		{
			// Read-modify-write of the endpoint weights.
			Sid: "FenceLostZone", Effect: "Allow",
			Action:   []string{DescribeEndpointGroupAction, UpdateEndpointGroupAction},
			Resource: a.EndpointGroups,
		},
	}}, nil
}

// NewFencingPolicy attaches FencingDocument to the nodes' role, once the
// target groups and endpoint groups it names exist (the policy is then
// rendered from their ARNs).
func NewFencingPolicy(ctx *pulumi.Context, name string, role pulumi.StringInput, partition, region string,
	targetGroups, endpointGroups pulumi.StringArrayInput, opts ...pulumi.ResourceOption) (*iam.RolePolicy, error) {
	policy := pulumi.All(targetGroups, endpointGroups).ApplyT(func(v []any) (string, error) {
		doc, err := FencingDocument(FencingArgs{
			Partition: partition, Region: region,
			TargetGroups: v[0].([]string), EndpointGroups: v[1].([]string),
		})
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(doc)
		return string(b), err
	}).(pulumi.StringOutput)
	return iam.NewRolePolicy(ctx, name, &iam.RolePolicyArgs{Role: role, Policy: policy}, opts...)
}
