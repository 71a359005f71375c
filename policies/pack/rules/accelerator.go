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
