package rules

import (
	"fmt"
	"time"

	"github.com/zonecast/zonecast/policies/failover"
)

const terminatingTransition = "autoscaling:EC2_INSTANCE_TERMINATING"

// awsDefaultHeartbeat is what AWS grants a lifecycle hook whose
// heartbeatTimeout is not set.
const awsDefaultHeartbeat = time.Hour

var drainHookPolicy = Policy{
	Name: "asg-drain-hook",
	Description: fmt.Sprintf("Every auto-scaling group has a termination lifecycle hook whose heartbeat timeout is at "+
		"least the drain deadline (%v), so that edge hands its streams to the twin zone before the instance goes.",
		failover.DefaultTimings.DrainDeadline),
	Remediation: fmt.Sprintf("add a lifecycle hook on %s with heartbeatTimeout of at least %d s "+
		"(policies/failover DefaultTimings.LifecycleHookTimeout is the shipped value).",
		terminatingTransition, int(failover.DefaultTimings.DrainDeadline.Seconds())),
	Default: Mandatory,
	Kind:    StackKind,
	Stack:   checkDrainHooks,
}

// hookTooShort judges one hook (a LifecycleHook resource or an inline
// initialLifecycleHooks entry); ok is false when it is not a termination
// hook or its timeout is not known.
func hookTooShort(hook map[string]Value) (seconds float64, tooShort, isTermination bool) {
	tr, ok := hook["lifecycleTransition"].String()
	if !ok || tr != terminatingTransition {
		return 0, false, hook["lifecycleTransition"].Presence == Unknown
	}
	hb := hook["heartbeatTimeout"]
	if hb.Presence == Absent {
		return awsDefaultHeartbeat.Seconds(), false, true
	}
	n, ok := hb.Number()
	if !ok {
		return 0, false, true
	}
	return n, n < failover.DefaultTimings.DrainDeadline.Seconds(), true
}

func checkDrainHooks(s *Stack, _ *Config) []Finding {
	var out []Finding
	drain := failover.DefaultTimings.DrainDeadline
	hooked := map[string]bool{}
	unresolved := false
	for _, h := range s.OfType(typeLifecycleHook) {
		fields := map[string]Value{"lifecycleTransition": h.get("lifecycleTransition"), "heartbeatTimeout": h.get("heartbeatTimeout")}
		secs, short, term := hookTooShort(fields)
		if !term {
			continue
		}
		if short {
			out = append(out, Finding{URN: h.URN, Problem: fmt.Sprintf(
				"termination hook %s grants %d s, less than the drain deadline of %v.", h.Name, int(secs), drain)})
		}
		name, _ := h.get("autoscalingGroupName").String()
		asgs := s.Refs(h, "autoscalingGroupName", []string{name}, typeASG)
		if len(asgs) == 0 {
			unresolved = true
		}
		for _, a := range asgs {
			hooked[a.URN] = true
		}
	}
	for _, a := range s.OfType(typeASG) {
		inline := a.get("initialLifecycleHooks")
		if inline.Presence == Unknown {
			hooked[a.URN] = true // cannot tell yet
		}
		list, _ := inline.Array()
		for _, e := range list {
			m, ok := e.Object()
			if !ok {
				continue
			}
			fields := map[string]Value{"lifecycleTransition": Get(m, "lifecycleTransition"), "heartbeatTimeout": Get(m, "heartbeatTimeout")}
			secs, short, term := hookTooShort(fields)
			if !term {
				continue
			}
			hooked[a.URN] = true
			if short {
				out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
					"the termination hook of auto-scaling group %s grants %d s, less than the drain deadline of %v.",
					a.Name, int(secs), drain)})
			}
		}
		if !hooked[a.URN] && !unresolved {
			out = append(out, Finding{URN: a.URN, Problem: fmt.Sprintf(
				"auto-scaling group %s has no termination lifecycle hook: instances would be cut off mid-stream.", a.Name)})
		}
	}
	return out
}
