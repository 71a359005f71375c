package rules

import (
	"fmt"
	"strings"
)

const typeLBListener = "aws:lb/listener:Listener"

var fleetBehindLBPolicy = Policy{
	Name: "zone-fleet-behind-load-balancer",
	Description: "Each zone's auto-scaling group registers its instances with target groups that its zone's load " +
		"balancer forwards to, so that the accelerator's endpoint (the load balancer) reaches the zone's fleet and " +
		"the target groups' health checks judge it.",
	Remediation: "list the zone's target groups in the auto-scaling group's targetGroupArns, and forward each of the " +
		"zone load balancer's listeners to one of them.",
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkFleetBehindLB,
}

func checkFleetBehindLB(s *Stack, _ *Config) []Finding {
	// Target groups each load balancer forwards to, through its listeners.
	forwards := map[string]map[string]bool{} // LB URN → target group URNs
	unresolved := false
	for _, l := range s.OfType(typeLBListener) {
		arn, _ := l.get("loadBalancerArn").String()
		lbs := s.Refs(l, "loadBalancerArn", []string{arn}, typeLoadBalancer)
		actions := l.get("defaultActions")
		var tgIDs []string
		list, _ := actions.Array()
		for _, a := range list {
			if m, ok := a.Object(); ok {
				if id, ok := Get(m, "targetGroupArn").String(); ok {
					tgIDs = append(tgIDs, id)
				}
			}
		}
		tgs := s.Refs(l, "defaultActions", tgIDs, typeTargetGroup)
		if len(lbs) == 0 || (len(tgs) == 0 && actions.Presence != Absent) {
			unresolved = true
			continue
		}
		for _, lb := range lbs {
			if forwards[lb.URN] == nil {
				forwards[lb.URN] = map[string]bool{}
			}
			for _, tg := range tgs {
				forwards[lb.URN][tg.URN] = true
			}
		}
	}
	var out []Finding
	for _, reg := range s.regions() {
		for _, z := range reg.zones() {
			var zoneLBs []Resource
			for _, lb := range s.OfType(typeLoadBalancer) {
				if zz, ok := s.Zone(lb); ok && zz == z && s.Region(lb) == reg.name {
					zoneLBs = append(zoneLBs, lb)
				}
			}
			if len(zoneLBs) == 0 {
				continue // region-endpoint-groups reports a zone without a load balancer
			}
			for _, a := range reg.asgsByZone[z] {
				tgv := a.get("targetGroupArns")
				if tgv.Presence == Unknown && len(a.PropertyDependencies["targetGroupArns"]) == 0 {
					continue
				}
				ids, _ := tgv.Strings()
				registered := s.Refs(a, "targetGroupArns", ids, typeTargetGroup)
				if len(registered) == 0 {
					if tgv.Presence == Absent || (len(ids) == 0 && tgv.Presence == Known) {
						out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
							"auto-scaling group %s of zone %s/%s registers with no target group: its load balancer has no one to send broadcasters to.",
							a.Name, reg.name, z)})
					}
					continue
				}
				if unresolved {
					continue
				}
				for _, lb := range zoneLBs {
					reached := false
					for _, tg := range registered {
						reached = reached || forwards[lb.URN][tg.URN]
					}
					if !reached {
						var names []string
						for _, tg := range registered {
							names = append(names, tg.Name)
						}
						out = append(out, Finding{URN: lb.URN, Problem: fmt.Sprintf(
							"load balancer %s of zone %s/%s forwards to none of the target groups its zone's fleet registers with (%s).",
							lb.Name, reg.name, z, strings.Join(names, ", "))})
					}
				}
			}
		}
	}
	return out
}
