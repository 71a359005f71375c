package rules

import (
	"fmt"

	"github.com/zonecast/zonecast/policies/failover"
)

var cdnOriginFailoverPolicy = Policy{
	Name: "cdn-origin-failover",
	Description: fmt.Sprintf("The CDN distribution serves through an origin group of %d origins that fails over on "+
		"errors, so that viewers keep playing when one origin goes.", failover.DefaultRedundancy.CDNOrigins),
	Remediation: "add an originGroups entry with failoverCriteria.statusCodes (e.g. 500, 502, 503, 504) and both " +
		"origins as members, and point the default cache behavior's targetOriginId at the group.",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkCDN,
}

func checkCDN(r Resource, _ *Config) []Finding {
	if !r.typeIs(typeDistribution) {
		return nil
	}
	groups := r.get("originGroups")
	if groups.Presence == Unknown {
		return nil
	}
	list, _ := groups.Array()
	want := failover.DefaultRedundancy.CDNOrigins
	var good []string
	unknown := false
	for _, g := range list {
		m, ok := g.Object()
		if !ok {
			unknown = true
			continue
		}
		codes := Path(m, "failoverCriteria", "statusCodes")
		members := Get(m, "members")
		id, idKnown := Get(m, "originId").String()
		if codes.Presence == Unknown || members.Presence == Unknown || !idKnown {
			unknown = true
			continue
		}
		cl, _ := codes.Array()
		ml, _ := members.Array()
		if len(cl) > 0 && len(ml) >= want {
			good = append(good, id)
		}
	}
	if unknown {
		return nil
	}
	if len(good) == 0 {
		return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
			"distribution %s has no origin group of %d origins with failover criteria.", r.Name, want)}}
	}
	target := r.path("defaultCacheBehavior", "targetOriginId")
	if t, ok := target.String(); ok {
		for _, g := range good {
			if g == t {
				return nil
			}
		}
		return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
			"distribution %s's default cache behavior targets origin %s, not its failover origin group.", r.Name, t)}}
	}
	return nil
}
