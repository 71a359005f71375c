package rules

import (
	"fmt"
	"strings"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
)

var acceleratorPolicy = Policy{
	Name: "accelerator-ingest",
	Description: fmt.Sprintf("The Global Accelerator is enabled, exposes %d static IPv4 addresses and has a UDP "+
		"listener for SRT on port %d with %s client affinity.", failover.DefaultRedundancy.StaticIPv4, ports.SRT.Number,
		failover.SRTClientAffinity),
	Remediation: fmt.Sprintf("keep the accelerator enabled with ipAddressType IPV4 (or DUAL_STACK) and add a UDP "+
		"listener whose port range covers %d.", ports.SRT.Number),
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkAccelerators,
}

func checkAccelerators(s *Stack, _ *Config) []Finding {
	accels := s.OfType(typeAccelerator)
	var out []Finding
	want := failover.DefaultRedundancy.StaticIPv4
	for _, a := range accels {
		add := func(format string, args ...any) {
			out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf("accelerator %s: ", a.Name) + fmt.Sprintf(format, args...)})
		}
		if b, ok := a.get("enabled").Bool(); ok && !b {
			add("it is disabled: broadcasters' static addresses lead nowhere.")
		}
		if t, ok := a.get("ipAddressType").String(); ok && t != "IPV4" && t != "DUAL_STACK" {
			add("ipAddressType is %s; broadcasters need %d static IPv4 addresses.", t, want)
		}
		if ips, all := a.get("ipAddresses").Strings(); all && len(ips) > 0 && len(ips) != want {
			add("it brings %d IPv4 address(es); it needs %d.", len(ips), want)
		}
		if n, known := countIPv4(a); known && n != want {
			add("it has %d static IPv4 address(es); it needs %d.", n, want)
		}
	}
	// The SRT listener.
	unresolved := false
	hasSRT := map[string]bool{}
	for _, l := range s.OfType(typeListener) {
		arn, _ := l.get("acceleratorArn").String()
		owners := s.Refs(l, "acceleratorArn", []string{arn}, typeAccelerator)
		if len(owners) == 0 && len(accels) == 1 {
			owners = accels // the only accelerator there is
		}
		if len(owners) == 0 {
			unresolved = true
		}
		srt, known := listenerServesSRT(l)
		if !known {
			unresolved = true
		}
		if aff := l.get("clientAffinity"); srt && aff.Presence != Unknown {
			got, _ := aff.String()
			if aff.Presence == Absent {
				got = "NONE (AWS default)"
			}
			if got != failover.SRTClientAffinity {
				out = append(out, Finding{URN: l.URN, Problem: fmt.Sprintf(
					"SRT listener %s has client affinity %s: a broadcaster's reconnection may land in the other zone.", l.Name, got),
					Fix: fmt.Sprintf("set clientAffinity to %s (policies/failover SRTClientAffinity).", failover.SRTClientAffinity)})
			}
		}
		for _, o := range owners {
			hasSRT[o.URN] = hasSRT[o.URN] || srt
		}
	}
	if !unresolved {
		for _, a := range accels {
			if !hasSRT[a.URN] {
				out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
					"accelerator %s has no UDP listener covering the SRT port %d.", a.Name, ports.SRT.Number)})
			}
		}
	}
	return out
}

// countIPv4 counts the accelerator's IPv4 addresses in its ipSets output.
func countIPv4(a Resource) (int, bool) {
	sets, ok := a.get("ipSets").Array()
	if !ok || len(sets) == 0 {
		return 0, false
	}
	n := 0
	for _, set := range sets {
		m, ok := set.Object()
		if !ok {
			return 0, false
		}
		fam, _ := Get(m, "ipFamily").String()
		if fam != "" && !strings.EqualFold(fam, "IPv4") {
			continue
		}
		ips, all := Get(m, "ipAddresses").Strings()
		if !all {
			return 0, false
		}
		n += len(ips)
	}
	return n, true
}

// listenerServesSRT reports whether a listener is UDP and covers the SRT port.
func listenerServesSRT(l Resource) (srt, known bool) {
	proto, ok := l.get("protocol").String()
	if !ok {
		return false, false
	}
	if !strings.EqualFold(proto, ports.SRT.Protocol) {
		return false, true
	}
	ranges, ok := l.get("portRanges").Array()
	if !ok {
		return false, l.get("portRanges").Presence != Unknown
	}
	for _, pr := range ranges {
		m, ok := pr.Object()
		if !ok {
			return false, false
		}
		from, ok1 := Get(m, "fromPort").Number()
		to, ok2 := Get(m, "toPort").Number()
		if !ok1 || !ok2 {
			return false, false
		}
		if int(from) <= ports.SRT.Number && ports.SRT.Number <= int(to) {
			return true, true
		}
	}
	return false, true
}

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
