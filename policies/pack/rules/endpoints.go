package rules

import (
	"fmt"
	"strings"
)

var endpointGroupsPolicy = Policy{
	Name: "region-endpoint-groups",
	Description: "Every region has an accelerator endpoint group, and each endpoint group of a region has every " +
		"zone's load balancer as an endpoint, so that the accelerator can move broadcasters to the twin zone.",
	Remediation: "add an aws:globalaccelerator/endpointGroup:EndpointGroup with endpointGroupRegion set to the " +
		"region and one endpointConfigurations entry per zone's load balancer.",
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkEndpointGroups,
}

func checkEndpointGroups(s *Stack, _ *Config) []Finding {
	// Zone load balancers by region.
	lbsByRegion := map[string]map[string][]Resource{}
	for _, lb := range s.OfType(typeLoadBalancer) {
		z, ok := s.Zone(lb)
		if !ok {
			continue
		}
		reg := s.Region(lb)
		if lbsByRegion[reg] == nil {
			lbsByRegion[reg] = map[string][]Resource{}
		}
		lbsByRegion[reg][z] = append(lbsByRegion[reg][z], lb)
	}
	groups := map[string][]Resource{}
	unplacedGroup := false
	for _, eg := range s.OfType(typeEndpointGroup) {
		reg := s.Region(eg)
		if reg == "" {
			unplacedGroup = true
			continue
		}
		groups[reg] = append(groups[reg], eg)
	}
	var out []Finding
	for _, reg := range s.regions() {
		zones := reg.zones()
		if len(zones) == 0 {
			continue
		}
		// A zone without a load balancer cannot be an endpoint.
		for _, z := range zones {
			if len(lbsByRegion[reg.name][z]) == 0 {
				for _, a := range reg.asgsByZone[z] {
					out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
						"zone %s of region %s has no load balancer (tagged %s=%s/%s) for the accelerator to reach.",
						z, reg.name, TagZone, reg.name, z)})
				}
			}
		}
		egs := groups[reg.name]
		if len(egs) == 0 {
			if unplacedGroup {
				continue
			}
			for _, z := range zones {
				targets := lbsByRegion[reg.name][z]
				if len(targets) == 0 {
					targets = reg.asgsByZone[z]
				}
				for _, r := range targets {
					out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
						"region %s has no accelerator endpoint group: broadcasters cannot reach zone %s through the static addresses.",
						reg.name, z)})
				}
			}
			continue
		}
		for _, eg := range egs {
			out = append(out, endpointCoverage(s, eg, reg.name, zones, lbsByRegion[reg.name])...)
		}
		out = append(out, listenerCoverage(s, reg.name, egs)...)
	}
	return out
}

// listenerCoverage checks, when the stack holds the accelerator's listeners
// too, that every listener has an endpoint group for the region.
func listenerCoverage(s *Stack, region string, egs []Resource) []Finding {
	listeners := s.OfType(typeListener)
	if len(listeners) == 0 || len(egs) == 0 {
		return nil
	}
	served := map[string]bool{}
	for _, eg := range egs {
		arn, _ := eg.get("listenerArn").String()
		ls := s.Refs(eg, "listenerArn", []string{arn}, typeListener)
		if len(ls) == 0 {
			return nil // a group whose listener is not known: cannot tell
		}
		for _, l := range ls {
			served[l.URN] = true
		}
	}
	var out []Finding
	for _, l := range listeners {
		if !served[l.URN] {
			out = append(out, Finding{URN: l.URN, Problem: fmt.Sprintf(
				"listener %s has no endpoint group for region %s: its traffic cannot reach the region.", l.Name, region)})
		}
	}
	return out
}

// endpointCoverage checks that one endpoint group names every zone's load
// balancer.
func endpointCoverage(s *Stack, eg Resource, region string, zones []string, lbs map[string][]Resource) []Finding {
	cfgs := eg.get("endpointConfigurations")
	if cfgs.Presence == Unknown {
		return nil
	}
	list, _ := cfgs.Array()
	var ids []string
	unknownIDs := false
	for _, e := range list {
		m, ok := e.Object()
		if !ok {
			unknownIDs = true
			continue
		}
		if id, ok := Get(m, "endpointId").String(); ok {
			ids = append(ids, id)
		} else {
			unknownIDs = true
		}
	}
	covered := map[string]bool{}
	for _, lb := range s.Refs(eg, "endpointConfigurations", ids, typeLoadBalancer) {
		if z, ok := s.Zone(lb); ok {
			covered[z] = true
		}
	}
	var missing []string
	for _, z := range zones {
		if !covered[z] && len(lbs[z]) > 0 {
			missing = append(missing, z)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	if unknownIDs && len(eg.PropertyDependencies["endpointConfigurations"]) == 0 {
		return nil // endpoints not known yet, nor their sources
	}
	return []Finding{{URN: eg.URN, Problem: fmt.Sprintf(
		"endpoint group %s of region %s does not have the load balancer of zone(s) %s as an endpoint.",
		eg.Name, region, strings.Join(missing, ", "))}}
}
