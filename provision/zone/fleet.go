package zone

import (
	"encoding/base64"
	"strconv"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/autoscaling"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
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

func newFleet(ctx *pulumi.Context, name string, args *Args, nlb *loadBalancer, opts ...pulumi.ResourceOption) (*fleet, error) {
	if _, err := ssm.NewParameter(ctx, name+"-edge-config", &ssm.ParameterArgs{
		Name:        pulumi.String(args.ConfigParameter),
		Description: pulumi.String("zonecast edge environment for " + args.LoadDimension()),
		Type:        pulumi.String("SecureString"),
		// The stream list makes the file grow past the Standard tier's
		// 4 KB; Advanced holds 8 KB (EnvFile refuses more). It costs a few
		// cents a month, and a parameter can never move back to Standard
		// without being replaced, so it does not flip with the content.
		Tier:  pulumi.String("Advanced"),
		Value: pulumi.ToSecret(envFileOutput(args, nlb)).(pulumi.StringOutput),
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
		Description:          pulumi.String("zonecast edge " + args.Edge.Release.Version + ", " + args.LoadDimension()),
		ImageId:              args.ImageID,
		InstanceType:         pulumi.String(args.InstanceTypes[0]),
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

	p, t := args.Provisioning, args.Timings
	// A zone whose SRT target group has had an unhealthy target for a few
	// minutes fails a running instance refresh: a release whose nodes do
	// not become healthy stops at the first checkpoint.
	unhealthy, err := cloudwatch.NewMetricAlarm(ctx, name+"-unhealthy", &cloudwatch.MetricAlarmArgs{
		AlarmDescription:   pulumi.String("zonecast " + args.LoadDimension() + ": an SRT target is unhealthy (fails an instance refresh)"),
		Namespace:          pulumi.String("AWS/NetworkELB"),
		MetricName:         pulumi.String("UnHealthyHostCount"),
		Statistic:          pulumi.String("Maximum"),
		Period:             pulumi.Int(seconds(p.RollbackAlarmPeriod)),
		EvaluationPeriods:  pulumi.Int(p.RollbackAlarmPeriods),
		Threshold:          pulumi.Float64(1),
		ComparisonOperator: pulumi.String("GreaterThanOrEqualToThreshold"),
		TreatMissingData:   pulumi.String("notBreaching"),
		Dimensions: pulumi.StringMap{
			"LoadBalancer": nlb.arnSuffix,
			"TargetGroup":  nlb.srtArnSuffix,
		},
	}, opts...)
	if err != nil {
		return nil, err
	}

	var subnets pulumi.StringArray
	for _, s := range args.PrivateSubnetIDs {
		subnets = append(subnets, s)
	}
	var overrides autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArray
	for _, it := range args.InstanceTypes {
		overrides = append(overrides, autoscaling.GroupMixedInstancesPolicyLaunchTemplateOverrideArgs{InstanceType: pulumi.String(it)})
	}
	var checkpoints pulumi.IntArray
	for _, c := range p.RefreshCheckpoints {
		checkpoints = append(checkpoints, pulumi.Int(c))
	}
	group, err := autoscaling.NewGroup(ctx, name+"-edges", &autoscaling.GroupArgs{
		Name: pulumi.String(args.AutoScalingGroupName),
		// Pinned to the zone: only the zone's private subnets, all in its AZ.
		VpcZoneIdentifiers: subnets,
		MinSize:            pulumi.Int(args.MinSize),
		MaxSize:            pulumi.Int(args.MaxSize),
		// Every NVENC type the zone may run, in order: on-demand only, the
		// first type with capacity wins ("prioritized"), so a shortage of
		// one GPU type does not stall the zone.
		MixedInstancesPolicy: &autoscaling.GroupMixedInstancesPolicyArgs{
			InstancesDistribution: &autoscaling.GroupMixedInstancesPolicyInstancesDistributionArgs{
				OnDemandAllocationStrategy:          pulumi.String("prioritized"),
				OnDemandBaseCapacity:                pulumi.Int(0),
				OnDemandPercentageAboveBaseCapacity: pulumi.Int(100),
			},
			LaunchTemplate: &autoscaling.GroupMixedInstancesPolicyLaunchTemplateArgs{
				LaunchTemplateSpecification: &autoscaling.GroupMixedInstancesPolicyLaunchTemplateLaunchTemplateSpecificationArgs{
					LaunchTemplateId: lt.ID(),
					Version:          lt.LatestVersion.ApplyT(func(v int) string { return strconv.Itoa(v) }).(pulumi.StringOutput),
				},
				Overrides: overrides,
			},
		},
		// Capacity rebalancing replaces Spot instances at risk of
		// interruption; the fleet is all on-demand (a live ingest cannot
		// be cut at two minutes' notice), so there is nothing for it to do
		// and it stays off.
		CapacityRebalance: pulumi.Bool(false),
		TargetGroupArns:   nlb.targetGroupArns,
		// The instance's own health, not the load balancer's /readyz,
		// which is readiness (see failover.Provisioning.GroupHealthCheck).
		HealthCheckType:        pulumi.String(p.GroupHealthCheck),
		HealthCheckGracePeriod: pulumi.Int(seconds(p.BootGracePeriod)),
		DefaultInstanceWarmup:  pulumi.Int(seconds(p.InstanceWarmup)),
		// `pulumi up` of a new zone fails unless its minimum of nodes
		// becomes healthy behind the load balancer in time.
		MinElbCapacity:         pulumi.Int(args.MinSize),
		WaitForCapacityTimeout: pulumi.String(strconv.Itoa(seconds(p.CapacityWaitTimeout)) + "s"),
		// A new launch template version (a new release, AMI or setting)
		// rolls out replacements first (100–200 % healthy), pausing at
		// each checkpoint; the unhealthy alarm fails the refresh. AWS's
		// auto-rollback stays off: the provider points the group at the
		// new version before it starts the refresh, so a rollback would
		// return to the new version (hashicorp/terraform-provider-aws#34189).
		// Rolling back is pinning the previous release and `pulumi up`.
		InstanceRefresh: &autoscaling.GroupInstanceRefreshArgs{
			Strategy: pulumi.String("Rolling"),
			Preferences: &autoscaling.GroupInstanceRefreshPreferencesArgs{
				MinHealthyPercentage:  pulumi.Int(p.RefreshMinHealthyPercent),
				MaxHealthyPercentage:  pulumi.Int(p.RefreshMaxHealthyPercent),
				InstanceWarmup:        pulumi.String(strconv.Itoa(seconds(p.InstanceWarmup))),
				SkipMatching:          pulumi.Bool(true),
				CheckpointPercentages: checkpoints,
				CheckpointDelay:       pulumi.String(strconv.Itoa(seconds(p.RefreshCheckpointDelay))),
				AutoRollback:          pulumi.Bool(false),
				AlarmSpecification: &autoscaling.GroupInstanceRefreshPreferencesAlarmSpecificationArgs{
					Alarms: pulumi.StringArray{unhealthy.Name},
				},
			},
		},
		Tags: autoscaling.GroupTagArray{
			autoscaling.GroupTagArgs{Key: pulumi.String("zonecast:zone"), Value: pulumi.String(args.LoadDimension()), PropagateAtLaunch: pulumi.Bool(true)},
		},
	}, append(opts, pulumi.DependsOn(args.BootDependencies))...)
	if err != nil {
		return nil, err
	}

	// Its own resource, not the group's initialLifecycleHooks, which AWS
	// reads only when the group is created: a changed timeout would never
	// reach an existing group.
	if _, err := autoscaling.NewLifecycleHook(ctx, name+"-drain", &autoscaling.LifecycleHookArgs{
		Name:                 pulumi.String(LifecycleHookName),
		AutoscalingGroupName: group.Name,
		LifecycleTransition:  pulumi.String("autoscaling:EC2_INSTANCE_TERMINATING"),
		HeartbeatTimeout:     pulumi.Int(seconds(t.LifecycleHookTimeout)),
		DefaultResult:        pulumi.String("CONTINUE"),
	}, opts...); err != nil {
		return nil, err
	}

	if _, err := autoscaling.NewPolicy(ctx, name+"-load", &autoscaling.PolicyArgs{
		AutoscalingGroupName:    group.Name,
		PolicyType:              pulumi.String("TargetTrackingScaling"),
		EstimatedInstanceWarmup: pulumi.Int(seconds(p.InstanceWarmup)),
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
