package fakeaws

import (
	"context"
	"fmt"
	"strings"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// FakeAMI is the AMI id every AMI lookup answers.
const FakeAMI = "ami-0fa4e5c0ffee00001"

// Stand-ins for what AWS owns: CloudFront's origin-facing prefix list and
// the security group Global Accelerator creates in a VPC once an endpoint
// there preserves client addresses.
const (
	CloudFrontPrefixListName = "com.amazonaws.global.cloudfront.origin-facing"
	FakeCloudFrontPrefixList = "pl-0fa4ec10df0f0001"
	AcceleratorGroupName     = "GlobalAccelerator"
	FakeAcceleratorGroup     = "sg-0fa4e6a0ccee0001"
)

// Invoke answers the data sources zonecast's program reads. Anything else is
// an error naming the token, so a new lookup in the program fails loudly
// here instead of previewing with made-up data.
func (p *Provider) Invoke(_ context.Context, req plugin.InvokeRequest) (plugin.InvokeResponse, error) {
	out, err := InvokeData(string(req.Tok), req.Args, p.Region())
	if err != nil {
		return plugin.InvokeResponse{}, err
	}
	return plugin.InvokeResponse{Properties: resource.NewPropertyMapFromMap(out)}, nil
}

// InvokeData answers one data source in region (the unit tests' mocks use
// it too).
func InvokeData(tok string, args resource.PropertyMap, region string) (map[string]any, error) {
	var out map[string]any
	switch tok {
	case "aws:index/getAvailabilityZones:getAvailabilityZones":
		var names, ids []any
		for i, l := range []string{"a", "b", "c"} {
			names = append(names, region+l)
			ids = append(ids, fmt.Sprintf("%s-az%d", region[:3], i+1))
		}
		out = map[string]any{"id": region, "names": names, "zoneIds": ids, "groupNames": names}
	case "aws:ssm/getParameter:getParameter":
		name := args["name"]
		if !name.IsString() || !strings.Contains(name.StringValue(), "ami") {
			return nil, fmt.Errorf("fakeaws: SSM parameter %v not found (only AMI parameters are stood in for)", name)
		}
		out = map[string]any{
			"id": name.StringValue(), "name": name.StringValue(), "value": FakeAMI, "insecureValue": FakeAMI,
			"type": "String", "version": 1, "withDecryption": true,
			"arn": fmt.Sprintf("arn:aws:ssm:%s::parameter%s", region, name.StringValue()),
		}
	case "aws:ec2/getManagedPrefixList:getManagedPrefixList":
		if name := args["name"]; !name.IsString() || name.StringValue() != CloudFrontPrefixListName {
			return nil, fmt.Errorf("fakeaws: managed prefix list %v not found (only %s is stood in for)", name, CloudFrontPrefixListName)
		}
		out = map[string]any{
			"id": FakeCloudFrontPrefixList, "name": CloudFrontPrefixListName, "addressFamily": "IPv4",
			"maxEntries": 55, "ownerId": "AWS", "version": 1, "entries": []any{},
			"arn": fmt.Sprintf("arn:aws:ec2:%s:aws:prefix-list/%s", region, FakeCloudFrontPrefixList),
		}
	case "aws:ec2/getSecurityGroup:getSecurityGroup":
		if !filters(args, "group-name", AcceleratorGroupName) {
			return nil, fmt.Errorf("fakeaws: security group %v not found (only Global Accelerator's is stood in for)", args)
		}
		vpc := ""
		if v := args["vpcId"]; v.IsString() {
			vpc = v.StringValue()
		}
		out = map[string]any{
			"id": FakeAcceleratorGroup, "name": AcceleratorGroupName, "vpcId": vpc,
			"description": "Global Accelerator managed security group", "tags": map[string]any{},
			"arn": fmt.Sprintf("arn:aws:ec2:%s:%s:security-group/%s", region, AccountID, FakeAcceleratorGroup),
		}
	case "aws:ec2/getAmi:getAmi":
		out = map[string]any{"id": FakeAMI, "imageId": FakeAMI, "architecture": "x86_64", "name": "fake-gpu-ami"}
	case "aws:index/getCallerIdentity:getCallerIdentity":
		out = map[string]any{
			"id": AccountID, "accountId": AccountID, "userId": "AIDAFAKEPREVIEWUSER",
			"arn": "arn:aws:iam::" + AccountID + ":user/zonecast-preview",
		}
	case "aws:index/getRegion:getRegion":
		out = map[string]any{"id": region, "name": region, "region": region, "endpoint": "ec2." + region + ".amazonaws.com", "description": region}
	case "aws:index/getPartition:getPartition":
		out = map[string]any{"id": "aws", "partition": "aws", "dnsSuffix": "amazonaws.com", "reverseDnsPrefix": "com.amazonaws"}
	default:
		return nil, fmt.Errorf("fakeaws: invoke %s is not stood in for (add it to provision/internal/fakeaws)", tok)
	}
	return out, nil
}

// filters reports whether a data source's filters ask for name = value.
func filters(args resource.PropertyMap, name, value string) bool {
	f := args["filters"]
	if !f.IsArray() {
		return false
	}
	for _, e := range f.ArrayValue() {
		if !e.IsObject() {
			continue
		}
		o := e.ObjectValue()
		if n := o["name"]; !n.IsString() || n.StringValue() != name {
			continue
		}
		if vs := o["values"]; vs.IsArray() {
			for _, v := range vs.ArrayValue() {
				if v.IsString() && v.StringValue() == value {
					return true
				}
			}
		}
	}
	return false
}
