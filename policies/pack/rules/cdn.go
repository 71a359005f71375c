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

var cdnOriginShieldPolicy = Policy{
	Name: "cdn-origin-shield",
	Description: "Every origin of the CDN distribution fetches through CloudFront's Origin Shield, so that the origins " +
		"see one request per object instead of one per regional edge cache (docs/cdn.md, the 50,000-viewer arithmetic).",
	Remediation: "set originShield {enabled: true, originShieldRegion: <a region near the primary region>} on every " +
		"origin (the global stack does, from zonecast:originShieldRegion).",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkOriginShield,
}

func checkOriginShield(r Resource, _ *Config) []Finding {
	if !r.typeIs(typeDistribution) {
		return nil
	}
	origins, ok := r.get("origins").Array()
	if !ok {
		return nil // unknown, or no origin at all (CloudFront refuses that itself)
	}
	var out []Finding
	for i, o := range origins {
		m, ok := o.Object()
		if !ok {
			continue
		}
		id, _ := Get(m, "originId").String()
		if id == "" {
			id = fmt.Sprintf("#%d", i)
		}
		enabled := Path(m, "originShield", "enabled")
		region := Path(m, "originShield", "originShieldRegion")
		if enabled.Presence == Unknown || region.Presence == Unknown {
			continue
		}
		on, _ := enabled.Bool()
		name, _ := region.String()
		switch {
		case !on:
			out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
				"distribution %s's origin %s does not fetch through Origin Shield.", r.Name, id)})
		case name == "":
			out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
				"distribution %s's origin %s enables Origin Shield without a region.", r.Name, id)})
		}
	}
	return out
}
