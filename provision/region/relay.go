package region

import (
	"fmt"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/ssm"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/zone"
)

// RelayTLS is the relay's mutual-TLS material, PEM files held as Pulumi
// secrets: a CA, and one node certificate and key every node of the region
// presents (provision/relaytls checks them together).
type RelayTLS struct {
	CA, Cert, Key pulumi.StringInput
}

// RelayTLSParameters are the SSM parameters of the relay's TLS material,
// shared by the region's nodes.
func RelayTLSParameters(stack string) zone.RelayTLSParameters {
	p := zone.ConfigPathPrefix(stack) + "relay/"
	return zone.RelayTLSParameters{CA: p + "ca.pem", Cert: p + "cert.pem", Key: p + "key.pem"}
}

// newRelayTLSParameters puts the relay's TLS material in SSM (SecureString,
// Standard tier: 4 KB each, which a certificate or key of any usual size
// fits; a larger value is refused here rather than by AWS).
func newRelayTLSParameters(ctx *pulumi.Context, args *Args, opts ...pulumi.ResourceOption) ([]pulumi.Resource, error) {
	var out []pulumi.Resource
	names := RelayTLSParameters(args.Stack)
	for _, p := range []struct {
		suffix, name, what string
		value              pulumi.StringInput
	}{
		{"ca", names.CA, "CA certificate", args.RelayTLS.CA},
		{"cert", names.Cert, "node certificate", args.RelayTLS.Cert},
		{"key", names.Key, "node key", args.RelayTLS.Key},
	} {
		what := p.what
		value := p.value.ToStringOutput().ApplyT(func(v string) (string, error) {
			if len(v) > zone.StandardParameterBytes {
				return "", fmt.Errorf("the relay's %s is %d bytes; its SSM parameter holds %d (an EC P-256 key and certificate, "+
					"as scripts/certs.sh makes, are well below)", what, len(v), zone.StandardParameterBytes)
			}
			return v, nil
		}).(pulumi.StringOutput)
		param, err := ssm.NewParameter(ctx, "relay-"+p.suffix, &ssm.ParameterArgs{
			Name:        pulumi.String(p.name),
			Description: pulumi.String("zonecast relay TLS: " + p.what),
			Type:        pulumi.String("SecureString"),
			Tier:        pulumi.String("Standard"),
			Value:       pulumi.ToSecret(value).(pulumi.StringOutput),
		}, opts...)
		if err != nil {
			return nil, err
		}
		out = append(out, param)
	}
	return out, nil
}
