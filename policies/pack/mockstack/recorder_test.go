package mockstack

import (
	"strings"
	"testing"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/pack/rules"
)

type custom struct {
	pulumi.CustomResourceState
	Arn pulumi.StringOutput `pulumi:"arn"`
}

type component struct{ pulumi.ResourceState }

type provider struct{ pulumi.ProviderResourceState }

// arnMocks gives every resource an arn output, as AWS does.
type arnMocks struct{}

func (arnMocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	state := args.Inputs.Copy()
	state["arn"] = resource.NewStringProperty("arn:" + args.Name)
	return args.Name + "-id", state, nil
}

func (arnMocks) Call(pulumi.MockCallArgs) (resource.PropertyMap, error) {
	return resource.PropertyMap{}, nil
}

// A mocked program: an explicit provider, a component with a replication
// group of one node and a secret token, a load balancer and an endpoint
// group fed from the load balancer's ARN.
func program(ctx *pulumi.Context) error {
	var prov provider
	if err := ctx.RegisterResource("pulumi:providers:aws", "eu", pulumi.Map{"region": pulumi.String("eu-west-1")}, &prov); err != nil {
		return err
	}
	var zone component
	if err := ctx.RegisterComponentResource("zonecast:provision:Zone", "zone-a", &zone); err != nil {
		return err
	}
	var rg custom
	if err := ctx.RegisterResource("aws:elasticache/replicationGroup:ReplicationGroup", "zone-a-redis", pulumi.Map{
		"numCacheClusters": pulumi.Int(1), "automaticFailoverEnabled": pulumi.Bool(true), "multiAzEnabled": pulumi.Bool(true),
		"transitEncryptionEnabled": pulumi.Bool(true), "atRestEncryptionEnabled": pulumi.Bool(true),
		"authToken": pulumi.ToSecret(pulumi.String("0123456789abcdef0123")),
	}, &rg, pulumi.Parent(&zone), pulumi.Provider(&prov)); err != nil {
		return err
	}
	var nlb custom
	if err := ctx.RegisterResource("aws:lb/loadBalancer:LoadBalancer", "zone-a-nlb", pulumi.Map{
		"tags": pulumi.StringMap{rules.TagZone: pulumi.String("eu-west-1/a")}}, &nlb, pulumi.Parent(&zone)); err != nil {
		return err
	}
	var eg custom
	return ctx.RegisterResource("aws:globalaccelerator/endpointGroup:EndpointGroup", "endpoints-srt", pulumi.Map{
		"endpointGroupRegion":    pulumi.String("eu-west-1"),
		"endpointConfigurations": pulumi.MapArray{pulumi.Map{"endpointId": nlb.Arn}},
	}, &eg)
}

func TestRecorderFeedsTheRules(t *testing.T) {
	rec := New("zonecast", "eu-west-1", arnMocks{})
	if err := pulumi.RunErr(program, pulumi.WithMocks("zonecast", "eu-west-1", rec)); err != nil {
		t.Fatal(err)
	}
	byName := map[string]rules.Resource{}
	for _, r := range rec.Resources() {
		byName[r.Name] = r
	}
	rg := byName["zone-a-redis"]
	if want := "urn:pulumi:eu-west-1::zonecast::zonecast:provision:Zone$aws:elasticache/replicationGroup:ReplicationGroup::zone-a-redis"; rg.URN != want {
		t.Errorf("URN %s, want %s", rg.URN, want)
	}
	if rg.ProviderRegion != "eu-west-1" {
		t.Errorf("provider region %q", rg.ProviderRegion)
	}
	if v := rules.Get(rg.Properties, "authToken"); !v.Secret {
		t.Errorf("auth token lost its secrecy under mocks: %+v", v)
	}
	eg := byName["endpoints-srt"]
	if deps := eg.PropertyDependencies["endpointConfigurations"]; len(deps) != 1 || deps[0] != byName["zone-a-nlb"].URN {
		t.Errorf("endpoint group's property dependencies: %v", eg.PropertyDependencies)
	}
	vs := rules.MandatoryOnly(rec.Check(rules.DefaultConfig()))
	var got []string
	for _, v := range vs {
		got = append(got, v.Policy+" "+v.URN)
	}
	// One Redis node is refused; the secret token is not.
	if len(vs) == 0 || !strings.Contains(strings.Join(got, "\n"), "redis-replication-group "+rg.URN) {
		t.Fatalf("violations: %v", got)
	}
	for _, v := range vs {
		if strings.Contains(v.Message, "authToken is") {
			t.Errorf("secret token flagged: %s", v)
		}
	}
}
