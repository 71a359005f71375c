package rules

import (
	"fmt"
	"strings"

	"github.com/zonecast/zonecast/policies/failover"
	"github.com/zonecast/zonecast/policies/ports"
)

var srtDeregistrationPolicy = Policy{
	Name: "srt-deregistration",
	Description: "SRT target groups keep a deregistered target's flows for the drain's delay and then terminate them " +
		"(policies/failover Fencing.SRTDeregistrationDelay): the auto-scaling group deregisters a terminating node before " +
		"its drain hands its streams over, so a shorter delay cuts every drained broadcaster (seconds of lost media), " +
		"and without termination a fenced node's flows outlive the delay.",
	Remediation: "set connectionTermination to true and deregistrationDelay to the drain's delay on the target group of the SRT port " +
		"(policies/failover Fencing.SRTDeregistrationDelay).",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkSRTDeregistration,
}

// awsDefaultDeregistrationDelay is what AWS gives a target group that does
// not say.
const awsDefaultDeregistrationDelay = 300

func checkSRTDeregistration(r Resource, _ *Config) []Finding {
	f := failover.DefaultFencing
	if !f.Enabled || !r.typeIs(typeTargetGroup) {
		return nil
	}
	port, ok := r.get("port").Number()
	if !ok || int(port) != ports.SRT.Number {
		return nil
	}
	want := f.SRTDeregistrationDelay(failover.DefaultProvisioning, failover.DefaultTimings).Seconds()
	var problems []string
	if delay, ok := numberOr(r.get("deregistrationDelay"), awsDefaultDeregistrationDelay); ok && delay != want {
		problems = append(problems, fmt.Sprintf("keeps a deregistered target's flows for %v s, not the drain's %v s", delay, want))
	}
	term := r.get("connectionTermination")
	if on, ok := term.Bool(); term.Presence == Absent || (ok && !on) {
		problems = append(problems, "does not terminate them on deregistration")
	}
	if len(problems) == 0 {
		return nil
	}
	return []Finding{{URN: r.URN, Problem: fmt.Sprintf("SRT target group %s %s.",
		r.Name, strings.Join(problems, " and "))}}
}

var fenceIAMScopedPolicy = Policy{
	Name: "fence-iam-scoped",
	Description: "IAM policies allow fast fencing's writes only on named resources: elasticloadbalancing:DeregisterTargets " +
		"and RegisterTargets on target group ARNs, globalaccelerator:UpdateEndpointGroup on endpoint group ARNs, " +
		"never `*`, a wildcard ARN or NotResource (a node could otherwise evict any target or reweigh any region).",
	Remediation: "name the region's own target groups and endpoint group by ARN (provision/instancerole FencingDocument).",
	Default:     Mandatory,
	Kind:        ResourceKind,
	Resource:    checkFenceIAM,
}

// fenceScopes maps each fencing write to the resource type its ARNs must
// name.
var fenceScopes = map[string]string{
	"elasticloadbalancing:deregistertargets": ":targetgroup/",
	"elasticloadbalancing:registertargets":   ":targetgroup/",
	"globalaccelerator:updateendpointgroup":  "/endpoint-group/",
}

func checkFenceIAM(r Resource, _ *Config) []Finding {
	var docs []Value
	switch {
	case r.typeIs(typeRolePolicy, typePolicy):
		docs = append(docs, r.get("policy"))
	case r.typeIs(typeRole):
		list, _ := r.get("inlinePolicies").Array()
		for _, e := range list {
			if m, ok := e.Object(); ok {
				docs = append(docs, Get(m, "policy"))
			}
		}
	default:
		return nil
	}
	var out []Finding
	for _, d := range docs {
		text, ok := d.String()
		if !ok {
			continue // unknown until the ARNs it names exist
		}
		bad, err := unscopedFencing(text)
		if err != nil {
			continue // iam-no-wildcard-actions reports a document that is not JSON
		}
		if len(bad) > 0 {
			out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf("%s allows %s.", describe(r), strings.Join(bad, "; "))})
		}
	}
	return out
}

// unscopedFencing lists the Allow statements' fencing writes that are not
// confined to named resources of their type.
func unscopedFencing(doc string) ([]string, error) {
	stmts, err := policyStatements(doc)
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, s := range stmts {
		if !strings.EqualFold(s.Effect, "Allow") {
			continue
		}
		actions, err := stringOrList(s.Action)
		if err != nil {
			return nil, err
		}
		resources, err := stringOrList(s.Resource)
		if err != nil {
			return nil, err
		}
		for _, a := range actions {
			scope, fencing := fenceScopes[strings.ToLower(a)]
			if !fencing {
				continue
			}
			if len(s.NotResource) > 0 {
				bad = append(bad, a+" with NotResource")
				continue
			}
			for _, res := range resources {
				if strings.Contains(res, "*") || !strings.Contains(res, scope) {
					bad = append(bad, fmt.Sprintf("%s on %q", a, res))
				}
			}
		}
	}
	return bad, nil
}
