// Package fakeaws is a stand-in for the AWS Pulumi provider, for tests and
// offline previews only: it speaks the ResourceProvider protocol, reports
// itself as pulumi-resource-aws 6.83.4, answers the invokes zonecast's
// program makes with plausible fixed data, and "creates" resources without
// calling AWS — in a preview it echoes the inputs with the provider-computed
// outputs unknown; in an update it invents ids, ARNs and DNS names.
//
// It never talks to AWS and needs no credentials. Do not use it for anything
// but tests and `make preview`.
package fakeaws

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"

	"github.com/blang/semver"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
)

// Version is the pulumi-aws version the stand-in claims to be (the SDK
// pinned in go.mod asks for exactly this plugin version).
const Version = "6.83.4"

// AccountID is the fake account every ARN is in.
const AccountID = "123456789012"

// Provider is the stand-in. The zero value is not usable: use New.
type Provider struct {
	plugin.UnimplementedProvider

	mu     sync.Mutex
	region string
}

// New returns a provider for region until Configure says otherwise.
func New() *Provider { return &Provider{region: "us-east-1"} }

// Region is the region the engine configured.
func (p *Provider) Region() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.region
}

func (p *Provider) Close() error { return nil }

func (p *Provider) Handshake(context.Context, plugin.ProviderHandshakeRequest) (*plugin.ProviderHandshakeResponse, error) {
	return &plugin.ProviderHandshakeResponse{AcceptSecrets: true, AcceptResources: true, AcceptOutputs: true}, nil
}

func (p *Provider) GetPluginInfo(context.Context) (plugin.PluginInfo, error) {
	v := semver.MustParse(Version)
	return plugin.PluginInfo{Version: &v}, nil
}

func (p *Provider) GetSchema(context.Context, plugin.GetSchemaRequest) (plugin.GetSchemaResponse, error) {
	return plugin.GetSchemaResponse{Schema: []byte(`{"name":"aws","version":"` + Version + `"}`)}, nil
}

func (p *Provider) CheckConfig(_ context.Context, req plugin.CheckConfigRequest) (plugin.CheckConfigResponse, error) {
	return plugin.CheckConfigResponse{Properties: req.News}, nil
}

func (p *Provider) DiffConfig(_ context.Context, req plugin.DiffConfigRequest) (plugin.DiffConfigResponse, error) {
	return diff(req.OldInputs, req.NewInputs), nil
}

func (p *Provider) Configure(_ context.Context, req plugin.ConfigureRequest) (plugin.ConfigureResponse, error) {
	if r, ok := req.Inputs["region"]; ok && r.IsString() && r.StringValue() != "" {
		p.mu.Lock()
		p.region = r.StringValue()
		p.mu.Unlock()
	}
	return plugin.ConfigureResponse{}, nil
}

// autonamed are the types whose `name` the real provider generates when the
// program leaves it out; the stand-in does the same in Check so that policy
// packs see what they would see with the real provider.
var autonamed = map[string]int{
	"aws:iam/role:Role":                       64,
	"aws:iam/rolePolicy:RolePolicy":           128,
	"aws:iam/instanceProfile:InstanceProfile": 128,
	"aws:lb/loadBalancer:LoadBalancer":        32,
	"aws:lb/targetGroup:TargetGroup":          32,
	"aws:elasticache/subnetGroup:SubnetGroup": 255,
	"aws:cloudfront/cachePolicy:CachePolicy":  128,
	"aws:ec2/launchTemplate:LaunchTemplate":   128,
	"aws:ec2/securityGroup:SecurityGroup":     255,
	"aws:cloudwatch/metricAlarm:MetricAlarm":  255,
}

func suffix(s string, n int) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])[:n]
}

func (p *Provider) Check(_ context.Context, req plugin.CheckRequest) (plugin.CheckResponse, error) {
	return plugin.CheckResponse{Properties: Checked(string(req.Type), req.Name, string(req.URN), req.News)}, nil
}

// Checked fills in what the real provider's Check adds: generated names.
func Checked(typ, name, urn string, news resource.PropertyMap) resource.PropertyMap {
	news = news.Copy()
	if limit, ok := autonamed[typ]; ok {
		if _, has := news["name"]; !has {
			n := name + "-" + suffix(urn, 7)
			if len(n) > limit {
				n = n[len(n)-limit:]
			}
			news["name"] = resource.NewStringProperty(n)
		}
	}
	if typ == "aws:elasticache/replicationGroup:ReplicationGroup" {
		if _, has := news["replicationGroupId"]; !has {
			news["replicationGroupId"] = resource.NewStringProperty(strings.ToLower(name))
		}
	}
	return news
}

func (p *Provider) Diff(_ context.Context, req plugin.DiffRequest) (plugin.DiffResponse, error) {
	return diff(req.OldInputs, req.NewInputs), nil
}

func diff(olds, news resource.PropertyMap) plugin.DiffResult {
	d := olds.Diff(news)
	if d == nil || !d.AnyChanges() {
		return plugin.DiffResult{Changes: plugin.DiffNone}
	}
	return plugin.DiffResult{Changes: plugin.DiffSome, ChangedKeys: d.ChangedKeys()}
}

func (p *Provider) Create(_ context.Context, req plugin.CreateRequest) (plugin.CreateResponse, error) {
	outs := req.Properties.Copy()
	computed := Computed(string(req.Type), req.Name, string(req.URN), p.Region())
	for k, v := range computed {
		if _, has := outs[resource.PropertyKey(k)]; has && k != "arn" {
			continue
		}
		if req.Preview {
			outs[resource.PropertyKey(k)] = resource.MakeComputed(resource.NewStringProperty(""))
		} else {
			outs[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
		}
	}
	id := resource.ID("")
	if !req.Preview {
		id = resource.ID(computed["id"].(string))
	}
	return plugin.CreateResponse{ID: id, Properties: outs, Status: resource.StatusOK}, nil
}

func (p *Provider) Read(_ context.Context, req plugin.ReadRequest) (plugin.ReadResponse, error) {
	return plugin.ReadResponse{
		ReadResult: plugin.ReadResult{ID: req.ID, Inputs: req.Inputs, Outputs: req.State},
		Status:     resource.StatusOK,
	}, nil
}

func (p *Provider) Update(_ context.Context, req plugin.UpdateRequest) (plugin.UpdateResponse, error) {
	outs := req.OldOutputs.Copy()
	for k, v := range req.NewInputs {
		outs[k] = v
	}
	return plugin.UpdateResponse{Properties: outs, Status: resource.StatusOK}, nil
}

func (p *Provider) Delete(context.Context, plugin.DeleteRequest) (plugin.DeleteResponse, error) {
	return plugin.DeleteResponse{Status: resource.StatusOK}, nil
}

func (p *Provider) SignalCancellation(context.Context) error { return nil }

// FakeAccelerator is the stand-in's accelerator id.
const FakeAccelerator = "1234abcd-abcd-1234-abcd-1234abcdefgh"

// elbArn is an Elastic Load Balancing ARN (its service name is not the
// provider module's "lb").
func elbArn(region, resource string) string {
	return fmt.Sprintf("arn:aws:elasticloadbalancing:%s:%s:%s", region, AccountID, resource)
}

// Computed invents the outputs AWS would compute for a resource (the mocks
// of provision's unit tests use it too).
func Computed(typ, name, urn, region string) map[string]any {
	short := typ[strings.LastIndex(typ, ":")+1:]
	id := strings.ToLower(short) + "-" + suffix(urn, 12)
	service := strings.TrimPrefix(strings.SplitN(typ, "/", 2)[0], "aws:")
	out := map[string]any{
		"id":  id,
		"arn": fmt.Sprintf("arn:aws:%s:%s:%s:%s/%s", service, region, AccountID, strings.ToLower(short), id),
	}
	switch typ {
	case "aws:globalaccelerator/accelerator:Accelerator":
		out["arn"] = fmt.Sprintf("arn:aws:globalaccelerator::%s:accelerator/%s", AccountID, FakeAccelerator)
		out["dnsName"] = "a" + suffix(urn, 16) + ".awsglobalaccelerator.com"
		out["hostedZoneId"] = "Z2BJ6XQ5FK7U4H"
		out["ipSets"] = []any{map[string]any{"ipFamily": "IPv4", "ipAddresses": []any{"75.2.0.10", "99.83.0.10"}}}
	case "aws:lb/loadBalancer:LoadBalancer":
		out["dnsName"] = name + "-" + suffix(urn, 8) + ".elb." + region + ".amazonaws.com"
		out["arnSuffix"] = "net/" + name + "/" + suffix(urn, 16)
		out["arn"] = elbArn(region, "loadbalancer/"+out["arnSuffix"].(string))
	case "aws:lb/targetGroup:TargetGroup":
		out["arnSuffix"] = "targetgroup/" + name + "/" + suffix(urn, 16)
		out["arn"] = elbArn(region, out["arnSuffix"].(string))
	case "aws:lb/listener:Listener":
		out["arn"] = elbArn(region, "listener/net/"+name+"/"+suffix(urn, 16))
	case "aws:globalaccelerator/listener:Listener":
		// Global Accelerator's ARNs carry no region, and nest.
		out["arn"] = fmt.Sprintf("arn:aws:globalaccelerator::%s:accelerator/%s/listener/%s", AccountID, FakeAccelerator, suffix(urn, 8))
	case "aws:globalaccelerator/endpointGroup:EndpointGroup":
		out["arn"] = fmt.Sprintf("arn:aws:globalaccelerator::%s:accelerator/%s/listener/%s/endpoint-group/%s",
			AccountID, FakeAccelerator, suffix(urn, 8), suffix(urn, 12))
	case "aws:cloudfront/distribution:Distribution":
		out["domainName"] = "d" + suffix(urn, 13) + ".cloudfront.net"
	case "aws:elasticache/replicationGroup:ReplicationGroup":
		out["primaryEndpointAddress"] = "master." + name + "." + suffix(urn, 6) + "." + region + ".cache.amazonaws.com"
		out["readerEndpointAddress"] = "replica." + name + "." + suffix(urn, 6) + "." + region + ".cache.amazonaws.com"
	case "aws:ec2/launchTemplate:LaunchTemplate":
		out["latestVersion"] = 1
		out["defaultVersion"] = 1
	}
	return out
}
