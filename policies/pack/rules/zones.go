package rules

import (
	"fmt"
	"sort"
	"strings"

	"github.com/zonecast/zonecast/policies/failover"
)

var regionZonesPolicy = Policy{
	Name: "region-two-zones",
	Description: fmt.Sprintf("Every region has exactly %d zones in distinct availability zones, each with its own "+
		"auto-scaling group pinned to that zone, so that a zone can fail and the region still ingests.",
		failover.DefaultRedundancy.ZonesPerRegion),
	Remediation: fmt.Sprintf("give the region %d zones, one auto-scaling group per zone, each pinned to a different "+
		"availability zone and tagged %s=<region>/<zone>.", failover.DefaultRedundancy.ZonesPerRegion, TagZone),
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkRegionZones,
}

// regionView is what the zone rules need to know about one region.
type regionView struct {
	name        string
	asgsByZone  map[string][]Resource
	unzonedASGs []Resource // zone not known (yet)
	others      []Resource // load balancers and Redis placed in the region
}

func (v *regionView) zones() []string {
	zs := make([]string, 0, len(v.asgsByZone))
	for z := range v.asgsByZone {
		zs = append(zs, z)
	}
	sort.Strings(zs)
	return zs
}

func (v *regionView) asgs() []Resource {
	var out []Resource
	for _, z := range v.zones() {
		out = append(out, v.asgsByZone[z]...)
	}
	return append(out, v.unzonedASGs...)
}

// regions groups the stack's zonal resources by region, in name order.
func (s *Stack) regions() []*regionView {
	byName := map[string]*regionView{}
	view := func(name string) *regionView {
		v := byName[name]
		if v == nil {
			v = &regionView{name: name, asgsByZone: map[string][]Resource{}}
			byName[name] = v
		}
		return v
	}
	for _, r := range s.Resources {
		switch {
		case r.typeIs(typeASG):
			v := view(s.Region(r))
			if z, ok := s.Zone(r); ok {
				v.asgsByZone[z] = append(v.asgsByZone[z], r)
			} else {
				v.unzonedASGs = append(v.unzonedASGs, r)
			}
		case r.typeIs(typeLoadBalancer, typeReplicationGroup):
			v := view(s.Region(r))
			v.others = append(v.others, r)
		}
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	out := make([]*regionView, 0, len(names))
	for _, n := range names {
		out = append(out, byName[n])
	}
	return out
}

func checkRegionZones(s *Stack, _ *Config) []Finding {
	want := failover.DefaultRedundancy.ZonesPerRegion
	var out []Finding
	for _, reg := range s.regions() {
		zones := reg.zones()
		asgs := reg.asgs()
		if len(asgs) == 0 {
			for _, r := range reg.others {
				out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
					"region %s has %s but no auto-scaling group in any zone: it cannot ingest.", reg.name, describe(r))})
			}
			continue
		}
		tooFew := len(zones) < want && len(reg.unzonedASGs) == 0
		if len(zones) > want || tooFew {
			for _, r := range asgs {
				out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
					"region %s has %d zone(s) with an auto-scaling group (%s); it needs exactly %d.",
					reg.name, len(zones), strings.Join(zones, ", "), want)})
			}
		}
		// Each zone's group is pinned to one availability zone, and the
		// zones use different ones.
		azOwner := map[string]string{}
		for _, z := range zones {
			for _, r := range reg.asgsByZone[z] {
				azs, complete := s.AZs(r)
				if len(azs) > 1 {
					out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
						"auto-scaling group %s of zone %s/%s spans availability zones %s: a zone's group must be its own.",
						r.Name, reg.name, z, strings.Join(azs, ", ")),
						Fix: "pin the group to its zone's single availability zone (availabilityZones or one subnet)."})
					continue
				}
				if !complete || len(azs) == 0 {
					continue
				}
				if other, ok := azOwner[azs[0]]; ok && other != z {
					out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
						"zones %s and %s of region %s are both in availability zone %s: one AZ outage takes both.",
						other, z, reg.name, azs[0]),
						Fix: "place each zone in a different availability zone."})
				}
				azOwner[azs[0]] = z
			}
		}
	}
	return out
}

var asgMinSizePolicy = Policy{
	Name: "asg-min-size",
	Description: fmt.Sprintf("Each zone's auto-scaling group keeps at least %d instances, so that one can die or be "+
		"drained during a rolling update while the zone still ingests.", failover.DefaultRedundancy.MinNodesPerZone),
	Remediation: fmt.Sprintf("set minSize to at least %d (policies/failover DefaultRedundancy.MinNodesPerZone).",
		failover.DefaultRedundancy.MinNodesPerZone),
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkASGMinSize,
}

func checkASGMinSize(r Resource, _ *Config) []Finding {
	if !r.typeIs(typeASG) {
		return nil
	}
	min := failover.DefaultRedundancy.MinNodesPerZone
	v := r.get("minSize")
	if n, ok := v.Number(); ok && int(n) < min {
		return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
			"auto-scaling group %s has minSize %d, below the policy minimum of %d per zone.", r.Name, int(n), min)}}
	}
	return nil
}

// describe names a resource for messages.
func describe(r Resource) string {
	return fmt.Sprintf("%s %q", r.Type, r.Name)
}
