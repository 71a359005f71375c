package rules

import (
	"fmt"
	"strings"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

// detectionBudget is how long the failover policy lets a dead target keep
// receiving traffic: the NLB health-check interval times the unhealthy
// threshold. Global Accelerator judges NLB endpoints by this target health.
func detectionBudget() time.Duration {
	t := failover.DefaultTimings
	return t.NLBHealthCheckInterval * time.Duration(t.NLBUnhealthyThreshold)
}

var healthCheckSpeedPolicy = Policy{
	Name: "lb-health-check-speed",
	Description: fmt.Sprintf("Load balancer target groups notice a dead target within %v (health-check interval × "+
		"unhealthy threshold), the failover policy's budget; the accelerator relies on these checks for NLB endpoints.",
		detectionBudget()),
	Remediation: fmt.Sprintf("set healthCheck.interval to %d and healthCheck.unhealthyThreshold to %d "+
		"(policies/failover DefaultTimings), or any pair whose product is at most %d s.",
		int(failover.DefaultTimings.NLBHealthCheckInterval.Seconds()), failover.DefaultTimings.NLBUnhealthyThreshold,
		int(detectionBudget().Seconds())),
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkHealthCheckSpeed,
}

// AWS defaults for a target group health check that does not say.
const (
	awsDefaultHCInterval  = 30
	awsDefaultHCUnhealthy = 3
)

func checkHealthCheckSpeed(r Resource, _ *Config) []Finding {
	if !r.typeIs(typeTargetGroup) {
		return nil
	}
	hc := r.get("healthCheck")
	if hc.Presence == Unknown {
		return nil
	}
	m, _ := hc.Object()
	if b, ok := Get(m, "enabled").Bool(); ok && !b {
		return []Finding{{URN: r.URN, Problem: fmt.Sprintf("target group %s has health checks disabled.", r.Name)}}
	}
	interval, ok1 := numberOr(Get(m, "interval"), awsDefaultHCInterval)
	unhealthy, ok2 := numberOr(Get(m, "unhealthyThreshold"), awsDefaultHCUnhealthy)
	if !ok1 || !ok2 {
		return nil
	}
	took := time.Duration(interval*unhealthy) * time.Second
	if took <= detectionBudget() {
		return nil
	}
	return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
		"target group %s takes %v to mark a dead target (interval %d s × unhealthy threshold %d); the failover policy allows %v.",
		r.Name, took, int(interval), int(unhealthy), detectionBudget())}}
}

// numberOr reads a number, taking def when it is absent; ok is false when it
// is unknown.
func numberOr(v Value, def float64) (float64, bool) {
	if v.Presence == Absent {
		return def, true
	}
	return v.Number()
}

var healthCheckReadyzPolicy = Policy{
	Name: "lb-health-check-readyz",
	Description: fmt.Sprintf("Load balancer target groups check edge's readiness over HTTP at %s, so that a node that "+
		"is alive but not ready (draining, no Redis) stops receiving streams.", failover.DefaultTimings.NLBHealthCheckPath),
	Remediation: fmt.Sprintf("set healthCheck.protocol to HTTP (or HTTPS), healthCheck.path to %s and healthCheck.port "+
		"to edge's HTTP port.", failover.DefaultTimings.NLBHealthCheckPath),
	Default:  Mandatory,
	Kind:     ResourceKind,
	Resource: checkHealthCheckReadyz,
}

func checkHealthCheckReadyz(r Resource, _ *Config) []Finding {
	if !r.typeIs(typeTargetGroup) {
		return nil
	}
	hc := r.get("healthCheck")
	if hc.Presence == Unknown {
		return nil
	}
	m, _ := hc.Object()
	want := failover.DefaultTimings.NLBHealthCheckPath
	proto := Get(m, "protocol")
	p, ok := proto.String()
	if proto.Presence == Absent {
		// AWS defaults the check to the target group's own protocol for
		// HTTP(S) groups and to TCP for everything an NLB carries.
		tp, known := r.get("protocol").String()
		if !known && r.get("protocol").Presence == Unknown {
			return nil
		}
		p, ok = "TCP", true
		if strings.HasPrefix(strings.ToUpper(tp), "HTTP") {
			p = tp
		}
	}
	if !ok {
		return nil
	}
	if !strings.HasPrefix(strings.ToUpper(p), "HTTP") {
		return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
			"target group %s checks health over %s, which cannot see whether edge is ready.", r.Name, p)}}
	}
	path := Get(m, "path")
	if path.Presence == Unknown {
		return nil
	}
	got, _ := path.String()
	if path.Presence == Absent {
		got = "/ (AWS default)"
	}
	if got != want {
		return []Finding{{URN: r.URN, Problem: fmt.Sprintf(
			"target group %s checks health at %s instead of %s.", r.Name, got, want)}}
	}
	return nil
}
