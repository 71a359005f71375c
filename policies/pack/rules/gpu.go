package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zonecast/zonecast/policies/failover"
)

// HasVideoEncoder reports whether the instance type's family has an NVIDIA
// hardware video encoder (the table is policies/failover EncoderFamilies).
func HasVideoEncoder(instanceType string) bool {
	return failover.HasHardwareEncoder(instanceType)
}

// InstanceFamily is the family part of an instance type ("g5" of "g5.xlarge").
func InstanceFamily(instanceType string) string { return failover.InstanceFamily(instanceType) }

func nvencFamilies() string {
	fs := make([]string, 0, len(failover.EncoderFamilies))
	for f, engines := range failover.EncoderFamilies {
		fs = append(fs, fmt.Sprintf("%s (%d NVENC)", f, engines))
	}
	sort.Strings(fs)
	return strings.Join(fs, ", ")
}

var gpuInstancePolicy = Policy{
	Name: "gpu-video-encoder",
	Description: "Transcoding instances (launch templates, launch configurations and auto-scaling overrides) use an " +
		"instance type with an NVIDIA hardware video encoder (NVENC).",
	Remediation: "choose an instance type of a family with NVENC: " + nvencFamilies() + ".",
	Default:     Mandatory,
	Kind:        ResourceKind,
	Resource:    checkGPUInstance,
}

// instanceTypesOf lists the instance types a resource names directly.
func instanceTypesOf(r Resource) []Value {
	switch {
	case r.typeIs(typeLaunchTemplate, typeLaunchConfig):
		if v := r.get("instanceType"); v.Presence != Absent {
			return []Value{v}
		}
	case r.typeIs(typeASG):
		overrides, ok := r.path("mixedInstancesPolicy", "launchTemplate", "overrides").Array()
		if !ok {
			return nil
		}
		var out []Value
		for _, o := range overrides {
			if m, ok := o.Object(); ok {
				if v := Get(m, "instanceType"); v.Presence != Absent {
					out = append(out, v)
				}
			}
		}
		return out
	}
	return nil
}

func checkGPUInstance(r Resource, _ *Config) []Finding {
	var out []Finding
	for _, v := range instanceTypesOf(r) {
		t, ok := v.String()
		if !ok || HasVideoEncoder(t) {
			continue
		}
		out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
			"%s uses instance type %s, which has no hardware video encoder.", describe(r), t)})
	}
	return out
}
