package rules

import (
	"sort"
	"strings"
)

// Kind says when a policy runs.
type Kind int

const (
	// ResourceKind policies judge one resource at a time (the engine's
	// Analyze call, on checked inputs).
	ResourceKind Kind = iota
	// StackKind policies judge the whole stack (the engine's AnalyzeStack
	// call, on outputs), for rules that span resources.
	StackKind
)

// Finding is what a rule function reports; the runner adds the policy name
// and the configured enforcement level.
type Finding struct {
	URN     string
	Problem string
	Fix     string // empty: the policy's generic remediation
}

// Policy is one named rule.
type Policy struct {
	Name        string
	Description string
	Remediation string
	Default     Level
	Kind        Kind
	// Resource is set for ResourceKind policies, Stack for StackKind ones.
	Resource func(r Resource, c *Config) []Finding
	Stack    func(s *Stack, c *Config) []Finding
	// ConfigSchema lists the policy's own config properties as JSON schema
	// (with defaults), besides the enforcement level every policy accepts.
	ConfigSchema map[string]any
}

// Policies lists every policy of the pack, sorted by name.
func Policies() []Policy {
	ps := []Policy{
		regionZonesPolicy,
		asgMinSizePolicy,
		gpuInstancePolicy,
		drainHookPolicy,
		redisReplicationPolicy,
		regionRedisPolicy,
		acceleratorPolicy,
		endpointGroupsPolicy,
		healthCheckSpeedPolicy,
		healthCheckReadyzPolicy,
		cdnOriginFailoverPolicy,
		cdnOriginShieldPolicy,
		securityGroupPolicy,
		iamWildcardPolicy,
		costBudgetPolicy,
		fleetBehindLBPolicy,
		catalogReplicaPolicy,
		recordingBucketPolicy,
		srtDeregistrationPolicy,
		fenceIAMScopedPolicy,
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].Name < ps[j].Name })
	return ps
}

// PolicyByName finds a policy.
func PolicyByName(name string) (Policy, bool) {
	for _, p := range Policies() {
		if p.Name == name {
			return p, true
		}
	}
	return Policy{}, false
}

// CheckResource runs the per-resource policies on one resource, as the
// engine's Analyze call does.
func CheckResource(r Resource, c Config) []Violation {
	var out []Violation
	for _, p := range Policies() {
		if p.Kind != ResourceKind {
			continue
		}
		out = append(out, run(p, &c, func() []Finding { return p.Resource(r, &c) })...)
	}
	return out
}

// CheckStack runs the stack policies on all resources, as the engine's
// AnalyzeStack call does.
func CheckStack(rs []Resource, c Config) []Violation {
	s := NewStack(rs, c.DefaultRegion)
	var out []Violation
	for _, p := range Policies() {
		if p.Kind != StackKind {
			continue
		}
		out = append(out, run(p, &c, func() []Finding { return p.Stack(s, &c) })...)
	}
	return out
}

// Check runs every policy: each resource through the per-resource policies,
// then the stack policies, the way a `pulumi preview --policy-pack` would.
// In mocked unit tests inputs and outputs are the same map, so one call
// covers both.
func Check(rs []Resource, c Config) []Violation {
	var out []Violation
	for _, r := range rs {
		out = append(out, CheckResource(r, c)...)
	}
	return append(out, CheckStack(rs, c)...)
}

// MandatoryOnly filters the violations that would refuse a preview.
func MandatoryOnly(vs []Violation) []Violation {
	var out []Violation
	for _, v := range vs {
		if v.Level == Mandatory {
			out = append(out, v)
		}
	}
	return out
}

func run(p Policy, c *Config, f func() []Finding) []Violation {
	level := c.Level(p)
	if level == Disabled {
		return nil
	}
	var out []Violation
	for _, fd := range f() {
		fix := fd.Fix
		if fix == "" {
			fix = p.Remediation
		}
		msg := strings.TrimSpace(fd.Problem)
		if fix != "" {
			msg += " Fix: " + fix
		}
		out = append(out, Violation{Policy: p.Name, URN: fd.URN, Level: level, Message: msg})
	}
	return out
}
