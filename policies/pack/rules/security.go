package rules

import (
	"fmt"
	"strings"

	"github.com/zonecast/zonecast/policies/ports"
)

var securityGroupPolicy = Policy{
	Name: "security-group-world-ingress",
	Description: "No security group admits the whole internet (0.0.0.0/0 or ::/0) except on zonecast's public " +
		"ports: " + publicPortList() + ".",
	Remediation: "restrict the rule to the VPC's CIDR or to a security group, or to one of the public ports " +
		"listed in policies/ports.",
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkSecurityGroup,
}

func publicPortList() string {
	var ps []string
	for _, p := range ports.PublicPorts() {
		ps = append(ps, fmt.Sprintf("%d/%s (%s)", p.Number, p.Protocol, p.Purpose))
	}
	return strings.Join(ps, ", ")
}

// ingressRule is one rule in any of the three shapes AWS resources use.
type ingressRule struct {
	protocol, from, to, v4, v6 Value
}

func checkSecurityGroup(r Resource, _ *Config) []Finding {
	var rules []ingressRule
	switch {
	case r.typeIs(typeSecurityGroup):
		list, _ := r.get("ingress").Array()
		for _, e := range list {
			if m, ok := e.Object(); ok {
				rules = append(rules, ingressRule{Get(m, "protocol"), Get(m, "fromPort"), Get(m, "toPort"),
					Get(m, "cidrBlocks"), Get(m, "ipv6CidrBlocks")})
			}
		}
	case r.typeIs(typeSGRule):
		if t, ok := r.get("type").String(); !ok || t != "ingress" {
			return nil
		}
		rules = append(rules, ingressRule{r.get("protocol"), r.get("fromPort"), r.get("toPort"),
			r.get("cidrBlocks"), r.get("ipv6CidrBlocks")})
	case r.typeIs(typeSGIngressRule):
		rules = append(rules, ingressRule{r.get("ipProtocol"), r.get("fromPort"), r.get("toPort"),
			r.get("cidrIpv4"), r.get("cidrIpv6")})
	default:
		return nil
	}
	var out []Finding
	for _, rule := range rules {
		if !worldOpen(rule.v4, "0.0.0.0/0") && !worldOpen(rule.v6, "::/0") {
			continue
		}
		proto, ok1 := rule.protocol.String()
		from, ok2 := rule.from.Number()
		to, ok3 := rule.to.Number()
		if !ok1 || ((!ok2 || !ok3) && !allProtocols(proto)) {
			continue // not known yet
		}
		if publicPort(proto, int(from), int(to)) {
			continue
		}
		out = append(out, Finding{URN: r.URN, Problem: fmt.Sprintf(
			"%s admits the whole internet on %s ports %d-%d, which are not public zonecast ports.",
			describe(r), proto, int(from), int(to))})
	}
	return out
}

// worldOpen reports whether a CIDR field (a string or a list) holds world.
func worldOpen(v Value, world string) bool {
	if s, ok := v.String(); ok {
		return s == world
	}
	list, _ := v.Strings()
	for _, s := range list {
		if s == world {
			return true
		}
	}
	return false
}

func allProtocols(proto string) bool { return proto == "-1" || strings.EqualFold(proto, "all") }

// publicPort reports whether protocol and port range name exactly one
// public port.
func publicPort(proto string, from, to int) bool {
	if allProtocols(proto) || from != to {
		return false
	}
	switch proto {
	case "6":
		proto = "tcp"
	case "17":
		proto = "udp"
	}
	for _, p := range ports.PublicPorts() {
		if strings.EqualFold(p.Protocol, proto) && p.Number == from {
			return true
		}
	}
	return false
}
