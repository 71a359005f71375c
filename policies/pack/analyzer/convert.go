package analyzer

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/zonecast/zonecast/policies/pack/rules"
)

// unmarshalOpts keep what the rules must see: unknowns (never flagged),
// secrets (the auth-token rule checks them) and output values.
var unmarshalOpts = plugin.MarshalOptions{
	Label:            "zonecast-policy",
	KeepUnknowns:     true,
	KeepSecrets:      true,
	KeepResources:    true,
	KeepOutputValues: true,
}

// fromAnalyzeRequest converts the engine's per-resource request.
func fromAnalyzeRequest(req *pulumirpc.AnalyzeRequest) (rules.Resource, error) {
	props, err := plugin.UnmarshalProperties(req.GetProperties(), unmarshalOpts)
	if err != nil {
		return rules.Resource{}, fmt.Errorf("properties of %s: %w", req.GetUrn(), err)
	}
	r := rules.Resource{
		URN:        req.GetUrn(),
		Type:       req.GetType(),
		Name:       req.GetName(),
		Properties: props,
		Parent:     req.GetOptions().GetParent(),
	}
	r.ProviderRegion = providerRegion(req.GetProvider())
	return r, nil
}

// fromStackResource converts one resource of the engine's stack request.
func fromStackResource(res *pulumirpc.AnalyzerResource) (rules.Resource, error) {
	props, err := plugin.UnmarshalProperties(res.GetProperties(), unmarshalOpts)
	if err != nil {
		return rules.Resource{}, fmt.Errorf("properties of %s: %w", res.GetUrn(), err)
	}
	r := rules.Resource{
		URN:          res.GetUrn(),
		Type:         res.GetType(),
		Name:         res.GetName(),
		Properties:   props,
		Parent:       res.GetParent(),
		Dependencies: res.GetDependencies(),
	}
	if pd := res.GetPropertyDependencies(); len(pd) > 0 {
		r.PropertyDependencies = make(map[string][]string, len(pd))
		for k, v := range pd {
			r.PropertyDependencies[k] = v.GetUrns()
		}
	}
	r.ProviderRegion = providerRegion(res.GetProvider())
	return r, nil
}

// providerRegion reads the `region` input of an AWS provider, if known.
func providerRegion(p *pulumirpc.AnalyzerProviderResource) string {
	if p == nil {
		return ""
	}
	if v, ok := p.GetProperties().GetFields()["region"]; ok {
		if s, ok := v.GetKind().(*structpb.Value_StringValue); ok && s.StringValue != plugin.UnknownStringValue {
			return s.StringValue
		}
	}
	return ""
}
