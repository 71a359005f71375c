package zone

import (
	"strconv"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lb"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
)

// Listener is one NLB listener and its target group.
type Listener struct {
	Suffix   string
	Port     int
	Protocol string // NLB protocol: UDP, TCP or TCP_UDP
}

// Listeners derives the NLB's listeners from policies/ports: every public
// port, with TCP and UDP on the same number merged into one TCP_UDP
// listener (HTTPS and HTTP/3 share 443).
func Listeners() []Listener {
	var out []Listener
	index := map[int]int{}
	for _, p := range ports.PublicPorts() {
		proto := strings.ToUpper(p.Protocol)
		if i, ok := index[p.Number]; ok {
			if out[i].Protocol != proto {
				out[i].Protocol = "TCP_UDP"
			}
			continue
		}
		index[p.Number] = len(out)
		suffix := "srt"
		if p.Number != ports.SRT.Number {
			suffix = "https"
		}
		out = append(out, Listener{Suffix: suffix, Port: p.Number, Protocol: proto})
	}
	return out
}

// HealthCheck is the target groups' health check, from policies/failover.
// NLB UDP target groups cannot be checked over UDP: the check is HTTPS on
// the edge's delivery port, path /readyz, which is readiness — may this
// node be sent new ingests? It fails at once when the node drains and
// once it has not reached Redis for the policy's RedisUnreadyAfter (it
// would refuse new ingests); never for transcode capacity or a missing
// encoder (streams go source-only). An unhealthy node's flows are cut by
// the NLB, so its broadcasters reconnect to a ready node; when every node
// of a zone is unhealthy (the zone's Redis is down) the NLB fails open and
// keeps them. The auto-scaling group does not act on this check
// (failover.Provisioning.GroupHealthCheck).
func HealthCheck(t failover.Timings) *lb.TargetGroupHealthCheckArgs {
	interval := int(t.NLBHealthCheckInterval / time.Second)
	return &lb.TargetGroupHealthCheckArgs{
		Enabled:            pulumi.Bool(true),
		Protocol:           pulumi.String("HTTPS"),
		Port:               pulumi.String(strconv.Itoa(ports.HTTPS.Number)),
		Path:               pulumi.String(t.NLBHealthCheckPath),
		Matcher:            pulumi.String("200"),
		Interval:           pulumi.Int(interval),
		Timeout:            pulumi.Int(max(2, interval-1)), // must stay below the interval
		HealthyThreshold:   pulumi.Int(t.NLBHealthyThreshold),
		UnhealthyThreshold: pulumi.Int(t.NLBUnhealthyThreshold),
	}
}

// DeregistrationDelay is how long a listener's target group keeps a
// deregistered node's flows. SRT: failover.Fencing.SRTDeregistrationDelay
// (the drain's: cutting a fenced node's flows at once gains nothing and
// would cut every drained broadcaster). HTTPS and HTTP/3: the drain's
// delay in any case (poll + drain + exit,
// failover.Provisioning.DeregistrationDelay). Viewers reach the nodes only
// through the CDN, whose origin group already retries a request a dead
// node does not answer (OriginResponseTimeout) on the other origin;
// fencing still stops new connections to the node at once, and the delay
// lets a draining node finish what it is sending, and keeps the
// termination hook's timing (the group runs the hook only once every
// target group has let the node go).
func DeregistrationDelay(l Listener, args *Args) time.Duration {
	if l.Port == ports.SRT.Number {
		return args.Fencing.SRTDeregistrationDelay(*args.Provisioning, *args.Timings)
	}
	return args.Provisioning.DeregistrationDelay(*args.Timings)
}

type loadBalancer struct {
	arn, dnsName    pulumi.StringOutput
	targetGroupArns pulumi.StringArrayOutput
	// arnSuffix and srtArnSuffix are the CloudWatch dimensions of the
	// load balancer and its SRT target group.
	arnSuffix, srtArnSuffix pulumi.StringOutput
}

func newLoadBalancer(ctx *pulumi.Context, name string, args *Args, opts ...pulumi.ResourceOption) (*loadBalancer, error) {
	nlb, err := lb.NewLoadBalancer(ctx, name+"-nlb", &lb.LoadBalancerArgs{
		LoadBalancerType: pulumi.String("network"),
		Internal:         pulumi.Bool(false),
		IpAddressType:    pulumi.String("ipv4"),
		// Pinned to the zone: one subnet, in the zone's AZ. The twin zone
		// has its own NLB; the accelerator chooses between them.
		Subnets:                      pulumi.StringArray{args.PublicSubnetID},
		EnableCrossZoneLoadBalancing: pulumi.Bool(false),
		// Security groups can only be given when an NLB is created, and
		// Global Accelerator preserves client addresses only for NLBs that
		// have them. The group (the region's) admits SRT only from the
		// accelerator and HTTPS only from CloudFront.
		SecurityGroups: pulumi.StringArray{args.LoadBalancerSecurityGroupID},
		Tags:           pulumi.StringMap{"zonecast:zone": pulumi.String(args.LoadDimension())},
	}, opts...)
	if err != nil {
		return nil, err
	}
	out := &loadBalancer{arn: nlb.Arn, dnsName: nlb.DnsName, arnSuffix: nlb.ArnSuffix}
	var arns pulumi.StringArray
	for _, l := range Listeners() {
		tg, err := lb.NewTargetGroup(ctx, name+"-"+l.Suffix, &lb.TargetGroupArgs{
			VpcId:      args.VpcID,
			TargetType: pulumi.String("instance"),
			Port:       pulumi.Int(l.Port),
			Protocol:   pulumi.String(l.Protocol),
			// Whatever is left on a deregistered target when the delay
			// ends is closed, so clients reconnect to a live node instead
			// of talking to a terminated or fenced one.
			DeregistrationDelay:   pulumi.Int(int(DeregistrationDelay(l, args) / time.Second)),
			ConnectionTermination: pulumi.Bool(true),
			PreserveClientIp:      pulumi.String("true"),
			HealthCheck:           HealthCheck(*args.Timings),
		}, opts...)
		if err != nil {
			return nil, err
		}
		if _, err := lb.NewListener(ctx, name+"-"+l.Suffix, &lb.ListenerArgs{
			LoadBalancerArn: nlb.Arn,
			Port:            pulumi.Int(l.Port),
			Protocol:        pulumi.String(l.Protocol),
			DefaultActions: lb.ListenerDefaultActionArray{lb.ListenerDefaultActionArgs{
				Type:           pulumi.String("forward"),
				TargetGroupArn: tg.Arn,
			}},
		}, opts...); err != nil {
			return nil, err
		}
		arns = append(arns, tg.Arn)
		if l.Port == ports.SRT.Number {
			out.srtArnSuffix = tg.ArnSuffix
		}
	}
	out.targetGroupArns = arns.ToStringArrayOutput()
	return out, nil
}
