package rules

import (
	"fmt"
	"sort"
	"strings"
)

// NVENCEngines is the number of NVIDIA NVENC hardware video encoder engines
// per GPU for the instance families zonecast can transcode on: g4dn (T4),
// g5 (A10G), g6 (L4), g6e (L40S). One engine does roughly 600 fps of
// 1080p H.264 at preset P3. A family missing here has no hardware encoder
// zonecast uses (for example g4ad's AMD GPU, or p4d's A100, which has none).
var NVENCEngines = map[string]int{
	"g4dn": 1,
	"g5":   1,
	"g6":   2,
	"g6e":  3,
}

// InstanceFamily is the family part of an instance type ("g5" of "g5.xlarge").
func InstanceFamily(instanceType string) string {
	family, _, _ := strings.Cut(instanceType, ".")
	return family
}

// HasVideoEncoder reports whether the instance type has an NVENC engine.
func HasVideoEncoder(instanceType string) bool {
	return NVENCEngines[InstanceFamily(instanceType)] > 0
}

func nvencFamilies() string {
	fs := make([]string, 0, len(NVENCEngines))
	for f := range NVENCEngines {
		fs = append(fs, f)
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
