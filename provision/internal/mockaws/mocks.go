// Package mockaws is the Pulumi mock monitor of provision's unit tests: it
// records every resource the program registers (type, name, URN, parent,
// inputs, dependencies) and answers with the same invented outputs and data
// sources as the stand-in provider (provision/internal/fakeaws), so that the
// unit tests and the offline preview see the same AWS.
package mockaws

import (
	"fmt"
	"sort"
	"sync"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/tokens"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/zonecast/zonecast/provision/internal/fakeaws"
)

// Resource is one registered resource.
type Resource struct {
	URN, Type, Name, Parent string
	Custom                  bool
	// Provider is the explicit provider reference ("<urn>::<id>"), if any.
	Provider string
	// Inputs are the inputs after the stand-in's Check (secrets marked).
	Inputs resource.PropertyMap
	// Outputs are the inputs plus the invented computed outputs.
	Outputs              resource.PropertyMap
	Dependencies         []string
	PropertyDependencies map[string][]string
}

// Mocks implements pulumi.MockResourceMonitor.
type Mocks struct {
	Project, Stack, Region string
	// GlobalOutputs answer StackReferences (the global stack's outputs).
	GlobalOutputs map[string]any

	mu        sync.Mutex
	resources []Resource
	invokes   []string
}

// New returns mocks for a stack of project in region.
func New(project, stack, region string) *Mocks {
	return &Mocks{Project: project, Stack: stack, Region: region}
}

// NewResource records the resource and answers its outputs.
func (m *Mocks) NewResource(args pulumi.MockResourceArgs) (string, resource.PropertyMap, error) {
	req := args.RegisterRPC
	parent := ""
	if req != nil {
		parent = req.GetParent()
	}
	urn := m.urn(args.TypeToken, args.Name, parent)
	r := Resource{URN: string(urn), Type: args.TypeToken, Name: args.Name, Parent: parent, Custom: args.Custom}
	if req != nil {
		r.Provider = req.GetProvider()
		r.Dependencies = req.GetDependencies()
		r.PropertyDependencies = map[string][]string{}
		for k, v := range req.GetPropertyDependencies() {
			r.PropertyDependencies[k] = v.GetUrns()
		}
	}

	var id string
	switch {
	case args.TypeToken == "pulumi:pulumi:StackReference":
		id = args.Name
		r.Inputs = args.Inputs
		r.Outputs = resource.NewPropertyMapFromMap(map[string]any{
			"name": args.Name, "outputs": m.GlobalOutputs, "secretOutputNames": []any{},
		})
	case !args.Custom:
		r.Inputs, r.Outputs = args.Inputs, args.Inputs
	default:
		r.Inputs = fakeaws.Checked(args.TypeToken, args.Name, string(urn), args.Inputs)
		computed := fakeaws.Computed(args.TypeToken, args.Name, string(urn), m.Region)
		r.Outputs = r.Inputs.Copy()
		for k, v := range computed {
			if _, has := r.Outputs[resource.PropertyKey(k)]; !has || k == "arn" {
				r.Outputs[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
			}
		}
		id = computed["id"].(string)
	}
	m.mu.Lock()
	m.resources = append(m.resources, r)
	m.mu.Unlock()
	return id, r.Outputs, nil
}

// Call answers data sources like the stand-in provider.
func (m *Mocks) Call(args pulumi.MockCallArgs) (resource.PropertyMap, error) {
	m.mu.Lock()
	m.invokes = append(m.invokes, args.Token)
	m.mu.Unlock()
	out, err := fakeaws.InvokeData(args.Token, args.Args, m.Region)
	if err != nil {
		return nil, err
	}
	return resource.NewPropertyMapFromMap(out), nil
}

// urn builds the URN the engine would give the resource.
func (m *Mocks) urn(typ, name, parent string) resource.URN {
	var parentType tokens.Type
	if parent != "" {
		p := resource.URN(parent)
		if p.Type() != "pulumi:pulumi:Stack" {
			parentType = p.QualifiedType()
		}
	}
	return resource.NewURN(tokens.QName(m.Stack), tokens.PackageName(m.Project), parentType, tokens.Type(typ), name)
}

// Resources lists what was registered, in registration order.
func (m *Mocks) Resources() []Resource {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Resource(nil), m.resources...)
}

// Invokes lists the data sources the program read.
func (m *Mocks) Invokes() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.invokes...)
}

// OfType lists the registered resources of a type, sorted by name.
func (m *Mocks) OfType(typ string) []Resource {
	var out []Resource
	for _, r := range m.Resources() {
		if r.Type == typ {
			out = append(out, r)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Get returns the resource of type typ named name, or an error.
func (m *Mocks) Get(typ, name string) (Resource, error) {
	for _, r := range m.Resources() {
		if r.Type == typ && r.Name == name {
			return r, nil
		}
	}
	return Resource{}, fmt.Errorf("no %s named %q registered", typ, name)
}

// Counts counts the registered resources by type.
func (m *Mocks) Counts() map[string]int {
	out := map[string]int{}
	for _, r := range m.Resources() {
		out[r.Type]++
	}
	return out
}

// ByURN finds a resource by URN.
func (m *Mocks) ByURN(urn string) (Resource, bool) {
	for _, r := range m.Resources() {
		if r.URN == urn {
			return r, true
		}
	}
	return Resource{}, false
}
