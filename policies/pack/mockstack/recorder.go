// Package mockstack runs the policy pack's rules on a program under
// Pulumi's mocks, so that provision's unit tests can assert that a mocked
// stack passes (or fails) exactly as `pulumi preview --policy-pack` would:
//
//	rec := mockstack.New("zonecast", "eu-west-1", myMocks)
//	err := pulumi.RunErr(program.Run, pulumi.WithMocks("zonecast", "eu-west-1", rec))
//	cfg := rules.DefaultConfig()
//	cfg.DefaultRegion = "eu-west-1" // the stack's aws:region
//	if vs := rules.MandatoryOnly(rec.Check(cfg)); len(vs) > 0 { t.Fatal(vs) }
//
// The Recorder wraps the test's own MockResourceMonitor (which still answers
// NewResource and Call) and records every registered resource as a
// rules.Resource: its inputs overlaid with the state the mock returned, the
// ID as the `id` property, and the property dependencies the program
// declared.
package mockstack

import (
	"strings"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/policies/pack/rules"
)

// Recorder is a pulumi.MockResourceMonitor that records resources.
type Recorder struct {
	project, stack string
	inner          pulumi.MockResourceMonitor

	mu        sync.Mutex
	resources []rules.Resource
	// providerRegion maps a provider's URN to its region input.
	providerRegion map[string]string
}

// New wraps inner (nil: echo inputs as state, ID "<name>-id").
func New(project, stack string, inner pulumi.MockResourceMonitor) *Recorder {
	return &Recorder{project: project, stack: stack, inner: inner,
		providerRegion: map[string]string{}}
}

// NewResource records the resource and delegates to the wrapped mocks.
func (r *Recorder) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	id, state := args.Name+"-id", args.Inputs
	if r.inner != nil {
		var err error
		if id, state, err = r.inner.NewResource(args); err != nil {
			return id, state, err
		}
	}
	props := resource.PropertyMap{}
	for k, v := range args.Inputs {
		props[k] = v
	}
	for k, v := range state {
		props[k] = v
	}
	if _, ok := props["id"]; !ok && id != "" {
		props["id"] = resource.NewStringProperty(id)
	}
	rec := rules.Resource{Type: args.TypeToken, Name: args.Name, Properties: props}
	if rpc := args.RegisterRPC; rpc != nil {
		rec.Parent = rpc.GetParent()
		rec.Dependencies = rpc.GetDependencies()
		if pd := rpc.GetPropertyDependencies(); len(pd) > 0 {
			rec.PropertyDependencies = map[string][]string{}
			for k, v := range pd {
				rec.PropertyDependencies[k] = v.GetUrns()
			}
		}
	}
	rec.URN = r.urn(rec.Parent, args.TypeToken, args.Name)

	r.mu.Lock()
	defer r.mu.Unlock()
	if strings.HasPrefix(args.TypeToken, "pulumi:providers:") {
		if region, ok := rules.Get(props, "region").String(); ok {
			r.providerRegion[rec.URN] = region
		}
	}
	// A provider reference is "<provider URN>::<provider ID>".
	if i := strings.LastIndex(args.Provider, "::"); i > 0 {
		rec.ProviderRegion = r.providerRegion[args.Provider[:i]]
	}
	r.resources = append(r.resources, rec)
	return id, state, nil
}

// Call delegates to the wrapped mocks (nil: empty result).
func (r *Recorder) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	if r.inner == nil {
		return resource.PropertyMap{}, nil
	}
	return r.inner.Call(args)
}

// urn builds the URN the engine would give the resource.
func (r *Recorder) urn(parent, typ, name string) string {
	var parentType tokens.Type
	if parent != "" {
		if u, err := resource.ParseURN(parent); err == nil && u.QualifiedType() != "pulumi:pulumi:Stack" {
			parentType = u.QualifiedType()
		}
	}
	return string(resource.NewURN(tokens.QName(r.stack), tokens.PackageName(r.project), parentType, tokens.Type(typ), name))
}

// Resources returns the recorded resources, in registration order.
func (r *Recorder) Resources() []rules.Resource {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]rules.Resource(nil), r.resources...)
}

// Check runs every policy on the recorded stack (see rules.Check).
func (r *Recorder) Check(c rules.Config) []rules.Violation {
	return rules.Check(r.Resources(), c)
}
