package zone

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ec2"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// LifecycleHookName names the termination hook the drain watcher completes.
const LifecycleHookName = "drain"

type fleet struct {
	groupName pulumi.StringOutput
}

func seconds(d time.Duration) int { return int(d / time.Second) }

func newFleet(ctx *pulumi.Context, name string, args *Args, targetGroups pulumi.StringArrayOutput, opts ...pulumi.ResourceOption) (*fleet, error) {
	if _, err := ssm.NewParameter(ctx, name+"-edge-config", &ssm.ParameterArgs{
		Name:        pulumi.String(args.ConfigParameter),
		Description: pulumi.String("zonecast edge environment for " + args.LoadDimension()),
		Type:        pulumi.String("SecureString"),
		Value:       pulumi.ToSecret(envFileOutput(args)).(pulumi.StringOutput),
	}, opts...); err != nil {
		return nil, err
	}

	userData, err := UserData(args)
	if err != nil {
		return nil, err
	}
	tags := pulumi.StringMap{
		"Name":          pulumi.String(args.AutoScalingGroupName),
		"zonecast:zone": pulumi.String(args.LoadDimension()),
	}
	lt, err := ec2.NewLaunchTemplate(ctx, name+"-launch-template", &ec2.LaunchTemplateArgs{
		Description:          pulumi.String("zonecast edge, " + args.LoadDimension()),
		ImageId:              args.ImageID,
		InstanceType:         pulumi.String(args.InstanceType),
		IamInstanceProfile:   &ec2.LaunchTemplateIamInstanceProfileArgs{Arn: args.InstanceProfileArn},
		VpcSecurityGroupIds:  pulumi.StringArray{args.SecurityGroupID},
		UserData:             pulumi.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		UpdateDefaultVersion: pulumi.Bool(true),
		MetadataOptions: &ec2.LaunchTemplateMetadataOptionsArgs{
			HttpEndpoint:            pulumi.String("enabled"),
			HttpTokens:              pulumi.String("required"), // IMDSv2 only
			HttpPutResponseHopLimit: pulumi.Int(1),
			InstanceMetadataTags:    pulumi.String("enabled"),
		},
		TagSpecifications: ec2.LaunchTemplateTagSpecificationArray{
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("instance"), Tags: tags},
			ec2.LaunchTemplateTagSpecificationArgs{ResourceType: pulumi.String("volume"), Tags: tags},
		},
	}, opts...)
	if err != nil {
		return nil, err
	}

	p := args.Provisioning
	warmup := seconds(p.InstanceWarmup)
	group, err := autoscaling.NewGroup(ctx, name+"-edges", &autoscaling.GroupArgs{
		Name: pulumi.String(args.AutoScalingGroupName),
		// Pinned to the zone: only the zone's private subnet.
		VpcZoneIdentifiers: pulumi.StringArray{args.PrivateSubnetID},
		MinSize:            pulumi.Int(args.MinSize),
		MaxSize:            pulumi.Int(args.MaxSize),
		LaunchTemplate: &autoscaling.GroupLaunchTemplateArgs{
			Id:      lt.ID(),
			Version: lt.LatestVersion.ApplyT(func(v int) string { return strconv.Itoa(v) }).(pulumi.StringOutput),
		},
		TargetGroupArns: targetGroups,
		// The load balancer's /readyz decides health, as for the accelerator.
		HealthCheckType:        pulumi.String("ELB"),
		HealthCheckGracePeriod: pulumi.Int(warmup),
		DefaultInstanceWarmup:  pulumi.Int(warmup),
		InitialLifecycleHooks: autoscaling.GroupInitialLifecycleHookArray{autoscaling.GroupInitialLifecycleHookArgs{
			Name:                pulumi.String(LifecycleHookName),
			LifecycleTransition: pulumi.String("autoscaling:EC2_INSTANCE_TERMINATING"),
			HeartbeatTimeout:    pulumi.Int(seconds(args.Timings.LifecycleHookTimeout)),
			DefaultResult:       pulumi.String("CONTINUE"),
		}},
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage: pulumi.Int(p.RefreshMinHealthyPercent),
				MaxHealthyPercentage: pulumi.Int(p.RefreshMaxHealthyPercent),
				InstanceWarmup:       pulumi.String(strconv.Itoa(warmup)),
				SkipMatching:         pulumi.Bool(true),
			},
		},
		// Nodes can take minutes to become ready; do not block `pulumi up`.
		WaitForCapacityTimeout: pulumi.String("0"),
		Tags: autoscaling.GroupTagArray{
			autoscaling.GroupTagArgs{Key: pulumi.String("zonecast:zone"), Value: pulumi.String(args.LoadDimension()), PropagateAtLaunch: pulumi.Bool(true)},
		},
	}, opts...)
	if err != nil {
		return nil, err
	}

	if _, err := autoscaling.NewPolicy(ctx, name+"-load", &autoscaling.PolicyArgs{
		AutoscalingGroupName:    group.Name,
		PolicyType:              pulumi.String("TargetTrackingScaling"),
		EstimatedInstanceWarmup: pulumi.Int(warmup),
		TargetTrackingConfiguration: &autoscaling.PolicyTargetTrackingConfigurationArgs{
			TargetValue: pulumi.Float64(p.ScalingTargetLoad),
			CustomizedMetricSpecification: &autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationArgs{
				Namespace:  pulumi.String(p.LoadMetricNamespace),
				MetricName: pulumi.String(p.LoadMetricName),
				Statistic:  pulumi.String("Average"),
				Unit:       pulumi.String("Percent"),
				MetricDimensions: autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimensionArray{
					autoscaling.PolicyTargetTrackingConfigurationCustomizedMetricSpecificationMetricDimensionArgs{
						Name:  pulumi.String(p.LoadMetricDimension),
						Value: pulumi.String(args.LoadDimension()),
					},
				},
			},
		},
	}, opts...); err != nil {
		return nil, err
	}
	return &fleet{groupName: group.Name}, nil
}
