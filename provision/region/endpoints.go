package region

import (
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/globalaccelerator"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/ports"
)

// Listeners are the global stack's accelerator listener ARNs.
type Listeners struct {
	SRT, HTTPS, HTTP3 pulumi.StringInput
}

// srtEndpointGroup is the SRT listener's endpoint group's index in
// newEndpointGroups' result: the one fencing zeroes a lost zone's weight in.
const srtEndpointGroup = 0

// endpointGroupSpec pairs an accelerator listener with its port.
type endpointGroupSpec struct {
	suffix string
	arn    pulumi.StringInput
	port   ports.Port
}

func (l Listeners) specs() []endpointGroupSpec {
	return []endpointGroupSpec{
		{"srt", l.SRT, ports.SRT},
		{"https", l.HTTPS, ports.HTTPS},
		{"http3", l.HTTP3, ports.HTTP3},
	}
}

// newEndpointGroups puts this region on every accelerator listener, with
// every zone's NLB as an endpoint at the same weight. The accelerator judges
// NLB endpoints by the NLBs' own target health; the group's health-check
// settings (policies/failover's GA timings) only matter for EC2/EIP
// endpoints but are set so that a later switch keeps the policy's timings.
func newEndpointGroups(ctx *pulumi.Context, args *Args, nlbs []pulumi.StringOutput, opts ...pulumi.ResourceOption) ([]*globalaccelerator.EndpointGroup, error) {
	var groups []*globalaccelerator.EndpointGroup
	for _, l := range args.Listeners.specs() {
		var endpoints globalaccelerator.EndpointGroupEndpointConfigurationArray
		for _, arn := range nlbs {
			endpoints = append(endpoints, globalaccelerator.EndpointGroupEndpointConfigurationArgs{
				EndpointId:                  arn,
				Weight:                      pulumi.Int(args.Provisioning.EndpointWeight),
				ClientIpPreservationEnabled: pulumi.Bool(true),
			})
		}
		g, err := globalaccelerator.NewEndpointGroup(ctx, "endpoints-"+l.suffix, &globalaccelerator.EndpointGroupArgs{
			ListenerArn:                l.arn,
			EndpointGroupRegion:        pulumi.String(args.Region),
			TrafficDialPercentage:      pulumi.Float64(args.Provisioning.TrafficDialPercent),
			HealthCheckIntervalSeconds: pulumi.Int(int(args.Timings.GAHealthCheckInterval / time.Second)),
			ThresholdCount:             pulumi.Int(args.Timings.GAThreshold),
			HealthCheckProtocol:        pulumi.String("HTTPS"),
			HealthCheckPort:            pulumi.Int(ports.HTTPS.Number),
			HealthCheckPath:            pulumi.String(args.Timings.NLBHealthCheckPath),
			EndpointConfigurations:     endpoints,
		}, opts...)
		if err != nil {
			return nil, err
		}
		groups = append(groups, g)
	}
	return groups, nil
}
