package global

import (
	"fmt"
	"strings"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/globalaccelerator"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/ports"
)

// ipv4PerAccelerator is what Global Accelerator assigns to an IPV4
// accelerator: always two static anycast addresses from two network zones.
const ipv4PerAccelerator = 2

// accelerator holds what the rest of the stack needs from the accelerator.
type accelerator struct {
	arn, dnsName      pulumi.StringOutput
	staticIPv4        pulumi.StringArrayOutput
	srt, https, http3 pulumi.StringOutput
}

// listenerSpec is one accelerator listener, derived from policies/ports.
type listenerSpec struct {
	suffix   string
	port     ports.Port
	affinity string
}

// listeners lists the accelerator's listeners. SRT and HTTP/3 (QUIC) keep a
// client on one endpoint (SOURCE_IP): a UDP session moved mid-stream by a
// changed source port would land on a node that does not know it. TCP keeps
// its connection anyway, so HTTPS balances per connection (NONE).
func listeners() []listenerSpec {
	return []listenerSpec{
		{"srt", ports.SRT, "SOURCE_IP"},
		{"https", ports.HTTPS, "NONE"},
		{"http3", ports.HTTP3, "SOURCE_IP"},
	}
}

func newAccelerator(ctx *pulumi.Context, args Args, opts ...pulumi.ResourceOption) (*accelerator, error) {
	if args.Redundancy.StaticIPv4 != ipv4PerAccelerator {
		return nil, fmt.Errorf("global: policy asks for %d static IPv4 addresses; one IPV4 accelerator has exactly %d",
			args.Redundancy.StaticIPv4, ipv4PerAccelerator)
	}
	acc, err := globalaccelerator.NewAccelerator(ctx, "accelerator", &globalaccelerator.AcceleratorArgs{
		Name:          pulumi.String(args.Name),
		IpAddressType: pulumi.String("IPV4"),
		Enabled:       pulumi.Bool(true),
		Tags:          pulumi.StringMap{"zonecast:role": pulumi.String("accelerator")},
	}, opts...)
	if err != nil {
		return nil, err
	}
	out := &accelerator{
		arn:     acc.Arn,
		dnsName: acc.DnsName,
		staticIPv4: acc.IpSets.ApplyT(func(sets []globalaccelerator.AcceleratorIpSet) []string {
			var ips []string
			for _, s := range sets {
				if s.IpFamily == nil || strings.EqualFold(*s.IpFamily, "IPv4") {
					ips = append(ips, s.IpAddresses...)
				}
			}
			return ips
		}).(pulumi.StringArrayOutput),
	}
	for _, l := range listeners() {
		lis, err := globalaccelerator.NewListener(ctx, "listener-"+l.suffix, &globalaccelerator.ListenerArgs{
			AcceleratorArn: acc.Arn,
			Protocol:       pulumi.String(strings.ToUpper(l.port.Protocol)),
			ClientAffinity: pulumi.String(l.affinity),
			PortRanges: globalaccelerator.ListenerPortRangeArray{globalaccelerator.ListenerPortRangeArgs{
				FromPort: pulumi.Int(l.port.Number),
				ToPort:   pulumi.Int(l.port.Number),
			}},
		}, opts...)
		if err != nil {
			return nil, err
		}
		switch l.suffix {
		case "srt":
			out.srt = lis.Arn
		case "https":
			out.https = lis.Arn
		case "http3":
			out.http3 = lis.Arn
		}
	}
	return out, nil
}
